"""Feed health as tables and short lines: connections, drops, events, market clocks.

Builders take ``feed.model.FeedStatus`` / ``FeedEvent`` values and market clocks
(anything shaped like ``feed.calendars.MarketClock``) and return DataFrames or
strings; the Feed health page and the sidebar only lay them out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import pandas as pd

from feed.model import EventKind, FeedEvent, FeedStatus
from feed.symbols import Market
from ui.format import MISSING, ZONE_ABBR, format_duration
from ui.watchlist import shorten

__all__ = [
    "TOAST_KINDS",
    "ClockLike",
    "clock_line",
    "clocks_frame",
    "connections_frame",
    "drops_frame",
    "events_frame",
    "new_events",
    "not_streamed",
    "toast_for",
]

# Events a viewer should hear about the moment they happen.
TOAST_KINDS = frozenset(
    {
        EventKind.CONNECTED,
        EventKind.DISCONNECTED,
        EventKind.RECOVERED,
        EventKind.PLAN_LIMIT,
        EventKind.AUTH_FAILED,
    }
)
_TOAST_ICONS = {
    EventKind.CONNECTED: ":material/link:",
    EventKind.DISCONNECTED: ":material/link_off:",
    EventKind.RECOVERED: ":material/check_circle:",
    EventKind.PLAN_LIMIT: ":material/block:",
    EventKind.AUTH_FAILED: ":material/key_off:",
}
_PHASE_ICONS = {
    "open": ":material/radio_button_checked:",
    "pre-open": ":material/schedule:",
    "lunch break": ":material/lunch_dining:",
    "closed": ":material/radio_button_unchecked:",
    "holiday": ":material/event_busy:",
}


class ClockLike(Protocol):
    """What the UI reads from ``feed.calendars.MarketClock``."""

    market: Any
    phase: Any
    trading_date: dt.date | None
    next_open: dt.datetime | None
    next_close: dt.datetime | None
    early_close: bool
    is_open: bool


def _local(ts: dt.datetime | None, tz: dt.tzinfo, fmt: str = "%H:%M:%S") -> str:
    if ts is None or pd.isna(ts):
        return MISSING
    return ts.astimezone(tz).strftime(fmt)


def connections_frame(status: FeedStatus, now: dt.datetime | None = None) -> pd.DataFrame:
    """One row per WebSocket connection: state, load, and what it could not stream."""
    now = now or dt.datetime.now(dt.UTC)
    rows = []
    for c in status.connections:
        last_msg = (now - c.last_message_at).total_seconds() if c.last_message_at else None
        up_for = (now - c.connected_since).total_seconds() if c.connected_since else None
        rows.append(
            {
                "Connection": c.name,
                "State": str(c.state),
                "Markets": ", ".join(str(m) for m in c.markets),
                "Symbols": len(c.symbols),
                "Not streamed": ", ".join(c.not_streamed) if c.not_streamed else "",
                "Msgs/s": float(c.msgs_per_s),
                "Messages": int(c.messages),
                "Reconnects": int(c.reconnects),
                "Up for": format_duration(up_for) if up_for is not None else MISSING,
                "Last message": f"{format_duration(last_msg)} ago" if last_msg is not None else MISSING,
                "Last error": shorten(c.last_error, 160) if c.last_error else "",
            }
        )
    columns = [
        "Connection",
        "State",
        "Markets",
        "Symbols",
        "Not streamed",
        "Msgs/s",
        "Messages",
        "Reconnects",
        "Up for",
        "Last message",
        "Last error",
    ]
    return pd.DataFrame.from_records(rows, columns=columns)


def drops_frame(status: FeedStatus) -> pd.DataFrame:
    """Messages the feed dropped, by reason, most first."""
    items = sorted(status.drops.items(), key=lambda kv: (-kv[1], kv[0]))
    return pd.DataFrame(items, columns=["Reason", "Count"])


def events_frame(events: Iterable[FeedEvent], tz: dt.tzinfo = dt.UTC, limit: int = 200) -> pd.DataFrame:
    """Recent feed events, newest first, times in ``tz``."""
    evs = sorted(events, key=lambda e: e.seq, reverse=True)[:limit]
    return pd.DataFrame(
        [
            {
                "#": e.seq,
                "Time": _local(e.time, tz, "%Y-%m-%d %H:%M:%S"),
                "Event": str(e.kind),
                "Connection": e.connection,
                "Message": shorten(e.message, 300),
            }
            for e in evs
        ],
        columns=["#", "Time", "Event", "Connection", "Message"],
    )


def not_streamed(status: FeedStatus | None, snapshot: pd.DataFrame | None) -> dict[str, str]:
    """Watched symbols the plan or server left out, with the reason when known."""
    out: dict[str, str] = {}
    if snapshot is not None and not snapshot.empty and "streamed" in snapshot:
        for code, streamed, note in zip(
            snapshot["symbol"], snapshot["streamed"], snapshot["note"], strict=True
        ):
            if not bool(streamed):
                out[str(code)] = str(note or "")
    if status is not None:
        for c in status.connections:
            for code in c.not_streamed:
                out.setdefault(code, "")
    return out


def _market_of(clock: ClockLike) -> Market | None:
    try:
        return Market(str(getattr(clock.market, "value", clock.market)))
    except ValueError:
        return None


def clock_line(clock: ClockLike, now: dt.datetime | None = None) -> tuple[str, str, str]:
    """``(icon, phase, countdown)`` for one market, e.g. ``("…", "open", "closes in 2h 05m")``."""
    now = now or dt.datetime.now(dt.UTC)
    phase = str(getattr(clock.phase, "value", clock.phase))
    icon = _PHASE_ICONS.get(phase, ":material/schedule:")
    if clock.is_open and clock.next_close is not None:
        when = f"closes in {format_duration((clock.next_close - now).total_seconds())}"
        if clock.early_close:
            when += " (early close)"
    elif clock.is_open:
        when = "trades around the clock"
    elif clock.next_open is not None:
        verb = "reopens" if phase == "lunch break" else "opens"
        when = f"{verb} in {format_duration((clock.next_open - now).total_seconds())}"
    else:
        when = ""
    return icon, phase, when


def clocks_frame(
    clocks: Mapping[str, ClockLike] | Sequence[ClockLike], now: dt.datetime | None = None
) -> pd.DataFrame:
    """Each market's session right now, in exchange-local time."""
    now = now or dt.datetime.now(dt.UTC)
    items = list(clocks.values()) if isinstance(clocks, Mapping) else list(clocks)
    rows = []
    for clock in items:
        market = _market_of(clock)
        tz = market.tz if market is not None else dt.UTC
        abbr = ZONE_ABBR.get(market, "UTC") if market is not None else "UTC"
        _, phase, when = clock_line(clock, now)
        rows.append(
            {
                "Market": market.label if market is not None else str(clock.market),
                "Phase": phase,
                "Local time": f"{now.astimezone(tz).strftime('%a %H:%M')} {abbr}",
                "Trading date": clock.trading_date.isoformat() if clock.trading_date else MISSING,
                "Next open": _local(clock.next_open, tz, f"%a %d %b %H:%M {abbr}"),
                "Next close": _local(clock.next_close, tz, f"%a %d %b %H:%M {abbr}"),
                "Countdown": when,
                "Early close": "yes" if clock.early_close else "",
            }
        )
    columns = [
        "Market",
        "Phase",
        "Local time",
        "Trading date",
        "Next open",
        "Next close",
        "Countdown",
        "Early close",
    ]
    return pd.DataFrame.from_records(rows, columns=columns)


def new_events(events: Iterable[FeedEvent], last_seq: int | None) -> list[FeedEvent]:
    """Events after ``last_seq`` worth a toast, oldest first; none on a session's first look."""
    if last_seq is None:
        return []
    return sorted((e for e in events if e.seq > last_seq and e.kind in TOAST_KINDS), key=lambda e: e.seq)


def toast_for(event: FeedEvent) -> tuple[str, str]:
    """``(text, icon)`` of a toast; the message is shortened, the caller escapes markdown."""
    message = shorten(event.message, 160).strip()
    where = f"{event.connection} feed" if event.connection else "Feed"
    if not message:
        text = f"{where}: {event.kind}"
    elif event.connection and event.connection in message:
        text = message  # the feed's messages often name the connection already
    else:
        text = f"{where}: {message}"
    return text[:1].upper() + text[1:], _TOAST_ICONS.get(event.kind, ":material/info:")
