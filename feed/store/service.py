"""The store thread's answers to other threads, and its upkeep between batches.

Called by :class:`feed.store.sink.TickStore` on its own thread only: reads for
``history()``/``bars()``/the export (flushed first, so a read sees every tick handed over
so far; while the disk waits, the ticks in memory are added), a restart's stored paths
for the processor, K-line minutes that fill what the store missed, lost links, the
daily retention prune, and the status value ``status()`` shows.

Thread ownership: the store thread; these functions keep no state of their own.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from feed.store import db, queries, reading, schema
from feed.store.failures import StoreError
from feed.store.messages import KlineFill, LinkLost, LoadPaths, Read, StoredPath
from feed.store.seeding import path_of
from feed.store.status import StoreStatus

if TYPE_CHECKING:
    from feed.store.sink import TickStore

__all__ = ["after_open", "build_status", "drain", "prune_if_due", "skip_stored"]

log = logging.getLogger("feed.store")

_DAY_MS = 86_400_000


def drain(store: TickStore, now: float) -> None:
    """Every request waiting, each guarded: one failing read never stops the rest."""
    while True:
        msg = store.next_request()
        if msg is None:
            return
        try:
            _handle(store, msg, now)
        except Exception as exc:
            store.counts["errors"] += 1
            log.warning("tick store: %s failed: %s", type(msg).__name__, exc)
            if isinstance(msg, Read):
                msg.reply.put(
                    exc if isinstance(exc, StoreError) else StoreError(f"tick store read failed: {exc}")
                )


def _handle(store: TickStore, msg: object, now: float) -> None:
    if isinstance(msg, Read):
        msg.reply.put(_read(store, msg, now))
    elif isinstance(msg, LoadPaths):
        _load_paths(store, msg, now)
    elif isinstance(msg, KlineFill):
        _kline_fill(store, msg, now)
    elif isinstance(msg, LinkLost):
        store.agg.broken(msg.codes, msg.at_ms)
        store.breaks.extend((c, msg.at_ms // 60_000) for c in msg.codes)
    else:
        raise TypeError(f"tick store: unknown request {msg!r}")


def _query(store: TickStore, kind: str, codes: tuple[str, ...], lo: int, hi: int, now: float) -> Any:
    writer = store.writer
    if writer.ready:
        store.flush(now)  # the reader sees every tick handed over so far
    if writer.ready:
        return reading.run_query(writer.con, kind, codes, lo, hi)
    result = reading.with_connection(store.layout, lambda con: reading.run_query(con, kind, codes, lo, hi))
    return reading.empty(kind) if result is None else result


def _read(store: TickStore, msg: Read, now: float) -> Any:
    result = _query(store, msg.kind, msg.codes, msg.start_ms, msg.end_ms, now)
    if msg.kind == "ticks" and not store.writer.ready:
        result = _with_memory(store, result, msg)
    return result


def _with_memory(store: TickStore, stored: pd.DataFrame, msg: Read) -> pd.DataFrame:
    """The disk waits (full, lent): the ticks still in memory belong to the answer too."""
    codes = set(msg.codes)
    ticks = list(store.memory_ticks())
    if store.pending is not None:
        columns = (
            store.pending.ticks.column(c).to_pylist() for c in ("code", "seq", "time_ms", "price", "volume")
        )
        ticks = [*zip(*columns, strict=True), *ticks]
    rows = [
        (t[0], t[2], t[1], t[3], t[4]) for t in ticks if t[0] in codes and msg.start_ms <= t[2] <= msg.end_ms
    ]
    if not rows:
        return stored
    memory = pd.DataFrame(rows, columns=queries.TICK_COLUMNS)
    both = pd.concat([stored, memory], ignore_index=True) if len(stored) else memory
    both = both.drop_duplicates(["symbol", "seq", "time_ms"])
    return both.sort_values(["symbol", "time_ms", "seq"], kind="stable").reset_index(drop=True)


def _load_paths(store: TickStore, msg: LoadPaths, now: float) -> None:
    """A restart's seed: each code's stored minutes since its day began, quiet ones filled."""
    if not msg.since_ms:
        return
    codes = tuple(msg.since_ms)
    lo, hi = min(msg.since_ms.values()), store.now_ms()

    def both(con: Any) -> tuple[pd.DataFrame, list]:
        return queries.bars(con, codes, lo, hi), queries.breaks(con, codes, lo, hi)

    if store.writer.ready:
        frame, lost = both(store.writer.con)
    else:
        got = reading.with_connection(store.layout, both)
        if got is None:
            return
        frame, lost = got
    for code in codes:
        points = path_of(frame, lost, code, msg.since_ms[code])
        if points:
            store.to_processor(StoredPath(code, points))


def _kline_fill(store: TickStore, msg: KlineFill, now: float) -> None:
    """The minutes the store missed: since it first saw the code today, ended, not under way here."""
    if not store.writer.ready:
        return
    con, code = store.writer.con, msg.code
    (first,) = db.one(
        con,
        "SELECT least((SELECT min(time_ms) FROM ticks WHERE code = $c AND time_ms >= $lo), "
        "(SELECT min(minute)::BIGINT * 60000 FROM bars WHERE code = $c AND minute >= $mlo AND source = 1))",
        {"c": code, "lo": msg.since_ms, "mlo": msg.since_ms // 60_000},
    )
    if first is None:
        return  # nothing stored today: the K-line is the server's to keep, not a gap of ours
    now_min = store.now_ms() // 60_000
    open_bar = store.agg.state.get(code)
    skip = open_bar.minute if open_bar is not None else None
    lo_min = int(first) // 60_000
    rows = [b for b in msg.bars if lo_min <= b[0] < now_min and b[0] != skip]
    if rows:
        n = store.writer.run_statement(lambda c: db.insert_kline(c, store.writer.run, code, rows), now)
        store.counts["bars"] += n


def skip_stored(store: TickStore, table: Any, groups: list, fresh: set[str]) -> tuple:
    """Codes new to this run: drop ticks an earlier run already stored (a re-sent last trade)."""
    lo = pc.min(table.column("time_ms")).as_py() - _DAY_MS
    last = {
        code: (t, s)
        for code, t, s in store.writer.con.execute(
            "SELECT code, time_ms, seq FROM ticks WHERE list_contains($codes, code) AND time_ms >= $lo "
            "QUALIFY row_number() OVER (PARTITION BY code ORDER BY time_ms DESC, seq DESC) = 1",
            {"codes": sorted(fresh), "lo": lo},
        ).fetchall()
    }
    if not last:
        return table, groups
    rows = zip(*(table.column(c).to_pylist() for c in ("code", "time_ms", "seq")), strict=True)
    keep = [(k := last.get(code)) is None or (t, s) > k for code, t, s in rows]
    if all(keep):
        return table, groups
    log.info("tick store: %d ticks were stored by an earlier run already; skipped", keep.count(False))
    table = table.filter(pa.array(keep))
    return table, schema.minute_groups(table)


def after_open(store: TickStore) -> None:
    """A connection was (re)made: refresh what the status says is on disk."""
    if store.writer.ready:
        rows, oldest, newest = db.stats(store.writer.con)
        store.counts["ticks"] = rows
        store.held = (oldest, newest)


def prune_if_due(store: TickStore) -> None:
    """Once a UTC day (and at open): drop what is older than the retention."""
    if not store.writer.ready:
        return
    today = dt.datetime.fromtimestamp(store.clock(), dt.UTC).date()
    if store.last_prune == today:
        return
    store.last_prune = today
    keep_from = today - dt.timedelta(days=store.retention_days - 1)
    before = int(dt.datetime.combine(keep_from, dt.time(0), dt.UTC).timestamp() * 1000)
    removed = store.writer.run_statement(lambda con: db.prune(con, before), time.monotonic())
    if removed:
        log.info(
            "tick store: retention (%d days) removed %d ticks before %s",
            store.retention_days,
            removed,
            keep_from,
        )
        after_open(store)


def _date(ms: int | None) -> dt.date | None:
    return None if ms is None else dt.datetime.fromtimestamp(ms / 1000, dt.UTC).date()


def build_status(store: TickStore) -> StoreStatus:
    w = store.writer
    buffered, dropped, not_stored = store.buffer_counts()
    oldest, newest = store.held
    return StoreStatus(
        mode=w.mode,
        directory=str(store.layout.directory),
        size_bytes=store.layout.size_bytes(),
        oldest=_date(oldest),
        newest=_date(newest),
        ticks=store.counts["ticks"],
        written=store.counts["written"],
        bars=store.counts["bars"],
        buffered=buffered + (store.pending.count if store.pending else 0),
        dropped=dropped,
        not_stored=not_stored,
        lag_p99=store.lags.p99(),
        retention_days=store.retention_days,
        message=w.message,
        moved_aside=w.moved_aside,
        writer_pid=w.writer_pid,
        errors=store.counts["errors"] + w.errors,
        since=w.since,
    )
