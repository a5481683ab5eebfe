"""The statements the store runs on its DuckDB connection: pure functions of a connection.

Every write of a batch is one transaction (:func:`commit`), which is also the writer's
seam for a failing disk: tests replace it to raise ``OSError(ENOSPC)``. A batch carries
its number, recorded in the same transaction, so after a failure the writer can ask
whether the batch made it before writing it again (:func:`committed`): a commit whose
checkpoint failed on a full disk is on disk all the same, and writing it twice would
store every tick twice.

Thread ownership: none here; the connection passed in belongs to the caller's thread.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from feed.store import files
from feed.store.schema import SCHEMA, SCHEMA_VERSION, SOURCE_KLINE, SOURCE_TICKS, bars_table

__all__ = [
    "commit",
    "committed",
    "connect",
    "init",
    "insert_kline",
    "new_run",
    "one",
    "prune",
    "stats",
]

# One thread and a modest memory cap: the app shares a small machine (Community Cloud
# gives about 1 GB) and the store's queries are short.
CONFIG = {"threads": "1", "memory_limit": "256MB"}


def one(con: Any, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> tuple:
    """The first row of a statement, its result read to the end (DuckDB wants results finished)."""
    rows = con.execute(sql, params if isinstance(params, dict) else list(params)).fetchall()
    return tuple(rows[0]) if rows else ()


def connect(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=read_only, config=dict(CONFIG))


def init(con: duckdb.DuckDBPyConnection) -> None:
    """Create what is missing; a file of another schema version is refused, never rewritten."""
    for ddl in SCHEMA:
        con.execute(ddl)
    row = one(con, "SELECT value FROM meta WHERE key = 'schema'")
    if not row:
        con.execute("INSERT INTO meta VALUES ('schema', ?)", [SCHEMA_VERSION])
    elif row[0] != SCHEMA_VERSION:
        raise duckdb.IOException(
            f"tick store schema version {row[0]} is incompatible (expected {SCHEMA_VERSION})"
        )


def new_run(con: duckdb.DuckDBPyConnection, now_ms: int) -> int:
    (last,) = one(con, "SELECT coalesce(max(run), 0) FROM runs")
    run = int(last) + 1
    con.execute("INSERT INTO runs VALUES (?, ?, ?, 0)", [run, now_ms, files.owner_pid()])
    return run


def commit(
    con: duckdb.DuckDBPyConnection,
    run: int,
    flush: int,
    ticks: pa.Table,
    bars: Sequence[tuple],
    replace: Sequence[tuple[str, int]],
    breaks: Sequence[tuple[str, int]] = (),
) -> None:
    """One batch, all or nothing: its ticks, the bars it completed, lost links, its number."""
    con.begin()
    try:
        if ticks.num_rows:
            con.register("new_ticks", ticks)
            con.execute(f"INSERT INTO ticks SELECT *, {int(run)} FROM new_ticks")
            con.unregister("new_ticks")
        for code, minute in replace:  # a late trade in a minute already written
            con.execute(
                "DELETE FROM bars WHERE code = ? AND minute = ? AND source = ?", [code, minute, SOURCE_TICKS]
            )
        if bars:
            con.register("new_bars", bars_table(bars))
            con.execute(f"INSERT INTO bars SELECT *, {SOURCE_TICKS}, {int(run)} FROM new_bars")
            con.unregister("new_bars")
        if breaks:
            con.executemany("INSERT INTO breaks VALUES (?, ?, ?)", [(c, m, run) for c, m in breaks])
        con.execute("UPDATE runs SET flushes = ? WHERE run = ?", [flush, run])
        con.commit()
    except BaseException:
        _rollback(con)
        raise


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(Exception):  # the connection is broken anyway; the writer reopens it
        con.rollback()


def committed(con: duckdb.DuckDBPyConnection, run: int) -> int:
    row = one(con, "SELECT flushes FROM runs WHERE run = ?", [run])
    return int(row[0]) if row else 0


def insert_kline(con: duckdb.DuckDBPyConnection, run: int, code: str, rows: Sequence[tuple]) -> int:
    """K-line minutes for which the store has no bar at all (the minutes it missed)."""
    if not rows:
        return 0
    table = bars_table([(code, *r[:6], None) for r in rows])
    con.register("kline", table)
    try:
        row = one(
            con,
            f"""INSERT INTO bars SELECT k.*, {SOURCE_KLINE}, {int(run)} FROM kline k
                WHERE NOT EXISTS (SELECT 1 FROM bars b WHERE b.code = k.code AND b.minute = k.minute)""",
        )
    finally:
        con.unregister("kline")
    return int(row[0]) if row else 0


def prune(con: duckdb.DuckDBPyConnection, before_ms: int) -> int:
    """Retention: drop everything older than ``before_ms``; returns the ticks removed."""
    con.begin()
    try:
        (n,) = one(con, "SELECT count(*) FROM ticks WHERE time_ms < ?", [before_ms])
        con.execute("DELETE FROM ticks WHERE time_ms < ?", [before_ms])
        con.execute("DELETE FROM bars WHERE minute < ?", [before_ms // 60_000])
        con.execute("DELETE FROM breaks WHERE minute < ?", [before_ms // 60_000])
        con.commit()
    except BaseException:
        _rollback(con)
        raise
    return int(n)


def stats(con: Any) -> tuple[int, int | None, int | None]:
    """Ticks held, and the oldest and newest time of anything stored (epoch ms)."""
    rows, t_lo, t_hi = one(con, "SELECT count(*), min(time_ms), max(time_ms) FROM ticks")
    b_lo, b_hi = one(con, "SELECT min(minute), max(minute) FROM bars")
    los = [v for v in (t_lo, None if b_lo is None else b_lo * 60_000) if v is not None]
    his = [v for v in (t_hi, None if b_hi is None else b_hi * 60_000) if v is not None]
    return int(rows), (min(los) if los else None), (max(his) if his else None)
