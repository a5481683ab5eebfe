"""bars() and the day's open/high/low/volume, against the simulator and as pure rules."""

from __future__ import annotations

import datetime as dt
import math
import time

import pandas as pd
import pytest

from feed.daystats import DayStats
from feed.protocol.codec import Tick
from feed.protocol.records import KLINE_TYPES, Bar
from feed.symbols import Market
from tests.support import fast_config, wait_until

INTERVALS = list(KLINE_TYPES)


def consistent(b: pd.DataFrame) -> bool:
    body_lo = b[["open", "close"]].min(axis=1)
    body_hi = b[["open", "close"]].max(axis=1)
    return bool((b["low"] <= body_lo).all() and (body_hi <= b["high"]).all() and (b["volume"] >= 0).all())


@pytest.fixture
def feed(sim, make_manager):
    m = make_manager(fast_config(sim))
    m.subscribe(["AAPL.US"])
    assert m.wait_ready(10) and sim.wait_subscribed("AAPL.US", 10)
    return m


@pytest.mark.parametrize("interval", INTERVALS)
def test_bars_for_each_interval_have_the_servers_count_and_consistent_ohlcv(sim, feed, interval):
    sim.pause()  # so the last bar and the snapshot are read at the same price

    def settled() -> bool:
        return feed.snapshot(["AAPL.US"])["last"].iloc[0] == float(sim.last_price("AAPL.US"))

    row = feed.snapshot(["AAPL.US"]).iloc[0]
    assert wait_until(settled, 5), (
        row["last"],
        row["freshness"],
        sim.last_price("AAPL.US"),
        sim.sent_ticks("AAPL.US")[-3:],
    )
    b = feed.bars("aapl", interval)  # any accepted form of the symbol
    raw = sim.minute_bars("AAPL.US", 500) if interval == "1m" else None
    assert list(b.columns) == ["open", "high", "low", "close", "volume"]
    assert str(b.index.tz) == "UTC" and b.index.is_monotonic_increasing and b.index.is_unique
    assert consistent(b), b[~(b["low"] <= b[["open", "close"]].min(axis=1))]
    expected = {"1d": 500, "1w": None}.get(interval, 500)
    if expected is not None:
        assert len(b) in (expected, expected + 1)  # plus the live bar when it opened a new period
    else:
        assert 50 <= len(b) <= 110
    if raw is not None:  # the server's own 1-minute bars: the same minutes, the live one at most added
        server = {pd.Timestamp(r.time_s, unit="s", tz="UTC") for r in raw}
        assert len(set(b.index[:-1]) - server) <= 1
    assert b["close"].iloc[-1] == feed.snapshot(["AAPL.US"])["last"].iloc[0]


def test_the_live_bar_moves_with_ticks(sim, feed):
    sim.pause()
    last = feed.snapshot(["AAPL.US"])["last"].iloc[0]
    high = round(last * 1.2, 2)
    sim.push_tick("AAPL.US", f"{high}", volume="700")
    assert wait_until(lambda: feed.snapshot(["AAPL.US"])["last"].iloc[0] == high, 5)
    for interval in ("1m", "5m", "1h", "1d", "1w"):
        bar = feed.bars("AAPL.US", interval).iloc[-1]
        assert bar["close"] == high and bar["high"] == high, interval
    low = round(last * 0.8, 2)
    sim.push_tick("AAPL.US", f"{low}", volume="300")
    assert wait_until(lambda: feed.snapshot(["AAPL.US"])["last"].iloc[0] == low, 5)
    one = feed.bars("AAPL.US", "1m").iloc[-1]
    assert one["low"] == low and one["close"] == low and one["high"] == high and one["volume"] >= 1000


def test_bars_of_an_unwatched_symbol_or_an_unknown_interval_say_so(feed):
    with pytest.raises(KeyError, match=r"TSLA\.US"):
        feed.bars("TSLA.US")
    with pytest.raises(ValueError, match="2m"):
        feed.bars("AAPL.US", "2m")


def test_start_and_end_cut_the_range(feed):
    full = feed.bars("AAPL.US", "5m")
    start, end = full.index[100], full.index[200]
    cut = feed.bars("AAPL.US", "5m", start=start, end=end.tz_localize(None))
    assert cut.index[0] == start and cut.index[-1] == end and len(cut) == 101


def test_the_snapshot_carries_the_day_seeded_from_the_daily_bar_then_ticks(sim, feed):
    assert wait_until(lambda: not math.isnan(feed.snapshot(["AAPL.US"])["open"].iloc[0]), 5)
    sim.pause()
    time.sleep(1.5)  # the last pushes in, and the table rebuilt after them
    before = feed.snapshot(["AAPL.US"]).iloc[0]
    assert before["last"] == float(sim.last_price("AAPL.US"))
    top = round(max(before["high"], before["last"]) + 5.0, 2)
    sim.push_tick("AAPL.US", f"{top}", volume="250")
    assert wait_until(lambda: feed.snapshot(["AAPL.US"])["last"].iloc[0] == top, 5)
    after = feed.snapshot(["AAPL.US"]).iloc[0]
    assert after["high"] == top and after["open"] == before["open"] and after["low"] == before["low"]
    assert after["volume"] == before["volume"] + 250
    assert after["turnover"] == pytest.approx(before["turnover"] + top * 250)


# --- DayStats, pure ------------------------------------------------------------------------


def _ms(y, mo, d, h, mi, tz=Market.US.tz) -> int:
    return int(dt.datetime(y, mo, d, h, mi, tzinfo=tz).timestamp() * 1000)


def test_day_stats_count_only_trades_after_the_seeding_bar_and_roll_at_a_new_date():
    days = DayStats()
    markets = {"AAPL.US": Market.US}
    bar_time = int(dt.datetime(2025, 3, 5, tzinfo=Market.US.tz).timestamp())
    fetched = _ms(2025, 3, 5, 11, 0)
    days.seed(
        "AAPL.US",
        Market.US,
        [Bar(bar_time, 10.0, 12.0, 9.0, 11.0, 1000.0, 10500.0)],
        dt.date(2025, 3, 5),
        fetched,
    )
    days.apply([Tick("AAPL.US", 1, fetched - 1000, 50.0, 5.0)], markets)  # already in the bar
    days.apply([Tick("AAPL.US", 2, fetched + 1000, 13.0, 10.0)], markets)
    d = days.published()["AAPL.US"]
    assert (d.open, d.high, d.low, d.volume, d.turnover) == (10.0, 13.0, 9.0, 1010.0, 10630.0)
    days.apply([Tick("AAPL.US", 3, _ms(2025, 3, 6, 9, 31), 14.0, 2.0)], markets)  # next session
    d = days.published()["AAPL.US"]
    assert (d.trade_date, d.open, d.high, d.low, d.volume) == (dt.date(2025, 3, 6), 14.0, 14.0, 14.0, 2.0)


def test_trades_that_beat_the_daily_bar_are_replayed_over_it():
    days = DayStats()
    markets = {"AAPL.US": Market.US}
    asked = _ms(2025, 3, 5, 11, 0)
    days.expect(["AAPL.US"])  # the daily bars were asked for
    days.apply([Tick("AAPL.US", 1, asked - 500, 11.0, 3.0)], markets)  # in the bar too
    days.apply([Tick("AAPL.US", 2, asked + 500, 15.0, 7.0)], markets)  # after the bar's moment
    bar_time = int(dt.datetime(2025, 3, 5, tzinfo=Market.US.tz).timestamp())
    days.seed(
        "AAPL.US",
        Market.US,
        [Bar(bar_time, 10.0, 12.0, 9.0, 11.0, 1000.0, 10500.0)],
        dt.date(2025, 3, 5),
        asked,
    )
    d = days.published()["AAPL.US"]
    assert (d.open, d.high, d.low, d.volume, d.turnover) == (10.0, 15.0, 9.0, 1007.0, 10605.0)
