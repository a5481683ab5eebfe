"""The quote book: the latest valid trade per symbol, its recent path, and drop counts.

Owned by the processor thread, its only writer (collect first, process in one place). Every
tick is checked before it may change a row: the code must be watched, the sequence
and exchange time must move forward, and an optional bad-print band holds a price
that jumps too far until the next tick confirms it. Readers never touch the book:
the processor publishes immutable copies (``publish_quotes``, ``path``) in each
:class:`feed.snapshot.Snapshot`.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import NamedTuple

from feed.protocol.codec import DropReason, Tick

__all__ = ["MinutePath", "MinuteSeries", "Quote", "QuoteBook"]

_new_tuple = tuple.__new__  # builds a NamedTuple without its slower Python-level __new__

SOURCE_PUSH = "push"
SOURCE_HTTP = "http"


class Quote(NamedTuple):
    """The book's row for one symbol: its latest accepted trade.

    ``received`` is the local monotonic clock when it arrived (staleness uses receive
    time; ordering uses the exchange's ``seq`` and ``time_ms``).
    """

    code: str
    price: float
    seq: int
    time_ms: int
    volume: float
    received: float
    source: str


class MinutePath(NamedTuple):
    """A published, immutable copy of a symbol's minute path: closes from ``first_min``.

    The last minute is the one in progress when it was copied; readers put the live
    quote in its place (see :func:`feed.view.path_points`).
    """

    first_min: int
    closes: tuple[float, ...]

    def points(self) -> list[tuple[int, float]]:
        return [(self.first_min + i, p) for i, p in enumerate(self.closes)]


class MinuteSeries:
    """A symbol's path at one-minute resolution, bounded, 8 bytes a point.

    The compare chart needs today's whole path, not every tick: minute closes seeded
    from the 1-minute K-line and extended by live ticks keep memory flat however fast
    the feed runs. Gaps carry the last close forward so lines stay continuous.
    """

    __slots__ = ("cap", "closes", "first_min")

    def __init__(self, cap: int = 1440) -> None:
        self.cap = cap
        self.first_min = 0
        self.closes = array("d")

    def __len__(self) -> int:
        return len(self.closes)

    def update(self, minute: int, price: float) -> None:
        closes = self.closes
        if not closes:
            self.first_min = minute
            closes.append(price)
            return
        idx = minute - self.first_min
        n = len(closes)
        if idx < 0:
            return
        if idx < n:
            closes[idx] = price
            return
        if idx - n > self.cap:
            # A jump of more than the whole window: start afresh.
            self.first_min = minute
            del closes[:]
            closes.append(price)
            return
        last = closes[-1]
        for _ in range(idx - n):
            closes.append(last)
        closes.append(price)
        if len(closes) > self.cap:
            drop = len(closes) - self.cap
            del closes[:drop]
            self.first_min += drop

    def seed(self, points: Iterable[tuple[int, float]]) -> None:
        """Put K-line minute closes under the live points already held."""
        live = [(self.first_min + i, p) for i, p in enumerate(self.closes)]
        self.first_min = 0
        del self.closes[:]
        for minute, price in sorted(points):
            self.update(minute, price)
        if live and self.closes:
            # Live minutes win over the K-line's (they are newer data for the same minute).
            start = live[0][0]
            for minute, price in live:
                if minute >= start:
                    self.update(minute, price)
        elif live:
            for minute, price in live:
                self.update(minute, price)

    def points(self) -> list[tuple[int, float]]:
        return [(self.first_min + i, p) for i, p in enumerate(self.closes)]


class QuoteBook:
    """Latest valid quote per watched symbol. Single writer: the processor thread."""

    def __init__(self, *, bad_print_band: float | None = None, history_cap: int = 1440) -> None:
        self.quotes: dict[str, Quote] = {}
        self.history: dict[str, MinuteSeries] = {}
        self.drops: Counter[str] = Counter()
        self.watched: set[str] = set()
        self.applied = 0
        self._band = bad_print_band
        self._held: dict[str, Tick] = {}
        self._history_cap = history_cap

    def watch(self, codes: Iterable[str]) -> None:
        """Set the watched codes; rows of unwatched codes are forgotten."""
        self.watched = set(codes)
        for code in [c for c in self.quotes if c not in self.watched]:
            del self.quotes[code]
            self.history.pop(code, None)
            self._held.pop(code, None)

    def apply(self, ticks: Iterable[Tick], received: float, source: str = SOURCE_PUSH) -> list[Tick]:
        """Apply a batch in arrival order; return the ticks accepted, in that order."""
        accepted: list[Tick] = []
        quotes = self.quotes
        watched = self.watched
        drops = self.drops
        band = self._band
        applied = 0
        for t in ticks:
            code = t.code
            if code not in watched:
                drops[DropReason.UNKNOWN_CODE] += 1
                continue
            held = quotes.get(code)
            if held is not None:
                if t.seq == held.seq and t.time_ms == held.time_ms:
                    drops[DropReason.DUPLICATE] += 1
                    continue
                if t.seq < held.seq or t.time_ms < held.time_ms:
                    drops[DropReason.OUT_OF_ORDER] += 1
                    continue
                if band is not None and abs(t.price / held.price - 1.0) > band and not self._confirm(t, band):
                    continue
                if band is not None and code in self._held:
                    # A price back inside the band: the held jump was a bad print.
                    del self._held[code]
                    drops[DropReason.BAD_PRINT] += 1
            # Defence in depth: the codec already refuses these.
            if not (t.price > 0 and math.isfinite(t.price)):
                drops[DropReason.NON_POSITIVE if math.isfinite(t.price) else DropReason.NON_FINITE] += 1
                continue
            quotes[code] = _new_tuple(Quote, (code, t.price, t.seq, t.time_ms, t.volume, received, source))
            series = self.history.get(code)
            if series is None:
                series = self.history[code] = MinuteSeries(self._history_cap)
            series.update(t.time_ms // 60_000, t.price)
            accepted.append(t)
            applied += 1
        self.applied += applied
        return accepted

    def _confirm(self, t: Tick, band: float) -> bool:
        """Bad-print guard: a jump is accepted only when the next tick agrees with it."""
        pending = self._held.get(t.code)
        if pending is not None and abs(t.price / pending.price - 1.0) <= band:
            del self._held[t.code]
            return True
        if pending is not None:
            self.drops[DropReason.BAD_PRINT] += 1
        self._held[t.code] = t
        return False

    def seed_history(self, code: str, points: Iterable[tuple[int, float]]) -> None:
        if code not in self.watched:
            return
        series = self.history.get(code)
        if series is None:
            series = self.history[code] = MinuteSeries(self._history_cap)
        series.seed(points)

    def publish_quotes(self) -> Mapping[str, Quote]:
        return MappingProxyType(dict(self.quotes))

    def path(self, code: str) -> MinutePath | None:
        series = self.history.get(code)
        if series is None or not len(series):
            return None
        return MinutePath(series.first_min, tuple(series.closes))
