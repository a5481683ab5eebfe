"""The tick store's thread (``feed-store``): a tick sink that writes batches to DuckDB.

The processor hands it every accepted batch with :meth:`TickStore.offer`, exactly as it
hands every tick sink: the call takes a lock for a count and returns, never waiting on
the disk; a batch waits as five columns (:func:`feed.store.pipe.columns`), and one that
does not fit the bounded buffer is dropped and counted. The thread wakes every
``flush_every`` seconds (sooner when much is waiting), turns the columns that arrived
into one Arrow table, groups it into minute bars (:func:`feed.store.schema.minute_groups`)
and commits ticks, completed bars and lost links in one transaction: about one a
second, never one per row. Write lag (hand-over to commit) is tracked for ``status()``.

Requests from other threads (:mod:`feed.store.messages`) are answered between batches
by :mod:`feed.store.service`. At stop, what is buffered is written within a budget and
the connection closed, so a restart finds every tick the processor accepted.

Thread ownership: the buffer's count is shared with the processor under ``_lock``
(held for the count only); everything else belongs to the store thread.
"""

from __future__ import annotations

import itertools
import logging
import queue
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from feed.sinks import Batch, BufferedSink, SinkStats
from feed.store import pipe, schema
from feed.store.aggregate import BarPlan, MinuteAggregator
from feed.store.files import Layout
from feed.store.status import READ_ONLY, STARTING, LagWindow, StoreStatus
from feed.store.writer import Writer

__all__ = ["TickStore"]

log = logging.getLogger("feed.store")

FLUSH_AT = 20_000  # ticks waiting that wake the thread before its next flush
CHUNK = 50_000  # ticks per transaction when catching up
FINAL_BUDGET = 0.4  # seconds stop() gives the last writes


class Pending(NamedTuple):
    """A prepared batch: what one transaction writes, kept until it is committed."""

    flush: int
    ticks: Any  # pyarrow.Table
    plan: BarPlan
    breaks: list[tuple[str, int]]
    offered: list[float]  # monotonic hand-over time of each batch in it
    count: int
    newest_ms: int


class TickStore(BufferedSink):
    full_warning = "tick store: {capacity} ticks wait for the disk; dropping new ones"

    def __init__(
        self,
        directory: str | Path,
        *,
        retention_days: int = 30,
        capacity: int = 250_000,
        clock: Callable[[], float] = time.time,
        to_processor: Callable[[object], None] = lambda m: None,
        note: Callable[[str], None] = lambda text: None,
        flush_every: float = 1.0,
    ) -> None:
        from feed.store import service  # noqa: F401  imported here, before the heap is frozen (feed/heap.py)

        super().__init__("store", capacity, "feed-store", log)
        self.layout = Layout(Path(directory).expanduser().absolute())
        self.retention_days = retention_days
        self.clock = clock
        self.to_processor = to_processor
        self.flush_every = flush_every
        self._note = note
        self._batches: deque[tuple[float, pipe.Columns]] = deque()
        self._not_stored = 0
        self._accepting = True  # False while read-only; written by the store thread only
        self._inbox: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.status = StoreStatus(STARTING, str(self.layout.directory), retention_days=retention_days)
        # The store thread's own state.
        self.writer = Writer(self.layout, now_ms=self.now_ms, note=note)
        self.agg = MinuteAggregator()
        self.pending: Pending | None = None
        self.breaks: list[tuple[str, int]] = []
        self.lags = LagWindow()
        self.seen: set[str] = set()  # codes written this run (their earlier ticks are checked once)
        self.counts = {"written": 0, "bars": 0, "errors": 0, "ticks": 0}
        self.held: tuple[int | None, int | None] = (None, None)  # oldest, newest ms on disk
        self.last_prune: object = None  # the UTC date of the last retention prune
        self._flushes = itertools.count(1)
        self._next_flush = 0.0

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    # --- from other threads -----------------------------------------------------------

    def offer(self, batch: Batch, offered_at: float | None = None) -> None:
        """Called by the processor with each accepted batch; never blocks on the disk.

        ``offered_at``: when the feed handed the batch over (``time.monotonic()``, one clock
        for every process on the machine), if earlier than now: a store in its own process
        counts the time the batch spent in the feed's buffer and the pipe in its write lag.
        """
        self.offer_columns(pipe.columns(batch.ticks), offered_at)

    def offer_columns(self, columns: pipe.Columns, offered_at: float | None = None) -> None:
        """A batch as five columns (:func:`feed.store.pipe.columns`): how it waits in the
        buffer (lists of strings and numbers, which the garbage collector does not walk)
        and how it becomes Arrow arrays, with no row rebuilt."""
        n = len(columns[0])
        if not self._accepting:
            with self._lock:
                self._not_stored += n
            return
        at = time.monotonic() if offered_at is None else offered_at
        buffered = self._admit(n, (at, columns))
        if buffered is not None and buffered >= FLUSH_AT:
            self._wake.set()

    def submit(self, message: object) -> None:
        self._inbox.put(message)
        self._wake.set()

    @property
    def stats(self) -> SinkStats:
        c = self.counts
        return SinkStats(self.name, c["written"], self._dropped, c["errors"], self._buffered)

    # --- the thread -------------------------------------------------------------------

    def _run(self) -> None:
        from feed.store import service  # the request handlers (they import pandas)

        self.writer.open(time.monotonic())
        self._guard("statistics", service.after_open, self)
        self._guard("status", self.publish)
        while not self._stop.is_set():
            self._wake.wait(self.flush_every)
            self._wake.clear()
            now = time.monotonic()
            self._guard("requests", service.drain, self, now)
            self._guard("upkeep", self._upkeep, now)
            if now >= self._next_flush or self._buffered >= FLUSH_AT:
                self._next_flush = now + self.flush_every
                if self.writer.ready and (self.pending or self._buffered):
                    self._guard("flush", self.flush, now)
                elif self.writer.ready and self.agg.due(self.now_ms()):
                    self._guard("minute close", self.close_minutes, now, None)
            self._guard("status", self.publish)
        self._guard("final flush", self._final)
        self.writer.close()
        self._guard("status", self.publish)

    def _guard(self, what: str, fn: Callable[..., object], *args: object) -> None:
        try:
            fn(*args)
        except Exception:
            self.counts["errors"] += 1
            log.exception("tick store: %s failed (counted; the feed carries on)", what)

    def _upkeep(self, now: float) -> None:
        from feed.store import service

        was = self.writer.opened
        self.writer.poll(now)
        self._accepting = self.writer.mode != READ_ONLY
        if self.writer.opened != was:
            service.after_open(self)
        service.prune_if_due(self)

    def take(self, limit: int) -> list[tuple[float, pipe.Columns]]:
        """Batches from the buffer, oldest first, up to about ``limit`` ticks."""
        out: list[tuple[float, pipe.Columns]] = []
        n = 0
        with self._lock:
            while self._batches and (n < limit or not out):
                item = self._batches.popleft()
                out.append(item)
                n += len(item[1][0])
            self._buffered -= n
        return out

    def flush(self, now: float, close_ms: int | None = None) -> bool:
        """Write the waiting batch, then the buffer in chunks; False when the disk must wait."""
        if self.pending is not None:
            if not self._commit(self.pending, now):
                return False
            self.pending = None
        while self._buffered and self.writer.ready:
            pending = self._prepare(self.take(CHUNK), close_ms)
            if not self._commit(pending, now):
                self.pending = pending
                return False
        return True

    def close_minutes(self, now: float, close_ms: int | None) -> None:
        """No ticks waiting, but minutes have ended: write their bars."""
        if self.pending is None:
            pending = self._prepare([], close_ms)
            changed = pending.plan.bars or pending.breaks or pending.plan.state != self.agg.state
            if changed and not self._commit(pending, now):
                self.pending = pending

    def _prepare(self, batches: list[tuple[float, pipe.Columns]], close_ms: int | None) -> Pending:
        from feed.store import service

        columns = [list(itertools.chain.from_iterable(b[i] for _, b in batches)) for i in range(5)]
        try:
            table = schema.columns_table(columns)
        except OverflowError:  # a seq or time past 64 bits: drop and count those, keep the rest
            rows = [t for t in zip(*columns, strict=True) if pipe.fits(t)]
            bad, columns = len(columns[0]) - len(rows), [list(c) for c in zip(*rows, strict=True)]
            with self._lock:
                self._dropped += bad
            log.warning("tick store: %d ticks with a seq or time past 64 bits were dropped (counted)", bad)
            table = schema.columns_table(columns or [[] for _ in range(5)])
        groups = schema.minute_groups(table)
        fresh = {g[0] for g in groups} - self.seen
        if fresh:
            table, groups = service.skip_stored(self, table, groups, fresh)
        plan = self.agg.plan(groups, self.now_ms() if close_ms is None else close_ms)
        breaks, self.breaks = self.breaks, []
        newest = max(columns[2][-64:], default=0)
        offered = [t for t, _ in batches]
        return Pending(next(self._flushes), table, plan, breaks, offered, table.num_rows, newest)

    def _commit(self, p: Pending, now: float) -> bool:
        plan = p.plan
        if not self.writer.write(p.flush, p.ticks, plan.bars, plan.replace, p.breaks, now):
            return False
        self.agg.commit(plan)
        self.seen.update(plan.state)
        done = time.monotonic()
        if p.offered:  # the oldest batch of the flush waited longest: its lag bounds every tick's
            self.lags.add(done, done - min(p.offered))
        c = self.counts
        c["written"] += p.count
        c["ticks"] += p.count
        c["bars"] += len(plan.bars)
        oldest, newest = self.held
        if p.count:
            lo = int(p.ticks.column("time_ms")[0].as_py())
            self.held = (lo if oldest is None else min(oldest, lo), max(newest or 0, p.newest_ms))
        return True

    def _final(self) -> None:
        """Stop: write what is buffered within the budget, closing minutes that have ended."""
        deadline = time.monotonic() + FINAL_BUDGET
        from feed.store import service

        self._guard("requests", service.drain, self, time.monotonic())
        close_ms = self.now_ms() + self.agg.grace_ms  # minutes that have ended are complete now
        while (self.pending or self._buffered) and self.writer.ready and time.monotonic() < deadline:
            if not self.flush(time.monotonic(), close_ms):
                break
        if self.writer.ready and not self._buffered:
            self.close_minutes(time.monotonic(), close_ms)
        lost = self._buffered + (self.pending.count if self.pending else 0)
        if lost:
            with self._lock:
                self._dropped += lost
            log.warning("tick store: %d ticks could not be written before stop (%s)", lost, self.writer.mode)

    def publish(self) -> None:
        from feed.store import service

        self.status = service.build_status(self)

    # --- read by service (same thread) ------------------------------------------------

    def next_request(self) -> object | None:
        try:
            return self._inbox.get_nowait()
        except queue.Empty:
            return None

    def buffer_counts(self) -> tuple[int, int, int]:
        return self._buffered, self._dropped, self._not_stored

    def memory_ticks(self) -> list[tuple]:
        """Ticks not on disk yet (a paused or lent store), as plain (code, seq, time_ms,
        price, volume) tuples: the "memory" half of a read."""
        with self._lock:
            batches = list(self._batches)
        return [row for _, columns in batches for row in zip(*columns, strict=True)]
