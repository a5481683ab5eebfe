"""The frames between the feed and its store process (:mod:`feed.store.child`): pure framing.

One frame is a 5-byte header (payload length, little-endian uint32; kind, one byte)
then the payload. Ticks travel as MessagePack (msgspec, in C): the processor packs each
batch it hands over into bytes at once, as five columns (:func:`packed`, ~0.1 µs a
tick), and a frame is those bytes as they are, with each batch's hand-over time
(:func:`ticks`). The feed does nothing else per tick for its store; the child decodes
the columns (:func:`batches`), off the feed's GIL. Everything else is a pickle; both ends
are this package at the same version, started by the feed itself, so nothing
untrusted is ever loaded.

Feed to child: :data:`TICKS`, :data:`REQUEST` (``(id, message)``; id 0: no reply),
:data:`STOP`. Child to feed: :data:`STATUS` (``(StoreStatus, SinkStats)``),
:data:`REPLY` (``(id, value or exception)``), :data:`PROCESSOR` (a message for the
processor), :data:`NOTE` (an event's text, UTF-8).

Thread ownership: none; each stream belongs to the one thread that reads or writes it.
"""

from __future__ import annotations

import operator
import pickle
import struct
from collections.abc import Sequence
from typing import BinaryIO

import msgspec

from feed.protocol.codec import INT64

__all__ = [
    "BIGINT", "NOTE", "PROCESSOR", "REPLY", "REQUEST", "STATUS", "STOP", "TICKS",
    "Columns", "batches", "columns", "dumps", "fits", "loads", "packed", "read", "ticks", "write",
]  # fmt: skip

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


_FIELDS = tuple(operator.itemgetter(i) for i in range(5))

Columns = tuple[list, list, list, list, list]


def columns(batch: Sequence[tuple]) -> Columns:
    """A batch of ticks as five columns (code, seq, time_ms, price, volume), in C.

    Called by the processor as it hands a batch to a store on its own thread
    (``QUOTES_STORE_PROCESS=0``; a store process gets :func:`packed`): the Ticks
    themselves can then go at once. Kept alive in a buffer for a tenth of a second,
    20,000 tracked tuples a second set off the feed's garbage collector hundreds of
    times a minute (each pass with every thread stopped); five lists of references to
    strings and numbers, which the collector does not track, do not.
    """
    return tuple(list(map(f, batch)) for f in _FIELDS)  # type: ignore[return-value]


BIGINT = INT64  # what the store's seq and time_ms columns hold: the codec's own bound


def fits(tick: Sequence) -> bool:
    """Whether a (code, seq, time_ms, price, volume) tick's integers fit the store's
    BIGINT columns. The codec refuses a seq or time past 64 bits; this guards ticks
    made anywhere else (a script's own sink, a test)."""
    return tick[1] in BIGINT and tick[2] in BIGINT


_ENCODE = msgspec.msgpack.Encoder().encode
_DECODE = msgspec.msgpack.Decoder(
    list[tuple[float, tuple[list[str], list[int], list[int], list[float], list[float]]]]
).decode


def packed(batch: Sequence[tuple]) -> bytes:
    """A batch of ticks as MessagePack: five arrays (code, seq, time_ms, price, volume).

    Two C calls (the transpose, the encoding), ~0.1 µs a tick, and bytes, which the
    garbage collector never walks, while they wait to be sent. Columns, not rows: the
    store process decodes them into lists at ~0.2 µs a tick, where rows took ~0.8 µs
    (a tuple a tick, then the transpose in Python's hands)."""
    return _ENCODE(tuple(zip(*batch, strict=True)) if batch else ((), (), (), (), ()))


def ticks(parts: Sequence[tuple[float, bytes]]) -> bytes:
    """Buffered ``(handed over at, packed)`` batches as one :data:`TICKS` payload: the
    packed batches are spliced in as they are, not encoded again."""
    return _ENCODE([(at, msgspec.Raw(encoded)) for at, encoded in parts])


def batches(payload: bytes) -> list[tuple[float, Columns]]:
    """Each batch's hand-over time and its columns (on the store's side, which turns
    columns straight into Arrow arrays). A payload whose columns are not (str, int, int,
    float, float) is a :class:`ValueError` (``msgspec.ValidationError`` is one)."""
    return _DECODE(payload)  # type: ignore[return-value]


def dumps(value: object) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def loads(payload: bytes) -> object:
    return pickle.loads(payload)
