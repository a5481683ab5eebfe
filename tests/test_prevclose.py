"""The previous-close rule across HK/US dates, weekends and holidays."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from feed.prevclose import prev_close
from feed.protocol.records import Bar
from feed.symbols import Market

NY = ZoneInfo("America/New_York")
HK = ZoneInfo("Asia/Hong_Kong")


def bar(day: str, close: float, tz: ZoneInfo) -> Bar:
    """A daily bar stamped at local midnight of its trade date (the simulator's convention)."""
    d = dt.date.fromisoformat(day)
    ts = int(dt.datetime.combine(d, dt.time(), tz).timestamp())
    return Bar(ts, close, close, close, close, 0.0)


def ms(text: str, tz: ZoneInfo) -> int:
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=tz).timestamp() * 1000)


def test_during_a_session_the_previous_bar_is_the_close():
    bars = [bar("2025-03-03", 172.5, NY), bar("2025-03-04", 175.2, NY)]
    pc = prev_close(bars, Market.US, ms("2025-03-04 11:00", NY))
    assert (pc.price, pc.trade_date) == (172.5, dt.date(2025, 3, 3))


def test_before_the_open_the_last_sessions_change_is_shown():
    # Latest price is Monday's last trade; bars are Friday and Monday.
    bars = [bar("2025-02-28", 170.0, NY), bar("2025-03-03", 172.5, NY)]
    pc = prev_close(bars, Market.US, ms("2025-03-03 15:59:59", NY))
    assert (pc.price, pc.trade_date) == (170.0, dt.date(2025, 2, 28))


def test_first_trade_of_a_new_session_uses_the_last_completed_bar():
    bars = [bar("2025-02-28", 170.0, NY), bar("2025-03-03", 172.5, NY)]
    pc = prev_close(bars, Market.US, ms("2025-03-04 09:30:01", NY))
    assert pc.price == 172.5


def test_monday_uses_fridays_close_across_the_weekend():
    bars = [bar("2025-02-27", 401.0, HK), bar("2025-02-28", 408.0, HK)]
    pc = prev_close(bars, Market.HK, ms("2025-03-03 10:00", HK))
    assert (pc.price, pc.trade_date) == (408.0, dt.date(2025, 2, 28))


def test_after_a_holiday_the_last_session_before_it_counts():
    # 2025-01-29..31 Lunar New Year: HK shut; Feb 3 trades against Jan 28.
    bars = [bar("2025-01-27", 420.0, HK), bar("2025-01-28", 415.0, HK)]
    assert prev_close(bars, Market.HK, ms("2025-02-03 09:31", HK)).price == 415.0


def test_us_evening_trade_is_dated_in_new_york_not_utc():
    # 20:00 ET on Mar 4 is already Mar 5 in UTC; the trade date is still Mar 4.
    bars = [bar("2025-03-03", 172.5, NY), bar("2025-03-04", 175.2, NY)]
    assert prev_close(bars, Market.US, ms("2025-03-04 19:59", NY)).price == 172.5


def test_hk_has_rolled_while_new_york_has_not():
    # Tue 2025-03-04 10:00 HKT = Mon 21:00 ET.
    instant = dt.datetime(2025, 3, 4, 10, 0, tzinfo=HK)
    t = int(instant.timestamp() * 1000)
    hk = prev_close([bar("2025-03-03", 408.0, HK), bar("2025-03-04", 410.5, HK)], Market.HK, t)
    us = prev_close([bar("2025-02-28", 170.0, NY), bar("2025-03-03", 172.5, NY)], Market.US, t)
    assert (hk.price, hk.trade_date) == (408.0, dt.date(2025, 3, 3))
    assert (us.price, us.trade_date) == (170.0, dt.date(2025, 2, 28))


@pytest.mark.parametrize("bars", [[], [bar("2025-03-04", 1.0, NY)]], ids=["no-bars", "only-today"])
def test_no_earlier_bar_means_unknown(bars):
    assert prev_close(bars, Market.US, ms("2025-03-04 11:00", NY)) is None


def test_bar_order_does_not_matter():
    bars = [bar("2025-03-04", 175.2, NY), bar("2025-03-03", 172.5, NY)]
    assert prev_close(bars, Market.US, ms("2025-03-04 11:00", NY)).price == 172.5
