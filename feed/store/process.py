"""The tick store as a child process: the feed's side of :mod:`feed.store.child`.

Under a 20,000 ticks/s load the store thread's own work (ticks into Arrow columns,
minute grouping, DuckDB's scans of them, which take the GIL) held ingest back: its
p99 doubled. Here the feed keeps only a buffer and a pipe; the child process runs the
same :class:`feed.store.sink.TickStore` and answers through frames
(:mod:`feed.store.pipe`). To the rest of the feed this is a tick sink with the store's
interface: :meth:`offer` (never blocks: a bounded buffer, drops counted), ``submit``
for the store's messages (a :class:`~feed.store.messages.Read` gets its answer back
on its own reply queue), ``status`` and ``stats``.

If the child dies, reads waiting on it get a :class:`StoreError`, the status says so,
and a new child is started after :data:`RESTART_AFTER` seconds; ticks wait in the
buffer meanwhile. At stop the buffer is sent, then a stop frame; the child writes it
all and closes the database.

Thread ownership: ``feed-store`` owns the child process and the write end of its
stdin; ``feed-store-recv`` reads its stdout and alone writes ``_child`` (the child's
latest status and counts, swapped whole). The buffer's count and the waiting replies
are shared with the processor and readers under ``_lock`` (held for a count or a dict
operation only).
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import logging
import os
import queue
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from feed.sinks import Batch, BufferedSink, SinkStats
from feed.store import pipe
from feed.store.failures import StoreError
from feed.store.messages import Read
from feed.store.status import FAILED, READ_ONLY, STARTING, StoreStatus

__all__ = ["StoreProcess"]

log = logging.getLogger("feed.store")

SEND_EVERY = 0.1  # seconds between hand-overs to the child (sooner when much waits)
# Ticks per frame, and waiting that wakes the sender early. Each batch was encoded as
# it was handed over (pipe.packed); a frame only splices those bytes together.
CHUNK = SEND_AT = 2_000
RESTART_AFTER = 5.0  # seconds after the child died before a new one starts
STOP_WAIT = 20.0  # seconds the sender waits, at stop, for the child to close the database


class StoreProcess(BufferedSink):
    full_warning = "tick store: {capacity} ticks wait for the store process; dropping new ones"

    def __init__(
        self,
        directory: str | Path,
        *,
        retention_days: int = 30,
        capacity: int = 250_000,
        flush_every: float = 1.0,
        to_processor: Callable[[object], None] = lambda m: None,
        note: Callable[[str], None] = lambda text: None,
    ) -> None:
        super().__init__("store", capacity, "feed-store", log)
        self.directory = str(Path(directory).expanduser().absolute())
        self.settings = {
            "directory": self.directory,
            "retention_days": retention_days,
            "capacity": capacity,
            "flush_every": flush_every,
        }
        self.to_processor = to_processor
        self._note = note
        self._batches: deque[tuple[float, int, bytes]] = deque()  # (handed over at, ticks, packed)
        self._not_stored = 0
        self._warned_unfit = False
        self._send_errors = self._recv_errors = 0  # one counter per writing thread
        self._outbox: queue.SimpleQueue[tuple[int, object]] = queue.SimpleQueue()
        self._replies: dict[int, Any] = {}
        self._ids = itertools.count(1)
        self._proc: subprocess.Popen[bytes] | None = None
        self._failure: str | None = None  # why there is no child now, in a sentence
        self._child: tuple[StoreStatus, SinkStats] = (
            StoreStatus(STARTING, self.directory, retention_days=retention_days),
            SinkStats(self.name, 0, 0, 0, 0),
        )

    # --- from other threads -----------------------------------------------------------

    def offer(self, batch: Batch) -> None:
        """Called by the processor with each accepted batch; never waits on the child."""
        n = len(batch.ticks)
        if self._child[0].mode == READ_ONLY:
            with self._lock:
                self._not_stored += n
            return
        try:
            encoded = pipe.packed(batch.ticks)
        except OverflowError:  # an integer MessagePack cannot hold: keep the ticks that fit
            kept = [t for t in batch.ticks if pipe.fits(t)]
            self._unfit(n - len(kept))
            n = len(kept)
            if not n:
                return
            encoded = pipe.packed(kept)
        buffered = self._admit(n, (time.monotonic(), n, encoded))
        if buffered is not None and buffered >= SEND_AT:
            self._wake.set()

    def _unfit(self, n: int) -> None:
        """Ticks whose seq or time is past 64 bits (:func:`feed.store.pipe.fits`): dropped,
        counted, logged once. The store process drops those between 2**63 and 2**64 itself."""
        with self._lock:
            self._dropped += n
            first, self._warned_unfit = not self._warned_unfit, True
        if first:
            log.warning("tick store: %d ticks with a seq or time past 64 bits were dropped (counted)", n)

    def submit(self, message: object) -> None:
        rid = 0
        if isinstance(message, Read):
            rid = next(self._ids)
            with self._lock:
                self._replies[rid] = message.reply
            message = dataclasses.replace(message, reply=None)
        self._outbox.put((rid, message))
        self._wake.set()

    @property
    def _errors(self) -> int:
        return self._send_errors + self._recv_errors

    @property
    def status(self) -> StoreStatus:
        status, _ = self._child
        if self._failure is not None:
            status = dataclasses.replace(status, mode=FAILED, message=self._failure)
        return dataclasses.replace(
            status,
            buffered=status.buffered + self._buffered,
            dropped=status.dropped + self._dropped,
            not_stored=status.not_stored + self._not_stored,
            errors=status.errors + self._errors,
        )

    @property
    def stats(self) -> SinkStats:
        _, s = self._child
        return SinkStats(
            self.name,
            s.delivered,
            s.dropped + self._dropped,
            s.errors + self._errors,
            s.buffered + self._buffered,
        )

    # --- feed-store: the child's owner ------------------------------------------------

    def _run(self) -> None:
        while True:
            proc = self._spawn()
            if proc is not None:
                receiver = threading.Thread(
                    target=self._receive, args=(proc,), name="feed-store-recv", daemon=True
                )
                receiver.start()
                self._feed(proc)
                receiver.join(STOP_WAIT if self._stop.is_set() else 5.0)
                self._ended(proc)
            if self._stop.is_set() or self._stop.wait(RESTART_AFTER):
                break
        self._fail_replies("the tick store has stopped")

    def _spawn(self) -> subprocess.Popen[bytes] | None:
        cmd = [sys.executable, "-m", "feed.store.child", json.dumps(self.settings)]
        try:
            # A session of its own: a Ctrl-C in the terminal reaches the feed, which sends
            # the stop frame; the child must not die half-way through its last write.
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                cwd=_root(),
                env={**os.environ, "QUOTES_STORE_OWNER_PID": str(os.getpid())},
                start_new_session=True,
            )
        except OSError as exc:
            self._send_errors += 1
            self._failure = f"the tick store process could not start ({exc}); retrying in {RESTART_AFTER:g}s"
            log.warning("tick store: %s", self._failure)
            return None
        self._proc, self._failure = proc, None
        return proc

    def _feed(self, proc: subprocess.Popen[bytes]) -> None:
        """Hand ticks and requests over until stop (then the stop frame) or the child's end."""
        assert proc.stdin is not None
        try:
            while proc.poll() is None:
                stopping = self._stop.is_set()
                self._send(proc.stdin)
                if stopping:
                    pipe.write(proc.stdin, pipe.STOP)
                    break
                self._wake.wait(SEND_EVERY)
                self._wake.clear()
        except (BrokenPipeError, OSError, ValueError) as exc:
            log.info("tick store: the store process stopped reading: %s", exc)
        finally:
            with contextlib.suppress(OSError, ValueError):
                proc.stdin.close()

    def _send(self, stdin: Any) -> None:
        """Ticks first, then requests: a read sees every tick handed over before it."""
        while True:
            with self._lock:
                taken, n = [], 0
                while self._batches and n < CHUNK:
                    taken.append(b := self._batches.popleft())
                    n += b[1]
            if not taken:
                break
            try:
                pipe.write(stdin, pipe.TICKS, pipe.ticks([(at, encoded) for at, _, encoded in taken]))
            except BaseException:  # the child has gone: these wait for the next one
                with self._lock:
                    self._batches.extendleft(reversed(taken))
                raise
            with self._lock:
                self._buffered -= n
        while True:
            try:
                rid, message = self._outbox.get_nowait()
            except queue.Empty:
                return
            try:
                payload = pipe.dumps((rid, message))
            except Exception as exc:
                self._send_errors += 1
                self._answer(rid, StoreError(f"tick store: the request could not be sent: {exc}"))
                continue
            pipe.write(stdin, pipe.REQUEST, payload)

    def _ended(self, proc: subprocess.Popen[bytes]) -> None:
        try:
            code = proc.wait(STOP_WAIT if self._stop.is_set() else 5.0)
        except subprocess.TimeoutExpired:
            log.warning("tick store: the store process did not end; killing it")
            proc.kill()
            code = proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        self._proc = None
        if self._stop.is_set() and code == 0:
            return
        self._send_errors += 1
        self._failure = (
            f"the tick store process ended unexpectedly (exit code {code}); ticks wait in memory "
            f"and a new one starts in {RESTART_AFTER:g}s"
        )
        log.warning("tick store: %s", self._failure)
        self._note(self._failure)
        self._fail_replies("the tick store process ended before answering")

    # --- feed-store-recv ---------------------------------------------------------------

    def _receive(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        while True:
            try:
                frame = pipe.read(proc.stdout)
            except (OSError, ValueError) as exc:
                log.warning("tick store: reading from the store process failed: %s", exc)
                return
            if frame is None:
                return
            try:
                self._handle(*frame)
            except Exception:
                self._recv_errors += 1
                log.exception("tick store: a frame from the store process failed (counted)")

    def _handle(self, kind: bytes, payload: bytes) -> None:
        if kind == pipe.STATUS:
            self._child = pipe.loads(payload)  # type: ignore[assignment]
        elif kind == pipe.REPLY:
            rid, value = pipe.loads(payload)  # type: ignore[misc]
            self._answer(rid, value)
        elif kind == pipe.PROCESSOR:
            self.to_processor(pipe.loads(payload))
        elif kind == pipe.NOTE:
            self._note(payload.decode())

    def _answer(self, rid: int, value: object) -> None:
        with self._lock:
            reply = self._replies.pop(rid, None)
        if reply is not None:
            reply.put(value)

    def _fail_replies(self, why: str) -> None:
        with self._lock:
            waiting, self._replies = self._replies, {}
        for reply in waiting.values():
            reply.put(StoreError(why))


def _root() -> str:
    """The directory ``feed`` is imported from, so the child imports the same package."""
    return str(Path(__file__).resolve().parents[2])
