"""ui.tables: the quotes grid's columns, order, formats, colours and summaries."""

from __future__ import annotations

import io
import math

import pandas as pd
import pytest

from feed.model import SNAPSHOT_COLUMNS
from tests.test_ui_support import NOW, ROWS, snapshot_frame
from ui.tables import (
    QUOTE_COLUMNS,
    SPARK_POINTS,
    complete_snapshot,
    grid_frame,
    market_summary,
    quotes_table,
    snapshot_csv,
    sparkline,
)


def test_quotes_table_has_display_columns_in_order() -> None:
    table = quotes_table(snapshot_frame(), {"AAPL.US": [1.0, 2.0]}, now=NOW)
    assert tuple(table.columns) == QUOTE_COLUMNS
    assert list(table["Symbol"]) == [r[0] for r in ROWS]


def test_quotes_table_keeps_numbers_numeric_for_sorting() -> None:
    table = quotes_table(snapshot_frame(), now=NOW)
    for col in ("Last", "Prev close", "Change", "% Chg"):
        assert pd.api.types.is_float_dtype(table[col]), col
    # Rounded half-up as displayed: the grid's accessible table reads these numbers.
    assert table.loc[0, "Last"] == 231.51
    assert table.loc[0, "% Chg"] == round((231.505 / 228.0 - 1) * 100, 2)
    assert "Today" not in table  # no history given, no sparkline column


def test_quotes_table_time_is_exchange_local_with_zone() -> None:
    table = quotes_table(snapshot_frame(), now=NOW).set_index("Symbol")["Time"]
    assert table["AAPL.US"] == "16:00:00 ET"
    assert table["USDCNH"] == "21:00:04 UTC"
    assert table["BTCUSDT"] == "21:00:05 UTC"
    assert table["600519.SH"] == "—"


def test_quotes_table_dates_a_close_from_an_earlier_local_day() -> None:
    # NOW is 05:00 Thursday in Hong Kong; the 16:08 close was Wednesday there.
    table = quotes_table(snapshot_frame(), now=NOW).set_index("Symbol")["Time"]
    assert table["700.HK"] == "Nov 25 16:08:00 HKT"


def test_sparkline_thins_to_the_limit_and_ends_on_the_newest_price() -> None:
    hist = pd.DataFrame(
        {"ts": pd.date_range("2026-11-25 14:30", periods=500, freq="min", tz="UTC"), "price": range(500)}
    )
    points = sparkline(hist, points=60)
    assert len(points) == 60
    assert points[0] == 0 and points[-1] == 499
    assert sparkline(hist.head(3)) == [0.0, 1.0, 2.0]
    assert sparkline(None) == []
    table = quotes_table(snapshot_frame(), {"AAPL.US": hist}, now=NOW)
    assert len(table.loc[0, "Today"]) == SPARK_POINTS and table.loc[1, "Today"] == []


def test_grid_frame_shows_each_row_in_its_market_precision() -> None:
    grid = grid_frame(quotes_table(snapshot_frame(), now=NOW))
    assert grid.loc[0, "Last"] == "231.51"  # US: cents, half-up
    assert grid.loc[0, "Change"] == "▲ +3.51"  # the direction readable without colour
    assert grid.loc[0, "% Chg"] == 1.54  # numeric: column_config formats it, the grid sorts it
    assert grid.loc[1, "Change"] == "▼ -5.10"
    assert grid.loc[3, "Last"] == "8.234"  # HK under HK$10: thousandths
    assert grid.loc[3, "Prev close"] == "8.100"
    assert grid.loc[4, "Last"] == "7.23451"  # FX: pipettes
    assert grid.loc[5, "Last"] == "97,123.40"  # crypto: thousands separator
    assert grid.loc[6, "Last"] == "—"  # waiting for a first price
    assert grid.loc[6, "Prev close"] == "1,500.00"
    assert grid.loc[6, "Change"] == "—"


def test_grid_frame_writes_an_unchanged_price_without_an_arrow() -> None:
    rows = [("AAPL.US", "Apple Inc.", "US", "USD", 228.0, 228.0, "live", NOW)]
    grid = grid_frame(quotes_table(snapshot_frame(rows), now=NOW))
    assert grid.loc[0, "Change"] == "0.00" and grid.loc[0, "% Chg"] == 0.0


def test_market_summary_counts_moves_per_market_in_watchlist_order() -> None:
    summary = market_summary(snapshot_frame()).set_index("market")
    assert list(summary.index) == ["US", "HK", "FX", "CRYPTO", "CN"]
    us = summary.loc["US"]
    assert (us["symbols"], us["priced"], us["gainers"], us["losers"]) == (2, 2, 1, 1)
    assert us["best"] == "AAPL.US" and us["worst"] == "TSLA.US"
    expected = ((231.505 / 228 - 1) + (340.1 / 345.2 - 1)) / 2 * 100
    assert us["avg_pct"] == pytest.approx(expected)
    cn = summary.loc["CN"]
    assert (cn["symbols"], cn["priced"]) == (1, 0) and math.isnan(cn["avg_pct"])
    assert summary.loc["US", "label"] == "US stocks"


def test_complete_snapshot_adds_waiting_rows_in_watchlist_order() -> None:
    snap = snapshot_frame()
    codes = ["NVDA.US", "700.HK", "AAPL.US", "GOLD"]
    full = complete_snapshot(snap[snap["symbol"].isin(["AAPL.US", "700.HK"])], codes)
    assert list(full["symbol"]) == codes
    nvda = full.iloc[0]
    assert nvda["freshness"] == "waiting" and nvda["market"] == "US" and math.isnan(nvda["last"])
    assert full.iloc[3]["market"] == "FX"
    assert full.iloc[2]["last"] == pytest.approx(231.505)


def test_complete_snapshot_returns_the_same_rows_when_nothing_is_missing() -> None:
    snap = snapshot_frame()
    assert complete_snapshot(snap, list(snap["symbol"])) is snap
    assert list(complete_snapshot(snap, ["TSLA.US", "AAPL.US"])["symbol"]) == ["TSLA.US", "AAPL.US"]


def test_snapshot_csv_keeps_raw_numbers_and_iso_utc_times() -> None:
    data = pd.read_csv(io.BytesIO(snapshot_csv(snapshot_frame(), now=NOW)))
    cols = list(data.columns)
    assert cols[cols.index("pct_change") : cols.index("pct_change") + 3] == ["pct_change", "ts", "local_time"]
    assert cols == [
        *SNAPSHOT_COLUMNS[: SNAPSHOT_COLUMNS.index("ts") + 1],
        "local_time",
        *SNAPSHOT_COLUMNS[SNAPSHOT_COLUMNS.index("ts") + 1 :],
    ]
    assert data.loc[0, "last"] == pytest.approx(231.505)
    assert data.loc[0, "ts"] == "2026-11-25T21:00:00+00:00"
    assert data.loc[0, "local_time"] == "16:00:00 ET"
