"""The quotes table users see, as pure functions of a Snapshot.

No state and no I/O: :func:`frame` turns one :class:`~feed.snapshot.Snapshot`, the
market clocks and the time into the DataFrame of ``FeedManager.snapshot()``; the first
reader of a version calls it (and again once a second, for ages; ``feed/viewer.py``), so
any number of readers share one build. :func:`path_points`, :func:`sparkline` and
:func:`history_frame` give a symbol's path from the published minute paths and its live
quote.

Freshness of a row, first rule that applies: an invalid code or one over the plan's cap
is *not streamed*; a stopped feed or a link that is down makes the row *feed down*
(or *auth failed* / *unreachable* while no price is known yet, or *waiting*); no price
yet is *waiting*; a gap fill under way is *recovering*; a market its calendar says is
shut is *market closed*, *lunch break* or *holiday*; a pushed trade in the last
``quiet_after`` seconds is *live*; otherwise *quiet*.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from feed import calendars
from feed.book import SOURCE_HTTP
from feed.model import SNAPSHOT_COLUMNS, ConnectionState, Freshness
from feed.snapshot import Snapshot
from feed.symbols import Market

__all__ = [
    "EMPTY_FRAME",
    "empty_frame",
    "fallback_name",
    "frame",
    "history_frame",
    "path_points",
    "phase_freshness",
    "quote_currency",
    "sparkline",
    "thin",
]

_PHASE_FRESHNESS = {
    calendars.Phase.CLOSED: Freshness.CLOSED,
    calendars.Phase.PRE_OPEN: Freshness.CLOSED,
    calendars.Phase.HOLIDAY: Freshness.HOLIDAY,
    calendars.Phase.LUNCH: Freshness.LUNCH,
}
_UP = (ConnectionState.LIVE, ConnectionState.SUBSCRIBING)
_FLOATS = ("last", "prev_close", "change", "pct_change", "age_s", "open", "high", "low", "volume", "turnover")
_NO_DAY = (math.nan,) * 5
_CURRENCY = {Market.US: "USD", Market.HK: "HKD", Market.CN: "CNY", Market.FX: "USD", Market.CRYPTO: "USDT"}
_METALS = {"GOLD": "Gold", "Silver": "Silver", "Platinum": "Platinum", "Palladium": "Palladium"}


def empty_frame() -> pd.DataFrame:
    """A snapshot with no rows but the real dtypes."""
    df = pd.DataFrame({c: pd.Series(dtype=object) for c in SNAPSHOT_COLUMNS})
    for c in _FLOATS:
        df[c] = df[c].astype("float64")
    df["ts"] = pd.Series(dtype="datetime64[ms, UTC]")
    df["streamed"] = df["streamed"].astype(bool)
    return df


EMPTY_FRAME = empty_frame()


def phase_freshness(clocks: Mapping[str, Any]) -> dict[str, Freshness]:
    """Markets whose calendar says no trading now, mapped to the freshness shown."""
    out: dict[str, Freshness] = {}
    for market, clock in clocks.items():
        fresh = _PHASE_FRESHNESS.get(clock.phase)
        if fresh is not None:
            out[market] = fresh
    return out


def frame(
    snap: Snapshot, phases: Mapping[str, Freshness], now: float, *, quiet_after: float = 60.0
) -> tuple[pd.DataFrame, dict[str, int]]:
    """The table for ``snap`` at monotonic time ``now``, and ``code -> row`` index."""
    codes = snap.watched
    if not codes:
        return empty_frame(), {}
    n = len(codes)
    cols: dict[str, list[Any]] = {c: [None] * n for c in SNAPSHOT_COLUMNS}
    for i, code in enumerate(codes):
        row = _row(snap, code, phases, now, quiet_after)
        for key, value in row.items():
            cols[key][i] = value
    # Each column made once in its final dtype: the builder holds the GIL while it
    # builds, and every pass of astype over a built frame is time the processor waits.
    data: dict[str, Any] = {}
    static = _static_columns(snap, cols)
    for c in SNAPSHOT_COLUMNS:
        values = cols[c]
        if c in static:
            data[c] = static[c]
        elif c in _FLOATS:
            data[c] = np.array(values, dtype="float64")
        elif c == "ts":
            ms = np.array([-1 if v is None else v for v in values], dtype="int64")
            ts = ms.astype("datetime64[ms]")
            ts[ms < 0] = np.datetime64("NaT")
            data[c] = pd.DatetimeIndex(ts).tz_localize("UTC")
        elif c == "streamed":
            data[c] = np.array(values, dtype=bool)
        else:
            data[c] = values
    return pd.DataFrame(data, columns=list(SNAPSHOT_COLUMNS)), {c: i for i, c in enumerate(codes)}


_STATIC = ("symbol", "name", "name_zh", "market", "currency")
_static_held: tuple[Any, Any, dict[str, Any]] = (None, None, {})  # made for (watched, names)


def _static_columns(snap: Snapshot, cols: dict[str, list[Any]]) -> dict[str, Any]:
    """The columns that change only with the watchlist or the names, as string arrays made
    once: converting text to pandas' string dtype is most of a frame's cost. Frames are
    built under the view builder's lock; the held tuple is replaced whole, so another
    caller (a final frame, a test) at worst makes them once more."""
    global _static_held
    watched, names, held = _static_held
    if watched is snap.watched and names is snap.names:
        return held
    made = {c: pd.array(cols[c], dtype="str") for c in _STATIC}
    _static_held = (snap.watched, snap.names, made)
    return made


def _row(snap: Snapshot, code: str, phases: Mapping[str, Freshness], now: float, quiet_after: float) -> dict:
    market = snap.markets[code]
    q = snap.quotes.get(code)
    info = snap.names.get(code)
    pc = snap.prev_closes.get(code) if q is not None else None
    last = q.price if q is not None else math.nan
    prev = pc.price if pc is not None else math.nan
    change = round(last - prev, 8) if pc is not None and q is not None else math.nan
    fresh, note = _freshness(snap, code, market, q, phases, now, quiet_after)
    day = snap.days.get(code)
    o, h, lo, vol, turn = day[1:] if day is not None else _NO_DAY
    return {
        "symbol": code,
        "name": info.name if info and info.name else fallback_name(code),
        "name_zh": info.name_zh if info else "",
        "market": market.value,
        "currency": info.currency if info and info.currency else quote_currency(code, market),
        "last": last,
        "prev_close": prev,
        "change": change,
        "pct_change": change / prev * 100.0 if pc is not None and q is not None else math.nan,
        "ts": q.time_ms if q is not None else None,
        "age_s": now - q.received if q is not None else math.nan,
        "freshness": fresh.value,
        "prev_close_date": pc.trade_date if pc is not None else None,
        "streamed": fresh is not Freshness.NOT_STREAMED,
        "note": note,
        "open": o,
        "high": h,
        "low": lo,
        "volume": vol,
        "turnover": turn,
    }


def _freshness(
    snap: Snapshot,
    code: str,
    market: Market,
    q: Any,
    phases: Mapping[str, Freshness],
    now: float,
    quiet: float,
) -> tuple[Freshness, str]:
    if code in snap.invalid:
        return Freshness.NOT_STREAMED, snap.invalid[code]
    if code in snap.not_streamed:
        return Freshness.NOT_STREAMED, snap.not_streamed[code]
    if not snap.running:
        return (Freshness.DOWN if q is not None else Freshness.WAITING), "the feed is stopped"
    link = snap.links.get(market.value)
    if link is None or link.state not in _UP:
        state = link.state if link is not None else ConnectionState.CONNECTING
        detail = link.detail if link is not None else ""
        if state is ConnectionState.AUTH_FAILED:
            return Freshness.AUTH_FAILED, detail
        if q is not None:
            return Freshness.DOWN, detail
        if state is ConnectionState.UNREACHABLE:
            return Freshness.UNREACHABLE, detail
        return Freshness.WAITING, detail
    if q is None:
        return Freshness.WAITING, ""
    if code in snap.recovering:
        return Freshness.RECOVERING, ""
    phase = phases.get(market.value)
    if phase is not None:
        return phase, ""
    if q.source != SOURCE_HTTP and now - q.received < quiet:
        return Freshness.LIVE, ""
    return Freshness.QUIET, ""


def quote_currency(code: str, market: Market) -> str:
    """Static info covers stocks only; a forex pair is quoted in its second currency."""
    if market is Market.FX and len(code) == 6 and code.isupper() and code.isalpha():
        return code[3:]
    return _CURRENCY[market]


def fallback_name(code: str) -> str:
    """Forex and crypto have no static info endpoint; spell the pair out instead."""
    if code in _METALS:
        return _METALS[code]
    if len(code) == 6 and code.isalpha() and code.isupper():
        return f"{code[:3]}/{code[3:]}"
    if code.endswith("USDT") and len(code) > 4:
        return f"{code[:-4]}/USDT"
    return ""


# --- paths ------------------------------------------------------------------------------


def path_points(snap: Snapshot, code: str) -> list[tuple[int, float]]:
    """``(epoch ms, price)``: completed minutes at their minute, then the live quote.

    The minute in progress is represented by the quote itself (at its own time), never
    by a minute close too, so the path has no duplicated last minute. A run of minutes
    nobody saw (a gap) becomes one NaN point at its first minute: a break in the line,
    never a straight line across it.
    """
    path = snap.paths.get(code)
    q = snap.quotes.get(code)
    points = path.points() if path is not None else []
    current = q.time_ms // 60_000 if q is not None else None
    out: list[tuple[int, float]] = []
    in_gap = False
    for m, p in points:
        if current is not None and m >= current:
            break
        if p != p:  # NaN: a gap
            if out and not in_gap:
                out.append((m * 60_000, math.nan))
            in_gap = True
            continue
        in_gap = False
        out.append((m * 60_000, p))
    if q is not None:
        out.append((q.time_ms, q.price))
    return out


def sparkline(snap: Snapshot, code: str, points: int) -> list[float]:
    """Today's path thinned to ``points`` values, first and newest kept; a gap stays a NaN.

    The prices of :func:`path_points` without building its (time, price) pairs: every
    tab's sparklines are read once per snapshot version, and a day holds ~1,400 minutes.
    """
    path = snap.paths.get(code)
    q = snap.quotes.get(code)
    held = path.closes if path is not None else ()
    if q is None:
        closes = list(held)
    else:
        done = max(0, min(len(held), q.time_ms // 60_000 - path.first_min)) if path is not None else 0
        closes = [*held[:done], q.price]
    total = sum(closes)
    if total != total:  # a NaN somewhere (prices are finite): a gap, one NaN per run of them
        closes = _one_nan_per_gap(closes)
    return thin(closes, points)


def _one_nan_per_gap(values: list[float]) -> list[float]:
    out: list[float] = []
    gap = False
    for v in values:
        if v != v:
            if out and not gap:
                out.append(math.nan)
            gap = True
        else:
            out.append(v)
            gap = False
    return out


def thin(values: list[float], points: int) -> list[float]:
    """About ``points`` evenly spaced values; a NaN (a gap) between two picks is kept as one NaN."""
    n = len(values)
    if n <= points or points < 2:
        return list(values)
    total = sum(values)
    if total == total:  # no NaN
        step = (n - 1) / (points - 1)
        return [values[round(i * step)] for i in range(points)]
    nans = [0]  # NaNs before each index
    for v in values:
        nans.append(nans[-1] + (v != v))
    step = (n - 1) / (points - 1)
    out: list[float] = []
    prev = -1
    for i in range(points):
        k = round(i * step)
        v = values[k]
        if nans[k + 1] - nans[prev + 1]:
            if out and out[-1] == out[-1]:
                out.append(math.nan)
            if v == v:
                out.append(v)
        else:
            out.append(v)
        prev = k
    return out


def history_frame(points: Iterable[tuple[int, float]]) -> pd.DataFrame:
    pts = list(points)
    return pd.DataFrame(
        {
            "ts": pd.to_datetime(pd.Series([t for t, _ in pts], dtype="int64"), unit="ms", utc=True),
            "price": pd.Series([p for _, p in pts], dtype="float64"),
        }
    )
