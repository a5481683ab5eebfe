"""ui.format: per-market precision, half-up rounding, signed moves, local times."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from feed.symbols import Market
from ui.format import (
    MISSING,
    format_change,
    format_duration,
    format_pct,
    format_price,
    local_time,
    price_decimals,
)


@pytest.mark.parametrize(
    ("market", "price", "decimals"),
    [
        pytest.param(Market.US, 231.5, 2, id="us-stock-cents"),
        pytest.param(Market.US, 0.4567, 4, id="us-sub-dollar"),
        pytest.param(Market.HK, 420.2, 2, id="hk-over-10"),
        pytest.param(Market.HK, 8.234, 3, id="hk-under-10-thousandths"),
        pytest.param(Market.CN, 1500.0, 2, id="a-share-fen"),
        pytest.param(Market.FX, 7.23451, 5, id="fx-pipettes"),
        pytest.param(Market.FX, 151.234, 3, id="fx-jpy-sized"),
        pytest.param(Market.FX, 2650.35, 2, id="gold"),
        pytest.param(Market.CRYPTO, 97123.4, 2, id="btc"),
        pytest.param(Market.CRYPTO, 0.12345, 6, id="small-coin"),
        pytest.param("HK", 9.99, 3, id="market-as-string"),
        pytest.param(Market.US, math.nan, 2, id="no-price-yet"),
    ],
)
def test_price_decimals_follow_market_and_level(market: Market | str, price: float, decimals: int) -> None:
    assert price_decimals(market, price) == decimals


@pytest.mark.parametrize(
    ("value", "decimals", "text"),
    [
        pytest.param(101.505, 2, "101.51", id="half-up-not-binary-half-down"),
        pytest.param(2650.345, 2, "2,650.35", id="thousands-separator"),
        pytest.param(8.2345, 3, "8.235", id="hk-thousandths"),
        pytest.param(7.234515, 5, "7.23452", id="fx"),
        pytest.param(math.nan, 2, MISSING, id="missing"),
        pytest.param(None, 2, MISSING, id="none"),
    ],
)
def test_format_price_is_exact_to_the_shown_digit(value: float | None, decimals: int, text: str) -> None:
    assert format_price(value, decimals) == text


def test_change_rounds_away_subtraction_noise() -> None:
    # 101.5 - 100.495 is 1.0049999999999955 in binary; a quote board shows +1.01.
    assert format_change(101.5 - 100.495, 2) == "+1.01"
    assert format_change(-0.5, 2) == "-0.50"
    assert format_change(0.0, 2) == "0.00"
    assert format_change(-0.001, 2) == "0.00"  # no "-0.00"


@pytest.mark.parametrize(
    ("pct", "text"),
    [(1.57, "+1.57%"), (-2.345, "-2.35%"), (0.0, "0.00%"), (-0.004, "0.00%"), (math.nan, MISSING)],
)
def test_format_pct_is_signed(pct: float, text: str) -> None:
    assert format_pct(pct) == text


def test_local_time_names_the_exchange_zone() -> None:
    now = dt.datetime(2026, 11, 25, 21, 0, 5, tzinfo=dt.UTC)
    close = dt.datetime(2026, 11, 25, 21, 0, 0, tzinfo=dt.UTC)
    assert local_time(close, Market.US, now) == "16:00:00 ET"
    hk = dt.datetime(2026, 11, 26, 2, 30, 1, tzinfo=dt.UTC)
    assert local_time(hk, "HK", hk) == "10:30:01 HKT"
    assert local_time(hk, Market.CN, hk) == "10:30:01 BJT"
    assert local_time(hk, Market.CRYPTO, hk) == "02:30:01 UTC"


def test_local_time_dates_a_price_from_an_earlier_local_day() -> None:
    friday_close = dt.datetime(2026, 11, 20, 21, 0, 0, tzinfo=dt.UTC)
    monday = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)
    assert local_time(friday_close, Market.US, monday) == "Nov 20 16:00:00 ET"


def test_local_time_handles_missing_and_pandas_timestamps() -> None:
    assert local_time(None, Market.US) == MISSING
    assert local_time(pd.NaT, Market.US) == MISSING
    ts = pd.Timestamp("2026-11-25 21:00:00", tz="UTC")
    assert local_time(ts, Market.US, ts.to_pydatetime()) == "16:00:00 ET"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (45, "45s"),
        (12 * 60 + 5, "12m"),
        (2 * 3600 + 5 * 60, "2h 05m"),
        (3 * 86400 + 4 * 3600, "3d 4h"),
        (-5, "0s"),
    ],
)
def test_format_duration_is_short(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_column_formatters_match_the_scalar_ones() -> None:
    import numpy as np

    from ui.format import format_pcts, format_prices, prices_decimals

    rng = np.random.default_rng(7)
    values = np.concatenate(
        [
            rng.normal(0, 3, 3000),
            np.round(rng.uniform(0, 100, 2000), 2) + 0.005,  # ties at two decimals
            rng.uniform(-1e6, 1e6, 1000),
            [0.0, -0.0, 0.005, -0.005, 1.005, 101.505, 2.675, float("nan"), 101.5 - 100.495],
        ]
    )
    assert format_pcts(values) == [format_pct(v) for v in values]
    markets = rng.choice(["US", "HK", "CN", "FX", "CRYPTO", "XX"], len(values))
    prices = np.abs(values) * rng.choice([1e-3, 1.0, 10.0, 100.0], len(values))
    decimals = prices_decimals(markets, prices)
    assert decimals.tolist() == [price_decimals(m, p) for m, p in zip(markets, prices, strict=True)]
    assert format_prices(prices, decimals) == [
        format_price(p, d) for p, d in zip(prices, decimals.tolist(), strict=True)
    ]


def test_local_times_match_local_time_row_by_row():
    import datetime as dt

    import pandas as pd

    from ui.format import local_time, local_times

    now = dt.datetime(2025, 3, 4, 15, 0, tzinfo=dt.UTC)
    ts = pd.Series(
        pd.to_datetime(
            [
                "2025-03-04 14:59:59",
                "2025-03-03 21:00:00",
                None,
                "2025-03-04 01:00:00",
                "2025-03-04 08:00:00",
            ],
            utc=True,
        )
    )
    markets = pd.Series(["US", "US", "HK", "HK", "FX"])
    expected = [local_time(None if pd.isna(t) else t, m, now) for t, m in zip(ts, markets, strict=True)]
    assert local_times(ts, markets, now) == expected
