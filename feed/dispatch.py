"""Ticks pushed to strategies: callbacks, a blocking iterator and an async iterator.

Each subscription is a :class:`~feed.sinks.TickSink` with its own thread and bounded
buffer (``feed-sink-<name>``), which owns the subscription's state: the processor hands
it every accepted batch without ever waiting, so a slow strategy can only miss ticks
(counted in ``status().sinks`` and logged once), never slow ingest or another strategy.

Each pushed trade the book accepts is delivered once, in sequence order per symbol (a
push is accepted only when its ``(seq, time)`` moves forward), as a :class:`TradeTick`.
Trades fetched over HTTP (a new symbol's latest trade, a gap fill after an outage)
update the snapshot but are not streamed: they would arrive out of order with pushes
still in flight.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging
import queue
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from typing import NamedTuple

from feed.sinks import Batch, TickSink

__all__ = ["AsyncTickStream", "TickHandle", "TickStream", "TradeTick", "make_trade_ticks"]

log = logging.getLogger("feed.dispatch")

_ids = itertools.count(1)
_new = tuple.__new__


class TradeTick(NamedTuple):
    """One accepted trade. Immutable; ``ts`` is the exchange time, tz-aware UTC."""

    symbol: str
    market: str
    seq: int
    price: float
    volume: float
    time_ms: int

    @property
    def ts(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.time_ms / 1000, dt.UTC)


def make_trade_ticks(batch: Batch) -> list[TradeTick]:
    markets = batch.markets
    out = []
    for t in batch.ticks:
        m = markets.get(t.code)
        out.append(
            _new(
                TradeTick,
                (t.code, m.value if m is not None else "", t.seq, t.price, t.volume, t.time_ms),
            )
        )
    return out


class TickHandle:
    """What ``on_tick`` returns: ``close()`` it (or use ``with``) to stop deliveries."""

    def __init__(self, callback: Callable[[TradeTick], object], register, unregister, capacity: int) -> None:
        self._callback = callback
        self._unregister = unregister
        self._errors = 0
        self.sink = TickSink(f"on_tick-{next(_ids)}", self._deliver, capacity=capacity).start()
        register(self.sink)

    def _deliver(self, batch: Batch) -> None:
        callback = self._callback
        stopped = self.sink.stopped
        for tick in make_trade_ticks(batch):
            if stopped():
                return
            try:
                callback(tick)
            except Exception:
                self._errors += 1
                self.sink.count_error()
                if self._errors == 1 or self._errors % 1000 == 0:
                    log.exception("on_tick callback raised (%d so far); delivery goes on", self._errors)

    @property
    def errors(self) -> int:
        return self._errors

    def close(self) -> None:
        self._unregister(self.sink)
        self.sink.stop()
        self.sink.join(1.0)

    def __enter__(self) -> TickHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class TickStream:
    """``for tick in feed.ticks():``. Ends after ``timeout`` seconds without a tick (None: never)."""

    def __init__(self, register, unregister, capacity: int, timeout: float | None) -> None:
        self._queue: queue.Queue[TradeTick] = queue.Queue(maxsize=capacity)
        self._timeout = timeout
        self._unregister = unregister
        self.sink = TickSink(f"ticks-{next(_ids)}", self._put, capacity=capacity).start()
        register(self.sink)

    def _put(self, batch: Batch) -> None:
        for i, tick in enumerate(make_trade_ticks(batch)):
            try:
                self._queue.put_nowait(tick)
            except queue.Full:
                self.sink.count_dropped(len(batch.ticks) - i)
                return

    def __iter__(self) -> Iterator[TradeTick]:
        return self

    def __next__(self) -> TradeTick:
        try:
            return self._queue.get(timeout=self._timeout)
        except queue.Empty:
            self.close()
            raise StopIteration from None

    def close(self) -> None:
        self._unregister(self.sink)
        self.sink.stop()

    def __enter__(self) -> TickStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.sink.stop()


class AsyncTickStream:
    """``async for tick in feed.aticks():`` on the running event loop."""

    def __init__(self, register, unregister, capacity: int, timeout: float | None) -> None:
        self._loop = asyncio.get_running_loop()
        self._buffer: deque[TradeTick] = deque()
        self._capacity = capacity
        self._timeout = timeout
        self._ready = asyncio.Event()
        self._unregister = unregister
        self.sink = TickSink(f"aticks-{next(_ids)}", self._hand_over, capacity=capacity).start()
        register(self.sink)

    def _hand_over(self, batch: Batch) -> None:
        ticks = make_trade_ticks(batch)
        try:
            self._loop.call_soon_threadsafe(self._push, ticks)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            self.close()

    def _push(self, ticks: list[TradeTick]) -> None:
        room = self._capacity - len(self._buffer)
        if room < len(ticks):
            self.sink.count_dropped(len(ticks) - max(0, room))
            ticks = ticks[: max(0, room)]
        self._buffer.extend(ticks)
        self._ready.set()

    def __aiter__(self) -> AsyncIterator[TradeTick]:
        return self

    async def __anext__(self) -> TradeTick:
        while not self._buffer:
            self._ready.clear()
            try:
                await asyncio.wait_for(self._ready.wait(), self._timeout)
            except TimeoutError:
                self.close()
                raise StopAsyncIteration from None
        return self._buffer.popleft()

    def close(self) -> None:
        self._unregister(self.sink)
        self.sink.stop()

    async def __aenter__(self) -> AsyncTickStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class TickApi:
    """The push side of ``FeedManager``: ``on_tick``, ``ticks``, ``aticks``.

    Subscriptions made before ``start()`` begin with it; each survives a restart.
    """

    def _register_sink(self, sink: TickSink) -> None:  # provided by FeedManager
        raise NotImplementedError

    def _unregister_sink(self, sink: TickSink) -> None:
        raise NotImplementedError

    def on_tick(self, callback: Callable[[TradeTick], object], *, buffer: int = 100_000) -> TickHandle:
        """Call ``callback(tick)`` for each accepted trade, on a dispatcher thread.

        At most ``buffer`` ticks wait for a slow callback; what does not fit is dropped
        and counted in ``status().sinks``. An exception in the callback is logged and
        counted; delivery goes on.
        """
        return TickHandle(callback, self._register_sink, self._unregister_sink, buffer)

    def ticks(self, timeout: float | None = None, *, buffer: int = 100_000) -> TickStream:
        """An iterator over the same stream; it ends after ``timeout`` seconds without a tick."""
        return TickStream(self._register_sink, self._unregister_sink, buffer, timeout)

    def aticks(self, timeout: float | None = None, *, buffer: int = 100_000) -> AsyncTickStream:
        """``async for tick in feed.aticks()``: the same stream on the running event loop."""
        return AsyncTickStream(self._register_sink, self._unregister_sink, buffer, timeout)
