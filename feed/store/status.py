"""What the tick store tells ``status()`` and the pages: one immutable value per change.

The store thread builds a new :class:`StoreStatus` whenever something changes and
swaps it in with one reference assignment; ``status()`` and the Feed health page read
the latest one without a lock. ``mode`` says whether ticks reach the disk; ``message``
says, in a sentence, why not (or what was done to a corrupt file).

Thread ownership: :class:`LagWindow` belongs to the store thread; StoreStatus is immutable.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import deque
from dataclasses import dataclass

__all__ = ["FAILED", "OFF", "PAUSED", "READ_ONLY", "STARTING", "WRITING", "LagWindow", "StoreStatus"]

OFF = "off"  # QUOTES_DATA_DIR=off: nothing is stored
STARTING = "starting"
WRITING = "writing"  # every accepted tick reaches the disk within about a second
READ_ONLY = "read-only"  # another process writes this directory: this one only reads it
PAUSED = "paused"  # the disk is full: ticks wait in memory (bounded) until space returns
FAILED = "failed"  # the directory or file cannot be used (permissions…): retrying


@dataclass(frozen=True, slots=True)
class StoreStatus:
    mode: str = OFF
    directory: str | None = None
    size_bytes: int = 0  # database and write-ahead log on disk
    oldest: dt.date | None = None  # UTC date of the oldest tick or bar held
    newest: dt.date | None = None
    ticks: int = 0  # ticks held on disk (all processes, all days kept)
    written: int = 0  # ticks this process wrote
    bars: int = 0  # 1-minute bars this process wrote (from ticks and K-line fills)
    buffered: int = 0  # ticks waiting in memory for the disk
    dropped: int = 0  # ticks that did not fit the buffer (a full disk for too long)
    not_stored: int = 0  # ticks received while read-only (the writing process stores its own)
    lag_p99: float | None = None  # seconds from hand-over to commit (oldest tick of each write), last minute
    retention_days: int = 30
    message: str = ""  # what happened, in a sentence (English); empty while all is well
    moved_aside: str | None = None  # where a corrupt database file was moved, this run
    writer_pid: int | None = None  # read-only: the process that writes
    errors: int = 0  # failures caught and counted (writes retried, reads answered with an error)
    since: dt.datetime | None = None  # when this mode began

    @property
    def active(self) -> bool:
        return self.mode != OFF


class LagWindow:
    """Write lags of the last ``span`` seconds, for a p99 that tracks the present."""

    def __init__(self, span: float = 60.0) -> None:
        self.span = span
        self._items: deque[tuple[float, float]] = deque()

    def add(self, now: float, lag: float) -> None:
        self._items.append((now, lag))
        while self._items and now - self._items[0][0] > self.span:
            self._items.popleft()

    def p99(self) -> float | None:
        if not self._items:
            return None
        lags = sorted(lag for _, lag in self._items)
        return lags[min(len(lags) - 1, max(0, math.ceil(0.99 * len(lags)) - 1))]
