"""The day's open, high, low, volume and turnover per symbol.

Owned by the processor thread, its only writer; readers get the frozen :class:`Day`
values in each Snapshot. Seeded from today's daily bar (the HTTP K-line covers every
trade up to the moment it was fetched), then moved by each pushed trade after that
moment: high and low stretch, volume and turnover add up (turnover as price × size, the
feed's tick has no turnover field of its own). A trade of a later trading date starts a
new day from that trade. Trades that arrive before the seeding bar does are kept (a few
seconds' worth, bounded) and replayed over it, so a late bar loses none of them.
Pure apart from its own dicts: tested directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import NamedTuple

from feed.protocol.codec import Tick
from feed.protocol.records import Bar
from feed.symbols import Market

__all__ = ["Day", "DayStats"]

MAX_EARLY = 1_000  # trades kept per code while its daily bar is on its way (seconds' worth)


class Day(NamedTuple):
    trade_date: dt.date
    open: float
    high: float
    low: float
    volume: float
    turnover: float


class DayStats:
    """Per code one mutable row ``[date, open, high, low, volume, turnover, start_ms, end_ms,
    as_of_ms]``, moved in place per trade (the hot path: one dict look-up, no allocation);
    frozen :class:`Day` values are made at publish time, for the codes that changed only."""

    def __init__(self) -> None:
        self._rows: dict[str, list] = {}
        self._frozen: dict[str, Day] = {}
        self._changed: set[str] = set()
        self._early: dict[str, list[Tick]] = {}  # code -> trades seen before its bar arrived
        self._awaiting: set[str] = set()  # codes whose daily bars were asked for, not yet in
        self._published: Mapping[str, Day] = MappingProxyType({})

    def seed(
        self, code: str, market: Market, bars: Iterable[Bar], trade_date: dt.date, as_of_ms: int
    ) -> None:
        """Take today's bar (the one dated ``trade_date``) from freshly fetched daily bars."""
        for bar in bars:
            if dt.datetime.fromtimestamp(bar.time_s, market.tz).date() == trade_date:
                held = self._rows.get(code)
                if held is not None and held[0] > trade_date:
                    return  # the live day is already newer
                start, end = _window(market, trade_date)
                self._rows[code] = [
                    trade_date, bar.open, bar.high, bar.low, bar.volume, bar.turnover, start, end, as_of_ms
                ]  # fmt: skip
                self._changed.add(code)
                early = self._early.pop(code, ())
                if early:  # trades that beat the bar here: those after its moment count on top
                    self.apply(early, {code: market})
                return

    def expect(self, codes: Iterable[str]) -> None:
        """Daily bars were asked for: keep these codes' trades until they arrive."""
        self._awaiting.update(codes)

    def settled(self, code: str) -> None:
        """The daily bars for ``code`` arrived (with or without today's): stop keeping trades."""
        self._awaiting.discard(code)
        self._early.pop(code, None)

    def apply(self, ticks: Iterable[Tick], markets: Mapping[str, Market]) -> None:
        rows, changed = self._rows, self._changed
        for t in ticks:
            code, _, time_ms, price, volume = t
            row = rows.get(code)
            if row is None or time_ms >= row[7]:
                self._new_day(t, markets)
                continue
            if row[8] is None:
                if code in self._awaiting:  # a bar is on its way: keep the trade to replay over it
                    early = self._early.setdefault(code, [])
                    if len(early) < MAX_EARLY:
                        early.append(t)
            elif time_ms <= row[8]:
                continue  # the seeding bar already counted it
            if time_ms < row[6]:
                continue  # an older day's trade
            if price > row[2]:
                row[2] = price
            elif price < row[3]:
                row[3] = price
            row[4] += volume
            row[5] += price * volume
            changed.add(code)

    def _new_day(self, t: Tick, markets: Mapping[str, Market]) -> None:
        market = markets.get(t.code)
        if market is None:
            return
        trade_date = dt.datetime.fromtimestamp(t.time_ms / 1000, market.tz).date()
        start, end = _window(market, trade_date)
        p = t.price
        self._rows[t.code] = [trade_date, p, p, p, t.volume, p * t.volume, start, end, None]
        if t.code in self._awaiting:
            self._early[t.code] = [t]
        self._changed.add(t.code)

    def forget(self, codes: Iterable[str]) -> None:
        for c in codes:
            self._rows.pop(c, None)
            self._frozen.pop(c, None)
            self._early.pop(c, None)
            self._awaiting.discard(c)
        self._changed.add("")  # force a new published copy

    def published(self) -> Mapping[str, Day]:
        """An immutable copy, rebuilt only when something changed."""
        if self._changed:
            frozen = self._frozen
            for code in self._changed:
                row = self._rows.get(code)
                if row is not None:
                    frozen[code] = Day(*row[:6])
            self._changed = set()
            self._published = MappingProxyType(dict(frozen))
        return self._published


def _window(market: Market, day: dt.date) -> tuple[int, int]:
    start = dt.datetime.combine(day, dt.time(), market.tz)
    return int(start.timestamp() * 1000), int((start + dt.timedelta(days=1)).timestamp() * 1000)
