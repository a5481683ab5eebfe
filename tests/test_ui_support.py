"""Synthetic feed snapshots for the ui builder tests (no tests here, only the builder).

Rows follow ``feed.model.SNAPSHOT_COLUMNS`` exactly, so the builders are tested
against the contract rather than against whatever the manager happens to emit.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from feed.model import SNAPSHOT_COLUMNS


def _utc(hour: int, minute: int, second: int) -> dt.datetime:
    return dt.datetime(2026, 11, 25, hour, minute, second, tzinfo=dt.UTC)


NOW = _utc(21, 0, 5)  # Wed 16:00:05 ET, Thu 05:00:05 HKT

# symbol, name, market, currency, last, prev_close, freshness, ts
ROWS = [
    ("AAPL.US", "Apple Inc.", "US", "USD", 231.505, 228.0, "live", _utc(21, 0, 0)),
    ("TSLA.US", "Tesla, Inc.", "US", "USD", 340.1, 345.2, "quiet", _utc(20, 59, 58)),
    ("700.HK", "Tencent", "HK", "HKD", 420.2, 415.0, "market closed", _utc(8, 8, 0)),
    ("1810.HK", "Xiaomi", "HK", "HKD", 8.234, 8.10, "market closed", _utc(8, 8, 0)),
    ("USDCNH", "USD/CNH", "FX", "CNH", 7.23451, 7.2301, "live", _utc(21, 0, 4)),
    ("BTCUSDT", "Bitcoin", "CRYPTO", "USDT", 97123.4, 95000.0, "live", _utc(21, 0, 5)),
    ("600519.SH", "Kweichow Moutai", "CN", "CNY", math.nan, 1500.0, "waiting", None),
]


def snapshot_frame(rows: list[tuple] | None = None) -> pd.DataFrame:
    """A snapshot DataFrame with the manager's dtypes (float prices, tz-aware UTC ``ts``)."""
    records = []
    for symbol, name, market, currency, last, prev, fresh, ts in rows or ROWS:
        priced = not math.isnan(last) and not math.isnan(prev)
        change = round(last - prev, 8) if priced else math.nan
        records.append(
            {
                "symbol": symbol,
                "name": name,
                "name_zh": "",
                "market": market,
                "currency": currency,
                "last": last,
                "prev_close": prev,
                "change": change,
                "pct_change": change / prev * 100 if priced else math.nan,
                "ts": ts,
                "age_s": 1.0,
                "freshness": fresh,
                "prev_close_date": dt.date(2026, 11, 24),
                "streamed": fresh != "not streamed",
                "note": "",
            }
        )
    df = pd.DataFrame(records, columns=list(SNAPSHOT_COLUMNS))
    df["ts"] = pd.to_datetime(df["ts"], utc=True)
    return df
