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
"""

from __future__ import annotations

import datetime
import functools
import logging
import threading
import time
import warnings
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import exchange_calendars as xcals
import pandas as pd
from exchange_calendars.exchange_calendar_xhkg import XHKGExchangeCalendar
from exchange_calendars.exchange_calendar_xnys import XNYSExchangeCalendar
from exchange_calendars.exchange_calendar_xshg import XSHGExchangeCalendar

from feed.symbols import Market

__all__ = [
    "MarketClock",
    "Phase",
    "is_session_date",
    "market_clock",
    "previous_session",
    "trade_date_of",
    "trading_date",
    "warm_up",
]

logger = logging.getLogger("feed.calendars")

UTC = datetime.UTC
_DAY = datetime.timedelta(days=1)

# Which exchange_calendars calendar backs each stock market. The classes are kept to
# read their bounds (bound_min/bound_max) without building a calendar first.
_CALENDARS: dict[Market, tuple[str, type[Any]]] = {
    Market.US: ("XNYS", XNYSExchangeCalendar),
    Market.HK: ("XHKG", XHKGExchangeCalendar),
    Market.CN: ("XSHG", XSHGExchangeCalendar),
}
# Default window built around today; wide enough that a long-running process and
# recent history never need a rebuild.
_WINDOW = datetime.timedelta(days=730)
# Margin added around a date that forced a rebuild, so neighbouring look-ups (next
# open, previous session) do not trigger another one.
_EXTEND_MARGIN = datetime.timedelta(days=366)
# Dates further than this from today are never worth a multi-second calendar build
# inside a once-a-second UI loop; they get the weekday fallback instead.
_MAX_REACH = datetime.timedelta(days=20 * 366)
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


@dataclass(frozen=True, slots=True)
class _Session:
    """One trading day's times as UTC epoch seconds: cheap to compare against ``now``."""

    open: float
    close: float
    break_start: float | None
    break_end: float | None
    early_close: bool


@dataclass(frozen=True, slots=True)
class _Table:
    """All sessions of one market between ``start`` and ``end`` (inclusive).

    A date inside the range but absent from ``sessions`` is a day the exchange is
    shut; a date outside the range is unknown to this table.
    """

    start: datetime.date
    end: datetime.date
    sessions: dict[datetime.date, _Session]
    calendar: xcals.ExchangeCalendar


@dataclass(frozen=True, slots=True)
class _RegularHours:
    """Local regular hours, taken from the calendar class, for the weekday fallback."""

    open: datetime.time
    close: datetime.time
    break_start: datetime.time | None
    break_end: datetime.time | None


_TABLES: dict[Market, _Table] = {}
_FALLBACK_WARNED: set[Market] = set()
_LOCK = threading.Lock()


def _check_aware(now: datetime.datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got naive {now.isoformat()}")


def _to_date(value: object) -> datetime.date | None:
    if value is None:
        return None
    return pd.Timestamp(value).date()


@functools.cache
def _class_bounds(market: Market) -> tuple[datetime.date | None, datetime.date | None]:
    """The first/last dates the library records for ``market`` (``None``: unbounded)."""
    _, cls = _CALENDARS[market]
    return _to_date(cls.bound_min()), _to_date(cls.bound_max())


def _bounds(market: Market) -> tuple[datetime.date, datetime.date]:
    """The dates we are willing to build a calendar for: library bounds within a sane reach."""
    today = datetime.datetime.now(UTC).date()
    lo, hi = today - _MAX_REACH, today + _MAX_REACH
    bmin, bmax = _class_bounds(market)
    return (max(lo, bmin) if bmin else lo, min(hi, bmax) if bmax else hi)


def _build(market: Market, start: datetime.date, end: datetime.date) -> _Table:
    """Build the calendar once for [start, end] and flatten it into a session table."""
    name, _ = _CALENDARS[market]
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        # exchange_calendars 4.13 still uses pandas APIs that pandas 3.1 deprecates
        # (Pandas4Warning, a DeprecationWarning). They are the library's to fix, and
        # would otherwise surface as noise on every start; only the build is muted.
        warnings.simplefilter("ignore", DeprecationWarning)
        cal = xcals.get_calendar(name, start=pd.Timestamp(start), end=pd.Timestamp(end))
    early = {ts.date() for ts in cal.early_closes}
    sessions: dict[datetime.date, _Session] = {}
    for label, opened, closed, brk_start, brk_end in zip(
        cal.sessions, cal.opens, cal.closes, cal.break_starts, cal.break_ends, strict=True
    ):
        day = label.date()
        sessions[day] = _Session(
            open=opened.timestamp(),
            close=closed.timestamp(),
            break_start=None if pd.isna(brk_start) else brk_start.timestamp(),
            break_end=None if pd.isna(brk_end) else brk_end.timestamp(),
            early_close=day in early,
        )
    logger.info(
        "built %s calendar for %s: %s..%s, %d sessions in %.0f ms",
        name,
        market,
        start,
        end,
        len(sessions),
        (time.perf_counter() - t0) * 1000,
    )
    return _Table(start, end, sessions, cal)


def _table_for(market: Market, day: datetime.date) -> _Table | None:
    """The table covering ``day``, building or widening it if needed.

    Returns ``None`` when ``day`` is beyond what the library can say (the caller then
    uses the weekday fallback). The fast path takes no lock: reading a dict entry is
    atomic and tables are immutable, replaced whole.
    """
    table = _TABLES.get(market)
    if table is not None and table.start <= day <= table.end:
        return table
    lo, hi = _bounds(market)
    if not lo <= day <= hi:
        return None
    with _LOCK:
        table = _TABLES.get(market)  # another thread may have built it meanwhile
        if table is not None and table.start <= day <= table.end:
            return table
        today = datetime.datetime.now(UTC).date()
        if table is None:
            start, end = (
                min(today - _WINDOW, day - _EXTEND_MARGIN),
                max(today + _WINDOW, day + _EXTEND_MARGIN),
            )
        else:
            logger.warning("%s: %s is outside the calendar window, widening it", market, day)
            start, end = min(table.start, day - _EXTEND_MARGIN), max(table.end, day + _EXTEND_MARGIN)
        table = _build(market, max(start, lo), min(end, hi))
        _TABLES[market] = table
        return table


@functools.cache
def _regular_hours(market: Market) -> _RegularHours:
    """Regular local hours from the calendar class (its latest rule), not hand-written.

    Read from the class so the fallback works even when no calendar can be built.
    """
    _, cls = _CALENDARS[market]

    def latest(attr: str) -> datetime.time | None:
        # Classes without a break expose break_*_times as a property, not a tuple.
        rules = getattr(cls, attr, None)
        return rules[-1][1] if isinstance(rules, tuple) and rules else None

    opened, closed = latest("open_times"), latest("close_times")
    if opened is None or closed is None:
        raise RuntimeError(f"{cls.__name__} defines no regular open/close times")
    return _RegularHours(opened, closed, latest("break_start_times"), latest("break_end_times"))


@functools.lru_cache(maxsize=4096)
def _weekday_session(market: Market, day: datetime.date) -> _Session | None:
    """Mon-Fri at regular hours: the best guess where the library has no data."""
    if day.weekday() >= 5:
        return None
    hours = _regular_hours(market)
    tz = market.tz

    def at(t: datetime.time) -> float:
        return datetime.datetime.combine(day, t, tzinfo=tz).timestamp()

    return _Session(
        open=at(hours.open),
        close=at(hours.close),
        break_start=None if hours.break_start is None else at(hours.break_start),
        break_end=None if hours.break_end is None else at(hours.break_end),
        early_close=False,
    )


def _fallback_session(market: Market, day: datetime.date) -> _Session | None:
    """Weekday logic for dates the library cannot cover, warning once per market."""
    if market not in _FALLBACK_WARNED:
        _FALLBACK_WARNED.add(market)
        logger.warning(
            "%s: no exchange calendar data for %s; treating every weekday as a regular session "
            "(holidays and early closes unknown)",
            market,
            day,
        )
    return _weekday_session(market, day)


def _session(market: Market, day: datetime.date) -> _Session | None:
    """The session on exchange-local ``day``, or ``None`` if the exchange is shut."""
    table = _table_for(market, day)
    if table is None:
        return _fallback_session(market, day)
    return table.sessions.get(day)


def _utc(ts: float | None) -> datetime.datetime | None:
    return None if ts is None else datetime.datetime.fromtimestamp(ts, UTC)


def _stock_previous_session(market: Market, day: datetime.date) -> datetime.date:
    probe = day - _DAY
    for _ in range(_MAX_SCAN_DAYS):
        if _session(market, probe) is not None:
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
        s = _session(market, day)
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
    s = _session(market, day)
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
    return _session(market, day) is not None


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


def warm_up(markets: tuple[Market, ...] = (Market.US, Market.HK, Market.CN)) -> None:
    """Build the calendars now (a few hundred ms each) so the first screen refresh does not pay."""
    today = datetime.datetime.now(UTC).date()
    for market in markets:
        if market in _CALENDARS:
            _table_for(market, today)
