"""One start-to-stop generation of the feed: its threads, queues and (in demo) simulator.

Built by ``FeedManager.start()`` and ended by ``stop()``; a restart builds a new one,
so nothing of a stopped generation (a thread, a socket, a stale "live") survives into
the next. It only wires the parts together: the supervisor, the processor, the
reference-data worker and the view builder each own their state; this object owns
none and is read by the manager's caller threads only.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from feed import heap
from feed.config import FeedConfig
from feed.http import AllTickHttp
from feed.ingest import IngestQueue
from feed.messages import AddSink, FeedNote
from feed.model import EventKind
from feed.processor import Processor
from feed.refdata import RefData
from feed.snapshot import Snapshot
from feed.supervisor import Supervisor
from feed.viewer import Built, ViewBuilder
from feed.watches import WatchRegistry

__all__ = ["FeedRun"]

log = logging.getLogger("feed.run")

STOP_BUDGET = 1.0  # seconds stop() may take for every thread to end


class FeedRun:
    def __init__(
        self, config: FeedConfig, registry: WatchRegistry, clock: Callable[[], float], *, sinks: tuple = ()
    ) -> None:
        self.config = config
        self.clock = clock
        self.simulator: Any = None
        token, ws_base, http_base = config.token or "", config.ws_base, config.http_base
        if config.demo:
            from feed.simulator import Simulator  # demo mode only

            token = "demo-" + secrets.token_hex(8)
            self.simulator = Simulator(
                seed=config.simulator_seed, token=token, plan="professional", sessions=config.demo_sessions
            )
            self.simulator.start()
            ws_base, http_base = self.simulator.ws_base, self.simulator.http_base
        self.token = token
        self._sinks = sinks
        self.store = self._make_store(config, clock)
        plan = config.plan_limits
        self._stop = threading.Event()
        self.ingest = IngestQueue(config.queue_capacity)
        http = AllTickHttp(http_base, token, plan, stop=self._stop)
        self.refdata = RefData(
            http,
            results=lambda m: self.processor.submit(m),
            watched=lambda: frozenset(self.processor.snapshot.watched),
            stop=self._stop,
        )
        self.processor = Processor(
            self.ingest,
            jobs=self.refdata.submit,
            to_supervisor=lambda m: self.supervisor.submit(m),
            token=token,
            publish_interval=config.publish_interval,
            bad_print_band=config.bad_print_band,
            clock=clock,
            on_publish=lambda s: self.view.notify(s),
            to_store=self.store.submit if self.store is not None else None,
        )
        self.view = ViewBuilder(
            lambda: self.processor.snapshot,
            quiet_after=config.quiet_after,
            use_calendars=not (config.demo and config.demo_sessions == "always"),
            clock=clock,
            on_warm=heap.freeze_once if config.freeze_gc else None,
        )
        self.supervisor = Supervisor(
            config,
            plan,
            registry=registry,
            ws_base=ws_base,
            token=token,
            ingest=self.ingest,
            to_processor=self.processor.submit,
            to_refdata=self.refdata.submit,
            nudge_refdata=self.refdata.nudge,
        )

    def _make_store(self, config: FeedConfig, clock: Callable[[], float]) -> Any:
        """The tick store, unless ``QUOTES_DATA_DIR=off``: in a child process
        (``QUOTES_STORE_PROCESS``, the default), else on a thread of this one."""
        if not config.data_dir:
            return None

        def to_processor(message: object) -> None:
            self.processor.submit(message)

        def note(text: str) -> None:
            self.processor.submit(FeedNote(EventKind.STORE, "store", text))

        common: dict[str, Any] = {
            "retention_days": config.retention_days,
            "capacity": config.store_buffer,
            "to_processor": to_processor,
            "note": note,
        }
        if config.store_process and clock is time.time:  # a test's own clock needs the thread
            from feed.store.process import StoreProcess

            return StoreProcess(config.data_dir, **common)
        from feed.store.sink import TickStore  # loads DuckDB

        return TickStore(config.data_dir, clock=clock, **common)

    @property
    def parts(self) -> dict[str, Any]:
        parts = {
            "supervisor": self.supervisor,
            "processor": self.processor,
            "refdata": self.refdata,
            "view": self.view,
        }
        if self.store is not None:
            parts["store"] = self.store
        return parts

    def start(self) -> None:
        if self.store is not None:
            self.store.start()
            self.processor.submit(AddSink(self.store))
        for sink in self._sinks:
            sink.start()
            self.processor.submit(AddSink(sink))
        for part in (self.processor, self.refdata, self.view, self.supervisor):
            part.start()

    def stop(self) -> tuple[Snapshot, Built, WatchRegistry]:
        """End every thread (within about a second) and return the final state."""
        deadline = time.monotonic() + STOP_BUDGET
        self._stop.set()
        self.refdata.stop()
        self.supervisor.stop()
        self.supervisor.join(max(0.1, deadline - time.monotonic()))  # it stops the pumps
        self.processor.stop()
        self.view.stop()
        for sink in self._sinks:
            sink.stop()
        if self.store is not None:  # after the processor's last batch: the store writes them all
            self.processor.join(max(0.1, deadline - time.monotonic() - 0.7))
            self.store.stop()
        stores = () if self.store is None else (self.store,)
        for part in (self.processor, self.refdata, self.view, *self._sinks, *stores):
            part.join(max(0.1, deadline - time.monotonic()))
        stuck = [name for name, part in self.parts.items() if part.alive]
        if stuck:
            log.warning("threads still ending after stop(): %s", ", ".join(stuck))
        if self.simulator is not None:
            self.simulator.stop()
            self.simulator = None
        final = self.processor.final()
        return final, self.view.build_final(final), self.supervisor.registry
