"""Minute paths that continue across a restart and a lost link, and say where they cannot.

Owned by the processor thread (it is part of the processor, split out to keep one idea
per module). At a code's seed it asks the tick store for the code's stored minutes of
the day (:class:`~feed.store.messages.LoadPaths`) before the reference-data worker's
1-minute K-line lands, so a restart shows the day at once; the K-line then fills the
minutes the store missed (each minute keeps its best source, see
:mod:`feed.minutes`), and the store is handed those minutes to keep
(:class:`~feed.store.messages.KlineFill`).

It also tells the minute series which minutes were really streamed: from a little after
a market's link came up (``quiet_from``) a minute without trades is quiet; while the link
is down, every missing minute is a gap. A link back after a minute or more down asks for
the K-line again, so the minutes lost in between are filled rather than left as a gap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping

from feed import calendars
from feed.book import QuoteBook
from feed.messages import FetchPath, LinkView, PathFetched
from feed.minutes import GAP, NEVER
from feed.model import ConnectionState
from feed.store.messages import KlineFill, LinkLost, LoadPaths, StoredPath
from feed.symbols import Market

__all__ = ["Continuity", "day_start_ms"]

REFILL_AFTER = 60.0  # seconds down after which a link's codes fetch their minute K-line again


def day_start_ms(market: Market, now: dt.datetime) -> int:
    """Midnight (market time) of the session ``now`` belongs to: where "today" begins."""
    day = calendars.trading_date(market, now)
    return int(dt.datetime.combine(day, dt.time(0), market.tz).timestamp() * 1000)


class Continuity:
    def __init__(
        self,
        book: QuoteBook,
        *,
        to_store: Callable[[object], None] | None,
        clock: Callable[[], float],
    ) -> None:
        self._book = book
        self._to_store = to_store
        self._clock = clock
        self._up: dict[str, float] = {}  # market -> wall time its link came up (absent: down)
        self._down: dict[str, float] = {}  # market -> wall time its link was lost

    def _now_min(self) -> int:
        return int(self._clock() // 60)

    def seeding(self, codes: Iterable[str], markets: Mapping[str, Market]) -> list[FetchPath]:
        """New rows: which of their minutes count as streamed, their stored day, then the K-line jobs."""
        codes = list(codes)
        now = dt.datetime.fromtimestamp(self._clock(), dt.UTC)
        for code in codes:
            up = markets[code].value in self._up
            self._book.set_quiet_from((code,), self._now_min() + 1 if up else NEVER)
        if self._to_store is not None and codes:
            self._to_store(LoadPaths({c: day_start_ms(markets[c], now) for c in codes}))
        return [FetchPath(c) for c in codes]

    def path(self, msg: PathFetched | StoredPath, markets: Mapping[str, Market]) -> None:
        """Minute bars arrived. The store's carry their ranks, and what lies between its runs
        stays a gap; the K-line's fill the rest, and the store keeps the minutes it missed."""
        if isinstance(msg, StoredPath):
            self._book.seed_history(msg.code, msg.points, holes=GAP)
            return
        self._book.seed_history(msg.code, msg.points)
        market = markets.get(msg.code)
        if self._to_store is not None and market is not None and msg.points:
            now = dt.datetime.fromtimestamp(self._clock(), dt.UTC)
            self._to_store(KlineFill(msg.code, msg.points, day_start_ms(market, now)))

    def links(self, by_market: Mapping[str, LinkView], markets: Mapping[str, Market]) -> list[FetchPath]:
        """Link states changed: mark streamed minutes, report lost links, refill long outages."""
        now = self._clock()
        jobs: list[FetchPath] = []
        for market, view in by_market.items():
            live = view.state is ConnectionState.LIVE
            codes = [c for c, m in markets.items() if m.value == market]
            if live and market not in self._up:
                self._up[market] = now
                self._book.set_quiet_from(codes, int(now // 60) + 1)
                lost_at = self._down.pop(market, None)
                if lost_at is not None and now - lost_at >= REFILL_AFTER:
                    jobs.extend(FetchPath(c) for c in codes)
            elif not live and market in self._up:
                del self._up[market]
                self._down[market] = now
                self._book.set_quiet_from(codes, NEVER)
                if self._to_store is not None and codes:
                    self._to_store(LinkLost(tuple(codes), int(now * 1000)))
        return jobs
