"""The typed, frozen messages to and from the store thread.

Routes: the processor asks for a restart's stored paths (:class:`LoadPaths`, answered
with one :class:`StoredPath` per code in the processor's inbox), hands over K-line
minutes that fill what the store missed (:class:`KlineFill`) and says when a link was
lost (:class:`LinkLost`); readers (``history()``, ``bars()``, the export) send a
:class:`Read` and wait on its reply. Nothing here is owned by anyone: a message is
built by its sender, handed over whole and never changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from feed.messages import Reply

__all__ = ["KlineFill", "LinkLost", "LoadPaths", "Read", "StoredPath"]


@dataclass(frozen=True, slots=True)
class LoadPaths:
    """Stored minutes of these codes since each one's day began (epoch ms)."""

    since_ms: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class StoredPath:
    """A code's stored minutes, ``(minute, o, h, l, c, v, rank)``, quiet minutes included."""

    code: str
    points: tuple[tuple, ...]


@dataclass(frozen=True, slots=True)
class KlineFill:
    """AllTick's 1-minute K-line of a code: the store keeps the minutes it has no bar for."""

    code: str
    bars: tuple[tuple, ...]  # (minute, o, h, l, c, v)
    since_ms: int  # older minutes are not kept (the day's start)


@dataclass(frozen=True, slots=True)
class LinkLost:
    codes: tuple[str, ...]
    at_ms: int


@dataclass(frozen=True, slots=True)
class Read:
    """``kind``: "ticks", "1m" or "symbols"; times are epoch ms, both ends included."""

    kind: str
    codes: tuple[str, ...]
    start_ms: int
    end_ms: int
    reply: Reply = field(compare=False)
