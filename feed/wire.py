"""The quote service's wire format: Snapshot, FeedStatus, ticks and bars as JSON, both ways.

Pure functions, no state: the publisher (``python -m feed serve``) encodes what its
feed published, readers decode it into the very value types the local feed uses, so
``feed.view`` builds the same table from either. ``docs/quote-service.md`` is the
contract; ``SCHEMA`` grows when a field changes meaning (added fields do not bump it).

Times: a Snapshot's ``received``/``published`` are the publishing process's monotonic
clock, meaningless elsewhere, so they travel as wall-clock epoch seconds and each
reader maps them back onto its own monotonic clock (same host or NTP-synced hosts).
The token is never part of any of this: events and errors were redacted at the source.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from dataclasses import asdict
from types import MappingProxyType
from typing import Any

import orjson

from feed.book import MinutePath, Quote
from feed.daystats import Day
from feed.messages import LinkView
from feed.model import ConnectionState, ConnectionStatus, EventKind, FeedEvent, FeedStatus, PrevClose
from feed.protocol.records import StaticInfo
from feed.snapshot import Snapshot
from feed.store.status import StoreStatus
from feed.symbols import Market

__all__ = [
    "SCHEMA",
    "decode_path",
    "decode_snapshot",
    "decode_status",
    "decode_tick",
    "encode_path",
    "encode_snapshot",
    "encode_status",
    "encode_tick",
]

SCHEMA = 1


def _clock_offset() -> float:
    """Wall clock minus monotonic clock, now: converts one to the other."""
    return time.time() - time.monotonic()


def _proxy(d: dict) -> Mapping:
    return MappingProxyType(d)


# --- snapshot ------------------------------------------------------------------------------


def encode_snapshot(snap: Snapshot, path_revs: Mapping[str, int], run: str = "") -> bytes:
    """One Snapshot as JSON; minute paths go separately (``path_revs``: code -> revision).

    ``run`` names the publisher's run: its versions restart when it does.
    """
    off = _clock_offset()
    return orjson.dumps(
        {
            "schema": SCHEMA,
            "run": run,
            "version": snap.version,
            "watch_version": snap.watch_version,
            "running": snap.running,
            "published_at": snap.published + off,
            "watched": list(snap.watched),
            "markets": {c: m.value for c, m in snap.markets.items()},
            "quotes": {
                c: [q.price, q.seq, q.time_ms, q.volume, q.received + off, q.source]
                for c, q in snap.quotes.items()
            },
            "prev_closes": {
                c: [p.price, p.trade_date.isoformat(), p.source] for c, p in snap.prev_closes.items()
            },
            "days": {c: [d.trade_date.isoformat(), *d[1:]] for c, d in snap.days.items()},
            "daily_for": {c: d.isoformat() for c, d in snap.daily_for.items()},
            "names": {c: [i.name, i.currency, i.exchange, i.name_zh] for c, i in snap.names.items()},
            "invalid": dict(snap.invalid),
            "not_streamed": dict(snap.not_streamed),
            "links": {m: [v.name, v.state.value, v.detail] for m, v in snap.links.items()},
            "recovering": sorted(snap.recovering),
            "path_revs": dict(path_revs),
            "events": [_event(e) for e in snap.events],
            "drops": dict(snap.drops),
            "errors": dict(snap.errors),
            "ticks_applied": snap.ticks_applied,
            "auth_error": snap.auth_error,
        }
    )


def _event(e: FeedEvent) -> list:
    return [e.seq, e.time.isoformat(), e.kind.value, e.connection, e.message, list(e.codes)]


def _decode_event(raw: list) -> FeedEvent:
    seq, at, kind, connection, message, codes = raw
    return FeedEvent(seq, dt.datetime.fromisoformat(at), EventKind(kind), connection, message, tuple(codes))


def decode_snapshot(data: bytes | str, paths: Mapping[str, MinutePath]) -> tuple[Snapshot, dict[str, int]]:
    """The Snapshot a publisher sent, on this process's clocks, and its path revisions."""
    d = orjson.loads(data)
    if d.get("schema") != SCHEMA:
        raise ValueError(f"quote service schema {d.get('schema')!r}, this reader speaks {SCHEMA}")
    off = _clock_offset()
    quotes = {
        c: Quote(c, float(p), int(s), int(t), float(v), float(r) - off, src)
        for c, (p, s, t, v, r, src) in d["quotes"].items()
    }
    snap = Snapshot(
        version=int(d["version"]),
        published=float(d["published_at"]) - off,
        running=bool(d["running"]),
        watch_version=int(d["watch_version"]),
        watched=tuple(d["watched"]),
        markets=_proxy({c: Market(m) for c, m in d["markets"].items()}),
        quotes=_proxy(quotes),
        prev_closes=_proxy(
            {
                c: PrevClose(float(p), dt.date.fromisoformat(day), src)
                for c, (p, day, src) in d["prev_closes"].items()
            }
        ),
        days=_proxy({c: Day(dt.date.fromisoformat(v[0]), *map(float, v[1:])) for c, v in d["days"].items()}),
        daily_for=_proxy({c: dt.date.fromisoformat(v) for c, v in d["daily_for"].items()}),
        names=_proxy({c: StaticInfo(c, n, cur, ex, zh) for c, (n, cur, ex, zh) in d["names"].items()}),
        invalid=_proxy(dict(d["invalid"])),
        not_streamed=_proxy(dict(d["not_streamed"])),
        links=_proxy({m: LinkView(n, ConnectionState(s), det) for m, (n, s, det) in d["links"].items()}),
        recovering=frozenset(d["recovering"]),
        paths=_proxy({c: p for c, p in paths.items() if c in d["path_revs"]}),
        events=tuple(_decode_event(e) for e in d["events"]),
        drops=_proxy(dict(d["drops"])),
        errors=_proxy(dict(d["errors"])),
        ticks_applied=int(d["ticks_applied"]),
        auth_error=d.get("auth_error"),
    )
    return snap, {c: int(r) for c, r in d["path_revs"].items()}


def encode_path(path: MinutePath) -> bytes:
    return orjson.dumps({"first_min": path.first_min, "closes": list(path.closes)})


def decode_path(data: bytes | str) -> MinutePath:
    d = orjson.loads(data)
    return MinutePath(int(d["first_min"]), tuple(float(c) for c in d["closes"]))


# --- status --------------------------------------------------------------------------------


def _iso(t: dt.datetime | None) -> str | None:
    return t.isoformat() if t is not None else None


def encode_status(status: FeedStatus) -> bytes:
    """The publisher's FeedStatus; readers take links, plan, pending work and sinks from it."""
    d = asdict(status)
    d["schema"] = SCHEMA
    d["events"] = [_event(e) for e in status.events]
    d["connections"] = [
        {**asdict(c), "connected_since": _iso(c.connected_since), "last_message_at": _iso(c.last_message_at)}
        for c in status.connections
    ]
    return orjson.dumps(d)


def decode_status(data: bytes | str) -> FeedStatus:
    d: dict[str, Any] = orjson.loads(data)
    d.pop("schema", None)
    d["events"] = tuple(_decode_event(e) for e in d["events"])
    conns = []
    for c in d["connections"]:
        c["state"] = ConnectionState(c["state"])
        c["markets"], c["symbols"], c["not_streamed"] = (
            tuple(c["markets"]),
            tuple(c["symbols"]),
            tuple(c["not_streamed"]),
        )
        for key in ("connected_since", "last_message_at"):
            c[key] = dt.datetime.fromisoformat(c[key]) if c[key] else None
        conns.append(ConnectionStatus(**c))
    d["connections"] = tuple(conns)
    d["notices"] = tuple(d.get("notices") or ())
    if isinstance(d.get("store"), dict):
        d["store"] = _decode_store(d["store"])
    known = FeedStatus.__dataclass_fields__
    return FeedStatus(**{k: v for k, v in d.items() if k in known})


def _decode_store(d: dict[str, Any]) -> StoreStatus:
    for key in ("oldest", "newest"):
        d[key] = dt.date.fromisoformat(d[key]) if d.get(key) else None
    d["since"] = dt.datetime.fromisoformat(d["since"]) if d.get("since") else None
    known = StoreStatus.__dataclass_fields__
    return StoreStatus(**{k: v for k, v in d.items() if k in known})


# --- ticks ---------------------------------------------------------------------------------


def encode_tick(symbol: str, market: str, seq: int, price: float, volume: float, time_ms: int) -> dict:
    """One stream entry's fields (Redis stream values are strings)."""
    return {"s": symbol, "m": market, "q": seq, "p": repr(price), "v": repr(volume), "t": time_ms}


def _text(v: bytes | str) -> str:
    return v.decode() if isinstance(v, bytes) else v


def decode_tick(fields: Mapping[bytes | str, bytes | str]) -> tuple[str, str, int, float, float, int]:
    """``(symbol, market, seq, price, volume, time_ms)`` of one stream entry."""
    f = {
        (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
        for k, v in fields.items()
    }
    return f["s"], f["m"], int(f["q"]), float(f["p"]), float(f["v"]), int(f["t"])
