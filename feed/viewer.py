"""The view thread: builds the quotes DataFrame once per snapshot version, for everyone.

One thread (``feed-view``) owns the built frame and the market clocks. It rebuilds the
frame when the processor publishes a new version (at most every ``interval`` seconds,
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
        self.clocks: dict[str, calendars.MarketClock] = {}
        self._clocks_at = -1e18
        self.built = self._build(snapshot(), clocks=False)
        self._thread = threading.Thread(target=self._run, name="feed-view", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def notify(self, snap: Snapshot) -> None:
        """Called by the processor after each publish (cheap: sets an event)."""
        if snap.watch_version != self.built.watch_version:
            self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def join(self, timeout: float) -> bool:
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

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
            if snap.version != built.version or stale or snap.watch_version != built.watch_version:
                try:
                    fresh = self._build(snap)
                except Exception:  # the view must never take the feed down
                    self.errors += 1
                    log.exception("building the snapshot frame failed (counted)")
                    continue
                with self._built_cv:
                    self.built = fresh
                    self._built_cv.notify_all()

    def _build(self, snap: Snapshot, *, clocks: bool = True) -> Built:
        now = time.monotonic()
        wall = self._clock()
        if clocks and abs(wall - self._clocks_at) >= 1.0:
            # Once a second: calendars are not per tick (and the first call builds them).
            self.clocks = market_clocks(wall)
            self._clocks_at = wall
        use = self._use_calendars() if callable(self._use_calendars) else self._use_calendars
        phases = phase_freshness(self.clocks) if use else {}
        df, index = frame(snap, phases, now, quiet_after=self._quiet_after)
        return Built(snap.version, snap.watch_version, now, df, index)

    def build_final(self, snap: Snapshot) -> Built:
        """The stopped feed's last frame (called after the thread ended)."""
        self.built = self._build(snap, clocks=False)
        return self.built
