"""OHLCV bars for strategies: AllTick K-lines plus the bar being formed right now.

``FeedManager.bars(symbol, interval)`` runs on the caller's thread. It asks the
reference-data worker (the one owner of the HTTP client and its rate limits) for the
K-lines and the processor (the one owner of the book) for today's minute bars, both as
messages answered on a :class:`~feed.messages.Reply`, then merges them here, purely:

* intraday intervals (1m, 5m, 15m, 30m, 1h): the current period's bar is rebuilt from
  the live minute bars (seeded from the 1-minute K-line, extended by every trade), so it
  moves with each tick; periods the minute bars do not cover from their start keep the
  K-line's bar, with its close, high and low moved by the live minutes;
* 1d: today's bar is the live day (open, high, low, volume from the daily K-line, then
  ticks; close = last);
* 1w: this week's bar takes the live close and stretches its high and low by today's.

The index is the bar's start, tz-aware UTC, strictly increasing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd

from feed.messages import FetchBars, LiveBars, Reply
from feed.minutes import PARTIAL
from feed.protocol.records import KLINE_SECONDS, KLINE_TYPES, Bar
from feed.snapshot import Snapshot
from feed.symbols import code_of

__all__ = ["BARS_COLUMNS", "BarsApi", "merge_live"]

BARS_COLUMNS = ["open", "high", "low", "close", "volume"]
MAX_BARS = 500
REPLY_TIMEOUT = 15.0
_WEEK = 7 * 86400


def merge_live(
    kline: Sequence[Bar], interval: str, minutes: Sequence[tuple], snap: Snapshot, code: str, now_s: float
) -> list[tuple[int, float, float, float, float, float]]:
    """K-line bars with the live period merged in; ``(start_s, o, h, l, c, v)``, oldest first."""
    bars = {b.time_s: (b.time_s, b.open, b.high, b.low, b.close, b.volume) for b in kline}
    q = snap.quotes.get(code)
    kline_type = KLINE_TYPES[interval]
    step = KLINE_SECONDS.get(kline_type)
    if step is not None and minutes:
        start = int(now_s // step) * step if q is None else (q.time_ms // 1000 // step) * step
        inside = [m for m in minutes if start <= m[0] * 60 < start + step]
        covered = minutes[0][0] * 60 <= start
        if inside and (covered or start not in bars):
            bars[start] = (
                start,
                inside[0][1],
                max(m[2] for m in inside),
                min(m[3] for m in inside),
                inside[-1][4],
                sum(m[5] for m in inside),
            )
        elif inside:
            s, o, h, lo, _, v = bars[start]
            hi = max(h, *(m[2] for m in inside))
            low = min(lo, *(m[3] for m in inside))
            bars[start] = (s, o, hi, low, inside[-1][4], v)
    elif q is not None and kline and kline_type in (8, 9):
        last = max(bars)
        s, o, h, lo, _, v = bars[last]
        day = snap.days.get(code)
        if kline_type == 8 and day is not None and _same_day(s, day.trade_date, snap, code):
            bars[last] = (s, day.open, max(day.high, q.price), min(day.low, q.price), q.price, day.volume)
        elif kline_type == 9 and q.time_ms // 1000 < s + _WEEK:
            hi = max(h, q.price, day.high if day is not None else q.price)
            low = min(lo, q.price, day.low if day is not None else q.price)
            bars[last] = (s, o, hi, low, q.price, v)
    return [bars[k] for k in sorted(bars)]


def stored_periods(points: Sequence[tuple], step: int, now_s: float) -> dict[int, Bar]:
    """Ended periods of ``step`` seconds the store holds every minute of (quiet ones included,
    none rebuilt from part of a minute): their bars come from our own ticks, not the K-line."""
    by: dict[int, list[tuple]] = {}
    for p in points:
        by.setdefault(p[0] * 60 // step * step, []).append(p)
    out = {}
    for start, ms in by.items():
        if len(ms) == step // 60 and start + step <= now_s and all(m[6] != PARTIAL for m in ms):
            hi, lo = max(m[2] for m in ms), min(m[3] for m in ms)
            out[start] = Bar(start, ms[0][1], hi, lo, ms[-1][4], sum(m[5] for m in ms))
    return out


def covers(points: Sequence[tuple], lo_s: float, now_s: float) -> bool:
    """The store holds every ended minute from ``lo_s`` on: the server has nothing to add."""
    have = {p[0] for p in points if p[6] != PARTIAL}
    first, last = -(-int(lo_s) // 60), int(now_s // 60) - 1
    return first <= last and all(m in have for m in range(first, last + 1))


def _kline(run: Any, code: str, interval: str) -> Sequence[Bar]:
    """AllTick's K-line (up to 500 bars), asked of the reference-data worker."""
    reply = Reply()
    run.refdata.submit(FetchBars(code, KLINE_TYPES[interval], MAX_BARS, reply))
    kline = reply.wait(REPLY_TIMEOUT)
    if isinstance(kline, Exception):
        raise kline
    if kline is None:
        raise TimeoutError(f"bars({code!r}, {interval!r}): no answer from the HTTP API in {REPLY_TIMEOUT:g}s")
    return kline


def _merged(kline: Sequence[Bar], ours: dict[int, Bar]) -> list[Bar]:
    """The server's bars, each period the store holds whole replaced by the store's."""
    bars = {b.time_s: b for b in kline}
    bars.update(ours)
    return [bars[k] for k in sorted(bars)]


def _same_day(start_s: int, trade_date: dt.date, snap: Snapshot, code: str) -> bool:
    market = snap.markets.get(code)
    return market is not None and dt.datetime.fromtimestamp(start_s, market.tz).date() == trade_date


def _frame(rows: list[tuple], start: Any, end: Any) -> pd.DataFrame:
    index = pd.to_datetime(pd.Series([r[0] for r in rows], dtype="int64"), unit="s", utc=True)
    df = pd.DataFrame(
        {c: pd.Series([r[i + 1] for r in rows], dtype="float64") for i, c in enumerate(BARS_COLUMNS)}
    )
    df.index = pd.DatetimeIndex(index, name="ts")
    if start is not None:
        df = df[df.index >= _utc(start)]
    if end is not None:
        df = df[df.index <= _utc(end)]
    return df


def _utc(value: Any) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


class BarsApi:
    """``bars()`` for ``FeedManager``; the run supplies the two message routes."""

    def _run_or_raise(self) -> Any:  # provided by FeedManager
        raise NotImplementedError

    def _history_source(self) -> Any:  # provided by ReadApi / FeedManager
        raise NotImplementedError

    def _stored(self, code: str, lo_s: float, now_s: float) -> tuple[tuple, ...]:
        """The store's minutes of ``code`` since ``lo_s`` (quiet ones filled); () when there are none."""
        from feed.store.seeding import path_of

        frame, lost = self._history_source().store_read("path", (code,), int(lo_s * 1000), int(now_s * 1000))
        return path_of(frame, lost, code) if len(frame) else ()

    def bars(self, symbol: str, interval: str = "1m", start: Any = None, end: Any = None) -> pd.DataFrame:
        """OHLCV bars of a watched symbol: ``interval`` one of 1m, 5m, 15m, 30m, 1h, 1d, 1w.

        Up to 500 bars from AllTick's K-line (its limit per call), the last one live.
        ``start``/``end`` (anything ``pd.Timestamp`` takes; naive means UTC) cut the range.
        Raises ``KeyError`` for a symbol that is not watched, ``ValueError`` for an unknown
        interval, and the HTTP error (unreachable, auth, rate limit…) when the call fails.
        """
        if interval not in KLINE_TYPES:
            raise ValueError(f"interval must be one of {', '.join(KLINE_TYPES)}, not {interval!r}")
        code = code_of(symbol)
        run = self._run_or_raise()
        snap = run.processor.snapshot
        if code not in snap.markets:
            raise KeyError(f"not watched: {code} (subscribe first)")
        now_s = run.clock()
        step = KLINE_SECONDS.get(KLINE_TYPES[interval])
        stored: tuple[tuple, ...] = ()
        if step is not None:  # intraday: the store first, the server only for what it lacks
            lo_s = _utc(start).timestamp() if start is not None else now_s - MAX_BARS * step
            stored = self._stored(code, lo_s, now_s)
            if stored and covers(stored, lo_s, now_s):
                kline: Any = list(stored_periods(stored, step, now_s).values())
            else:
                kline = _merged(_kline(run, code, interval), stored_periods(stored, step, now_s))
        else:
            kline = _kline(run, code, interval)
        minutes: list = []
        if step is not None:
            q = run.processor.snapshot.quotes.get(code)
            ref_s = q.time_ms // 1000 if q is not None else int(now_s)
            live = Reply()
            run.processor.submit(LiveBars(code, (ref_s // step * step) // 60, live))
            minutes = live.wait(REPLY_TIMEOUT) or []
        rows = merge_live(kline, interval, minutes, run.processor.snapshot, code, now_s)
        return _frame(rows, start, end)
