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

from feed.minutes import KLINE, QUIET, MinuteSeries
from feed.protocol.codec import DropReason, Tick

__all__ = ["MinutePath", "MinuteSeries", "Quote", "QuoteBook"]

_new_tuple = tuple.__new__  # builds a NamedTuple without its slower Python-level __new__
_INF = math.inf

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
    """A published copy of a symbol's minute path: closes from ``first_min``.

    ``closes`` is a private ``array('d')`` copy (8 bytes a minute, a quarter of a tuple of
    floats), never changed after publishing. The last minute is the one in progress when
    it was copied; readers put the live quote in its place (:func:`feed.view.path_points`).
    A minute nobody saw (a gap: the app or the link was down and no K-line filled it) has
    a NaN close.
    """

    first_min: int
    closes: array

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
        self._pushed: dict[str, tuple[int, int]] = {}  # code -> (seq, time) of the last accepted push
        self._touched: set[str] = set()
        self._history_cap = history_cap
        self._quiet_from: dict[str, int] = {}  # code -> first minute known streamed (see MinuteSeries)

    def watch(self, codes: Iterable[str]) -> None:
        """Set the watched codes; rows of unwatched codes are forgotten."""
        self.watched = set(codes)
        for code in [c for c in self.quotes if c not in self.watched]:
            del self.quotes[code]
            self.history.pop(code, None)
            self._held.pop(code, None)
        for code in [c for c in self._pushed if c not in self.watched]:
            del self._pushed[code]
        for code in [c for c in self._quiet_from if c not in self.watched]:
            del self._quiet_from[code]

    def apply(self, ticks: Iterable[Tick], received: float, source: str = SOURCE_PUSH) -> list[Tick]:
        """Apply a batch in arrival order; return the pushed trades accepted, in that order.

        Two guards per code. A push is accepted when it is newer (``seq`` and time) than
        the last accepted push; a repeat or an older one is dropped and counted. It moves
        the row only when it is newer than the row as well, because an HTTP trade (a seed
        or a gap fill) may be ahead of pushes still in flight. An HTTP trade only moves the
        row. Only accepted pushes are returned: they are the stream strategies see, once
        each and in order; an HTTP trade would arrive out of order with them.
        """
        accepted: list[Tick] = []
        quotes = self.quotes
        pushed = self._pushed
        watched = self.watched
        history = self.history
        drops = self.drops
        band = self._band
        push = source == SOURCE_PUSH
        touched = self._touched
        applied = 0
        for t in ticks:
            code, seq, time_ms, price, volume = t
            if code not in watched:
                drops[DropReason.UNKNOWN_CODE] += 1
                continue
            if not 0.0 < price < _INF:  # defence in depth: the codec already refuses these
                drops[DropReason.NON_POSITIVE if price <= 0.0 else DropReason.NON_FINITE] += 1
                continue
            held = quotes.get(code)
            if push:
                last = pushed.get(code)
                if last is not None and (seq <= last[0] or time_ms < last[1]):
                    # Strictly newer seq, never older time: what strategies are promised.
                    same = seq == last[0] and time_ms == last[1]
                    drops[DropReason.DUPLICATE if same else DropReason.OUT_OF_ORDER] += 1
                    continue
                if band is not None and held is not None and not self._in_band(t, held, band):
                    continue
                pushed[code] = (seq, time_ms)
                accepted.append(t)
            if held is not None and (seq <= held[2] or time_ms < held[3]):
                # The row already holds this trade or a newer one; but the push of the very
                # trade an HTTP fetch brought first (a fetch racing the push) makes the row
                # live again: it is streamed, not a fetched price going stale.
                if push and seq == held[2] and time_ms == held[3] and held[6] == SOURCE_HTTP:
                    quotes[code] = held._replace(received=received, source=source)  # counted once
                    touched.add(code)
                continue
            quotes[code] = _new_tuple(Quote, (code, price, seq, time_ms, volume, received, source))
            series = history.get(code)
            if series is None:
                series = history[code] = self._series(code)
            series.update(time_ms // 60_000, price, volume)
            touched.add(code)
            applied += 1
        self.applied += applied
        return accepted

    def take_touched(self) -> set[str]:
        """Codes whose row changed since the last call (the processor's per-batch follow-up)."""
        touched, self._touched = self._touched, set()
        return touched

    def _in_band(self, t: Tick, held: Quote, band: float) -> bool:
        if abs(t.price / held.price - 1.0) > band and not self._confirm(t, band):
            return False
        if t.code in self._held:
            # A price back inside the band: the held jump was a bad print.
            del self._held[t.code]
            self.drops[DropReason.BAD_PRINT] += 1
        return True

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

    def minute_bars(self, code: str, since: int | None = None) -> list[tuple]:
        """``(minute, o, h, l, c, v, rank)`` from ``since``; gaps left out (see :mod:`feed.minutes`)."""
        series = self.history.get(code)
        return series.ranked(since) if series is not None else []

    def seed_history(self, code: str, points: Iterable[tuple], rank: int = KLINE, holes: int = QUIET) -> None:
        """Merge K-line or stored minute bars under the live ones (see :meth:`MinuteSeries.seed`)."""
        if code not in self.watched:
            return
        series = self.history.get(code)
        if series is None:
            series = self.history[code] = self._series(code)
        series.seed(points, rank, holes)
        q = self.quotes.get(code)
        if q is not None:  # the newest trade we hold outranks a K-line's close for its minute
            series.close_at(q.time_ms // 60_000, q.price)

    def set_quiet_from(self, codes: Iterable[str], minute: int) -> None:
        """From ``minute`` on, these codes were streamed: minutes without trades are quiet, not gaps."""
        for code in codes:
            self._quiet_from[code] = minute
            series = self.history.get(code)
            if series is not None:
                series.quiet_from = minute

    def _series(self, code: str) -> MinuteSeries:
        return MinuteSeries(self._history_cap, self._quiet_from.get(code, 0))

    def publish_quotes(self) -> Mapping[str, Quote]:
        return MappingProxyType(dict(self.quotes))

    def path(self, code: str) -> MinutePath | None:
        series = self.history.get(code)
        if series is None or not len(series):
            return None
        return MinutePath(series.first_min, array("d", series.closes))
