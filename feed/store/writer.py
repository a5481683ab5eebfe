"""The database file as the store thread sees it: who writes, what went wrong, what next.

Modes (:mod:`feed.store.status`): *writing* holds the connection; *read-only* means
another process holds ``writer.lock`` (this one reads through lent moments and tries to
take over every few seconds, so it becomes the writer when the other one exits);
*paused* means the disk is full (the connection is closed, because DuckDB gives up on
a database whose write failed, and reopened once free space is back); *failed* means the
directory or file cannot be used for another reason, retried every few seconds.

A file DuckDB cannot read is moved aside (``ticks.duckdb.corrupt-<time>``) and a fresh
one started, at open or whenever a statement finds it corrupt; the batch being written
goes into the fresh file. A reader of another process asking to read (a file in
``readers/``) gets the file for up to :data:`LEND_MAX` seconds between two batches.

Thread ownership: the store thread, alone; nothing here is shared.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from feed.store import db, files
from feed.store.failures import Cause, classify, needs_reopen
from feed.store.files import Layout, WriterLock
from feed.store.status import FAILED, PAUSED, READ_ONLY, STARTING, WRITING

__all__ = ["LEND_MAX", "MIN_FREE", "Writer"]

log = logging.getLogger("feed.store")

LEND_MAX = 2.0  # seconds the file is lent to another process's reader at most, per request
RETRY = 5.0  # a failed open is tried again this often; a reader tries to take over as often
PROBE = 2.0  # free space is looked at this often (writing: to pause before DuckDB hits it)
MIN_FREE = 32 * 2**20  # below this, writing pauses: a failed checkpoint invalidates the database


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return (text[:200] + "…") if len(text) > 200 else text


class Writer:
    def __init__(self, layout: Layout, *, now_ms: Callable[[], int], note: Callable[[str], None]) -> None:
        self.layout = layout
        self.mode = STARTING
        self.message = ""
        self.moved_aside: str | None = None
        self.writer_pid: int | None = None
        self.errors = 0
        self.since = dt.datetime.now(dt.UTC)
        self.con: Any = None
        self.run = 0
        self.opened = 0  # connections made: a reader may read the file between two
        self._lock = WriterLock(layout)
        self._now_ms = now_ms
        self._note = note
        self._next_try = 0.0
        self._next_probe = 0.0
        self._lent_since: float | None = None

    @property
    def ready(self) -> bool:
        """The connection is open and not lent: a batch can be written now."""
        return self.con is not None and self._lent_since is None

    def _set(self, mode: str, message: str, *, event: bool = True) -> None:
        if mode != self.mode or message != self.message:
            if mode != self.mode:
                self.since = dt.datetime.now(dt.UTC)
            self.mode, self.message = mode, message
            if message:
                (log.warning if mode in (PAUSED, FAILED) else log.info)("tick store: %s", message)
                if event:
                    self._note(message)

    # --- opening --------------------------------------------------------------------

    def open(self, now: float) -> None:
        """Become the writer of the directory, or its reader when another process writes it."""
        try:
            self.layout.directory.mkdir(parents=True, exist_ok=True)
            if not self._lock.acquire():
                self.writer_pid = self._lock.holder()
                who = f"pid {self.writer_pid}" if self.writer_pid else "another process"
                self._set(
                    READ_ONLY,
                    f"another process ({who}) writes the tick store in {self.layout.directory}: this one "
                    "opens it read-only and stores none of its own ticks",
                )
                self._next_try = now + RETRY
                return
            self._connect(now)
        except Exception as exc:
            self._failed(exc, now)

    def _connect(self, now: float) -> None:
        if self.mode == PAUSED and self._low_space():
            self._next_try = now + PROBE
            return
        try:
            con = db.connect(self.layout.db)
            db.init(con)
        except Exception as exc:
            if classify(exc) is not Cause.CORRUPT or not self.layout.db.exists():
                raise
            con = self._fresh_file(exc)
        was, self.writer_pid = self.mode, None
        if self.run == 0 or not db.one(con, "SELECT 1 FROM runs WHERE run = ?", [self.run]):
            self.run = db.new_run(con, self._now_ms())
        self.con, self.opened = con, self.opened + 1
        self._next_probe = now + PROBE
        if was == PAUSED:
            self._set(WRITING, "space is back on the disk: writing resumed")
        elif was == READ_ONLY:
            self._set(WRITING, "the process that wrote the tick store has gone: this one writes it now")
        elif was == FAILED:
            self._set(WRITING, f"the tick store in {self.layout.directory} is writable again")
        else:
            self._set(WRITING, self.message if self.moved_aside else "", event=False)

    def _fresh_file(self, exc: BaseException) -> Any:
        """Move the unreadable file aside and start an empty one in its place."""
        self._close()
        target = files.move_aside(self.layout, dt.datetime.now(dt.UTC))
        self.moved_aside, self.run = str(target), 0
        con = db.connect(self.layout.db)
        db.init(con)
        self.errors += 1
        self._set(
            self.mode,
            f"the tick store file was unreadable ({_short(exc)}); it was moved aside to {target.name} "
            "and a fresh store started",
        )
        return con

    def _failed(self, exc: BaseException, now: float) -> None:
        cause = classify(exc)
        self.errors += 1
        self._close()
        if cause is Cause.DISK_FULL:
            self._pause(now)
            return
        if cause is Cause.LOCKED:
            text = f"the tick store file is open in another program ({_short(exc)}); retrying"
        else:
            text = (
                f"the tick store in {self.layout.directory} cannot be used ({cause}: {_short(exc)}); retrying"
            )
        self._set(FAILED, text)
        self._next_try = now + (1.0 if cause is Cause.LOCKED else RETRY)

    def _pause(self, now: float) -> None:
        free = files.free_bytes(self.layout.directory)
        self._set(
            PAUSED,
            f"the disk is full ({free / 2**20:.0f} MiB free in {self.layout.directory}): writing is paused, "
            "new ticks wait in memory, and it resumes when space returns",
        )
        self._next_try = now + PROBE

    # --- writing --------------------------------------------------------------------

    def write(self, flush: int, ticks: Any, bars: list, replace: list, breaks: list, now: float) -> bool:
        """Commit one batch; False when it has to wait (the cause is in ``mode``/``message``)."""
        for attempt in range(2):
            try:
                if db.committed(self.con, self.run) >= flush:
                    return True  # it made it before the failure that made us retry
                db.commit(self.con, self.run, flush, ticks, bars, replace, breaks)
                return True
            except Exception as exc:
                if attempt == 0 and classify(exc) is Cause.CORRUPT:
                    try:
                        self.con = self._fresh_file(exc)
                        self.run = db.new_run(self.con, self._now_ms())
                        continue
                    except Exception as again:
                        exc = again
                log.warning("tick store: a batch could not be written: %s", _short(exc))
                self._failed(exc, now)
                return False
        return False

    def run_statement(self, fn: Callable[[Any], Any], now: float) -> Any:
        """A small write outside the batches (a K-line fill); failures are handled as a batch's."""
        try:
            return fn(self.con)
        except Exception as exc:
            if classify(exc) is Cause.CORRUPT or needs_reopen(exc):
                self._failed(exc, now)
            raise

    # --- between batches ------------------------------------------------------------

    def poll(self, now: float) -> None:
        """Retry what waits (a takeover, a resume, a reopen), lend the file, watch free space."""
        if self.con is None:
            if self._lent_since is not None:
                if files.read_requests(self.layout) and now - self._lent_since < LEND_MAX:
                    return
                self._lent_since = None
                self._reconnect(now)
            elif now >= self._next_try:
                if self.mode == READ_ONLY:
                    self.open(now)
                else:
                    self._reconnect(now)
            return
        if files.read_requests(self.layout):
            self._close()
            self._lent_since = now
            return
        if now >= self._next_probe:
            self._next_probe = now + PROBE
            if self._low_space():
                self._close()
                self._pause(now)

    def _low_space(self) -> bool:
        d = self.layout.directory
        return files.free_bytes(d) < files.space_needed(d, MIN_FREE)

    def _reconnect(self, now: float) -> None:
        try:
            self._connect(now)
        except Exception as exc:
            self._failed(exc, now)

    def _close(self) -> None:
        con, self.con = self.con, None
        if con is not None:
            try:
                con.close()
            except Exception as exc:  # a database DuckDB invalidated: closing it is all we can do
                log.info("tick store: closing after a failure: %s", _short(exc))

    def close(self) -> None:
        """End of the run: close the connection (DuckDB checkpoints) and let another process write."""
        self._lent_since = None
        self._close()
        self._lock.release()
