"""The frames between the feed and its store process (:mod:`feed.store.child`): pure framing.

One frame is a 5-byte header (payload length, little-endian uint32; kind, one byte)
then the payload. Ticks travel as ``marshal`` of a list of plain ``(code, seq,
time_ms, price, volume)`` tuples: about 0.2 µs a tick to write, in C, where turning
them into Arrow columns costs several times that under the GIL. Everything else is a
pickle; both ends are this package at the same version, started by the feed itself, so
nothing untrusted is ever loaded.

Feed to child: :data:`TICKS`, :data:`REQUEST` (``(id, message)``; id 0: no reply),
:data:`STOP`. Child to feed: :data:`STATUS` (``(StoreStatus, SinkStats)``),
:data:`REPLY` (``(id, value or exception)``), :data:`PROCESSOR` (a message for the
processor), :data:`NOTE` (an event's text, UTF-8).

Thread ownership: none; each stream belongs to the one thread that reads or writes it.
"""

from __future__ import annotations

import marshal
import pickle
import struct
from collections.abc import Sequence
from typing import BinaryIO

__all__ = ["NOTE", "PROCESSOR", "REPLY", "REQUEST", "STATUS", "STOP", "TICKS", "read", "ticks", "write"]

TICKS, REQUEST, STOP = b"T", b"Q", b"S"
STATUS, REPLY, PROCESSOR, NOTE = b"s", b"r", b"p", b"n"

_HEADER = struct.Struct("<Ic")
MAX_FRAME = 1 << 30


def write(stream: BinaryIO, kind: bytes, payload: bytes = b"") -> None:
    stream.write(_HEADER.pack(len(payload), kind))
    stream.write(payload)
    stream.flush()


def read(stream: BinaryIO) -> tuple[bytes, bytes] | None:
    """The next frame, or None at the end of the stream (the other side has gone)."""
    head = _exactly(stream, _HEADER.size)
    if head is None:
        return None
    size, kind = _HEADER.unpack(head)
    if size > MAX_FRAME:
        raise ValueError(f"store pipe: a frame of {size} bytes (the stream is out of step)")
    payload = _exactly(stream, size) if size else b""
    return None if payload is None else (kind, payload)


def _exactly(stream: BinaryIO, n: int) -> bytes | None:
    parts, left = [], n
    while left:
        chunk = stream.read(left)
        if not chunk:
            return None
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def ticks(batches: Sequence[Sequence[tuple]]) -> bytes:
    """Ticks (NamedTuples or plain tuples) as one :data:`TICKS` payload."""
    return marshal.dumps([tuple(t) for batch in batches for t in batch])


def untick(payload: bytes) -> list[tuple]:
    return marshal.loads(payload)


def dumps(value: object) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def loads(payload: bytes) -> object:
    return pickle.loads(payload)
