"""The dashboard's fixed terms: every feed enum value and market name, as msgids.

The feed names states in English enum values (``Freshness``, ``ConnectionState``,
``EventKind``, ``Phase``, ``Market``); the UI shows them through these tables, so a
value the feed adds without a term here fails ``tests/test_i18n.py`` rather than
leaking English into a Chinese page. Lookups build one dict per language, once.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from feed.calendars import Phase
from feed.model import ConnectionState, EventKind, Freshness
from feed.protocol.codec import DropReason
from feed.symbols import Market
from ui.i18n import NP_, Translator

__all__ = [
    "DROPS",
    "EVENT_KINDS",
    "FRESHNESS",
    "MARKET_LABELS",
    "MARKET_SHORT",
    "METAL_NAMES",
    "PAUSED",
    "PHASES",
    "STATES",
    "ZONES",
    "connection_label",
    "event_kind",
    "freshness",
    "freshness_map",
    "market_label",
    "market_short",
    "phase",
    "state",
]

# A row the viewer froze with "Live updates" off: not the feed's word, the UI's.
PAUSED = "paused"

FRESHNESS: dict[str, tuple[str, str]] = {
    Freshness.LIVE: NP_("freshness", "live"),
    Freshness.QUIET: NP_("freshness", "quiet"),
    Freshness.CLOSED: NP_("freshness", "market closed"),
    Freshness.LUNCH: NP_("freshness", "lunch break"),
    Freshness.HOLIDAY: NP_("freshness", "holiday"),
    Freshness.RECOVERING: NP_("freshness", "recovering"),
    Freshness.DOWN: NP_("freshness", "feed down"),
    Freshness.WAITING: NP_("freshness", "waiting"),
    Freshness.NOT_STREAMED: NP_("freshness", "not streamed"),
    Freshness.AUTH_FAILED: NP_("freshness", "auth failed"),
    Freshness.UNREACHABLE: NP_("freshness", "unreachable"),
    PAUSED: NP_("freshness", "paused"),
}

STATES: dict[str, tuple[str, str]] = {
    ConnectionState.CONNECTING: NP_("connection state", "connecting"),
    ConnectionState.SUBSCRIBING: NP_("connection state", "subscribing"),
    ConnectionState.LIVE: NP_("connection state", "live"),
    ConnectionState.RECONNECTING: NP_("connection state", "reconnecting"),
    ConnectionState.UNREACHABLE: NP_("connection state", "unreachable"),
    ConnectionState.AUTH_FAILED: NP_("connection state", "auth failed"),
    ConnectionState.PLAN_CAP: NP_("connection state", "over plan cap"),
    ConnectionState.RATE_LIMITED: NP_("connection state", "rate limited"),
    ConnectionState.STOPPED: NP_("connection state", "stopped"),
}

EVENT_KINDS: dict[str, tuple[str, str]] = {
    EventKind.CONNECTED: NP_("event", "connected"),
    EventKind.DISCONNECTED: NP_("event", "disconnected"),
    EventKind.RECOVERED: NP_("event", "recovered"),
    EventKind.UNREACHABLE: NP_("event", "unreachable"),
    EventKind.PLAN_LIMIT: NP_("event", "plan limit"),
    EventKind.AUTH_FAILED: NP_("event", "auth failed"),
    EventKind.INVALID_SYMBOL: NP_("event", "invalid symbol"),
    EventKind.RATE_LIMITED: NP_("event", "rate limited"),
    EventKind.SERVER_ERROR: NP_("event", "server error"),
    EventKind.ERROR: NP_("event", "error"),
    EventKind.STORE: NP_("event", "tick store"),
}

PHASES: dict[str, tuple[str, str]] = {
    Phase.PRE_OPEN: NP_("market phase", "pre-open"),
    Phase.OPEN: NP_("market phase", "open"),
    Phase.LUNCH: NP_("market phase", "lunch break"),
    Phase.CLOSED: NP_("market phase", "closed"),
    Phase.HOLIDAY: NP_("market phase", "holiday"),
}

MARKET_LABELS: dict[str, tuple[str, str]] = {
    Market.US: NP_("market", "US stocks"),
    Market.HK: NP_("market", "Hong Kong stocks"),
    Market.CN: NP_("market", "China A-shares"),
    Market.FX: NP_("market", "Forex & metals"),
    Market.CRYPTO: NP_("market", "Crypto"),
}

# The grid's narrow market column.
MARKET_SHORT: dict[str, tuple[str, str]] = {
    Market.US: NP_("market code", "US"),
    Market.HK: NP_("market code", "HK"),
    Market.CN: NP_("market code", "CN"),
    Market.FX: NP_("market code", "FX"),
    Market.CRYPTO: NP_("market code", "CRYPTO"),
}

# Exchange time zones as traders abbreviate them (``BJT``, not ``CST``).
ZONES: dict[str, tuple[str, str]] = {
    Market.US: NP_("time zone", "ET"),
    Market.HK: NP_("time zone", "HKT"),
    Market.CN: NP_("time zone", "BJT"),
    Market.FX: NP_("time zone", "UTC"),
    Market.CRYPTO: NP_("time zone", "UTC"),
}

DROPS: dict[str, tuple[str, str]] = {
    DropReason.MALFORMED: NP_("drop reason", "malformed message"),
    DropReason.NON_POSITIVE: NP_("drop reason", "price not positive"),
    DropReason.NON_FINITE: NP_("drop reason", "price not a number"),
    DropReason.UNKNOWN_CODE: NP_("drop reason", "code not subscribed"),
    DropReason.DUPLICATE: NP_("drop reason", "duplicate"),
    DropReason.OUT_OF_ORDER: NP_("drop reason", "out of order"),
    DropReason.BAD_PRINT: NP_("drop reason", "bad print (far off the last price)"),
    "coalesced": NP_("drop reason", "coalesced (superseded before shown)"),
}

# Metals have no static info (no Chinese name from AllTick); the feed spells them in English.
METAL_NAMES: dict[str, tuple[str, str]] = {
    "Gold": NP_("instrument", "Gold"),
    "Silver": NP_("instrument", "Silver"),
    "Platinum": NP_("instrument", "Platinum"),
    "Palladium": NP_("instrument", "Palladium"),
}


@functools.lru_cache(maxsize=64)
def _table(tr: Translator, name: str) -> Mapping[str, str]:
    source = {
        "freshness": FRESHNESS,
        "state": STATES,
        "event": EVENT_KINDS,
        "phase": PHASES,
        "market": MARKET_LABELS,
        "market_short": MARKET_SHORT,
        "zone": ZONES,
        "metal": METAL_NAMES,
        "drop": DROPS,
    }[name]
    return {str(k): tr.term(v) for k, v in source.items()}


def _look(tr: Translator, name: str, value: object) -> str:
    key = str(getattr(value, "value", value))
    return _table(tr, name).get(key, key)


def freshness(tr: Translator, value: object) -> str:
    return _look(tr, "freshness", value)


def freshness_map(tr: Translator) -> Mapping[str, str]:
    """The whole freshness table, for mapping a column in one pass."""
    return _table(tr, "freshness")


def state(tr: Translator, value: object) -> str:
    return _look(tr, "state", value)


def event_kind(tr: Translator, value: object) -> str:
    return _look(tr, "event", value)


def phase(tr: Translator, value: object) -> str:
    return _look(tr, "phase", value)


def market_label(tr: Translator, value: object) -> str:
    return _look(tr, "market", value)


def market_short(tr: Translator, value: object) -> str:
    return _look(tr, "market_short", value)


def zone(tr: Translator, value: object) -> str:
    return _look(tr, "zone", value)


def drop_reason(tr: Translator, value: object) -> str:
    return _look(tr, "drop", value)


def metal_name(tr: Translator, name: str) -> str:
    return _table(tr, "metal").get(name, name)


def connection_label(tr: Translator, name: str) -> str:
    """A link as people name it: the HTTP API, or the WebSocket of a market or endpoint."""
    if name == "http":
        return tr._("HTTP API")
    if name in MARKET_LABELS:
        return tr._("{market} WebSocket", market=market_label(tr, name))
    if name == "stock":
        return tr._("Stocks WebSocket")
    if name == "forex":
        return tr._("Forex & crypto WebSocket")
    if name == "store":
        return tr._("Tick store")
    return name or tr._("Feed")
