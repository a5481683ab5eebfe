"""Exchange session tables: what exchange_calendars knows, plus an operator's holidays.

Owned by no thread: tables are immutable once built and replaced whole under a lock
held for the build only, so any thread may read them (the clocks thread once a second,
the processor at a rollover, the simulator).

Building an ``exchange_calendars`` calendar costs hundreds of milliseconds, so each is
built once, lazily, for a window of two years either side of today and flattened into
a ``{date: _Session}`` table of epoch seconds. A date beyond what the library records
(XSHG holidays are published a year or so ahead: exchange_calendars 4.13.2 knows them
to 2026-12-31) falls back to "every weekday is a regular session", logged.

**The horizon.** :func:`horizon_notices` says when a market's known holidays end within
60 days, and an operator can add a year's published holidays from a CSV file named by
``QUOTES_HOLIDAYS_FILE`` (or :func:`load_holidays`), one closure per line::

    market,date,name
    CN,2027-01-01,New Year's Day
    CN,2027-02-11,Spring Festival

``market`` is US, HK or CN. A listed date is a closed day whatever the library says;
a year with any listed date for a market counts as known for that market.
"""

from __future__ import annotations

import csv
import datetime
import functools
import logging
import os
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import exchange_calendars as xcals
import pandas as pd
from exchange_calendars.exchange_calendar_xhkg import XHKGExchangeCalendar
from exchange_calendars.exchange_calendar_xnys import XNYSExchangeCalendar
from exchange_calendars.exchange_calendar_xshg import XSHGExchangeCalendar

from feed.symbols import Market

__all__ = [
    "HOLIDAYS_ENV",
    "HolidayFileError",
    "horizon",
    "horizon_notices",
    "load_holidays",
    "session",
    "warm_up",
]

logger = logging.getLogger("feed.calendars")

UTC = datetime.UTC
HOLIDAYS_ENV = "QUOTES_HOLIDAYS_FILE"
HORIZON_WARN_DAYS = 60

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


def session(market: Market, day: datetime.date) -> _Session | None:
    """The session on exchange-local ``day``, or ``None`` if the exchange is shut."""
    if day in _extra_holidays().get(market, ()):
        return None
    table = _table_for(market, day)
    if table is None:
        return _fallback_session(market, day)
    return table.sessions.get(day)


# --- an operator's holidays and the horizon -----------------------------------------------


class HolidayFileError(ValueError):
    """A holidays file line that cannot be used; the message names the file and line."""


_EXTRA: dict[Market, frozenset[datetime.date]] | None = None
_EXTRA_ERRORS: tuple[str, ...] = ()
_WARNED_HORIZON: set[Market] = set()


def load_holidays(path: str | os.PathLike[str] | None) -> tuple[str, ...]:
    """Read extra closed days from ``path`` (None: none); returns the problems found.

    Bad lines are reported and skipped, never fatal: the library's calendars still
    work. Replaces whatever was loaded before.
    """
    global _EXTRA, _EXTRA_ERRORS
    extra: dict[Market, set[datetime.date]] = {}
    errors: list[str] = []
    if path:
        try:
            with Path(path).open(newline="", encoding="utf-8") as fh:
                for lineno, row in enumerate(csv.DictReader(fh), start=2):
                    try:
                        market = Market(str(row.get("market") or "").strip().upper())
                        if market not in _CALENDARS:
                            raise ValueError(f"market must be one of US, HK, CN, not {market}")
                        day = datetime.date.fromisoformat(str(row.get("date") or "").strip())
                    except ValueError as exc:
                        errors.append(f"{path}: line {lineno}: {exc}")
                        continue
                    extra.setdefault(market, set()).add(day)
        except OSError as exc:
            errors.append(f"{path}: cannot read: {exc.strerror or exc}")
    for e in errors:
        logger.warning("%s: %s", HOLIDAYS_ENV, e)
    with _LOCK:
        _EXTRA = {m: frozenset(days) for m, days in extra.items()}
        _EXTRA_ERRORS = tuple(errors)
        _WARNED_HORIZON.clear()
    if extra:
        logger.info("extra holidays loaded: %s", ", ".join(f"{m} {len(d)}" for m, d in extra.items()))
    return tuple(errors)


def _extra_holidays() -> dict[Market, frozenset[datetime.date]]:
    if _EXTRA is None:
        load_holidays(os.environ.get(HOLIDAYS_ENV) or None)
    assert _EXTRA is not None
    return _EXTRA


def horizon(market: Market) -> datetime.date | None:
    """The last date whose holidays are known for ``market`` (None: no end, rule-based)."""
    if market not in _CALENDARS:
        return None
    _, upper = _class_bounds(market)
    if upper is None:
        return None
    years = [d.year for d in _extra_holidays().get(market, ())]
    if years and max(years) > upper.year:
        return datetime.date(max(years), 12, 31)
    return upper


def horizon_notices(markets: Any = None, today: datetime.date | None = None) -> tuple[str, ...]:
    """Standing warnings: holidays file problems, known holidays ending within 60 days."""
    today = today or datetime.datetime.now(UTC).date()
    wanted = list(_CALENDARS) if markets is None else [m for m in dict.fromkeys(markets) if m in _CALENDARS]
    out = list(_EXTRA_ERRORS) if _EXTRA is not None else []
    for market in wanted:
        end = horizon(market)
        if end is None or (end - today).days > HORIZON_WARN_DAYS:
            continue
        days = (end - today).days
        when = f"in {days} days" if days >= 0 else f"{-days} days ago"
        text = (
            f"{market.label}: known exchange holidays end {end.isoformat()} ({when}); after that a holiday "
            f"reads as a quiet trading day. Add the published holidays with {HOLIDAYS_ENV} (see README)."
        )
        out.append(text)
        if market not in _WARNED_HORIZON:
            _WARNED_HORIZON.add(market)
            logger.warning("%s", text)
    return tuple(out)


def warm_up(markets: tuple[Market, ...] = (Market.US, Market.HK, Market.CN)) -> None:
    """Build the calendars now (a few hundred ms each) so the first screen refresh does not pay."""
    today = datetime.datetime.now(UTC).date()
    for market in markets:
        if market in _CALENDARS:
            _table_for(market, today)
