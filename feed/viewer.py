"""The view thread: builds the quotes DataFrame once per snapshot version, for everyone.

One thread (``feed-view``) owns the built frame; a second (``feed-clocks``) publishes
the market clocks once a second, so building calendars never delays a frame. The view
thread rebuilds the frame when the processor publishes a new version (at most every
``INTERVAL`` seconds,
so a firehose costs five builds a second, not one per batch), at once when the
watchlist changed, and every second anyway, because ages and market phases move with
the clock. Readers take the latest frame (a reference read) and never build one.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from feed import calendars
from feed.snapshot import Snapshot
from feed.symbols import Market
from feed.view import frame, phase_freshness

__all__ = ["Built", "ViewBuilder", "market_clocks"]

log = logging.getLogger("feed.viewer")

INTERVAL = 0.2


@dataclass(frozen=True, slots=True)
class Built:
    version: int
    watch_version: int
    built_at: float
    frame: pd.DataFrame
    index: dict[str, int]
    source: Snapshot | None = None


def market_clocks(wall: float) -> dict[str, calendars.MarketClock]:
    now = dt.datetime.fromtimestamp(wall, dt.UTC)
    return {m.value: calendars.market_clock(m, now) for m in Market}


class ViewBuilder:
    def __init__(
        self,
        snapshot: Callable[[], Snapshot],
        *,
        quiet_after: float,
        use_calendars: bool | Callable[[], bool],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._snapshot = snapshot
        self._quiet_after = quiet_after
        self._use_calendars = use_calendars
        self._clock = clock
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._built_cv = threading.Condition()
        self.errors = 0
        self.clocks: dict[str, calendars.MarketClock] = {}  # published by the clocks thread
        self.built = self._build(snapshot())
        self._thread = threading.Thread(target=self._run, name="feed-view", daemon=True)
        # Market clocks once a second on a thread of their own: building the calendars
        # takes about a second at start, and no frame should wait for it.
        self._clock_thread = threading.Thread(target=self._run_clocks, name="feed-clocks", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._clock_thread.start()

    def _run_clocks(self) -> None:
        while not self._stop.is_set():
            try:
                self.clocks = market_clocks(self._clock())
            except Exception:  # a calendar gap must not stop the table
                self.errors += 1
                log.exception("market clocks failed (counted)")
            if self._calendars_on():
                self._wake.set()  # phases may have moved
            self._stop.wait(1.0)

    def notify(self, snap: Snapshot) -> None:
        """Called by the processor after each publish (cheap: identity checks, an event).

        A change of state rows must show at once (a watchlist, a refused code, a link
        going down, a refused token) wakes the thread; price moves wait for the next
        :data:`INTERVAL`. Maps are shared between versions until they change, so ``is``
        tells a change.
        """
        src = self.built.source
        if (
            src is None
            or snap.watch_version != src.watch_version
            or snap.invalid is not src.invalid
            or snap.links is not src.links
            or snap.not_streamed is not src.not_streamed
            or snap.auth_error != src.auth_error
            or snap.recovering is not src.recovering
        ):
            self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def join(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        for t in (self._thread, self._clock_thread):
            if t.is_alive():
                t.join(max(0.0, deadline - time.monotonic()))
        return not (self._thread.is_alive() or self._clock_thread.is_alive())

    @property
    def alive(self) -> bool:
        return self._thread.is_alive() and self._clock_thread.is_alive()

    def wait_watch(self, watch_version: int, timeout: float) -> bool:
        """Block until the built frame reflects watchlist version ``watch_version``."""
        with self._built_cv:
            return self._built_cv.wait_for(lambda: self.built.watch_version >= watch_version, timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(INTERVAL)
            self._wake.clear()
            if self._stop.is_set():
                break
            snap = self._snapshot()
            built = self.built
            stale = time.monotonic() - built.built_at >= 1.0
            if snap.version != built.version or stale:
                try:
                    fresh = self._build(snap)
                except Exception:  # the view must never take the feed down
                    self.errors += 1
                    log.exception("building the snapshot frame failed (counted)")
                    continue
                with self._built_cv:
                    self.built = fresh
                    self._built_cv.notify_all()

    def _calendars_on(self) -> bool:
        """A reader of the quote service learns from the publisher whether calendars apply."""
        use = self._use_calendars
        return bool(use() if callable(use) else use)

    def _build(self, snap: Snapshot) -> Built:
        now = time.monotonic()
        phases = phase_freshness(self.clocks) if self._calendars_on() else {}
        df, index = frame(snap, phases, now, quiet_after=self._quiet_after)
        return Built(snap.version, snap.watch_version, now, df, index, snap)

    def build_final(self, snap: Snapshot) -> Built:
        """The stopped feed's last frame (called after the thread ended)."""
        self.built = self._build(snap)
        return self.built
