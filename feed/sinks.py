"""Tick sinks: where accepted ticks go after the book (strategies, the tick store, Redis).

A sink lives as long as its subscription; its thread runs while the feed runs (a stop
ends it, a restart starts it again), so no thread outlives ``stop()``.

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Self

from feed.protocol.codec import Tick
from feed.symbols import Market

__all__ = ["Batch", "BufferedSink", "SinkStats", "TickSink", "as_ticks", "untracked"]

log = logging.getLogger("feed.sinks")

_new = tuple.__new__


def untracked(ticks: Sequence[Tick]) -> tuple[tuple, ...]:
    """Ticks as plain tuples, for a buffer that holds them a while (a sink's, the store's).

    Python's collector stops looking at a plain tuple of numbers and strings after one
    pass, while a NamedTuple stays tracked: half a second of a firehose, or a slow
    strategy's backlog, is tens of thousands of them, and every collection (every thread
    stopped) would walk them all. :func:`as_ticks` makes them Ticks again.
    """
    return tuple(map(tuple, ticks))


def as_ticks(plain: Sequence[tuple]) -> list[Tick]:
    return [_new(Tick, t) for t in plain]


class Batch(NamedTuple):
    """One accepted batch as the processor hands it over (nothing in it is ever changed)."""

    ticks: Sequence[Tick]  # pushed trades, each accepted once, in order per code
    markets: Mapping[str, Market]  # code -> market, for the watched codes


@dataclass(frozen=True, slots=True)
class SinkStats:
    name: str
    delivered: int  # ticks handed to the handler
    dropped: int  # ticks that did not fit the buffer
    errors: int  # handler calls that raised
    buffered: int


class BufferedSink:
    """What every tick sink shares (the callback sinks, the tick store, its process).

    A bounded buffer the processor offers batches into, never waiting: :meth:`_admit`
    counts what does not fit and logs it once. A daemon thread of the sink's own, woken
    by ``_wake`` and ended by ``_stop``; :meth:`start` after a stop starts it again.

    Thread ownership: ``_buffered``/``_dropped`` and the buffer are shared between the
    processor and the sink's thread under ``_lock`` (held for a count or an append only);
    the rest is the subclass's and belongs to its thread.
    """

    #: The warning when the buffer is first full; ``{name}`` and ``{capacity}`` are filled in.
    full_warning = "tick sink {name} is too slow: its buffer of {capacity} ticks is full; dropping"

    def __init__(self, name: str, capacity: int, thread_name: str, logger: logging.Logger = log) -> None:
        self.name = name
        self.capacity = capacity
        self._thread_name = thread_name
        self._log = logger
        self._lock = threading.Lock()
        self._batches: deque = deque()
        self._buffered = self._dropped = 0
        self._warned_drop = False
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        raise NotImplementedError

    def _admit(self, n: int, item: object) -> int | None:
        """Buffer ``item`` (``n`` ticks) unless that would pass the capacity, then count the
        drop instead. Returns the ticks buffered after it, or None when it was dropped."""
        with self._lock:
            if self._buffered + n > self.capacity:
                self._dropped += n
                warn, self._warned_drop = not self._warned_drop, True
                buffered = None
            else:
                self._batches.append(item)
                self._buffered += n
                warn, buffered = False, self._buffered
        if warn:
            self._log.warning(self.full_warning.format(name=self.name, capacity=self.capacity))
        return buffered

    def start(self) -> Self:
        """Start (or, after a stop, restart) the sink's thread; a no-op while it runs."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=self._thread_name, daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def join(self, timeout: float) -> bool:
        t = self._thread
        if t is not None and t.is_alive() and t is not threading.current_thread():
            t.join(timeout)
        return t is None or not t.is_alive()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


class TickSink(BufferedSink):
    """``handle(batch)`` runs on the sink's thread for every accepted batch, in order."""

    def __init__(
        self, name: str, handle: Callable[[Sequence[Tick]], None], *, capacity: int = 100_000
    ) -> None:
        super().__init__(name, capacity, f"feed-sink-{name}")
        self._handle = handle
        self._batches: deque[tuple[tuple[tuple, ...], Mapping[str, Market]]] = deque()
        self._delivered = self._errors = 0

    def offer(self, batch: Batch) -> None:
        """Called by the processor; never blocks. The batch waits as :func:`untracked`
        tuples; the sink's thread makes them Ticks again just before its handler runs."""
        self._admit(len(batch.ticks), (untracked(batch.ticks), batch.markets))
        self._wake.set()

    def count_error(self) -> None:
        self._errors += 1  # only the sink's own thread calls this

    def stopped(self) -> bool:
        return self._stop.is_set()

    def count_dropped(self, n: int) -> None:
        """A handler that buffers further (an iterator, an asyncio queue) reports its own drops."""
        with self._lock:
            self._dropped += n

    @property
    def stats(self) -> SinkStats:
        return SinkStats(self.name, self._delivered, self._dropped, self._errors, self._buffered)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(0.5)
            self._wake.clear()
            while self._batches and not self._stop.is_set():
                plain, markets = self._batches.popleft()
                batch = Batch(as_ticks(plain), markets)
                with self._lock:
                    self._buffered -= len(batch.ticks)
                try:
                    self._handle(batch)
                    self._delivered += len(batch.ticks)
                except Exception:
                    self._errors += 1
                    if self._errors == 1 or self._errors % 1000 == 0:
                        log.exception(
                            "tick sink %s: handler failed (%d so far); delivery goes on",
                            self.name,
                            self._errors,
                        )
