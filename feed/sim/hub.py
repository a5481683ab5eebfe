"""The open WebSocket connections: their subscriptions, outboxes and fault states.

Why it exists: pushes are made by the market (scheduler or control thread) but must be
written by each connection's own handler thread, the only writer of its socket, so
responses and pushes stay in order and a slow client only stalls itself. The hub is the
meeting point: producers queue frames here, handlers take them, and the control API
(``subscriptions``, ``drop_connections``, ``stall``...) reads and flips per-connection
states here. It also enforces the plan's connection cap per (token, endpoint group).

State: the connection registry and every :class:`Conn` field marked "shared", owned by
the hub under its one lock (a Condition, so tests can wait for a subscription or a
connection count). Fields marked "handler" belong to that connection's handler thread
alone. The hub never calls out while holding its lock, and is always locked after the
market's lock, never before.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field

from websockets.sync.server import ServerConnection

from feed.protocol.codec import CancelType
from feed.symbols import Endpoint

__all__ = ["OUTBOX_MAX", "Conn", "Hub", "Outgoing"]

OUTBOX_MAX = 20_000  # frames queued per connection before the oldest are dropped


@dataclass(eq=False)
class Conn:
    """One accepted WebSocket connection."""

    id: int
    ws: ServerConnection
    group: Endpoint
    token: str
    opened: float
    # shared (hub lock):
    ticks: list[str] = field(default_factory=list)
    tick_set: frozenset[str] = frozenset()
    depth: list[str] = field(default_factory=list)
    outbox: deque[tuple[str | None, str]] = field(default_factory=lambda: deque(maxlen=OUTBOX_MAX))
    stalled_until: float = 0.0
    close_request: tuple[int, str] | None = None
    # handler thread only:
    last_request: float | None = None
    violations: list[float] = field(default_factory=list)
    last_heartbeat: float = 0.0


@dataclass(frozen=True, slots=True)
class Outgoing:
    """What a handler should do now: close, or send ``frames`` unless stalled."""

    close_request: tuple[int, str] | None
    stalled: bool
    frames: list[str]


class Hub:
    """Registry and fan-out of the open connections."""

    def __init__(self, max_connections: int) -> None:
        self.max_connections = max_connections  # per (token, endpoint group)
        self._changed = threading.Condition(threading.Lock())
        self._conns: dict[int, Conn] = {}
        self._group_counts: Counter[tuple[str, Endpoint]] = Counter()
        self._ids = itertools.count(1)

    # --- the handler threads' side ------------------------------------------------

    def open(self, ws: ServerConnection, group: Endpoint, token: str, now: float) -> Conn | None:
        """Register a connection; None when the plan's cap for (token, group) is reached."""
        with self._changed:
            key = (token, group)
            if self._group_counts[key] >= self.max_connections:
                return None
            self._group_counts[key] += 1
            conn = Conn(next(self._ids), ws, group, token, opened=now, last_heartbeat=now)
            self._conns[conn.id] = conn
            self._changed.notify_all()
            return conn

    def close(self, conn: Conn) -> None:
        with self._changed:
            if self._conns.pop(conn.id, None) is not None:
                self._group_counts[(conn.token, conn.group)] -= 1
            self._changed.notify_all()

    def take(self, conn: Conn, now: float) -> Outgoing:
        """Empty ``conn``'s outbox: the frames still wanted (pushes of codes still subscribed)."""
        with self._changed:
            items = list(conn.outbox)
            conn.outbox.clear()
            ticks = conn.tick_set
            close_request, stalled = conn.close_request, conn.stalled_until > now
        frames = [f for code, f in items if code is None or code in ticks]
        return Outgoing(close_request, stalled, frames)

    def is_stalled(self, conn: Conn, now: float) -> bool:
        with self._changed:
            return conn.stalled_until > now

    def subscribe(self, conn: Conn, codes: list[str], *, depth: bool = False) -> None:
        with self._changed:
            if depth:
                conn.depth = codes
            else:
                conn.ticks = codes
                conn.tick_set = frozenset(codes)
            self._changed.notify_all()

    def cancel(self, conn: Conn, kind: CancelType) -> None:
        with self._changed:
            if kind in (CancelType.ALL, CancelType.TICK):
                conn.ticks = []
                conn.tick_set = frozenset()
            if kind in (CancelType.ALL, CancelType.DEPTH):
                conn.depth = []
            self._changed.notify_all()

    # --- producers -----------------------------------------------------------------

    def deliver(self, code: str, frames: list[str]) -> int:
        """Queue ``frames`` for each subscriber of ``code`` that will send them; returns how many.

        A stalled or closing connection gets nothing: what it would have sent is lost,
        as on a half-open socket, even if it is unstalled a moment later.
        """
        now = time.monotonic()
        taken = 0
        with self._changed:
            for conn in self._conns.values():
                if code in conn.tick_set and conn.stalled_until <= now and conn.close_request is None:
                    conn.outbox.extend((code, f) for f in frames)
                    taken += 1
        return taken

    def broadcast(self, text: str) -> None:
        """Queue ``text`` for every connection that is not stalled."""
        now = time.monotonic()
        with self._changed:
            for conn in self._conns.values():
                if conn.stalled_until <= now:
                    conn.outbox.append((None, text))

    # --- control -----------------------------------------------------------------

    def subscriptions(self) -> dict[int, list[str]]:
        with self._changed:
            return {cid: list(c.ticks) for cid, c in self._conns.items()}

    def wait_subscribed(self, code: str, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(
                lambda: any(code in c.tick_set for c in self._conns.values()), timeout
            )

    def count(self) -> int:
        with self._changed:
            return len(self._conns)

    def wait_count(self, count: int, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: len(self._conns) == count, timeout)

    def sockets(self) -> list[ServerConnection]:
        with self._changed:
            return [c.ws for c in self._conns.values()]

    def request_close(self, code: int, reason: str) -> None:
        with self._changed:
            for conn in self._conns.values():
                conn.close_request = (code, reason)

    def stall(self, seconds: float | None) -> None:
        until = math.inf if seconds is None else time.monotonic() + seconds
        with self._changed:
            for conn in self._conns.values():
                conn.stalled_until = until

    def unstall(self) -> None:
        with self._changed:
            for conn in self._conns.values():
                conn.stalled_until = 0.0
