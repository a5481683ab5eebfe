"""The feed's event log: connects, losses, recoveries, limits, refusals, caught bugs.

Owned by the processor thread, which appends every :class:`~feed.messages.FeedNote`
sent by the other threads and logs each entry once, here, with the token masked;
readers get an immutable tuple of the last :data:`MAX_EVENTS` in each Snapshot.
"""

from __future__ import annotations

import logging
from collections import deque

from feed.config import redact
from feed.messages import FeedNote
from feed.model import EventKind, FeedEvent

__all__ = ["MAX_EVENTS", "EventLog"]

log = logging.getLogger("feed.events")

MAX_EVENTS = 200
_QUIET = frozenset({EventKind.CONNECTED, EventKind.RECOVERED})


class EventLog:
    def __init__(self, token: str) -> None:
        self._token = token
        self._events: deque[FeedEvent] = deque(maxlen=MAX_EVENTS)
        self._seq = 0

    def add(self, note: FeedNote) -> FeedEvent:
        self._seq += 1
        message = redact(note.message, self._token)
        event = FeedEvent(self._seq, note.time, note.kind, note.connection, message, note.codes)
        self._events.append(event)
        level = logging.INFO if note.kind in _QUIET else logging.WARNING
        log.log(level, "[%s] %s: %s", note.connection, note.kind.value, message)
        return event

    def recent(self) -> tuple[FeedEvent, ...]:
        return tuple(self._events)
