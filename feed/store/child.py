"""``python -m feed.store.child SETTINGS``: the tick store in its own process.

Started by :class:`feed.store.process.StoreProcess`, never by hand. The process runs
the same :class:`feed.store.sink.TickStore` a feed runs on a thread when
``QUOTES_STORE_PROCESS=0``: its Arrow conversion, minute grouping and DuckDB appends
then hold this process's GIL, not the feed's. Frames (:mod:`feed.store.pipe`) come on
stdin and go back on stdout. The end of stdin (the feed stopped, or died) is a stop:
what is buffered is written and the database closed, so a feed killed outright still
loses no tick it had handed over.

Thread ownership: the main thread reads stdin and hands frames to the store; the store
thread is the store's; ``store-status`` sends the status when it changes. Writes to
stdout are serialised by ``_out_lock`` (held for one frame).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import signal
import sys
import threading
from typing import BinaryIO

from feed.store import pipe
from feed.store.sink import TickStore

log = logging.getLogger("feed.store")

NICE = 10  # the scheduler's priority step below the feed (a 2-core machine is shared)
STATUS_EVERY = 0.2  # seconds between looks at the store's status


class _Out:
    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self.broken = False

    def send(self, kind: bytes, payload: bytes = b"") -> None:
        if self.broken:
            return
        try:
            with self._lock:
                pipe.write(self._stream, kind, payload)
        except (BrokenPipeError, OSError, ValueError):
            self.broken = True  # the feed has gone; the store still writes what it holds


@dataclasses.dataclass(frozen=True, slots=True)
class _Reply:
    """Stands in for a reply queue on the other side of the pipe."""

    id: int
    out: _Out

    def put(self, value: object) -> None:
        try:
            payload = pipe.dumps((self.id, value))
        except Exception as exc:  # an answer that cannot travel is an error that can
            payload = pipe.dumps((self.id, RuntimeError(f"tick store: unsendable answer: {exc}")))
        self.out.send(pipe.REPLY, payload)


class _Errors:
    """Frames from the feed that failed: written by the main thread, read by ``store-status``."""

    def __init__(self) -> None:
        self.count = 0


def _status_loop(store: TickStore, out: _Out, done: threading.Event, errors: _Errors) -> None:
    last: object = None
    while True:
        stopping = done.wait(STATUS_EVERY)
        status, stats = store.status, store.stats
        if errors.count:
            status = dataclasses.replace(status, errors=status.errors + errors.count)
            stats = dataclasses.replace(stats, errors=stats.errors + errors.count)
        now = (status, stats)
        if now != last:
            last = now
            out.send(pipe.STATUS, pipe.dumps(now))
        if stopping:
            return


def serve(settings: dict, stdin: BinaryIO, stdout: BinaryIO) -> int:
    out = _Out(stdout)
    store = TickStore(
        settings["directory"],
        retention_days=int(settings["retention_days"]),
        capacity=int(settings["capacity"]),
        flush_every=float(settings["flush_every"]),
        to_processor=lambda m: out.send(pipe.PROCESSOR, pipe.dumps(m)),
        note=lambda text: out.send(pipe.NOTE, text.encode()),
    ).start()
    done, errors = threading.Event(), _Errors()
    status = threading.Thread(
        target=_status_loop, args=(store, out, done, errors), name="store-status", daemon=True
    )
    status.start()
    while True:
        try:
            frame = pipe.read(stdin)
        except (OSError, ValueError) as exc:
            log.warning("tick store process: reading from the feed failed: %s", exc)
            frame = None
        if frame is None or frame[0] == pipe.STOP:
            break
        kind, payload = frame
        try:
            if kind == pipe.TICKS:
                for at, columns in pipe.batches(payload):
                    store.offer_columns(columns, offered_at=at)
            elif kind == pipe.REQUEST:
                rid, message = pipe.loads(payload)  # type: ignore[misc]
                if rid:
                    message = dataclasses.replace(message, reply=_Reply(rid, out))
                store.submit(message)
        except Exception:
            errors.count += 1
            log.exception("tick store process: a frame from the feed failed (counted; it carries on)")
    store.stop()
    store.join(30.0)
    done.set()
    status.join(5.0)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the feed's: it sends the stop
    with contextlib.suppress(OSError, AttributeError):  # background work: ingest comes first
        os.nice(NICE)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s: %(message)s")
    settings = json.loads(args[0])
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but frames on the pipe
    code = serve(settings, stdin, stdout)
    sys.stderr.flush()
    os._exit(code)  # the store is closed; skip the interpreter's slow teardown


if __name__ == "__main__":
    main()
