"""The quotes DataFrame, built on demand once per snapshot version and shared by every reader.

Nobody builds a frame nobody reads: the first reader that finds the held frame out of
date (a newer snapshot version, and the last build at least ``INTERVAL`` seconds old;
or a change of state rows; or a frame a second old, because ages and market phases move
with the clock) builds it on its own thread, under the build lock, and every other
reader takes the result (a reference read). The lock is held across the pure build
only (no socket, no join, no callback), so a second reader waits a few milliseconds at
worst. A build no longer runs five times a second beside the processor while nobody
looks: under a firehose that build held the GIL for milliseconds at a time, and every
tick waited behind it.

One thread (``feed-clocks``) publishes the market clocks once a second, so building
calendars never delays a frame; after its first clocks (the feed's warm-up: imports
done, calendars built) it runs ``on_warm`` once, which freezes the heap (feed/heap.py).
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
    """The held frame (replaced whole under ``_build_lock``) and the clocks thread."""

    def __init__(
        self,
        snapshot: Callable[[], Snapshot],
        *,
        quiet_after: float,
        use_calendars: bool | Callable[[], bool],
        clock: Callable[[], float] = time.time,
        on_warm: Callable[[], object] | None = None,
    ) -> None:
        self._snapshot = snapshot
        self._on_warm = on_warm  # once, after the first clocks: the feed's warm-up is over
        self._quiet_after = quiet_after
        self._use_calendars = use_calendars
        self._clock = clock
        self._stop = threading.Event()
        self._build_lock = threading.Lock()
        self._watch_cv = threading.Condition()
        self._watch_seen = -1
        self.errors = 0
        self.clocks: dict[str, calendars.MarketClock] = {}  # published by the clocks thread
        self._built = self._build(snapshot())
        # Market clocks once a second on a thread of their own: building the calendars
        # takes about a second at start, and no frame should wait for it.
        self._clock_thread = threading.Thread(target=self._run_clocks, name="feed-clocks", daemon=True)

    def start(self) -> None:
        self._clock_thread.start()

    def _run_clocks(self) -> None:
        while not self._stop.is_set():
            try:
                self.clocks = market_clocks(self._clock())
                if self._on_warm is not None:
                    warm, self._on_warm = self._on_warm, None
                    warm()  # e.g. freeze the long-lived heap, calendars included (feed/heap.py)
            except Exception:  # a calendar gap must not stop the table
                self.errors += 1
                log.exception("market clocks failed (counted)")
            self._stop.wait(1.0)

    def notify(self, snap: Snapshot) -> None:
        """Called by the processor after each publish: wakes :meth:`wait_watch` when the
        watchlist version moved (one integer compare otherwise)."""
        if snap.watch_version != self._watch_seen:
            with self._watch_cv:
                self._watch_seen = snap.watch_version
                self._watch_cv.notify_all()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> bool:
        if self._clock_thread.is_alive():
            self._clock_thread.join(timeout)
        return not self._clock_thread.is_alive()

    @property
    def alive(self) -> bool:
        return self._clock_thread.is_alive()

    def wait_watch(self, watch_version: int, timeout: float) -> bool:
        """Block until the published snapshot carries watchlist version ``watch_version``
        (the next :attr:`built` then shows its rows: a new watchlist is always rebuilt)."""
        with self._watch_cv:
            return self._watch_cv.wait_for(lambda: self._snapshot().watch_version >= watch_version, timeout)

    @property
    def built(self) -> Built:
        """The frame for the latest snapshot, built now if the held one is out of date."""
        held = self._built
        snap = self._snapshot()
        if not self._out_of_date(held, snap, time.monotonic()):
            return held
        with self._build_lock:
            held = self._built
            snap = self._snapshot()
            if not self._out_of_date(held, snap, time.monotonic()):
                return held  # another reader built it while this one waited
            try:
                self._built = self._build(snap)
            except Exception:  # a bad row must never take the readers down: the last frame stays
                self.errors += 1
                log.exception("building the snapshot frame failed (counted)")
            return self._built

    @staticmethod
    def _out_of_date(held: Built, snap: Snapshot, now: float) -> bool:
        """A change of state rows shows at once (a watchlist, a refused code, a link going
        down, a refused token); price moves wait for :data:`INTERVAL`; ages for a second.
        Maps are shared between versions until they change, so ``is`` tells a change."""
        age = now - held.built_at
        if age >= 1.0:
            return True
        if snap.version == held.version:
            return False
        src = held.source
        if (
            src is None
            or snap.watch_version != src.watch_version
            or snap.invalid is not src.invalid
            or snap.links is not src.links
            or snap.not_streamed is not src.not_streamed
            or snap.auth_error != src.auth_error
            or snap.recovering is not src.recovering
            or snap.running != src.running
        ):
            return True
        return age >= INTERVAL

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
        """The stopped feed's last frame (called after the feed's threads ended)."""
        with self._build_lock:
            self._built = self._build(snap)
            return self._built
