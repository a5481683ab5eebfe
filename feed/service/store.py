"""A reader's tick store: its reads answered by the publisher's store, through Redis.

The publisher owns the DuckDB file (one writer per directory, and it may be on another
machine), so a reader's ``history(kind="ticks" | "1m")``, ``bars()`` and export send
the store's own :class:`feed.store.messages.Read` as one request and wait for the
answer, exactly as :mod:`feed.service.bars` does for K-lines. Frames travel as Arrow
IPC (exact floats, tz-aware times, compact); the header is JSON. Reader side: runs on
the caller's thread, which waits anyway. Publisher side: :func:`answer`, run by its
``feed-publish-bars`` thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import orjson
import pandas as pd
import pyarrow as pa
import redis

from feed.config import FeedConfig
from feed.service import Keys
from feed.service.asking import Asker, reply
from feed.store.messages import Read

__all__ = ["STORE_TIMEOUT", "StorePort", "answer"]

log = logging.getLogger(__name__)

STORE_TIMEOUT = 14.0
KINDS = ("ticks", "1m", "path", "symbols")


def _to_ipc(df: pd.DataFrame) -> bytes:
    table = pa.Table.from_pandas(df, preserve_index=False)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _from_ipc(data: bytes) -> pd.DataFrame:
    return pa.ipc.open_stream(pa.py_buffer(data)).read_all().to_pandas()


class StorePort:
    """``store`` of a reader: a :class:`Read` becomes one request to the publisher."""

    def __init__(self, config: FeedConfig) -> None:
        assert config.redis_url
        self._keys = Keys(config.redis_prefix)
        self._asker = Asker(config.redis_url, STORE_TIMEOUT)

    def submit(self, msg: object) -> None:
        if isinstance(msg, Read):
            msg.reply.put(self._ask(msg))

    def _ask(self, msg: Read) -> object:
        request = {"kind": msg.kind, "codes": list(msg.codes), "start_ms": msg.start_ms, "end_ms": msg.end_ms}
        answer = self._asker.ask(
            self._keys.store_requests, self._keys.store_reply, request, "a tick store read"
        )
        if isinstance(answer, Exception):
            return answer
        head, payload = answer
        if msg.kind == "symbols":
            return list(head["symbols"])
        frame = _from_ipc(payload[0] if payload else b"")
        if msg.kind == "path":
            return frame, [tuple(b) for b in head["breaks"]]
        return frame


def answer(r: redis.Redis, keys: Keys, raw: bytes, read: Callable[[str, tuple, int, int], Any]) -> None:
    """Answer one reader's request with ``read`` (the publisher's own store read)."""
    try:
        req = orjson.loads(raw)
        reply_key = keys.store_reply(str(req["id"]))
        kind, codes = str(req["kind"]), tuple(str(c) for c in req["codes"])
        lo, hi = int(req["start_ms"]), int(req["end_ms"])
        if kind not in KINDS:
            raise KeyError(kind)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        log.warning("ignoring a malformed tick store request")
        return
    if float(req.get("expires_at") or 0) and time.time() > float(req["expires_at"]):
        return  # the reader stopped waiting
    payload: tuple[bytes, ...] = ()
    try:
        value = read(kind, codes, lo, hi)
        head: dict[str, Any] = {"ok": True}
        if kind == "symbols":
            head["symbols"] = list(value)
        elif kind == "path":
            frame, lost = value
            head["breaks"] = [list(b) for b in lost]
            payload = (_to_ipc(frame),)
        else:
            payload = (_to_ipc(value),)
    except Exception as exc:  # the reader raises the same kind, with the same words
        head = {"ok": False, "error": type(exc).__name__, "message": str(exc)}
    reply(r, reply_key, head, *payload)
