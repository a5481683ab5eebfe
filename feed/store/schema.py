"""The store's tables and the Arrow batches written into them: pure, no state.

``ticks`` holds every accepted push as it came (``time_ms`` is the exchange time, epoch
milliseconds); ``bars`` holds completed 1-minute bars, from our own ticks (source 1)
or from AllTick's minute K-line where we had none (source 2, written after a restart
filled the minutes the app was down); ``runs`` one row per writing session, so a
restart can tell a quiet spell of a run (flat) from the time between runs (a gap);
``breaks`` the minutes a link was lost within a run. Times are integers, not
timestamps: they compress to a few bits a row and compare without time zones.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import pyarrow as pa

from feed.protocol.codec import Tick

__all__ = ["SCHEMA", "SOURCE_KLINE", "SOURCE_TICKS", "bars_table", "ticks_table", "ticks_tables"]

SOURCE_TICKS, SOURCE_KLINE = 1, 2
SCHEMA_VERSION = "1"

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS ticks (
        code VARCHAR NOT NULL, time_ms BIGINT NOT NULL, seq BIGINT NOT NULL,
        price DOUBLE NOT NULL, volume DOUBLE NOT NULL, run INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS bars (
        code VARCHAR NOT NULL, minute INTEGER NOT NULL, open DOUBLE NOT NULL, high DOUBLE NOT NULL,
        low DOUBLE NOT NULL, close DOUBLE NOT NULL, volume DOUBLE NOT NULL, trades INTEGER,
        source UTINYINT NOT NULL, run INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS runs (
        run INTEGER NOT NULL, started_ms BIGINT NOT NULL, pid INTEGER NOT NULL, flushes BIGINT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS breaks (
        code VARCHAR NOT NULL, minute INTEGER NOT NULL, run INTEGER NOT NULL)""",
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR NOT NULL, value VARCHAR NOT NULL)",
)

_TICKS = pa.schema(
    [
        ("code", pa.string()),
        ("time_ms", pa.int64()),
        ("seq", pa.int64()),
        ("price", pa.float64()),
        ("volume", pa.float64()),
    ]
)
_BARS = pa.schema(
    [
        ("code", pa.string()),
        ("minute", pa.int32()),
        ("open", pa.float64()),
        ("high", pa.float64()),
        ("low", pa.float64()),
        ("close", pa.float64()),
        ("volume", pa.float64()),
        ("trades", pa.int32()),
    ]
)


# The tick tuples' own order (code, seq, time_ms, price, volume), read as one struct
# array: Arrow walks the tuples in C, twice as fast as five columns from zip(*ticks).
_ROW = pa.struct([_TICKS.field(n) for n in ("code", "seq", "time_ms", "price", "volume")])


def ticks_table(ticks: Sequence[Tick]) -> pa.Table:
    """The ``ticks`` columns straight from the tick tuples, no per-tick Python."""
    if not ticks:
        return _TICKS.empty_table()
    rows = pa.Table.from_struct_array(pa.array(ticks, type=_ROW))
    return rows.select(_TICKS.names).cast(_TICKS)


def ticks_tables(ticks: Sequence[Tick], chunk: int = 1_000) -> pa.Table:
    """:func:`ticks_table` a chunk at a time, letting go of the GIL between chunks.

    Turning tuples into columns holds the GIL for about a microsecond a tick; in one go,
    20,000 ticks would keep the processor waiting for tens of milliseconds. A short
    sleep after each chunk lets a waiting thread take the GIL (after ``sleep(0)`` this
    thread usually takes it straight back), so ingest waits about a chunk at most.
    """
    if len(ticks) <= chunk:
        return ticks_table(ticks)
    parts = []
    for i in range(0, len(ticks), chunk):
        parts.append(ticks_table(ticks[i : i + chunk]))
        time.sleep(0.0002)
    return pa.concat_tables(parts)


def bars_table(rows: Sequence[tuple]) -> pa.Table:
    """``(code, minute, open, high, low, close, volume, trades)`` rows as an Arrow table."""
    if not rows:
        return _BARS.empty_table()
    cols = list(zip(*rows, strict=True))
    return pa.Table.from_arrays(
        [pa.array(c, f.type) for c, f in zip(cols, _BARS, strict=True)],
        schema=_BARS,
    )
