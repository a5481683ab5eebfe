"""The day's open, high, low, volume and turnover per symbol.

Owned by the processor thread, its only writer; readers get the frozen :class:`Day`
values in each Snapshot. Seeded from today's daily bar (the HTTP K-line covers every
trade up to the moment it was fetched), then moved by each pushed trade after that
moment: high and low stretch, volume and turnover add up (turnover as price × size, the
feed's tick has no turnover field of its own). A trade of a later trading date starts a
new day from that trade. Pure apart from its own dicts: tested directly.
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


class Day(NamedTuple):
    trade_date: dt.date
    open: float
    high: float
    low: float
    volume: float
    turnover: float


class DayStats:
    def __init__(self) -> None:
        self._days: dict[str, Day] = {}
        self._window: dict[str, tuple[int, int]] = {}  # code -> [start, end) ms of its trade date
        self._as_of: dict[str, int] = {}  # code -> ms up to which the seeding bar counted trades
        self._published: Mapping[str, Day] = MappingProxyType({})
        self._dirty = False

    def seed(
        self, code: str, market: Market, bars: Iterable[Bar], trade_date: dt.date, as_of_ms: int
    ) -> None:
        """Take today's bar (the one dated ``trade_date``) from freshly fetched daily bars."""
        for bar in bars:
            if dt.datetime.fromtimestamp(bar.time_s, market.tz).date() == trade_date:
                held = self._days.get(code)
                if held is not None and held.trade_date > trade_date:
                    return  # the live day is already newer
                self._days[code] = Day(trade_date, bar.open, bar.high, bar.low, bar.volume, bar.turnover)
                self._window[code] = _window(market, trade_date)
                self._as_of[code] = as_of_ms
                self._dirty = True
                return

    def apply(self, ticks: Iterable[Tick], markets: Mapping[str, Market]) -> None:
        days, window, as_of = self._days, self._window, self._as_of
        for t in ticks:
            code = t.code
            span = window.get(code)
            day = days.get(code)
            if span is None or t.time_ms >= span[1]:
                market = markets.get(code)
                if market is None:
                    continue
                trade_date = dt.datetime.fromtimestamp(t.time_ms / 1000, market.tz).date()
                window[code] = _window(market, trade_date)
                as_of.pop(code, None)
                days[code] = Day(trade_date, t.price, t.price, t.price, t.volume, t.price * t.volume)
                self._dirty = True
                continue
            if day is None or t.time_ms < span[0] or t.time_ms <= as_of.get(code, 0):
                continue  # an older day's trade, or one the seeding bar already counted
            days[code] = Day(
                day.trade_date,
                day.open,
                t.price if t.price > day.high else day.high,
                t.price if t.price < day.low else day.low,
                day.volume + t.volume,
                day.turnover + t.price * t.volume,
            )
            self._dirty = True

    def forget(self, codes: Iterable[str]) -> None:
        for c in codes:
            self._days.pop(c, None)
            self._window.pop(c, None)
            self._as_of.pop(c, None)
        self._dirty = True

    def published(self) -> Mapping[str, Day]:
        """An immutable copy, rebuilt only when something changed."""
        if self._dirty:
            self._published = MappingProxyType(dict(self._days))
            self._dirty = False
        return self._published


def _window(market: Market, day: dt.date) -> tuple[int, int]:
    start = dt.datetime.combine(day, dt.time(), market.tz)
    return int(start.timestamp() * 1000), int((start + dt.timedelta(days=1)).timestamp() * 1000)
