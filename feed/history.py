"""``history()`` beyond today's path, and the export: ticks and minute bars as frames.

Runs on the caller's thread. Where the rows come from is a :class:`Source`: the running
manager (its store thread answers reads, flushing first so nothing handed over is
missed; its processor's minute series supplies the minutes the store does not hold:
the one under way, K-line minutes from before the store saw the code), or the store's
directory alone (the CLI, a stopped manager). The export is a concatenation of
``history()`` frames with a ``symbol`` column, so the page, the CLI and ``history()``
give the same rows for the same range by construction.

Ranges: ``start``/``end`` take anything ``pd.Timestamp`` takes (naive means UTC); a
``datetime.date`` means that day in the symbol's market time. The default is the
symbol's trading day so far (from midnight, market time). Both ends are included.

Thread ownership: none; pure functions over what a source returns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, Protocol

import pandas as pd

from feed import calendars
from feed.continuity import day_start_ms
from feed.minutes import KLINE, PARTIAL
from feed.symbols import Market, parse_symbol

__all__ = [
    "BAR_FRAME", "KINDS", "TICK_FRAME", "DiskSource", "RunSource", "Source",
    "bars_frame", "day_range", "export_frame", "history_of", "resolve", "ticks_frame",
]  # fmt: skip

KINDS = ("path", "ticks", "1m")
TICK_FRAME = ["ts", "seq", "price", "volume"]
BAR_FRAME = ["ts", "open", "high", "low", "close", "volume", "trades", "source", "complete"]
_DAY_MS = 86_400_000


class Source(Protocol):
    def now(self) -> float: ...

    def store_read(self, kind: str, codes: tuple[str, ...], lo_ms: int, hi_ms: int) -> Any: ...

    def memory_bars(self, code: str) -> list[tuple]: ...


def _ms(value: Any, market: Market, end: bool) -> int:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        day = value + dt.timedelta(days=1) if end else value
        ms = int(dt.datetime.combine(day, dt.time(0), market.tz).timestamp() * 1000)
        return ms - 1 if end else ms
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return int(ts.value // 1_000_000)


def resolve(market: Market, start: Any, end: Any, now: float) -> tuple[int, int]:
    """``(lo_ms, hi_ms)``, both included; the default is the trading day so far."""
    now_dt = dt.datetime.fromtimestamp(now, dt.UTC)
    lo = day_start_ms(market, now_dt) if start is None else _ms(start, market, end=False)
    hi = int(now * 1000) if end is None else _ms(end, market, end=True)
    return lo, hi


def day_range(market: Market, first: dt.date, last: dt.date) -> tuple[int, int]:
    """The days ``first`` to ``last`` in the market's own time."""
    return _ms(first, market, end=False), _ms(last, market, end=True)


def ticks_frame(stored: pd.DataFrame) -> pd.DataFrame:
    """``ts`` (UTC, ms), ``seq``, ``price``, ``volume``, oldest first."""
    return pd.DataFrame(
        {
            "ts": pd.to_datetime(stored["time_ms"].astype("int64"), unit="ms", utc=True).astype(
                "datetime64[ms, UTC]"
            ),
            "seq": stored["seq"].astype("int64"),
            "price": stored["price"].astype("float64"),
            "volume": stored["volume"].astype("float64"),
        }
    ).reset_index(drop=True)


def _memory_rows(memory: Iterable[tuple], lo_min: int, hi_min: int, now_min: int) -> list[tuple]:
    """Minute-series bars (``minute, o, h, l, c, v, rank``) as bar rows; flat fillers left out."""
    rows = []
    for minute, o, h, lo, c, v, rank in memory:
        if rank >= PARTIAL and lo_min <= minute <= hi_min:
            source = "kline" if rank == KLINE else "ticks"
            rows.append((minute, o, h, lo, c, v, None, source, minute < now_min and rank != PARTIAL))
    return rows


def bars_frame(
    stored: pd.DataFrame, memory: Iterable[tuple], lo_ms: int, hi_ms: int, now: float
) -> pd.DataFrame:
    """The store's minutes, then the minutes only memory holds; one row a minute, oldest first."""
    lo_min, hi_min = -(-lo_ms // 60_000), hi_ms // 60_000
    rows: dict[int, tuple] = {r[0]: r for r in _memory_rows(memory, lo_min, hi_min, int(now // 60))}
    for r in stored.itertuples(index=False):
        source = "kline" if int(r.source) == 2 else "ticks"
        trades = None if pd.isna(r.trades) else int(r.trades)
        rows[int(r.minute)] = (
            int(r.minute), r.open, r.high, r.low, r.close, r.volume, trades, source, bool(r.complete),
        )  # fmt: skip
    ordered = [rows[k] for k in sorted(rows)]
    return pd.DataFrame(
        {
            "ts": pd.to_datetime(
                pd.Series([r[0] * 60_000 for r in ordered], dtype="int64"), unit="ms", utc=True
            ).astype("datetime64[ms, UTC]"),
            **{
                c: pd.Series([r[i + 1] for r in ordered], dtype="float64")
                for i, c in enumerate(BAR_FRAME[1:6])
            },
            "trades": pd.Series([r[6] for r in ordered], dtype="Int64"),
            "source": pd.Series([r[7] for r in ordered], dtype="str"),
            "complete": pd.Series([r[8] for r in ordered], dtype="bool"),
        }
    )


def history_of(
    source: Source, code: str, start: Any, end: Any, kind: str, *, memory: bool = True
) -> pd.DataFrame:
    """One symbol's ticks (``kind="ticks"``) or minute bars (``kind="1m"``) from store and memory.

    ``memory=False``: what is stored only (the export: the CLI cannot see a running app's memory).
    """
    market = parse_symbol(code).market
    lo, hi = resolve(market, start, end, source.now())
    if kind == "ticks":
        return ticks_frame(source.store_read("ticks", (code,), lo, hi))
    stored = source.store_read("1m", (code,), lo, hi)
    return bars_frame(stored, source.memory_bars(code) if memory else (), lo, hi, source.now())


def export_frame(
    source: Source, symbols: Iterable[str] | None, first: dt.date | None, last: dt.date | None, kind: str
) -> pd.DataFrame:
    """Every symbol's stored ``history()`` over the days ``first``..``last`` in its market's
    time, with a leading ``symbol`` column. A missing day is the symbol's trading day today
    (so "today" is Hong Kong's date for 700.HK and New York's for AAPL.US); ``symbols=None``
    means every symbol stored over those days. Stored rows only, so the page and the CLI
    write the same file (``history()`` adds the minute under way from memory)."""
    now = dt.datetime.fromtimestamp(source.now(), dt.UTC)
    if symbols is None:
        lo_day, hi_day = first or last or now.date(), last or now.date()
        wide_lo = int(dt.datetime.combine(lo_day, dt.time(0), dt.UTC).timestamp() * 1000) - 2 * _DAY_MS
        wide_hi = int(dt.datetime.combine(hi_day, dt.time(0), dt.UTC).timestamp() * 1000) + 2 * _DAY_MS
        symbols = source.store_read("symbols", (), wide_lo, wide_hi)
    parts = []
    for code in symbols:
        market = parse_symbol(code).market
        today = calendars.trading_date(market, now)
        f = first or last or today
        lo, hi = day_range(market, f, last or max(f, today))
        frame = history_of(source, code, _ts(lo), _ts(hi), kind, memory=False)
        if len(frame):
            frame.insert(0, "symbol", code)
            parts.append(frame)
    columns = ["symbol", *(TICK_FRAME if kind == "ticks" else BAR_FRAME)]
    if not parts:
        empty = history_of(_Empty(), "AAPL.US", None, None, kind)
        empty.insert(0, "symbol", pd.Series(dtype="str"))
        return empty[columns]
    return pd.concat(parts, ignore_index=True)[columns]


def _ts(ms: int) -> pd.Timestamp:
    return pd.Timestamp(ms, unit="ms", tz="UTC")


class _Empty:
    """A source with nothing in it: the export's empty frame keeps the real dtypes."""

    def now(self) -> float:
        return 0.0

    def store_read(self, kind: str, codes: tuple[str, ...], lo_ms: int, hi_ms: int) -> Any:
        from feed.store.reading import empty

        return empty(kind)

    def memory_bars(self, code: str) -> list[tuple]:
        return []


READ_TIMEOUT = 15.0  # a read waits for the store thread's batch, or another process's lending


class RunSource:
    """A running feed: its store thread reads (flushing first), its processor's minutes."""

    def __init__(self, run: Any) -> None:
        self._run = run

    def now(self) -> float:
        return self._run.clock()

    def store_read(self, kind: str, codes: tuple[str, ...], lo_ms: int, hi_ms: int) -> Any:
        from feed.messages import Reply
        from feed.store.messages import Read

        store = self._run.store
        if store is None:
            return _no_store(kind)
        reply = Reply()
        store.submit(Read(kind, codes, lo_ms, hi_ms, reply))
        value = reply.wait(READ_TIMEOUT)
        if isinstance(value, Exception):
            raise value
        if value is None:
            raise TimeoutError(f"the tick store did not answer within {READ_TIMEOUT:g} s")
        return value

    def memory_bars(self, code: str) -> list[tuple]:
        from feed.messages import LiveBars, Reply

        reply = Reply()
        self._run.processor.submit(LiveBars(code, 0, reply))
        return reply.wait(2.0) or []


class DiskSource:
    """No feed running here: the store's directory is all there is (the CLI, a stopped manager)."""

    def __init__(self, data_dir: str | None, clock: Any) -> None:
        self._dir = data_dir
        self._clock = clock

    def now(self) -> float:
        return self._clock()

    def store_read(self, kind: str, codes: tuple[str, ...], lo_ms: int, hi_ms: int) -> Any:
        if self._dir is None:
            return _no_store(kind)
        from feed.store.reading import read

        return read(self._dir, kind, codes, lo_ms, hi_ms)

    def memory_bars(self, code: str) -> list[tuple]:
        return []


def _no_store(kind: str) -> Any:
    if kind == "ticks":
        raise LookupError("no ticks are stored: the tick store is off (QUOTES_DATA_DIR=off)")
    from feed.store.reading import empty

    return empty(kind)
