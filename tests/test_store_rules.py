"""The tick store's pure rules: minute ranks and gaps, bars from ticks, a restart's path, causes.

No feed and no simulator: the minute series, the aggregator, the seeding rule, the
error classifier, the path views and the charts' handling of a gap, each on its own.
"""

from __future__ import annotations

import datetime as dt
import errno
import math

import duckdb
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from feed.book import MinutePath, Quote
from feed.config import FeedConfig
from feed.history import day_range, resolve
from feed.minutes import GAP, KLINE, LIVE, NEVER, PARTIAL, QUIET, MinuteSeries
from feed.snapshot import Snapshot
from feed.store import schema
from feed.store.aggregate import MinuteAggregator
from feed.store.failures import Cause, classify
from feed.store.seeding import seed_points
from feed.symbols import Market
from feed.view import path_points, sparkline, thin
from ui.colors import Convention
from ui.compare_chart import compare_frame, compare_spec
from ui.tables import _spark_values
from ui.tables import sparkline as grid_sparkline


def nan(v: float) -> bool:
    return isinstance(v, float) and math.isnan(v)


# --- the minute series: quiet minutes vs gaps ---------------------------------------------


def test_a_minute_without_trades_while_streamed_is_flat_but_one_nobody_saw_is_a_gap():
    quiet = MinuteSeries(quiet_from=0)
    quiet.update(100, 1.0)
    quiet.update(103, 2.0)
    assert quiet.points() == [(100, 1.0), (101, 1.0), (102, 1.0), (103, 2.0)]
    lost = MinuteSeries(quiet_from=NEVER)  # the link was down: nothing is known between
    lost.update(100, 1.0)
    lost.update(103, 2.0)
    closes = [p for _, p in lost.points()]
    assert closes[0] == 1.0 and nan(closes[1]) and nan(closes[2]) and closes[3] == 2.0
    assert [b[0] for b in lost.bars()] == [100, 103]  # gaps are no bars


def test_stored_minutes_then_live_ones_leave_a_gap_until_the_kline_fills_it():
    s = MinuteSeries(quiet_from=200)  # streamed from minute 200 on (this run)
    s.seed([(100, 1, 1, 1, 1.0, 5, LIVE), (101, 1, 2, 1, 2.0, 5, LIVE)], holes=GAP)  # the last run
    s.update(200, 3.0)
    s.update(201, 3.5)
    pts = dict(s.points())
    assert pts[101] == 2.0 and nan(pts[102]) and nan(pts[199]) and pts[200] == 3.0
    kline = [(m, 2.0, 2.5, 1.5, 2.2, 7.0) for m in range(95, 202)]
    s.seed(kline)  # AllTick's minute K-line: the missed minutes, never the minutes we hold better
    pts = dict(s.points())
    assert not any(nan(p) for p in pts.values())
    assert pts[150] == 2.2 and pts[101] == 2.0 and pts[201] == 3.5 and pts[95] == 2.2
    ranks = {b[0]: b[6] for b in s.ranked()}
    assert ranks[101] == LIVE and ranks[150] == KLINE and ranks[201] == LIVE


def test_a_kline_replaces_partial_and_quiet_minutes_but_not_live_ones():
    s = MinuteSeries(quiet_from=0)
    s.seed([(10, 1, 1, 1, 1.0, 1, PARTIAL), (12, 2, 2, 2, 2.0, 1, LIVE)], holes=QUIET)
    assert {b[0]: b[6] for b in s.ranked()} == {10: PARTIAL, 11: QUIET, 12: LIVE}
    s.seed([(10, 5, 5, 5, 5.0, 9), (11, 6, 6, 6, 6.0, 9), (12, 7, 7, 7, 7.0, 9)])
    assert dict(s.points()) == {10: 5.0, 11: 6.0, 12: 2.0}


def test_the_minute_a_run_starts_in_is_partial_until_a_kline_replaces_it():
    s = MinuteSeries(quiet_from=201)  # the link came up during minute 200
    s.update(200, 3.0, 1.0)  # trades of minute 200 before that are unknown
    s.update(200, 3.2, 1.0)
    s.update(201, 3.1, 2.0)
    assert {b[0]: b[6] for b in s.ranked()} == {200: PARTIAL, 201: LIVE}
    s.seed([(200, 2.9, 3.4, 2.8, 3.2, 40.0)])  # the K-line holds the whole minute
    assert s.ranked()[0] == (200, 2.9, 3.4, 2.8, 3.2, 40.0, KLINE)
    s.update(201, 3.3, 1.0)
    s.seed([(201, 9.0, 9.0, 9.0, 9.0, 1.0)])  # never over a minute streamed from its start
    assert s.ranked()[1] == (201, 3.1, 3.3, 3.1, 3.3, 3.0, LIVE)


def test_a_live_trade_in_a_gap_minute_opens_it():
    s = MinuteSeries(quiet_from=NEVER)
    s.update(10, 1.0)
    s.update(13, 2.0)
    s.update(11, 5.0)  # cannot come from the book (time moves forward) but must not break the series
    assert [b for b in s.bars() if b[0] == 11] == [(11, 5.0, 5.0, 5.0, 5.0, 0.0)]


# --- paths: one NaN per gap, kept by thinning, broken in the charts ------------------------


def _snap_with_gap() -> Snapshot:
    closes = (10.0, 10.5, math.nan, math.nan, math.nan, 11.0, 11.2)
    quote = Quote("AAPL.US", 11.3, 9, 107 * 60_000 + 5_000, 1.0, 0.0, "push")
    return Snapshot(
        markets={"AAPL.US": Market.US},
        paths={"AAPL.US": MinutePath(100, closes)},
        quotes={"AAPL.US": quote},
    )


def test_path_points_turn_a_gap_into_one_nan_point():
    pts = path_points(_snap_with_gap(), "AAPL.US")
    prices = [p for _, p in pts]
    assert prices[:2] == [10.0, 10.5] and nan(prices[2]) and prices[3:] == [11.0, 11.2, 11.3]
    assert pts[2][0] == 102 * 60_000  # the break sits where the gap begins


def test_thinning_keeps_a_gap_and_the_newest_value():
    values = [float(i) for i in range(100)]
    values[40] = math.nan
    out = thin(values, 10)
    assert out[0] == 0.0 and out[-1] == 99.0 and sum(1 for v in out if nan(v)) == 1
    assert thin([1.0, 2.0, 3.0], 10) == [1.0, 2.0, 3.0]
    assert sparkline(_snap_with_gap(), "AAPL.US", 3)[-1] == 11.3
    assert any(nan(v) for v in sparkline(_snap_with_gap(), "AAPL.US", 3))


def test_the_grids_sparkline_draws_the_stretch_after_a_gap_never_a_line_across():
    values = [10.0, 10.5, math.nan, 11.0, 11.2]
    assert _spark_values(values, 10.0, 2) == [10.0, 12.0]
    hist = pd.DataFrame({"ts": pd.date_range("2026-01-01", periods=5, freq="min", tz="UTC"), "price": values})
    assert grid_sparkline(hist) == [11.0, 11.2]


def test_the_compare_chart_keeps_the_gap_and_breaks_its_line_there():
    ts = pd.date_range("2026-01-01 14:30", periods=6, freq="min", tz="UTC")
    hist = {"AAPL.US": pd.DataFrame({"ts": ts, "price": [100.0, 101.0, math.nan, 103.0, 104.0, 105.0]})}
    frame = compare_frame(hist, {"AAPL.US": 100.0}, max_points=4)
    assert frame["pct"].isna().sum() == 1  # thinning kept the break
    assert frame["label_pct"].notna().sum() == 1 and frame["pct"].iloc[-1] == pytest.approx(5.0)
    spec = compare_spec(frame, Convention.GREEN_UP, symbols=["AAPL.US"])
    lines = [layer for layer in spec["layer"] if layer.get("mark", {}).get("type") == "line"]
    assert lines and lines[0]["mark"]["invalid"] == "break-paths-show-domains"


# --- bars from ticks (the store's aggregator) ---------------------------------------------


def group(code: str, minute: int, *prices: float) -> tuple:
    return (code, minute, prices[0], max(prices), min(prices), prices[-1], float(len(prices)), len(prices))


# The GROUP BY the store ran as a DuckDB query before Arrow's aggregation replaced it:
# the reference, with open and close taken by sequence number, not by row order.
_GROUP_SQL = """
    SELECT code, (time_ms // 60000)::INTEGER AS minute, arg_min(price, seq), max(price), min(price),
           arg_max(price, seq), sum(volume), count(*)::INTEGER
    FROM batch GROUP BY ALL ORDER BY code, minute
"""


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["AAPL.US", "700.HK", "600519.SH"]),
            st.integers(0, 400_000),  # ms into the batch: up to seven minutes
            st.floats(0.01, 1e6, allow_nan=False),
            st.floats(0, 1e7, allow_nan=False),
        ),
        max_size=300,
    )
)
def test_arrows_minute_groups_equal_the_sql_group_by_for_trades_in_sequence_order(trades):
    base = 1_764_000_000_000
    seqs: dict[str, int] = {}
    rows = []
    for code, ms, price, volume in sorted(trades, key=lambda t: t[1]):  # the book's order per code
        seqs[code] = seqs.get(code, 0) + 1
        rows.append((code, seqs[code], base + ms, price, volume))
    table = schema.columns_table([list(c) for c in zip(*rows, strict=True)] if rows else [[]] * 5)
    con = duckdb.connect()
    con.register("batch", table)
    expected = [tuple(r) for r in con.execute(_GROUP_SQL).fetchall()]
    got = schema.minute_groups(table)
    assert [g[:2] + g[-1:] for g in got] == [e[:2] + e[-1:] for e in expected]
    for g, e in zip(got, expected, strict=True):
        assert g[2:6] == e[2:6]  # open, high, low, close: the same trades' prices, exactly
        assert g[6] == pytest.approx(e[6], rel=1e-12)  # volume: sums in another order


def test_a_minute_is_written_when_the_next_one_starts_but_a_runs_first_minute_never():
    agg = MinuteAggregator()
    plan = agg.plan([group("A", 10, 1.0, 2.0)], now_ms=10 * 60_000 + 30_000)
    assert plan.bars == []  # minute 10 under way
    agg.commit(plan)
    plan = agg.plan([group("A", 11, 3.0, 1.5), group("A", 12, 2.0)], now_ms=12 * 60_000 + 1_000)
    # Minute 10 was this run's first (some of its trades came before): never written; 11 is whole.
    assert plan.bars == [("A", 11, 3.0, 3.0, 1.5, 1.5, 2.0, 2)]
    agg.commit(plan)
    plan = agg.plan([group("A", 13, 4.0)], now_ms=13 * 60_000 + 1_000)
    assert plan.bars == [("A", 12, 2.0, 2.0, 2.0, 2.0, 1.0, 1)]
    agg.commit(plan)
    assert agg.plan([], now_ms=13 * 60_000 + 2_000).bars == []


def test_the_clock_closes_a_quiet_minute_and_a_late_trade_writes_it_again():
    agg = MinuteAggregator(grace_ms=5_000)
    agg.commit(agg.plan([group("A", 9, 1.0)], now_ms=9 * 60_000))
    agg.commit(agg.plan([group("A", 10, 1.0, 3.0)], now_ms=10 * 60_000 + 10_000))
    plan = agg.plan([], now_ms=11 * 60_000 + 5_000)  # minute 10 ended 5 s ago
    assert plan.bars == [("A", 10, 1.0, 3.0, 1.0, 3.0, 2.0, 2)]
    agg.commit(plan)
    late = agg.plan([group("A", 10, 0.5)], now_ms=11 * 60_000 + 6_000)
    assert late.replace == [("A", 10)]  # the bar on disk is replaced by the whole minute
    assert late.bars == [("A", 10, 1.0, 3.0, 0.5, 0.5, 3.0, 3)]
    agg.commit(late)
    assert agg.plan([], now_ms=11 * 60_000 + 7_000).bars == []


def test_after_a_lost_link_the_minute_under_way_and_the_next_are_partial():
    agg = MinuteAggregator()
    agg.commit(agg.plan([group("A", 9, 1.0)], now_ms=9 * 60_000))
    agg.commit(agg.plan([group("A", 10, 1.0)], now_ms=10 * 60_000 + 1_000))
    agg.broken(["A"], at_ms=10 * 60_000 + 30_000)
    plan = agg.plan([group("A", 12, 2.0), group("A", 13, 3.0)], now_ms=13 * 60_000)
    assert plan.bars == []  # 10 lost trades after the break, 12 is the first after it
    agg.commit(plan)
    assert agg.plan([group("A", 14, 4.0)], now_ms=14 * 60_000).bars == [("A", 13, 3.0, 3.0, 3.0, 3.0, 1.0, 1)]


# --- a restart's path: quiet inside a run, a gap between runs -----------------------------


def test_seeding_fills_quiet_minutes_of_one_run_and_leaves_the_time_between_runs_out():
    rows = [
        (100, 1, 1, 1, 1.0, 1, LIVE, 1),
        (103, 2, 2, 2, 2.0, 1, LIVE, 1),  # a quiet spell in run 1: flat
        (110, 3, 3, 3, 3.0, 1, PARTIAL, 2),  # run 2 began later: a gap
        (115, 4, 4, 4, 4.0, 1, LIVE, 2),  # run 2 lost its link at 112: a gap
    ]
    out = seed_points(rows, breaks=[(112, 2)])
    minutes = [p[0] for p in out]
    assert minutes == [100, 101, 102, 103, 110, 115]
    assert out[1] == (101, 1.0, 1.0, 1.0, 1.0, 0.0, QUIET)


# --- causes, ranges, configuration --------------------------------------------------------


def test_store_errors_are_named_by_cause(tmp_path):
    bad = tmp_path / "bad.duckdb"
    bad.write_bytes(b"not a database" * 100)
    with pytest.raises(duckdb.Error) as info:
        duckdb.connect(str(bad))
    assert classify(info.value) is Cause.CORRUPT
    assert classify(OSError(errno.ENOSPC, "No space left on device")) is Cause.DISK_FULL
    assert (
        classify(duckdb.IOException('Could not set lock on file "x": Conflicting lock is held'))
        is Cause.LOCKED
    )
    full = "FATAL Error: database has been invalidated... Original error: No space left on device"
    assert classify(duckdb.FatalException(full)) is Cause.DISK_FULL
    assert classify(OSError(errno.EACCES, "Permission denied")) is Cause.DENIED
    assert classify(RuntimeError("something else")) is Cause.OTHER


def test_a_date_is_the_day_in_the_markets_own_time():
    lo, hi = day_range(Market.HK, dt.date(2026, 3, 5), dt.date(2026, 3, 5))
    assert pd.Timestamp(lo, unit="ms", tz="UTC") == pd.Timestamp("2026-03-04 16:00", tz="UTC")
    assert hi - lo == 86_400_000 - 1
    lo, hi = resolve(Market.US, "2026-03-05 15:00", dt.date(2026, 3, 5), now=0)
    assert lo == pd.Timestamp("2026-03-05 15:00", tz="UTC").value // 1_000_000
    assert pd.Timestamp(hi + 1, unit="ms", tz="UTC") == pd.Timestamp("2026-03-06 05:00", tz="UTC")


def test_the_store_is_configured_from_the_environment():
    assert FeedConfig.from_env({}).data_dir == "./data"
    assert FeedConfig.from_env({"QUOTES_DATA_DIR": "off"}).data_dir is None
    assert (
        FeedConfig.from_env({"QUOTES_DATA_DIR": "/tmp/x", "QUOTES_RETENTION_DAYS": "7"}).retention_days == 7
    )
    with pytest.raises(ValueError, match="QUOTES_RETENTION_DAYS"):
        FeedConfig.from_env({"QUOTES_RETENTION_DAYS": "a month"})
    with pytest.raises(ValueError, match="at least 1"):
        FeedConfig.from_env({"QUOTES_RETENTION_DAYS": "0"})


def test_a_kline_of_the_minute_in_progress_keeps_the_newest_trade_as_its_close():
    # One CI run: the day's K-line came back after the last push of the minute in progress
    # and replaced that (partial) minute with the server's bar as of its answer, so bars()
    # ended at 226.24 while the row said 226.27.
    from feed.book import QuoteBook
    from feed.protocol.codec import Tick

    b = QuoteBook()
    b.watch(["AAPL.US"])
    b.set_quiet_from(["AAPL.US"], 201)  # streamed from minute 201: minute 200 is partial
    b.apply([Tick("AAPL.US", 1, 200 * 60_000 + 30_000, 226.27, 1.0)], 0.0)
    kline = [(199, 226.0, 226.1, 225.9, 226.0, 9.0), (200, 226.1, 226.3, 226.1, 226.24, 5.0)]
    b.seed_history("AAPL.US", kline)
    last = b.minute_bars("AAPL.US")[-1]
    assert last[0] == 200 and last[4] == 226.27 == b.quotes["AAPL.US"].price
    assert last[1] == 226.1 and last[2] == 226.3  # the K-line's open and high stay
    b.seed_history("AAPL.US", [*kline, (201, 226.3, 226.3, 226.3, 226.3, 1.0)])
    assert b.minute_bars("AAPL.US")[-1][4] == 226.3  # a server ahead of us by a minute: its bar stands
