"""Pin feed.calendars at fixed real instants: the screen's "is silence expected?" logic."""

from __future__ import annotations

import datetime
import datetime as dt
import logging
from zoneinfo import ZoneInfo

import pytest
from exchange_calendars.exchange_calendar_xshg import XSHGExchangeCalendar

from feed import calendar_data, calendars
from feed.calendars import (
    MarketClock,
    Phase,
    is_session_date,
    market_clock,
    previous_session,
    trade_date_of,
    trading_date,
    warm_up,
)
from feed.symbols import Market

UTC = datetime.UTC
NY = ZoneInfo("America/New_York")
HKT = ZoneInfo("Asia/Hong_Kong")
CST = ZoneInfo("Asia/Shanghai")
D = datetime.date


def at(
    year: int, month: int, day: int, hour: int, minute: int = 0, tz: datetime.tzinfo = UTC
) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=tz)


# (market, now, phase, trading_date, next_open, next_close, early_close); None = not checked.
CLOCK_CASES = [
    pytest.param(
        Market.HK, at(2025, 3, 4, 12, 30, HKT), Phase.LUNCH, D(2025, 3, 4),
        at(2025, 3, 4, 13, 0, HKT), at(2025, 3, 4, 16, 0, HKT), False,
        id="hk-lunch-break-reopens-at-13:00",
    ),
    pytest.param(
        Market.HK, at(2025, 3, 4, 10, 0, HKT), Phase.OPEN, D(2025, 3, 4),
        at(2025, 3, 4, 13, 0, HKT), at(2025, 3, 4, 12, 0, HKT), False,
        id="hk-morning-session-next-close-is-lunch",
    ),
    pytest.param(
        Market.HK, at(2025, 1, 29, 10, 0, HKT), Phase.HOLIDAY, D(2025, 1, 28),
        at(2025, 2, 3, 9, 30, HKT), at(2025, 2, 3, 12, 0, HKT), False,
        id="hk-lunar-new-year-holiday",
    ),
    pytest.param(
        Market.HK, at(2025, 12, 24, 12, 30, HKT), Phase.CLOSED, D(2025, 12, 24),
        at(2025, 12, 29, 9, 30, HKT), None, True,
        id="hk-christmas-eve-half-day-has-no-afternoon",
    ),
    pytest.param(
        Market.US, at(2025, 11, 28, 10, 0, NY), Phase.OPEN, D(2025, 11, 28),
        at(2025, 12, 1, 9, 30, NY), at(2025, 11, 28, 13, 0, NY), True,
        id="us-early-close-day-closes-at-13:00",
    ),
    pytest.param(
        Market.US, at(2025, 11, 28, 14, 0, NY), Phase.CLOSED, D(2025, 11, 28),
        at(2025, 12, 1, 9, 30, NY), at(2025, 12, 1, 16, 0, NY), True,
        id="us-after-early-close-is-closed",
    ),
    pytest.param(
        Market.US, at(2025, 11, 27, 11, 0, NY), Phase.HOLIDAY, D(2025, 11, 26),
        at(2025, 11, 28, 9, 30, NY), at(2025, 11, 28, 13, 0, NY), False,
        id="us-thanksgiving-holiday",
    ),
    pytest.param(
        Market.US, at(2025, 3, 4, 8, 0, NY), Phase.PRE_OPEN, D(2025, 3, 4),
        at(2025, 3, 4, 9, 30, NY), at(2025, 3, 4, 16, 0, NY), False,
        id="us-pre-open-counts-as-today",
    ),
    pytest.param(
        Market.US, at(2025, 7, 1, 9, 30, NY), Phase.OPEN, D(2025, 7, 1),
        at(2025, 7, 2, 9, 30, NY), at(2025, 7, 1, 16, 0, NY), False,
        id="us-open-on-the-first-minute-in-daylight-time",
    ),
    pytest.param(
        Market.US, at(2025, 7, 1, 16, 0, NY), Phase.CLOSED, D(2025, 7, 1),
        at(2025, 7, 2, 9, 30, NY), at(2025, 7, 2, 16, 0, NY), False,
        id="us-closed-on-the-closing-minute",
    ),
    pytest.param(
        Market.CN, at(2025, 3, 4, 11, 45, CST), Phase.LUNCH, D(2025, 3, 4),
        at(2025, 3, 4, 13, 0, CST), at(2025, 3, 4, 15, 0, CST), False,
        id="cn-lunch-break",
    ),
    pytest.param(
        Market.CN, at(2025, 3, 4, 15, 30, CST), Phase.CLOSED, D(2025, 3, 4),
        at(2025, 3, 5, 9, 30, CST), at(2025, 3, 5, 11, 30, CST), False,
        id="cn-after-close",
    ),
    pytest.param(
        Market.CN, at(2025, 10, 3, 10, 0, CST), Phase.HOLIDAY, D(2025, 9, 30),
        at(2025, 10, 9, 9, 30, CST), None, False,
        id="cn-golden-week",
    ),
    pytest.param(
        Market.US, at(2025, 3, 8, 12, 0), Phase.CLOSED, D(2025, 3, 7),
        at(2025, 3, 10, 9, 30, NY), None, False,
        id="us-saturday-is-closed-on-fridays-session",
    ),
    pytest.param(
        Market.HK, at(2025, 3, 8, 12, 0), Phase.CLOSED, D(2025, 3, 7), None, None, False,
        id="hk-saturday",
    ),
    pytest.param(
        Market.CN, at(2025, 3, 8, 12, 0), Phase.CLOSED, D(2025, 3, 7), None, None, False,
        id="cn-saturday",
    ),
    pytest.param(
        Market.FX, at(2025, 3, 8, 12, 0), Phase.CLOSED, D(2025, 3, 7),
        at(2025, 3, 9, 22, 0), at(2025, 3, 14, 22, 0), False,
        id="fx-saturday-is-closed",
    ),
    pytest.param(
        Market.CRYPTO, at(2025, 3, 8, 12, 0), Phase.OPEN, D(2025, 3, 8), None, None, False,
        id="crypto-saturday-is-open",
    ),
    pytest.param(
        Market.FX, at(2025, 3, 9, 21, 59), Phase.CLOSED, D(2025, 3, 7),
        at(2025, 3, 9, 22, 0), None, False,
        id="fx-sunday-just-before-open",
    ),
    pytest.param(
        Market.FX, at(2025, 3, 9, 22, 0), Phase.OPEN, D(2025, 3, 10),
        at(2025, 3, 16, 22, 0), at(2025, 3, 14, 22, 0), False,
        id="fx-sunday-22-utc-opens-mondays-session",
    ),
    pytest.param(
        Market.FX, at(2025, 3, 4, 22, 30), Phase.OPEN, D(2025, 3, 5), None, None, False,
        id="fx-trading-date-rolls-at-22-utc",
    ),
    pytest.param(
        Market.FX, at(2025, 3, 7, 21, 59), Phase.OPEN, D(2025, 3, 7), None, at(2025, 3, 7, 22, 0), False,
        id="fx-friday-just-before-close",
    ),
    pytest.param(
        Market.FX, at(2025, 3, 7, 22, 0), Phase.CLOSED, D(2025, 3, 7), at(2025, 3, 9, 22, 0), None, False,
        id="fx-friday-22-utc-closes",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("market", "now", "phase", "day", "next_open", "next_close", "early"), CLOCK_CASES)
def test_market_clock_pins_phase_trading_date_and_next_transitions(
    market: Market,
    now: datetime.datetime,
    phase: Phase,
    day: datetime.date,
    next_open: datetime.datetime | None,
    next_close: datetime.datetime | None,
    early: bool,
) -> None:
    clock = market_clock(market, now)
    assert clock.market is market
    assert clock.phase is phase
    assert clock.is_open == (phase is Phase.OPEN)
    assert clock.trading_date == day
    assert trading_date(market, now) == day
    assert clock.early_close is early
    if next_open is not None:
        assert clock.next_open == next_open
    if next_close is not None:
        assert clock.next_close == next_close


@pytest.mark.parametrize("market", list(Market), ids=str)
def test_next_open_and_close_are_utc_aware_and_in_the_future(market: Market) -> None:
    now = at(2025, 3, 4, 3, 17)
    clock = market_clock(market, now)
    for moment in (clock.next_open, clock.next_close):
        if market is Market.CRYPTO:
            assert moment is None
        else:
            assert moment is not None
            assert moment.utcoffset() == datetime.timedelta(0)
            assert moment > now


def test_hong_kong_rolls_to_the_new_trading_date_while_new_york_is_still_on_yesterday() -> None:
    now = at(2025, 3, 4, 9, 0, HKT)  # = Monday 2025-03-03 20:00 EST
    hk, us = market_clock(Market.HK, now), market_clock(Market.US, now)
    assert hk.trading_date == D(2025, 3, 4)
    assert hk.phase in (Phase.PRE_OPEN, Phase.OPEN)
    assert us.trading_date == D(2025, 3, 3)
    assert us.phase is Phase.CLOSED


def test_a_naive_now_is_refused_rather_than_guessed() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        market_clock(Market.US, datetime.datetime(2025, 3, 4, 10, 0))


@pytest.mark.parametrize(
    ("market", "day", "expected"),
    [
        pytest.param(Market.US, D(2025, 3, 10), D(2025, 3, 7), id="us-across-a-weekend"),
        pytest.param(Market.US, D(2025, 11, 28), D(2025, 11, 26), id="us-across-thanksgiving"),
        pytest.param(Market.US, D(2025, 3, 5), D(2025, 3, 4), id="us-ordinary-weekday"),
        pytest.param(Market.US, D(2025, 3, 8), D(2025, 3, 7), id="us-from-a-saturday"),
        pytest.param(Market.HK, D(2025, 2, 3), D(2025, 1, 28), id="hk-across-lunar-new-year"),
        pytest.param(Market.CN, D(2025, 10, 9), D(2025, 9, 30), id="cn-across-golden-week"),
        pytest.param(Market.FX, D(2025, 3, 10), D(2025, 3, 7), id="fx-across-a-weekend"),
        pytest.param(Market.CRYPTO, D(2025, 3, 10), D(2025, 3, 9), id="crypto-is-yesterday"),
    ],
)
def test_previous_session_is_the_last_trading_date_strictly_before(
    market: Market, day: datetime.date, expected: datetime.date
) -> None:
    assert previous_session(market, day) == expected


@pytest.mark.parametrize(
    ("market", "day", "expected"),
    [
        pytest.param(Market.US, D(2025, 3, 4), True, id="us-weekday"),
        pytest.param(Market.US, D(2025, 11, 27), False, id="us-thanksgiving"),
        pytest.param(Market.US, D(2025, 11, 28), True, id="us-early-close-is-a-session"),
        pytest.param(Market.HK, D(2025, 1, 29), False, id="hk-lunar-new-year"),
        pytest.param(Market.CN, D(2025, 10, 8), False, id="cn-golden-week"),
        pytest.param(Market.CN, D(2025, 3, 8), False, id="cn-saturday"),
        pytest.param(Market.FX, D(2025, 3, 7), True, id="fx-friday"),
        pytest.param(Market.FX, D(2025, 3, 9), False, id="fx-sunday"),
        pytest.param(Market.CRYPTO, D(2025, 3, 9), True, id="crypto-sunday"),
    ],
)
def test_is_session_date_follows_the_exchange_calendar(
    market: Market, day: datetime.date, expected: bool
) -> None:
    assert is_session_date(market, day) is expected


def ms(moment: datetime.datetime) -> int:
    return int(moment.timestamp() * 1000)


@pytest.mark.parametrize(
    ("market", "epoch_ms", "expected"),
    [
        pytest.param(
            Market.US, ms(at(2025, 3, 3, 23, 30, NY)), D(2025, 3, 3), id="us-late-evening-is-still-today"
        ),
        pytest.param(Market.US, ms(at(2025, 3, 4, 4, 30)), D(2025, 3, 3), id="us-same-instant-given-in-utc"),
        pytest.param(Market.HK, ms(at(2025, 3, 3, 23, 0)), D(2025, 3, 4), id="hk-ahead-of-utc"),
        pytest.param(Market.CN, ms(at(2025, 3, 3, 16, 0)), D(2025, 3, 4), id="cn-midnight-local"),
        pytest.param(Market.FX, ms(at(2025, 3, 4, 23, 0)), D(2025, 3, 4), id="fx-is-the-utc-date"),
        pytest.param(Market.CRYPTO, ms(at(2025, 3, 4, 23, 59)), D(2025, 3, 4), id="crypto-is-the-utc-date"),
    ],
)
def test_trade_date_of_is_the_exchange_local_date(
    market: Market, epoch_ms: int, expected: datetime.date
) -> None:
    assert trade_date_of(market, epoch_ms) == expected


def test_dates_past_the_library_data_fall_back_to_weekdays_with_a_warning(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # XSHG holidays are published only about a year ahead; far beyond that we still answer.
    monkeypatch.setattr(calendar_data, "_FALLBACK_WARNED", set())  # the warning is once per process
    now = at(2040, 3, 7, 10, 0, CST)  # a Wednesday
    beyond = (
        XSHGExchangeCalendar.bound_max() is not None and now.date() > XSHGExchangeCalendar.bound_max().date()
    )
    with caplog.at_level(logging.WARNING, logger="feed.calendars"):
        clock = market_clock(Market.CN, now)
        saturday = market_clock(Market.CN, at(2040, 3, 10, 10, 0, CST))
    assert clock.phase is Phase.OPEN
    assert clock.trading_date == D(2040, 3, 7)
    assert clock.next_close == at(2040, 3, 7, 11, 30, CST)
    assert saturday.phase is Phase.CLOSED
    assert saturday.trading_date == D(2040, 3, 9)
    if beyond:
        assert any("weekday" in r.getMessage() for r in caplog.records)


def test_market_clock_is_cheap_enough_to_call_every_second_after_warm_up() -> None:
    warm_up()
    now = at(2025, 3, 4, 3, 0)
    for market in Market:
        clocks = {market_clock(market, now + datetime.timedelta(seconds=i)) for i in range(1000)}
        assert all(isinstance(c, MarketClock) for c in clocks)


# --- the horizon of known holidays, and an operator's holidays file ----------------------


@pytest.fixture
def holidays_file(tmp_path):
    yield tmp_path / "holidays.csv"
    calendars.load_holidays(None)  # back to the library's data for the next test


def test_the_a_share_horizon_is_the_librarys_last_known_date_and_is_announced_60_days_ahead():
    calendars.load_holidays(None)
    assert calendars.horizon(Market.CN) == dt.date(2026, 12, 31)
    assert calendars.horizon(Market.US) is None  # rule-based: no end
    notices = calendars.horizon_notices(today=dt.date(2026, 12, 1))
    assert len(notices) == 1 and Market.CN.label in notices[0]
    assert "2026-12-31" in notices[0] and "QUOTES_HOLIDAYS_FILE" in notices[0]
    assert calendars.horizon_notices(today=dt.date(2026, 9, 1)) == ()


def test_a_holidays_file_closes_its_dates_and_extends_the_horizon(holidays_file):
    new_year = dt.datetime(2027, 1, 1, 2, 0, tzinfo=dt.UTC)  # Friday 10:00 in Shanghai
    calendars.load_holidays(None)
    assert market_clock(Market.CN, new_year).phase is Phase.OPEN  # weekday fallback: a guess
    holidays_file.write_text(
        "market,date,name\nCN,2027-01-01,New Year's Day\nCN,2027-02-11,Spring Festival\n"
    )
    assert calendars.load_holidays(holidays_file) == ()
    assert market_clock(Market.CN, new_year).phase is Phase.HOLIDAY
    assert calendars.horizon(Market.CN) == dt.date(2027, 12, 31)
    assert calendars.horizon_notices(today=dt.date(2026, 12, 1)) == ()


def test_a_bad_holidays_file_says_where_and_keeps_the_good_lines(holidays_file):
    holidays_file.write_text(
        "market,date,name\nCN,2027-13-01,bad month\nXX,2027-01-04,no market\nCN,2027-01-01,ok\n"
    )
    problems = calendars.load_holidays(holidays_file)
    assert len(problems) == 2 and all(str(holidays_file) in p for p in problems)
    assert "line 2" in problems[0] and "line 3" in problems[1]
    assert market_clock(Market.CN, dt.datetime(2027, 1, 1, 2, 0, tzinfo=dt.UTC)).phase is Phase.HOLIDAY
    assert any("line 2" in n for n in calendars.horizon_notices(today=dt.date(2026, 12, 1)))


def test_a_missing_holidays_file_is_reported_not_fatal(holidays_file):
    problems = calendars.load_holidays(holidays_file)  # never written
    assert problems and "cannot read" in problems[0]
    assert market_clock(Market.US, dt.datetime(2025, 3, 5, 15, 0, tzinfo=dt.UTC)).phase is Phase.OPEN
