"""The Snapshot: one published, immutable state of the whole feed.

The processor thread builds one after each batch and swaps it in with a single
reference assignment; every other thread (the view builder, ``status()``, the
supervisor, readers) may read the latest one without a lock. It carries everything
the quotes table needs, so the table is a pure function of it (:mod:`feed.view`):
quotes, previous closes with their dates, the day's open/high/low/volume, names,
currencies, invalid codes, codes over the plan's cap, the link of each market, gap fills
under way, minute paths, events and counters. Maps that change rarely are shared between versions, not copied.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from feed.book import MinutePath, Quote
from feed.daystats import Day
from feed.messages import LinkView
from feed.model import FeedEvent, PrevClose
from feed.protocol.records import StaticInfo
from feed.symbols import Market

__all__ = ["EMPTY", "Snapshot"]

EMPTY: Mapping = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Snapshot:
    """``version`` grows by one per publish; ``watch_version`` by one per watchlist change."""

    version: int = 0
    published: float = 0.0  # monotonic clock of the publishing thread
    running: bool = True
    watch_version: int = 0
    watched: tuple[str, ...] = ()
    markets: Mapping[str, Market] = field(default_factory=lambda: EMPTY)
    quotes: Mapping[str, Quote] = field(default_factory=lambda: EMPTY)
    prev_closes: Mapping[str, PrevClose] = field(default_factory=lambda: EMPTY)
    days: Mapping[str, Day] = field(default_factory=lambda: EMPTY)  # today's open/high/low/volume
    daily_for: Mapping[str, dt.date] = field(
        default_factory=lambda: EMPTY
    )  # trading date the daily bars were fetched for
    names: Mapping[str, StaticInfo] = field(default_factory=lambda: EMPTY)
    invalid: Mapping[str, str] = field(default_factory=lambda: EMPTY)  # code -> reason (ret 600/604)
    not_streamed: Mapping[str, str] = field(
        default_factory=lambda: EMPTY
    )  # code -> reason (over the plan's code cap)
    links: Mapping[str, LinkView] = field(
        default_factory=lambda: EMPTY
    )  # market value -> the link carrying it
    recovering: frozenset[str] = frozenset()
    paths: Mapping[str, MinutePath] = field(default_factory=lambda: EMPTY)
    events: tuple[FeedEvent, ...] = ()
    drops: Mapping[str, int] = field(default_factory=lambda: EMPTY)
    errors: Mapping[str, int] = field(default_factory=lambda: EMPTY)  # exceptions caught and counted, by loop
    ticks_applied: int = 0
    auth_error: str | None = None
