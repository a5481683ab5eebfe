"""The one bounded ingest queue between the link pumps and the processor.

Link pumps only decode and ``put_many`` (one batch per socket read); the processor
thread ``drain``s, and is the queue's only consumer. Under a slow consumer the queue
never grows without bound: past ``capacity`` it coalesces to the newest tick per
symbol (by sequence, then time), because for a quote table only the latest price
matters and dropping whole symbols would freeze rows.
"""

from __future__ import annotations

import threading
from collections import deque

from feed.protocol.codec import Tick

__all__ = ["IngestQueue"]


class IngestQueue:
    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self._items: deque[Tick] = deque()
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self.coalesced = 0
        self.high_water = 0

    def __len__(self) -> int:
        return len(self._items)

    def put_many(self, ticks: list[Tick]) -> None:
        """Called from connection threads; deque.extend is atomic under the GIL."""
        self._items.extend(ticks)
        if len(self._items) > self.capacity:
            self._coalesce()
        self._ready.set()

    def _coalesce(self) -> None:
        with self._lock:
            n = len(self._items)
            if n <= self.capacity:
                return
            self.high_water = max(self.high_water, n)
            latest: dict[str, Tick] = {}
            pop = self._items.popleft
            for _ in range(n):
                t = pop()
                held = latest.get(t.code)
                if held is None or (t.seq, t.time_ms) > (held.seq, held.time_ms):
                    latest[t.code] = t
            self.coalesced += n - len(latest)
            # Anything appended meanwhile stays behind the coalesced batch, in order.
            self._items.extendleft(reversed(list(latest.values())))

    def wake(self) -> None:
        """Wake the consumer without adding a tick (a message waits in its inbox)."""
        self._ready.set()

    def drain(self, max_items: int = 1_000_000) -> list[Tick]:
        """Take everything queued so far (oldest first)."""
        self._ready.clear()
        items = self._items
        n = min(len(items), max_items)
        if n == 0:
            return []
        with self._lock:
            pop = items.popleft
            out = [pop() for _ in range(min(n, len(items)))]
        if items:
            self._ready.set()
        return out

    def wait(self, timeout: float) -> bool:
        return self._ready.wait(timeout)
