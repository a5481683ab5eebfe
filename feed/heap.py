"""Keep Python's full garbage collections from stalling the feed.

A full (generation 2) collection walks every tracked object in the process: with
pandas, pyarrow and DuckDB loaded that is ~90,000 objects and 90-140 ms on a small
machine, during which no thread runs, so every tick that arrives waits. Under a steady
load such a collection comes every few seconds and sets the tick-to-snapshot p99.

After the feed's warm-up (its first market clocks, on the ``feed-clocks`` thread:
imports done, calendars built) the process's long-lived objects are moved to the
permanent generation with :func:`gc.freeze` (after one collection, so no garbage is
pinned); later full collections walk only what changed since, a few milliseconds.
Once per process, from whichever thread calls :func:`freeze_once` first;
``FeedConfig(freeze_gc=False)`` or ``QUOTES_GC_FREEZE=0`` leaves the collector alone
(for a host program that manages it itself). Objects frozen are never collected;
anything they later drop is reclaimed by reference counting as usual, only cycles
among them stay.
"""

from __future__ import annotations

import gc
import logging
import threading
import time

__all__ = ["freeze_once", "frozen"]

log = logging.getLogger("feed.heap")

_lock = threading.Lock()
_done = False


def freeze_once() -> bool:
    """Collect, then freeze what is alive; True the first time in this process."""
    global _done
    with _lock:  # held across the collection only: a second caller waits, then returns
        if _done:
            return False
        t0 = time.perf_counter()
        gc.collect()
        gc.freeze()
        _done = True
    log.info(
        "froze %d long-lived objects (%.0f ms): full collections now skip them",
        gc.get_freeze_count(),
        (time.perf_counter() - t0) * 1e3,
    )
    return True


def frozen() -> bool:
    """True once :func:`freeze_once` has frozen the heap in this process."""
    return _done
