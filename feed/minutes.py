"""A symbol's day at one-minute resolution: open, high, low, close and volume per minute.

Owned by the processor thread (inside the quote book); readers get immutable copies
(:class:`~feed.book.MinutePath` for paths, tuples of bars on request). The compare
chart and the sparklines need today's whole path, not every tick, and ``bars()`` needs
the bar being formed: minute bars seeded from the tick store and the 1-minute K-line
and extended by live trades keep memory flat however fast the feed runs (five doubles
and a byte a minute, bounded by ``cap`` minutes).

Each minute carries where it came from (its *rank*), so a better source replaces a
worse one and nothing is guessed: live trades (``LIVE``) beat the K-line (``KLINE``),
which beats a bar the store rebuilt from part of a minute's trades (``PARTIAL``), which
beats a flat filler (``QUIET``). A minute without trades while the symbol was being
streamed (from ``quiet_from`` on) is a flat bar at the last close with no volume, so a
path stays continuous across a quiet spell; a minute nobody saw (the app was down,
the link was lost) is a ``GAP``: its prices are NaN, so charts break the line there
instead of drawing a straight one, until a K-line fills it.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable

__all__ = ["GAP", "KLINE", "LIVE", "NEVER", "PARTIAL", "QUIET", "MinuteBar", "MinuteSeries"]

MinuteBar = tuple[int, float, float, float, float, float]  # (epoch minute, open, high, low, close, volume)

GAP, QUIET, PARTIAL, KLINE, LIVE = 0, 1, 2, 3, 4
NEVER = 2**40  # a ``quiet_from`` no minute reaches: every hole is a gap (the link is down)
_NAN = math.nan


class MinuteSeries:
    __slots__ = ("c", "cap", "first_min", "h", "l", "o", "quiet_from", "r", "v", "version")

    def __init__(self, cap: int = 1440, quiet_from: int = 0) -> None:
        self.cap = cap
        self.first_min = 0
        self.quiet_from = quiet_from  # holes from this minute on were streamed: quiet, not gaps
        self.version = 0  # grows whenever a minute is added or replaced (not when the last one moves)
        self.o, self.h, self.l, self.c, self.v = (array("d") for _ in range(5))
        self.r = array("b")

    def __len__(self) -> int:
        return len(self.c)

    @property
    def closes(self) -> array:
        return self.c

    def _clear(self, minute: int) -> None:
        self.first_min = minute
        for a in (self.o, self.h, self.l, self.c, self.v, self.r):
            del a[:]

    def _append(self, o: float, h: float, lo: float, c: float, v: float, rank: int) -> None:
        self.o.append(o)
        self.h.append(h)
        self.l.append(lo)
        self.c.append(c)
        self.v.append(v)
        self.r.append(rank)

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
        # A minute the feed did not stream from its start (before ``quiet_from``: the first
        # minute of a run or of a link) holds only part of its trades until a K-line comes.
        rank = LIVE if minute >= self.quiet_from else PARTIAL
        if not n:
            self._clear(minute)
            self._append(price, price, price, price, volume, rank)
            self.version += 1
            return
        idx = minute - self.first_min
        if idx < 0:
            return
        if idx < n:
            if self.r[idx] <= QUIET:  # a gap or a flat filler: this trade opens the minute
                self.o[idx] = self.h[idx] = self.l[idx] = self.c[idx] = price
                self.v[idx] = volume
                self.r[idx] = rank
                self.version += 1
                return
            if price > self.h[idx]:
                self.h[idx] = price
            if price < self.l[idx]:
                self.l[idx] = price
            self.c[idx] = price
            self.v[idx] += volume
            self.r[idx] = max(self.r[idx], rank)
            return
        self._place(minute, price, price, price, price, volume, rank)

    def _place(self, minute: int, o: float, h: float, lo: float, c: float, v: float, rank: int) -> None:
        """A new minute after the last one held; the minutes between are quiet or a gap."""
        n = len(self.c)
        idx = minute - self.first_min
        if not n or idx - n > self.cap:  # empty, or a jump past the whole window: start afresh
            self._clear(minute)
            self._append(o, h, lo, c, v, rank)
            self.version += 1
            return
        if idx < n:
            return
        if idx > n:
            if self.first_min + n >= self.quiet_from:
                last = self.c[-1]
                for _ in range(idx - n):
                    self._append(last, last, last, last, 0.0, QUIET)
            else:
                for _ in range(idx - n):
                    self._append(_NAN, _NAN, _NAN, _NAN, 0.0, GAP)
        self._append(o, h, lo, c, v, rank)
        self.version += 1
        extra = len(self.c) - self.cap
        if extra > 0:
            for a in (self.o, self.h, self.l, self.c, self.v, self.r):
                del a[:extra]
            self.first_min += extra

    def seed(self, bars: Iterable[tuple], rank: int = KLINE, holes: int = QUIET) -> None:
        """Merge bars from the K-line or the store: each minute keeps its best source.

        ``bars`` are ``(minute, o, h, l, c, v)``, optionally with their own rank as a 7th
        item. Minutes missing between two of them become ``holes`` (QUIET: the source
        saw no trade there; GAP: it does not know); a hole between sources is a gap
        unless it lies where the symbol was streamed (``quiet_from``).
        """
        held = {self.first_min + i: self._at(i) for i in range(len(self.c))}
        prev: tuple | None = None
        for bar in sorted(bars):
            minute = bar[0]
            r = bar[6] if len(bar) > 6 else rank
            if prev is not None and holes > GAP and 1 < minute - prev[0] <= self.cap:
                pc = prev[4]
                for m in range(prev[0] + 1, minute):
                    cur = held.get(m)
                    if cur is None or cur[5] < holes:
                        held[m] = (pc, pc, pc, pc, 0.0, holes)
            cur = held.get(minute)
            if cur is None or cur[5] < r:
                held[minute] = (bar[1], bar[2], bar[3], bar[4], bar[5], r)
            prev = bar
        self._rebuild(held)

    def close_at(self, minute: int, price: float) -> None:
        """The newest trade is in the last minute: that minute closes at its price (a K-line
        asked for during the minute in progress was cut at the server's answer, and a
        trade streamed after it must not be lost under the K-line's older close)."""
        if self.c and minute == self.first_min + len(self.c) - 1:
            self.update(minute, price)  # as the trade moved it; its volume is counted already

    def _at(self, i: int) -> tuple[float, float, float, float, float, int]:
        return (self.o[i], self.h[i], self.l[i], self.c[i], self.v[i], self.r[i])

    def _rebuild(self, held: dict[int, tuple]) -> None:
        if not held:
            return
        last = max(held)
        start = max(min(held), last - self.cap + 1)
        while start not in held:  # the window cut into a hole: begin at a held minute
            start += 1
        self._clear(start)
        m = start
        while m <= last:
            bar = held.get(m)
            if bar is not None:
                self._append(*bar)
                m += 1
                continue
            end = m
            while end not in held:
                end += 1
            quiet = m >= self.quiet_from and self.r[-1] != GAP
            fill = self.c[-1] if quiet else _NAN
            for _ in range(end - m):
                self._append(fill, fill, fill, fill, 0.0, QUIET if quiet else GAP)
            m = end
        self.version += 1

    def points(self) -> list[tuple[int, float]]:
        """``(minute, close)`` for every minute held; a gap's close is NaN."""
        return [(self.first_min + i, p) for i, p in enumerate(self.c)]

    def bars(self, since: int | None = None) -> list[MinuteBar]:
        """Held minutes from ``since`` as ``(minute, o, h, l, c, v)``; gaps left out."""
        start = 0 if since is None else max(0, since - self.first_min)
        f, r = self.first_min, self.r
        return [
            (f + i, self.o[i], self.h[i], self.l[i], self.c[i], self.v[i])
            for i in range(start, len(self.c))
            if r[i] != GAP
        ]

    def ranked(self, since: int | None = None) -> list[tuple[int, float, float, float, float, float, int]]:
        """Like :meth:`bars`, with each minute's rank as a 7th item."""
        start = 0 if since is None else max(0, since - self.first_min)
        f, r = self.first_min, self.r
        return [
            (f + i, self.o[i], self.h[i], self.l[i], self.c[i], self.v[i], r[i])
            for i in range(start, len(self.c))
            if r[i] != GAP
        ]
