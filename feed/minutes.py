"""A symbol's day at one-minute resolution: open, high, low, close and volume per minute.

Owned by the processor thread (inside the quote book); readers get immutable copies
(:class:`~feed.book.MinutePath` for paths, tuples of bars on request). The compare
chart and the sparklines need today's whole path, not every tick, and ``bars()`` needs
the bar being formed: minute bars seeded from the 1-minute K-line and extended by live
trades keep memory flat however fast the feed runs (five doubles a minute, bounded by
``cap`` minutes). A minute without trades is a flat bar at the last close with no
volume, so a path stays continuous across a quiet spell.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable

__all__ = ["MinuteBar", "MinuteSeries"]

MinuteBar = tuple[int, float, float, float, float, float]  # (epoch minute, open, high, low, close, volume)


class MinuteSeries:
    __slots__ = ("c", "cap", "first_min", "h", "l", "o", "v")

    def __init__(self, cap: int = 1440) -> None:
        self.cap = cap
        self.first_min = 0
        self.o, self.h, self.l, self.c, self.v = (array("d") for _ in range(5))

    def __len__(self) -> int:
        return len(self.c)

    @property
    def closes(self) -> array:
        return self.c

    def _clear(self, minute: int) -> None:
        self.first_min = minute
        for a in (self.o, self.h, self.l, self.c, self.v):
            del a[:]

    def _append(self, o: float, h: float, lo: float, c: float, v: float) -> None:
        self.o.append(o)
        self.h.append(h)
        self.l.append(lo)
        self.c.append(c)
        self.v.append(v)

    def update(self, minute: int, price: float, volume: float = 0.0) -> None:
        """A trade at ``minute``: extends the minute's bar, or opens a new one."""
        c = self.c
        n = len(c)
        if n and minute == self.first_min + n - 1:  # the minute in progress: the hot path
            i = n - 1
            if price > self.h[i]:
                self.h[i] = price
            elif price < self.l[i]:
                self.l[i] = price
            c[i] = price
            self.v[i] += volume
            return
        if not n:
            self._clear(minute)
            self._append(price, price, price, price, volume)
            return
        idx = minute - self.first_min
        if idx < 0:
            return
        if idx < n:
            if price > self.h[idx]:
                self.h[idx] = price
            if price < self.l[idx]:
                self.l[idx] = price
            self.c[idx] = price
            self.v[idx] += volume
            return
        self._place(minute, price, price, price, price, volume)

    def seed(self, bars: Iterable[MinuteBar]) -> None:
        """Put K-line minute bars under the live minutes already held (live minutes win)."""
        live = self.bars()
        self._clear(0)
        ordered = sorted(bars)
        first_live = live[0][0] if live else math.inf
        for minute, o, h, lo, c, v in ordered:
            if minute >= first_live:
                break
            self._place(minute, o, h, lo, c, v)
        for bar in live:
            self._place(*bar)

    def _place(self, minute: int, o: float, h: float, lo: float, c: float, v: float) -> None:
        """A new minute after the last one held: quiet minutes between become flat bars."""
        n = len(self.c)
        idx = minute - self.first_min
        if not n or idx - n > self.cap:  # empty, or a jump past the whole window: start afresh
            self._clear(minute)
            self._append(o, h, lo, c, v)
            return
        if idx < n:
            return
        last = self.c[-1]
        for _ in range(idx - n):
            self._append(last, last, last, last, 0.0)
        self._append(o, h, lo, c, v)
        extra = len(self.c) - self.cap
        if extra > 0:
            for a in (self.o, self.h, self.l, self.c, self.v):
                del a[:extra]
            self.first_min += extra

    def points(self) -> list[tuple[int, float]]:
        return [(self.first_min + i, p) for i, p in enumerate(self.c)]

    def bars(self, since: int | None = None) -> list[MinuteBar]:
        start = 0 if since is None else max(0, since - self.first_min)
        f = self.first_min
        return [
            (f + i, self.o[i], self.h[i], self.l[i], self.c[i], self.v[i]) for i in range(start, len(self.c))
        ]
