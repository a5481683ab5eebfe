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
import pyarrow.compute as pc

__all__ = [
    "SCHEMA",
    "SOURCE_KLINE",
    "SOURCE_TICKS",
    "bars_table",
    "columns_table",
    "minute_groups",
]

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


# The tuples' columns (code, seq, time_ms, price, volume) in the table's order.
_ORDER = (0, 2, 1, 3, 4)


def columns_table(columns: Sequence[Sequence], chunk: int = 5_000) -> pa.Table:
    """The ``ticks`` table from five columns in the tuples' order (code, seq, time_ms,
    price, volume), as :func:`feed.store.pipe.columns` makes them.

    A column list into an Arrow array is one C loop, about a fifteenth of the cost of
    rows through a struct array (and no tuples at all): the store's main cost per tick
    before. It holds the GIL meanwhile, so a store on the feed's own thread converts a
    chunk at a time and lets go between chunks (after ``sleep(0)`` a thread usually takes
    the GIL straight back; a short sleep lets a waiting one in): ingest waits a chunk at most.
    """
    n = len(columns[0]) if columns else 0
    if not n:
        return _TICKS.empty_table()
    parts = []
    for lo in range(0, n, chunk):
        arrays = [pa.array(columns[i][lo : lo + chunk], _TICKS.field(k).type) for k, i in enumerate(_ORDER)]
        parts.append(pa.Table.from_arrays(arrays, schema=_TICKS))
        if n > chunk:
            time.sleep(0.0002)
    return parts[0] if len(parts) == 1 else pa.concat_tables(parts)


def minute_groups(ticks: pa.Table) -> list[tuple]:
    """Per code and minute of a batch: ``(code, minute, open, high, low, close, volume,
    trades)``, sorted by code and minute.

    Open and close are the first and last trade in the table's order, which is sequence
    order per code: the processor hands trades over accepted once and in order per code,
    and batches are appended as they came. Arrow's hash aggregation in one thread keeps
    that order; it costs about a third of the same GROUP BY run as a DuckDB query.
    """
    if not ticks.num_rows:
        return []
    minute = pc.cast(pc.divide(ticks.column("time_ms"), 60_000), pa.int32())
    keyed = pa.table(
        {
            "code": ticks.column("code"),
            "minute": minute,
            "price": ticks.column("price"),
            "volume": ticks.column("volume"),
        }
    )
    out = (
        keyed.group_by(["code", "minute"], use_threads=False)
        .aggregate([("price", "first"), ("price", "max"), ("price", "min"), ("price", "last"),
                    ("volume", "sum"), ("price", "count")])
        .sort_by([("code", "ascending"), ("minute", "ascending")])
    )  # fmt: skip
    names = (
        "code",
        "minute",
        "price_first",
        "price_max",
        "price_min",
        "price_last",
        "volume_sum",
        "price_count",
    )
    return list(zip(*(out.column(n).to_pylist() for n in names), strict=True))


def bars_table(rows: Sequence[tuple]) -> pa.Table:
    """``(code, minute, open, high, low, close, volume, trades)`` rows as an Arrow table."""
    if not rows:
        return _BARS.empty_table()
    cols = list(zip(*rows, strict=True))
    return pa.Table.from_arrays(
        [pa.array(c, f.type) for c, f in zip(cols, _BARS, strict=True)],
        schema=_BARS,
    )
