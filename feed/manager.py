"""FeedManager: the feed's facade. ``start()``, ``subscribe()``, read, ``stop()``.

The manager owns no feed state: watchlists belong to the supervisor thread, quotes and
reference data to the processor, the shared table to the view
builder (``feed/viewer.py``; see ``feed/run.py``).
With ``config.redis_url`` (``QUOTES_REDIS_URL``) the same API reads a quote service
instead (:mod:`feed.service.reader`): no AllTick connection, no token. The two kinds of
run offer the same ports, so nothing else here knows which one it has.
Its methods send those threads messages or read what they published, so any thread
may call them, and a read never blocks ingest. Before ``start()`` and after ``stop()``
the caller's thread holds the watchlists, so ``subscribe()`` works at any time and a
stopped manager restarts with the same symbols.

Events (``status().events``, newest last): ``connected``, ``disconnected``,
``recovered``, ``unreachable``, ``auth failed``, ``plan limit``, ``rate limited``,
``invalid symbol``, ``server error``, ``error``. Each failure cause is its own kind.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from feed import calendars
from feed.bars import BarsApi
from feed.config import FeedConfig
from feed.dispatch import TickApi
from feed.health import status_of
from feed.history import DiskSource, RunSource
from feed.messages import AddSink, RemoveSink, Reply, SetWatch
from feed.model import FeedStatus
from feed.premium_api import PremiumApi
from feed.reading import ReadApi
from feed.run import FeedRun
from feed.service.reader import RedisRun
from feed.sinks import TickSink
from feed.snapshot import Snapshot
from feed.symbols import InvalidSymbol, parse_watchlist, symbol_list
from feed.viewer import Built
from feed.watches import Watch, WatchRegistry

__all__ = ["FeedManager", "Watch"]

log = logging.getLogger("feed.manager")

# How long a watchlist change waits for the supervisor and the published snapshot: both
# answer in milliseconds, but a process still starting (calendars, imports) on a loaded
# machine took over 2 s once, and the premium command then said "not watched".
REPLY_TIMEOUT = 10.0


class _Holder:
    """What the finalizer needs to stop a run whose manager was dropped without stop()."""

    __slots__ = ("run",)

    def __init__(self) -> None:
        self.run: FeedRun | None = None


def _stop_abandoned(holder: _Holder) -> None:
    run, holder.run = holder.run, None
    if run is not None:
        log.warning("a FeedManager was dropped without stop(): stopping its threads")
        run.stop()


def _mode(config: FeedConfig) -> str:
    if config.redis_url:
        return "reading the quote service"
    return "demo mode" if config.demo else f"plan {config.plan}"


class FeedManager(ReadApi, TickApi, BarsApi, PremiumApi):
    """Runs the whole feed; with no token in the config it runs against the simulator."""

    def __init__(self, config: FeedConfig | None = None, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config or FeedConfig.from_env()
        self._clock = clock
        self._registry = WatchRegistry(self.config.max_watch)
        self._own: tuple[str, ...] = ()  # watch 0: subscribe()/unsubscribe()
        self._lock = threading.Lock()  # guards _own and the run swap; never held across a wait
        self._holder = _Holder()
        self._final: tuple[Snapshot, Built] | None = None
        self._sinks: list[TickSink] = []  # tick subscriptions; registered with each run
        self._finalizer = weakref.finalize(self, _stop_abandoned, self._holder)

    def __repr__(self) -> str:
        mode = (
            "quote service"
            if self.config.redis_url
            else "demo"
            if self.config.demo
            else f"plan={self.config.plan}"
        )
        state = "running" if self._holder.run else "stopped"
        return f"FeedManager({mode}, {state}, watched={len(self.watched())})"

    def __enter__(self) -> FeedManager:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> FeedManager:
        """Start the threads (idempotent); a stopped manager starts afresh."""
        with self._lock:
            if self._holder.run is not None:
                return self
            kind = RedisRun if self.config.redis_url else FeedRun
            run = kind(self.config, self._registry, self._clock, sinks=tuple(self._sinks))
            self._holder.run = run
            self._final = None
        run.start()
        if self._registry.union:  # subscribed before start(): let the first reads show the rows
            run.view.wait_watch(self._registry.version, REPLY_TIMEOUT)
        log.info("feed started (%s)", _mode(self.config))
        return self

    def stop(self) -> None:
        """Stop every thread and the simulator; safe to call any number of times."""
        with self._lock:
            run, self._holder.run = self._holder.run, None
        if run is None:
            return
        final, built, self._registry = run.stop()
        self._final = (final, built)
        log.info("feed stopped")

    @property
    def running(self) -> bool:
        return self._holder.run is not None

    @property
    def simulator(self) -> Any:
        run = self._holder.run
        return run.simulator if run is not None else None

    def _run_or_raise(self) -> FeedRun:
        run = self._holder.run
        if run is None:
            raise RuntimeError("the feed is not running: call start() first")
        return run

    def _register_sink(self, sink: TickSink) -> None:
        with self._lock:
            self._sinks.append(sink)
            run = self._holder.run
        if run is not None:
            run.processor.submit(AddSink(sink))

    def _unregister_sink(self, sink: TickSink) -> None:
        with self._lock:
            self._sinks = [s for s in self._sinks if s is not sink]
            run = self._holder.run
        if run is not None:
            run.processor.submit(RemoveSink(sink))

    # --- watchlists -----------------------------------------------------------------------

    def watch(self) -> Watch:
        """A new, empty watchlist handle; the feed streams the union of all handles."""
        return Watch(self._set_watch)

    def subscribe(self, symbols: Iterable[str] | str) -> list[str]:
        """Add symbols to the manager's own list; returns their canonical codes.

        Valid symbols are added even when some are bad; the bad ones then raise
        :class:`InvalidSymbol` naming each of them.
        """
        parsed, errors = parse_watchlist(symbol_list(symbols))
        codes = [s.code for s in parsed]
        with self._lock:
            self._own = self._own + tuple(c for c in codes if c not in self._own)
            own = self._own
        self._set_watch(0, own)
        if errors:
            raise InvalidSymbol("; ".join(e.text for e in errors), "; ".join(e.reason for e in errors))
        return codes

    def unsubscribe(self, symbols: Iterable[str] | str) -> None:
        parsed, _ = parse_watchlist(symbol_list(symbols))
        drop = {s.code for s in parsed}
        with self._lock:
            self._own = tuple(c for c in self._own if c not in drop)
            own = self._own
        self._set_watch(0, own)

    def watched(self) -> tuple[str, ...]:
        return self._state().watched

    def _set_watch(self, watch_id: int, codes: tuple[str, ...] | None) -> None:
        run = self._holder.run
        if run is None:
            if codes is None:
                self._registry.close(watch_id, time.monotonic(), 0.0)
            else:
                self._registry.set(watch_id, codes)
            return
        reply = Reply()
        run.supervisor.submit(SetWatch(watch_id, codes, reply))
        version = reply.wait(REPLY_TIMEOUT)
        if version is not None:
            run.view.wait_watch(version, REPLY_TIMEOUT)  # so the next snapshot() shows the rows

    # --- what the readers read (ReadApi) ------------------------------------------------------

    def _state(self) -> Snapshot:
        run = self._holder.run
        if run is not None:
            return run.processor.snapshot
        if self._final is not None:
            return self._final[0]
        return Snapshot(running=False, watched=self._registry.union, markets=self._registry.markets)

    def _built(self) -> Built | None:
        run = self._holder.run
        if run is not None:
            return run.view.built
        return self._final[1] if self._final is not None else None

    def _status(self) -> FeedStatus:
        run = self._holder.run
        if isinstance(run, RedisRun):
            return run.status(self._state(), tuple(self._sinks))
        status = status_of(run, self._state(), self.config, tuple(self._sinks))
        return replace(status, source="redis") if self.config.redis_url else status

    def _watching(self, codes: list[str]) -> bool:
        run = self._holder.run
        return run is not None and set(codes) <= set(run.supervisor.watched)

    def _history_source(self) -> Any:
        run = self._holder.run
        return RunSource(run) if run is not None else DiskSource(self.config.data_dir, self._clock)

    def _clocks(self) -> dict[str, calendars.MarketClock] | None:
        run = self._holder.run
        return run.view.clocks if run is not None and run.view.clocks else None
