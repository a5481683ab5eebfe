"""Tick sinks: where accepted ticks go after the book (strategies, the tick store, Redis).

The processor hands each accepted batch to every registered sink with :meth:`offer`,
which never blocks: a sink's buffer is bounded, and a batch that does not fit is
dropped and counted, so a slow consumer can only starve itself, never ingest. Each
sink runs its handler on its own thread (``feed-sink-<name>``), which owns the
handler's state; an exception in the handler is logged once per kind, counted, and
delivery goes on.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from feed.protocol.codec import Tick

__all__ = ["SinkStats", "TickSink"]

log = logging.getLogger("feed.sinks")


@dataclass(frozen=True, slots=True)
class SinkStats:
    name: str
    delivered: int  # ticks handed to the handler
    dropped: int  # ticks that did not fit the buffer
    errors: int  # handler calls that raised
    buffered: int


class TickSink:
    """``handle(batch)`` runs on the sink's thread for every accepted batch, in order."""

    def __init__(
        self, name: str, handle: Callable[[Sequence[Tick]], None], *, capacity: int = 100_000
    ) -> None:
        self.name = name
        self.capacity = capacity
        self._handle = handle
        self._batches: deque[Sequence[Tick]] = deque()
        self._buffered = 0  # written by offer (processor) and the sink thread: under the GIL, += is
        self._lock = threading.Lock()  # ...not atomic, so it is held for the count only
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._delivered = self._dropped = self._errors = 0
        self._warned_drop = False
        self._thread = threading.Thread(target=self._run, name=f"feed-sink-{name}", daemon=True)

    def start(self) -> TickSink:
        self._thread.start()
        return self

    def offer(self, batch: Sequence[Tick]) -> None:
        """Called by the processor; never blocks."""
        with self._lock:
            if self._buffered + len(batch) > self.capacity:
                self._dropped += len(batch)
                warn = not self._warned_drop
                self._warned_drop = True
            else:
                self._buffered += len(batch)
                self._batches.append(batch)
                warn = False
        if warn:
            log.warning(
                "tick sink %s is too slow: its buffer of %d ticks is full; dropping", self.name, self.capacity
            )
        self._ready.set()

    def stop(self) -> None:
        self._stop.set()
        self._ready.set()

    def join(self, timeout: float) -> bool:
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def stats(self) -> SinkStats:
        return SinkStats(self.name, self._delivered, self._dropped, self._errors, self._buffered)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._ready.wait(0.5)
            self._ready.clear()
            while self._batches and not self._stop.is_set():
                batch = self._batches.popleft()
                with self._lock:
                    self._buffered -= len(batch)
                try:
                    self._handle(batch)
                    self._delivered += len(batch)
                except Exception:
                    self._errors += 1
                    if self._errors == 1 or self._errors % 1000 == 0:
                        log.exception(
                            "tick sink %s: handler failed (%d so far); delivery goes on",
                            self.name,
                            self._errors,
                        )
