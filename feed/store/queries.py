"""What readers ask the store: ticks, minute bars and stored symbols, as DataFrames.

Pure functions of a DuckDB connection (the store thread's own, or a reader process's
read-only one), so ``history()``, ``bars()``, a restart's seeding and the export all
read the same rows the same way. Times in and out are epoch milliseconds; both ends
of a range are included.

Minute bars come from the ``bars`` table (complete bars from our ticks, K-line fills)
and, for minutes with ticks but no complete bar (a run's first and last minute, the
minute under way when a process died), are rebuilt from the ticks and marked
``complete = false``. Per minute the best one wins: our complete bar, then the K-line,
then a rebuilt one.

Thread ownership: none; the connection belongs to the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from feed.minutes import KLINE, LIVE, PARTIAL
from feed.store.schema import SOURCE_KLINE, SOURCE_TICKS

__all__ = ["BAR_COLUMNS", "TICK_COLUMNS", "bars", "breaks", "symbols", "ticks"]

TICK_COLUMNS = ["symbol", "time_ms", "seq", "price", "volume"]
BAR_COLUMNS = [
    "symbol", "minute", "open", "high", "low", "close", "volume",
    "trades", "source", "run", "complete", "rank",
]  # fmt: skip

_TICKS_SQL = """
    SELECT code AS symbol, time_ms, seq, price, volume FROM ticks
    WHERE list_contains($codes, code) AND time_ms >= $lo AND time_ms <= $hi
    ORDER BY code, time_ms, seq
"""

_BARS_SQL = f"""
    WITH stored AS (
        SELECT code, minute, open, high, low, close, volume, trades, source, run, true AS complete
        FROM bars WHERE list_contains($codes, code) AND minute >= $mlo AND minute <= $mhi
    ), rebuilt AS (
        SELECT code, (time_ms // 60000)::INTEGER AS minute, arg_min(price, seq), max(price), min(price),
               arg_max(price, seq), sum(volume), count(*)::INTEGER, {SOURCE_TICKS}::UTINYINT, max(run),
               false AS complete
        FROM ticks WHERE list_contains($codes, code)
            AND time_ms >= $mlo::BIGINT * 60000 AND time_ms < ($mhi::BIGINT + 1) * 60000
        GROUP BY code, minute
    ), candidates AS (
        SELECT * FROM stored
        UNION ALL
        SELECT * FROM rebuilt r WHERE NOT EXISTS (
            SELECT 1 FROM stored s
            WHERE s.code = r.code AND s.minute = r.minute AND s.source = {SOURCE_TICKS})
    )
    SELECT *, CASE WHEN source = {SOURCE_TICKS} AND complete THEN {LIVE}
                   WHEN source = {SOURCE_KLINE} THEN {KLINE} ELSE {PARTIAL} END AS rank
    FROM candidates
    QUALIFY row_number() OVER (PARTITION BY code, minute ORDER BY rank DESC) = 1
    ORDER BY code, minute
"""

_BREAKS_SQL = """
    SELECT code, minute, run FROM breaks
    WHERE list_contains($codes, code) AND minute >= $mlo AND minute <= $mhi ORDER BY code, minute
"""

_SYMBOLS_SQL = """
    SELECT code FROM ticks WHERE time_ms >= $lo AND time_ms <= $hi
    UNION SELECT code FROM bars WHERE minute >= $mlo AND minute <= $mhi
    ORDER BY code
"""


def _frame(con: Any, sql: str, params: dict[str, Any], columns: list[str]) -> pd.DataFrame:
    df = con.execute(sql, params).df()
    df.columns = columns
    return df


def ticks(con: Any, codes: Sequence[str], lo_ms: int, hi_ms: int) -> pd.DataFrame:
    return _frame(con, _TICKS_SQL, {"codes": list(codes), "lo": lo_ms, "hi": hi_ms}, TICK_COLUMNS)


def _minutes(lo_ms: int, hi_ms: int) -> tuple[int, int]:
    """Minutes whose start lies in ``[lo_ms, hi_ms]``."""
    return -(-lo_ms // 60_000), hi_ms // 60_000


def bars(con: Any, codes: Sequence[str], lo_ms: int, hi_ms: int) -> pd.DataFrame:
    mlo, mhi = _minutes(lo_ms, hi_ms)
    return _frame(con, _BARS_SQL, {"codes": list(codes), "mlo": mlo, "mhi": mhi}, BAR_COLUMNS)


def breaks(con: Any, codes: Sequence[str], lo_ms: int, hi_ms: int) -> list[tuple[str, int, int]]:
    mlo, mhi = _minutes(lo_ms, hi_ms)
    return [
        tuple(r) for r in con.execute(_BREAKS_SQL, {"codes": list(codes), "mlo": mlo, "mhi": mhi}).fetchall()
    ]


def symbols(con: Any, lo_ms: int, hi_ms: int) -> list[str]:
    mlo, mhi = _minutes(lo_ms, hi_ms)
    rows = con.execute(_SYMBOLS_SQL, {"lo": lo_ms, "hi": hi_ms, "mlo": mlo, "mhi": mhi}).fetchall()
    return [r[0] for r in rows]
