"""Reading the store from a thread or process that does not hold its connection.

DuckDB lets no other process open a database file while one writes it, so a reader
leaves a request in the directory (:func:`feed.store.files.ask_to_read`), and the
writer closes its connection between two batches until the reader is done (at most
:data:`feed.store.writer.LEND_MAX` seconds). The reader opens the file read-only the
moment it is free, runs its query and closes it. With no writer at all (the CLI after
the app stopped), it simply opens the file read-only.

Used by the CLI export, by ``history()`` on a manager that is not running, and by the
store thread itself while its own connection is closed (read-only, paused, lent).

Thread ownership: none; each call opens, uses and closes its own connection.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from feed.store import db, files, queries
from feed.store.failures import Cause, StoreError, classify
from feed.store.files import Layout

__all__ = ["TIMEOUT", "read", "with_connection"]

TIMEOUT = 5.0
T = TypeVar("T")


def with_connection(layout: Layout, fn: Callable[[Any], T], timeout: float = TIMEOUT) -> T | None:
    """``fn(connection)`` on the database opened read-only; None when nothing was ever stored."""
    if not layout.db.exists():
        return None
    try:
        request: Path | None = files.ask_to_read(layout)
    except OSError:
        request = None  # a read-only directory: no writer can be there to ask
    try:
        con = _open(layout, time.monotonic() + timeout)
        try:
            return fn(con)
        finally:
            con.close()
    finally:
        if request is not None:
            request.unlink(missing_ok=True)


def _open(layout: Layout, deadline: float) -> Any:
    while True:
        try:
            return db.connect(layout.db, read_only=True)
        except Exception as exc:
            if "different configuration" in str(exc):
                return db.connect(layout.db)  # this process has it open for writing: share that
            cause = classify(exc)
            if cause is Cause.LOCKED and time.monotonic() < deadline:
                time.sleep(0.02)
                continue
            if cause is Cause.LOCKED:
                raise StoreError(
                    f"the tick store in {layout.directory} is busy: the process writing it did not "
                    f"lend it within {TIMEOUT:g} s",
                    cause,
                ) from exc
            raise StoreError(
                f"the tick store in {layout.directory} cannot be read ({cause}: {exc})", cause
            ) from exc


def read(directory: str | Path, kind: str, codes: tuple[str, ...], lo_ms: int, hi_ms: int) -> Any:
    """One read of :mod:`feed.store.queries` from outside the store thread."""
    layout = Layout(Path(directory))
    result = with_connection(layout, lambda con: run_query(con, kind, codes, lo_ms, hi_ms))
    return empty(kind) if result is None else result


def run_query(con: Any, kind: str, codes: tuple[str, ...], lo_ms: int, hi_ms: int) -> Any:
    if kind == "ticks":
        return queries.ticks(con, codes, lo_ms, hi_ms)
    if kind == "1m":
        return queries.bars(con, codes, lo_ms, hi_ms)
    if kind == "symbols":
        return queries.symbols(con, lo_ms, hi_ms)
    if kind == "path":  # what seeding and bars() need: the minutes and where links were lost
        return queries.bars(con, codes, lo_ms, hi_ms), queries.breaks(con, codes, lo_ms, hi_ms)
    raise ValueError(f"unknown store read {kind!r}")


def empty(kind: str) -> Any:
    import pandas as pd

    if kind == "ticks":
        return pd.DataFrame({c: [] for c in queries.TICK_COLUMNS})
    if kind == "1m":
        return pd.DataFrame({c: [] for c in queries.BAR_COLUMNS})
    if kind == "path":
        return pd.DataFrame({c: [] for c in queries.BAR_COLUMNS}), []
    return []
