"""The previous-close rule, in one pure function.

AllTick has no previous-close field; the daily K-line is the only source, and what
instant a daily bar's timestamp denotes is undocumented. The rule that holds whatever
the convention, across weekends, holidays and time zones (alltick-protocol.md §5):

    previous close = the close of the latest daily bar whose trade date, in the
    exchange's time zone, is strictly earlier than the trade date of the latest price.

Before a session's first trade the latest price is the last session's, so the table
shows the last session's change; once the new session trades, yesterday's close takes
over without waiting for a refetch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from feed.calendars import trade_date_of
from feed.model import PrevClose
from feed.protocol.records import Bar
from feed.symbols import Market

__all__ = ["prev_close"]


def prev_close(bars: Sequence[Bar], market: Market, price_time_ms: int) -> PrevClose | None:
    """Apply the rule to daily ``bars`` (any order) for a price traded at ``price_time_ms``."""
    trade_date = trade_date_of(market, price_time_ms)
    best: tuple[dt.date, float] | None = None
    for bar in bars:
        bar_date = trade_date_of(market, bar.time_s * 1000)
        if bar_date < trade_date and (best is None or bar_date > best[0]):
            best = (bar_date, bar.close)
    return PrevClose(best[1], best[0]) if best else None
