"""The read side of ``FeedManager``: snapshot, history, sparklines, clocks, status, readiness.

Every method reads published, immutable values (a Snapshot, the shared built
frame, the status records) from whatever source backs the manager, so it runs on the
caller's thread, never blocks ingest and never schedules I/O. The source is the seam
for a reader that gets its state from elsewhere (a quote service over Redis).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd

from feed import calendars
from feed.health import readiness
from feed.history import KINDS, Source, export_frame, history_of, resolve
from feed.model import FeedStatus, NotReady, Readiness
from feed.snapshot import Snapshot
from feed.symbols import code_of, symbol_list
from feed.view import EMPTY_FRAME, history_frame, path_points, sparkline
from feed.viewer import Built, market_clocks

__all__ = ["ReadApi"]

# Rows of symbols the feed watches but has not published yet are waited for this long
# (milliseconds normally; seconds in a process still starting on a loaded machine).
ROWS_GRACE = 10.0


class ReadApi:
    """Mixed into ``FeedManager``; the hooks below say where the published values come from."""

    _clock: Callable[[], float]

    def _state(self) -> Snapshot:
        raise NotImplementedError

    def _built(self) -> Built | None:
        raise NotImplementedError

    def _status(self) -> FeedStatus:
        raise NotImplementedError

    def _clocks(self) -> dict[str, calendars.MarketClock] | None:
        return None

    def _watching(self, codes: list[str]) -> bool:
        """Whether the feed already watches ``codes`` (their rows are on their way)."""
        return False

    def snapshot_state(self) -> Snapshot:
        """The latest published state (immutable); cheap, never blocks ingest."""
        return self._state()

    def snapshot(self, symbols: Iterable[str] | str | None = None) -> pd.DataFrame:
        """One row per watched symbol, or per ``symbols`` (any accepted form) in that order.

        Built once per published version (by the first reader to ask) and handed out as
        copy-on-write views; a symbol that is not watched is a ``KeyError`` naming it.
        """
        built = self._built()
        if built is None:
            if symbols is None:
                return EMPTY_FRAME.copy()
            built = Built(0, 0, 0.0, EMPTY_FRAME, {})
        if symbols is None:
            return built.frame.copy(deep=False)
        codes = [code_of(s) for s in symbol_list(symbols)]
        unknown = [c for c in codes if c not in built.index]
        deadline = time.monotonic() + ROWS_GRACE
        while unknown and self._watching(unknown) and time.monotonic() < deadline:
            time.sleep(0.02)  # watched a moment ago: the next frame has the rows
            built = self._built() or built
            unknown = [c for c in codes if c not in built.index]
        if unknown:
            raise KeyError(f"not watched: {', '.join(unknown)} (subscribe first)")
        return built.frame.take([built.index[c] for c in dict.fromkeys(codes)]).reset_index(drop=True)

    def _history_source(self) -> Source:
        raise NotImplementedError

    def history(self, symbol: str, start: Any = None, end: Any = None, kind: str = "path") -> pd.DataFrame:
        """A symbol's day, or the ticks and minute bars stored for any range.

        ``kind="path"`` (the default): today's path of a watched symbol, minute closes then
        the latest price (``ts``, ``price``); minutes nobody saw are one NaN row (a break).
        ``kind="ticks"``: every stored tick (``ts``, ``seq``, ``price``, ``volume``).
        ``kind="1m"``: minute bars (``ts``, ``open``, ``high``, ``low``, ``close``, ``volume``,
        ``trades``, ``source`` "ticks" or "kline", ``complete``) from the store and memory.
        ``start``/``end``: anything ``pd.Timestamp`` takes (naive is UTC) or a date (market
        time); both included; the default is the symbol's trading day so far.
        """
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
        code = code_of(symbol)
        if kind != "path":
            return history_of(self._history_source(), code, start, end, kind)
        snap = self._state()
        if code not in snap.markets:
            raise KeyError(f"not watched: {code} (subscribe first)")
        frame = history_frame(path_points(snap, code))
        if start is not None or end is not None:
            lo, hi = resolve(snap.markets[code], start, end, self._clock())
            ms = frame["ts"].dt.as_unit("ms").astype("int64")
            frame = frame[(ms >= lo) & (ms <= hi)].reset_index(drop=True)
        return frame

    def export(
        self,
        symbols: Iterable[str] | str | None = None,
        first: dt.date | None = None,
        last: dt.date | None = None,
        kind: str = "ticks",
    ) -> pd.DataFrame:
        """What ``python -m feed export`` writes: each symbol's ``history(kind=...)`` over the
        days ``first``..``last`` in its market's time (default: its trading day today), with a
        ``symbol`` column; ``symbols=None`` exports every symbol stored over those days."""
        if kind not in ("ticks", "1m"):
            raise ValueError(f"kind must be ticks or 1m, not {kind!r}")
        codes = None if symbols is None else [code_of(s) for s in symbol_list(symbols)]
        return export_frame(self._history_source(), codes, first, last, kind)

    def sparklines(self, symbols: Iterable[str], points: int = 120) -> dict[str, list[float]]:
        """Today's path per symbol thinned to ``points`` values, ending on the newest."""
        snap = self._state()
        return {c: sparkline(snap, c, points) for c in symbols}

    def market_clocks(self, wall: float | None = None) -> dict[str, calendars.MarketClock]:
        """Each market's session state now (refreshed once a second by the ``feed-clocks`` thread)."""
        clocks = self._clocks() if wall is None else None
        return clocks if clocks else market_clocks(self._clock() if wall is None else wall)

    def status(self) -> FeedStatus:
        """Links, drops, errors, pending reference data, events: see :class:`FeedStatus`."""
        return self._status()

    def wait_ready(
        self, timeout: float = 10.0, *, need_prev_close: bool = True, strict: bool = False
    ) -> Readiness:
        """Wait until every watched symbol has a price (and a previous close).

        Returns a :class:`Readiness` (true when ready) naming what is missing and why,
        early when only final causes remain (invalid codes, codes over the plan's cap);
        with ``strict=True`` a shortfall raises :class:`NotReady` instead.
        """
        deadline = time.monotonic() + timeout
        while True:
            result = readiness(self.snapshot(), self.status(), need_prev_close=need_prev_close)
            if result or result.final or time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        if strict and not result:
            raise NotReady(result)
        return result
