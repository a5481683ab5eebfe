"""Market calendars: is a market open right now, and which trading day is it?

A quotes screen is only trustworthy if it knows whether silence is expected. A quiet
symbol during the HK lunch break, on Lunar New Year or after an early close is
healthy; the same silence at 10:00 on an ordinary trading day means the feed is
dead. This module answers "which phase is this market in" and "which session does a
price belong to" so the app can tell those cases apart and detect daily rollover
(HK's trading date changes hours before New York's).

Stock markets use the maintained ``exchange_calendars`` data (XNYS for US, XHKG for
HK, XSHG for A-shares) instead of hand-written holiday lists. Forex and crypto have
no exchange and follow fixed conventions:

* **FX** trades 24/5 from Sunday 22:00 UTC to Friday 22:00 UTC, and its trading date
  rolls at 22:00 UTC (the session that opens Sunday 22:00 UTC is Monday's). The real
  market follows 17:00 New York, i.e. 21:00 UTC while the US is on daylight time; we
  deliberately ignore that hour, so in northern summer the screen calls FX open for
  one hour after ticks stop on Friday and closed for one hour after they resume on
  Sunday. FX holidays (Christmas, New Year) are not modelled.
* **Crypto** never closes; its trading date is the UTC date.

Performance: ``market_clock`` runs about once a second per market. Building an
``exchange_calendars`` calendar costs hundreds of milliseconds, so each is built once
(lazily, under a lock) for a window of two years either side of today and turned into
a plain ``{date: _Session}`` table of epoch seconds; after that a call is a few dict
lookups and comparisons. A date outside the window is served by widening the window
(logged), and a date beyond what the library records (XSHG holidays are only
published a year or so ahead) falls back to "every weekday is a regular session" with
a logged warning rather than failing.

Thread ownership: no state of its own (pure functions over the immutable tables of
:mod:`feed.calendar_data`); any thread may call it.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from enum import StrEnum

from feed.calendar_data import (
    HOLIDAYS_ENV,
    HolidayFileError,
    horizon,
    horizon_notices,
    load_holidays,
    session,
    warm_up,
)
from feed.symbols import Market

__all__ = [
    "HOLIDAYS_ENV",
    "HolidayFileError",
    "MarketClock",
    "Phase",
    "horizon",
    "horizon_notices",
    "is_session_date",
    "load_holidays",
    "market_clock",
    "previous_session",
    "trade_date_of",
    "trading_date",
    "warm_up",
]

logger = logging.getLogger("feed.calendars")

UTC = datetime.UTC
_DAY = datetime.timedelta(days=1)

# Longest run of days we scan for a session; exchange closures (CN Golden Week, Lunar
# New Year) last at most about ten days.
_MAX_SCAN_DAYS = 31

# FX trading date D runs from (D-1) 22:00 UTC to D 22:00 UTC: shifting by two hours
# turns it into a plain UTC calendar date.
_FX_ROLL_SHIFT = datetime.timedelta(hours=2)


class Phase(StrEnum):
    """Where a market is in its day; values are the labels the UI shows."""

    PRE_OPEN = "pre-open"  # a trading day, before the first session opens
    OPEN = "open"
    LUNCH = "lunch break"  # HK 12:00-13:00, CN 11:30-13:00 on trading days
    CLOSED = "closed"  # after the close on a trading day, or overnight/weekend
    HOLIDAY = "holiday"  # a weekday the exchange is shut


@dataclass(frozen=True, slots=True)
class MarketClock:
    """A snapshot of one market's state at one instant.

    ``trading_date`` is the exchange-local date of the session the market is in
    (pre-open, open, lunch, or closed after today's session), or on a weekend or
    holiday the most recent completed session; FX rolls at 22:00 UTC, crypto at
    00:00 UTC. ``next_open`` / ``next_close`` are the next instants (strictly after
    the snapshot, tz-aware UTC) at which continuous trading starts / stops; the end
    and start of a lunch break count, so during HK lunch ``next_open`` is 13:00 HKT
    and during the morning session ``next_close`` is 12:00 HKT. Both are ``None`` for
    crypto, which never opens or closes. ``early_close`` is true on a trading day
    whose session ends before the regular close (it stays true after that close).
    """

    market: Market
    phase: Phase
    trading_date: datetime.date | None
    next_open: datetime.datetime | None
    next_close: datetime.datetime | None
    early_close: bool

    @property
    def is_open(self) -> bool:
        """True only while continuous trading is on, so silence now is suspicious."""
        return self.phase is Phase.OPEN


def _check_aware(now: datetime.datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got naive {now.isoformat()}")


def _utc(ts: float | None) -> datetime.datetime | None:
    return None if ts is None else datetime.datetime.fromtimestamp(ts, UTC)


def _stock_previous_session(market: Market, day: datetime.date) -> datetime.date:
    probe = day - _DAY
    for _ in range(_MAX_SCAN_DAYS):
        if session(market, probe) is not None:
            return probe
        probe -= _DAY
    raise LookupError(f"{market}: no session in the {_MAX_SCAN_DAYS} days before {day}")


def _stock_next_transitions(
    market: Market, t: float, day: datetime.date
) -> tuple[float | None, float | None]:
    """First open and first close strictly after ``t``, scanning forward from ``day``."""
    next_open: float | None = None
    next_close: float | None = None
    for _ in range(_MAX_SCAN_DAYS):
        s = session(market, day)
        if s is not None:
            if next_open is None:
                next_open = next((x for x in (s.open, s.break_end) if x is not None and x > t), None)
            if next_close is None:
                next_close = next((x for x in (s.break_start, s.close) if x is not None and x > t), None)
            if next_open is not None and next_close is not None:
                break
        day += _DAY
    return next_open, next_close


def _stock_clock(market: Market, now: datetime.datetime) -> MarketClock:
    t = now.timestamp()
    day = now.astimezone(market.tz).date()
    s = session(market, day)
    next_open, next_close = _stock_next_transitions(market, t, day)
    if s is None:
        phase = Phase.HOLIDAY if day.weekday() < 5 else Phase.CLOSED
        return MarketClock(
            market, phase, _stock_previous_session(market, day), _utc(next_open), _utc(next_close), False
        )
    if t < s.open:
        phase = Phase.PRE_OPEN
    elif t >= s.close:
        phase = Phase.CLOSED
    elif s.break_start is not None and s.break_end is not None and s.break_start <= t < s.break_end:
        phase = Phase.LUNCH
    else:
        phase = Phase.OPEN
    return MarketClock(market, phase, day, _utc(next_open), _utc(next_close), s.early_close)


def _fx_week_edge(day: datetime.date) -> datetime.datetime:
    """The real instant at which shifted-FX date ``day`` begins (previous day 22:00 UTC)."""
    return datetime.datetime.combine(day, datetime.time(), tzinfo=UTC) - _FX_ROLL_SHIFT


def _fx_clock(now: datetime.datetime) -> MarketClock:
    day = (now.astimezone(UTC) + _FX_ROLL_SHIFT).date()
    wd = day.weekday()
    if wd < 5:
        next_close = _fx_week_edge(day + datetime.timedelta(days=5 - wd))  # Friday 22:00 UTC
        next_open = next_close + datetime.timedelta(days=2)  # Sunday 22:00 UTC
        return MarketClock(Market.FX, Phase.OPEN, day, next_open, next_close, False)
    next_open = _fx_week_edge(day + datetime.timedelta(days=7 - wd))
    friday = day - datetime.timedelta(days=wd - 4)
    return MarketClock(
        Market.FX, Phase.CLOSED, friday, next_open, next_open + datetime.timedelta(days=5), False
    )


def market_clock(market: Market, now: datetime.datetime) -> MarketClock:
    """The phase, trading date and next open/close of ``market`` at ``now`` (tz-aware).

    Meant to be called about once a second per market (not per tick): after the
    first call for a market it is a handful of dict look-ups.

    Raises:
        ValueError: if ``now`` is naive, since guessing a zone would silently shift
            every session boundary.
    """
    _check_aware(now)
    if market is Market.CRYPTO:
        return MarketClock(market, Phase.OPEN, now.astimezone(UTC).date(), None, None, False)
    if market is Market.FX:
        return _fx_clock(now)
    return _stock_clock(market, now)


def trading_date(market: Market, now: datetime.datetime) -> datetime.date:
    """The session ``now`` belongs to; a change of this value is the market's rollover.

    Today's exchange-local date once it is a trading day (from midnight, so pre-open
    counts), otherwise the most recent completed session. FX rolls at 22:00 UTC,
    crypto at 00:00 UTC.
    """
    clock = market_clock(market, now)
    assert clock.trading_date is not None  # always set by market_clock
    return clock.trading_date


def trade_date_of(market: Market, epoch_ms: int) -> datetime.date:
    """The calendar date of a tick's timestamp in the market's own time zone.

    Deliberately no calendar look-up: it runs per symbol when matching a tick against
    daily bars (previous close = last bar dated strictly before this). For FX that is
    the UTC date, which for 22:00-24:00 UTC is one day behind ``trading_date`` (which
    rolls at 22:00 UTC); the two answer different questions.
    """
    return datetime.datetime.fromtimestamp(epoch_ms / 1000, market.tz).date()


def is_session_date(market: Market, day: datetime.date) -> bool:
    """Whether ``day`` is a trading date: an exchange session, an FX weekday, or any day for crypto."""
    if market is Market.CRYPTO:
        return True
    if market is Market.FX:
        return day.weekday() < 5
    return session(market, day) is not None


def previous_session(market: Market, day: datetime.date) -> datetime.date:
    """The last trading date strictly before ``day``; the session whose close is "previous close"."""
    if market is Market.CRYPTO:
        return day - _DAY
    if market is Market.FX:
        probe = day - _DAY
        while probe.weekday() >= 5:
            probe -= _DAY
        return probe
    return _stock_previous_session(market, day)
