"""Feed health as tables and short lines: connections, drops, events, market clocks.

Builders take ``feed.model.FeedStatus`` / ``FeedEvent`` values and market clocks
(anything shaped like ``feed.calendars.MarketClock``) and a translator, and return
DataFrames or strings; the Feed health page and the sidebar only lay them out.
DataFrame columns are stable English keys; :data:`HEADERS` holds their msgids, the
page shows them translated as column labels.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Protocol

import pandas as pd

from feed.model import EventKind, FeedEvent, FeedStatus
from feed.symbols import Market
from ui.format import MISSING, format_duration
from ui.i18n import EN, N_, Translator
from ui.vocab import (
    connection_label,
    drop_reason,
    event_kind,
    market_label,
    phase,
    state,
    zone,
)
from ui.watchlist import shorten

__all__ = [
    "HEADERS",
    "TOAST_KINDS",
    "ClockLike",
    "clock_line",
    "clocks_frame",
    "connections_frame",
    "drops_frame",
    "events_frame",
    "invalid_frame",
    "invalid_reason",
    "new_events",
    "not_streamed",
    "toast_for",
]

# Events a viewer should hear about the moment they happen. A connection coming up is
# not news (three of them at start-up once covered the page for seconds).
TOAST_KINDS = frozenset(
    {
        EventKind.DISCONNECTED,
        EventKind.RECOVERED,
        EventKind.UNREACHABLE,
        EventKind.PLAN_LIMIT,
        EventKind.AUTH_FAILED,
    }
)
_TOAST_ICONS = {
    EventKind.DISCONNECTED: ":material/link_off:",
    EventKind.RECOVERED: ":material/check_circle:",
    EventKind.UNREACHABLE: ":material/cloud_off:",
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
# Column keys of every health table and their labels (msgids).
HEADERS: dict[str, str] = {
    "Connection": N_("Connection"),
    "State": N_("State"),
    "Markets": N_("Markets"),
    "Symbols": N_("Symbols"),
    "Not streamed": N_("Not streamed"),
    "Msgs/s": N_("Msgs/s"),
    "Messages": N_("Messages"),
    "Reconnects": N_("Reconnects"),
    "Up for": N_("Up for"),
    "Last message": N_("Last message"),
    "Last error": N_("Last error"),
    "Reason": N_("Reason"),
    "Count": N_("Count"),
    "Symbol": N_("Symbol"),
    "#": N_("#"),
    "Time": N_("Time"),
    "Event": N_("Event"),
    "Message": N_("Message (from the feed)"),
    "Market": N_("Market"),
    "Phase": N_("Phase"),
    "Local time": N_("Local time"),
    "Trading date": N_("Trading date"),
    "Next open": N_("Next open"),
    "Next close": N_("Next close"),
    "Countdown": N_("Countdown"),
    "Early close": N_("Early close"),
}
# The feed's reasons for an invalid code, as msgids; others are shown as sent.
_INVALID_REASONS = {
    "the plan does not include this code (ret 604)": N_("the plan does not include this code (ret 604)"),
    "the server does not know this code (ret 600)": N_("AllTick does not know this code (ret 600)"),
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


def _codes(codes: Iterable[str], limit: int = 8) -> str:
    items = list(codes)
    return ", ".join(items[:limit]) + (f" +{len(items) - limit:,}" if len(items) > limit else "")


def connections_frame(
    status: FeedStatus, now: dt.datetime | None = None, tr: Translator = EN
) -> pd.DataFrame:
    """One row per WebSocket connection: state, load, and what it could not stream."""
    now = now or dt.datetime.now(dt.UTC)
    rows = []
    for c in status.connections:
        last_msg = (now - c.last_message_at).total_seconds() if c.last_message_at else None
        up_for = (now - c.connected_since).total_seconds() if c.connected_since else None
        rows.append(
            {
                "Connection": connection_label(tr, c.name),
                "State": state(tr, c.state),
                "Markets": ", ".join(str(m) for m in c.markets),
                "Symbols": len(c.symbols),
                "Not streamed": _codes(c.not_streamed),
                "Msgs/s": float(c.msgs_per_s),
                "Messages": int(c.messages),
                "Reconnects": int(c.reconnects),
                "Up for": format_duration(up_for, tr) if up_for is not None else MISSING,
                "Last message": tr._("{duration} ago", duration=format_duration(last_msg, tr))
                if last_msg is not None
                else MISSING,
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


def drops_frame(status: FeedStatus, tr: Translator = EN) -> pd.DataFrame:
    """Messages the feed dropped, by reason, most first."""
    items = sorted(status.drops.items(), key=lambda kv: (-kv[1], kv[0]))
    return pd.DataFrame([(drop_reason(tr, k), v) for k, v in items], columns=["Reason", "Count"])


def invalid_reason(tr: Translator, reason: str) -> str:
    key = _INVALID_REASONS.get(str(reason))
    return tr._(key) if key else shorten(str(reason), 160)


def invalid_frame(status: FeedStatus, watchlist: Collection[str], tr: Translator = EN) -> pd.DataFrame:
    """The codes of *this* watchlist that the server refused; other tabs' mistakes stay theirs."""
    wanted = set(watchlist)
    rows = [(c, invalid_reason(tr, r)) for c, r in status.invalid_symbols.items() if c in wanted]
    order = {c: i for i, c in enumerate(watchlist)}
    rows.sort(key=lambda row: order.get(row[0], 0))
    return pd.DataFrame(rows, columns=["Symbol", "Reason"])


def events_frame(
    events: Iterable[FeedEvent], tz: dt.tzinfo = dt.UTC, limit: int = 200, tr: Translator = EN
) -> pd.DataFrame:
    """Recent feed events, newest first, times in ``tz``; the feed's sentence as detail."""
    evs = sorted(events, key=lambda e: e.seq, reverse=True)[:limit]
    return pd.DataFrame(
        [
            {
                "#": e.seq,
                "Time": _local(e.time, tz, "%Y-%m-%d %H:%M:%S"),
                "Event": event_kind(tr, e.kind),
                "Connection": connection_label(tr, e.connection),
                "Symbols": _codes(getattr(e, "codes", ()) or ()),
                "Message": shorten(e.message, 300),
            }
            for e in evs
        ],
        columns=["#", "Time", "Event", "Connection", "Symbols", "Message"],
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


def clock_line(clock: ClockLike, now: dt.datetime | None = None, tr: Translator = EN) -> tuple[str, str, str]:
    """``(icon, phase, countdown)`` for one market, e.g. ``("…", "open", "closes in 2h 05m")``."""
    now = now or dt.datetime.now(dt.UTC)
    raw = str(getattr(clock.phase, "value", clock.phase))
    icon = _PHASE_ICONS.get(raw, ":material/schedule:")
    if clock.is_open and clock.next_close is not None:
        left = format_duration((clock.next_close - now).total_seconds(), tr)
        if clock.early_close:
            when = tr._("closes in {duration} (early close)", duration=left)
        else:
            when = tr._("closes in {duration}", duration=left)
    elif clock.is_open:
        when = tr._("trades around the clock")
    elif clock.next_open is not None:
        left = format_duration((clock.next_open - now).total_seconds(), tr)
        if raw == "lunch break":
            when = tr._("reopens in {duration}", duration=left)
        else:
            when = tr._("opens in {duration}", duration=left)
    else:
        when = ""
    return icon, phase(tr, raw), when


def _stamp(ts: dt.datetime | None, tz: dt.tzinfo, abbr: str, tr: Translator) -> str:
    if ts is None or pd.isna(ts):
        return MISSING
    local = ts.astimezone(tz)
    return f"{tr.weekday(local.date())} {tr.day_month(local.date())} {local:%H:%M} {abbr}"


def clocks_frame(
    clocks: Mapping[str, ClockLike] | Sequence[ClockLike], now: dt.datetime | None = None, tr: Translator = EN
) -> pd.DataFrame:
    """Each market's session right now, in exchange-local time."""
    now = now or dt.datetime.now(dt.UTC)
    items = list(clocks.values()) if isinstance(clocks, Mapping) else list(clocks)
    rows = []
    for clock in items:
        market = _market_of(clock)
        tz = market.tz if market is not None else dt.UTC
        abbr = zone(tr, market) if market is not None else "UTC"
        _, phase_text, when = clock_line(clock, now, tr)
        here = now.astimezone(tz)
        rows.append(
            {
                "Market": market_label(tr, market) if market is not None else str(clock.market),
                "Phase": phase_text,
                "Local time": f"{tr.weekday(here.date())} {here:%H:%M} {abbr}",
                "Trading date": clock.trading_date.isoformat() if clock.trading_date else MISSING,
                "Next open": _stamp(clock.next_open, tz, abbr, tr),
                "Next close": _stamp(clock.next_close, tz, abbr, tr),
                "Countdown": when,
                "Early close": tr._("yes") if clock.early_close else "",
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


def toast_for(event: FeedEvent, tr: Translator = EN) -> tuple[str, str]:
    """``(text, icon)`` of a toast, led by the translated kind; the caller escapes markdown.

    The feed's own sentence follows only where it carries specifics the kind does not
    (a plan limit's numbers); the link is named as people name it ("HTTP API").
    """
    where = connection_label(tr, event.connection)
    kind = event.kind
    if kind == EventKind.DISCONNECTED:
        text = tr._("{where}: connection lost, reconnecting.", where=where)
    elif kind == EventKind.RECOVERED:
        text = tr._("{where}: back, and the missed prices are filled in.", where=where)
    elif kind == EventKind.UNREACHABLE:
        text = tr._("{where}: the server cannot be reached; retrying.", where=where)
    elif kind == EventKind.AUTH_FAILED:
        text = tr._("{where}: AllTick refused the token.", where=where)
    elif kind == EventKind.PLAN_LIMIT:
        detail = shorten(event.message, 160).strip()
        text = tr._("{where}: plan limit reached ({detail}).", where=where, detail=detail)
    else:
        text = f"{where}: {event_kind(tr, kind)}"
    return text, _TOAST_ICONS.get(kind, ":material/info:")
