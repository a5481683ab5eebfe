"""Value types shared by the feed and its readers: Quote, PrevClose, status records.

Everything here is immutable: feed threads build new values and swap them in, readers
(the Streamlit script threads, quant scripts) never see a half-written record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from feed.store.status import StoreStatus

__all__ = [
    "SNAPSHOT_COLUMNS",
    "ConnectionState",
    "ConnectionStatus",
    "EventKind",
    "FeedEvent",
    "FeedStatus",
    "Freshness",
    "NotReady",
    "PrevClose",
    "Readiness",
]


class Freshness(StrEnum):
    """How far a row's price can be trusted right now; the UI shows the value as is."""

    LIVE = "live"  # market open, updated recently
    QUIET = "quiet"  # market open and link healthy, but no trade lately
    CLOSED = "market closed"
    LUNCH = "lunch break"
    HOLIDAY = "holiday"
    RECOVERING = "recovering"  # link back after an outage, gap fill not landed yet
    DOWN = "feed down"  # link down: the price may be out of date
    WAITING = "waiting"  # no price received yet
    NOT_STREAMED = "not streamed"  # over the plan's code cap, or refused by the server
    AUTH_FAILED = "auth failed"  # AllTick refused the token: nothing will stream until it is fixed
    UNREACHABLE = "unreachable"  # the server cannot be reached and no price is known yet


class ConnectionState(StrEnum):
    """A link's state, named by its cause when it is not streaming."""

    CONNECTING = "connecting"
    SUBSCRIBING = "subscribing"
    LIVE = "live"
    RECONNECTING = "reconnecting"  # lost after being up; retrying with backoff
    UNREACHABLE = "unreachable"  # refused, DNS failure, connect timeout: retrying with backoff
    AUTH_FAILED = "auth failed"  # 401 at the upgrade or ret 401 in any frame: retrying slowly
    PLAN_CAP = "over plan cap"  # the server keeps closing accepted upgrades: too many connections
    RATE_LIMITED = "rate limited"  # 429 at the upgrade or ret 605/606: paced down
    STOPPED = "stopped"


class EventKind(StrEnum):
    """What an event is about; each failure cause has its own kind."""

    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    RECOVERED = "recovered"  # reconnected, resubscribed and gap-filled
    UNREACHABLE = "unreachable"  # the server could not be reached
    PLAN_LIMIT = "plan limit"  # connection cap or code cap of the plan
    AUTH_FAILED = "auth failed"
    INVALID_SYMBOL = "invalid symbol"
    RATE_LIMITED = "rate limited"
    SERVER_ERROR = "server error"  # the server answered an error we have no better name for
    ERROR = "error"  # a bug of ours, caught and counted: the feed kept going
    STORE = "tick store"  # the tick store paused, resumed, moved a corrupt file aside, went read-only


@dataclass(frozen=True, slots=True)
class PrevClose:
    """A previous daily close and where it came from.

    ``trade_date`` is the exchange-local session the close belongs to, so a reader can
    tell "yesterday's close" from one that is a holiday weekend old.
    """

    price: float
    trade_date: dt.date
    source: str = "kline"


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """Something a user should hear about: connect, disconnect, recovery, limits."""

    seq: int
    time: dt.datetime
    kind: EventKind
    connection: str  # a link's name ("US", "HK", "stock"...), or "http" for the HTTP API
    message: str  # English, one sentence, never the token
    codes: tuple[str, ...] = ()  # the symbols the event is about, when it is about some


@dataclass(frozen=True, slots=True)
class ConnectionStatus:
    """Health of one WebSocket connection thread, published with every snapshot."""

    name: str
    endpoint: str
    state: ConnectionState
    markets: tuple[str, ...]
    symbols: tuple[str, ...]
    not_streamed: tuple[str, ...]
    messages: int
    msgs_per_s: float
    reconnects: int
    last_error: str | None
    connected_since: dt.datetime | None
    last_message_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """The whole feed's health: what ``FeedManager.status()`` returns."""

    demo: bool
    plan: str
    max_connections: int
    max_codes: int
    connections: tuple[ConnectionStatus, ...]
    drops: dict[str, int] = field(default_factory=dict)
    events: tuple[FeedEvent, ...] = ()
    invalid_symbols: dict[str, str] = field(default_factory=dict)
    snapshot_version: int = 0
    ticks_applied: int = 0
    auth_error: str | None = None
    running: bool = True  # False once stop() ran: nothing is live any more
    errors: dict[str, int] = field(default_factory=dict)  # exceptions caught and counted, by loop
    pending: dict[str, int] = field(default_factory=dict)  # reference-data jobs waiting, by kind
    pending_cause: str | None = None  # why they wait: "unreachable", "auth failed", "rate limited"…
    notices: tuple[str, ...] = ()  # standing warnings, e.g. a market's known holidays ending soon
    sinks: dict[str, dict[str, int]] = field(default_factory=dict)  # tick consumers: delivered/dropped
    source: str = "local"  # "local": this process's feed; "redis": a quote service
    store: StoreStatus = field(default_factory=StoreStatus)  # the tick store: mode, size, oldest date…
    service: str = ""  # with source "redis": where the quote service is read (a URL, no password)
    service_error: str | None = None  # with source "redis": why it cannot be read now ("Redis at …")


@dataclass(frozen=True, slots=True)
class Readiness:
    """What ``wait_ready()`` returns: true when every watched symbol has what was asked.

    ``missing`` names each symbol that is not ready and why, in words a user can act on
    ("unreachable: connection refused (…)", "auth failed: …", "invalid: …", "waiting for
    reference data (previous close)").
    """

    missing: dict[str, str] = field(default_factory=dict)
    watched: int = 0

    @property
    def ready(self) -> bool:
        return self.watched > 0 and not self.missing

    @property
    def final(self) -> bool:
        """Whether waiting longer cannot help: every missing symbol is invalid or over the cap."""
        return bool(self.missing) and all(
            why.startswith(("invalid:", "not streamed:")) for why in self.missing.values()
        )

    def __bool__(self) -> bool:
        return self.ready

    def __str__(self) -> str:
        if self.ready:
            return f"ready: {self.watched} symbols"
        if not self.watched:
            return "nothing watched"
        return "; ".join(f"{code}: {why}" for code, why in self.missing.items())


class NotReady(RuntimeError):
    """``wait_ready(strict=True)`` timed out; ``readiness`` says which symbols and why."""

    def __init__(self, readiness: Readiness) -> None:
        super().__init__(f"feed not ready: {readiness}")
        self.readiness = readiness


# Columns of FeedManager.snapshot(), in order. One row per watched symbol.
SNAPSHOT_COLUMNS = (
    "symbol",  # canonical AllTick code
    "name",  # English name ("" until static info arrives)
    "name_zh",  # Chinese name from AllTick's static info ("" when it has none)
    "market",  # Market value: US, HK, CN, FX, CRYPTO
    "currency",
    "last",  # float, NaN until the first price
    "prev_close",  # float, NaN until known
    "change",  # last - prev_close
    "pct_change",  # percent: 1.57 means +1.57 %
    "ts",  # exchange time of the last price, tz-aware UTC
    "age_s",  # seconds since the last price was received
    "freshness",  # Freshness value
    "prev_close_date",  # datetime.date of the session prev_close belongs to
    "streamed",  # bool: False when over the plan's cap or refused
    "note",  # why a row is not streamed / invalid, else ""
    "open",  # today's first trade (from the daily K-line, then ticks); NaN until known
    "high",  # today's highest trade
    "low",  # today's lowest trade
    "volume",  # today's traded size (shares, lots for some markets, units for FX/crypto)
    "turnover",  # today's traded value in the quote currency
)
