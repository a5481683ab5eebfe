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
import secrets
import time
from collections.abc import Callable
from typing import Any

import orjson
import pandas as pd
import pyarrow as pa
import redis

from feed.config import FeedConfig
from feed.service import Keys, client, redacted_url
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
        self._url = config.redis_url
        self._keys = Keys(config.redis_prefix)
        self._redis: redis.Redis | None = None

    def submit(self, msg: object) -> None:
        if isinstance(msg, Read):
            msg.reply.put(self._ask(msg))

    def _ask(self, msg: Read) -> object:
        rid = secrets.token_hex(8)
        request = {
            "id": rid,
            "kind": msg.kind,
            "codes": list(msg.codes),
            "start_ms": msg.start_ms,
            "end_ms": msg.end_ms,
            "expires_at": time.time() + STORE_TIMEOUT,
        }
        try:
            if self._redis is None:
                self._redis = client(self._url, timeout=STORE_TIMEOUT + 1)
            self._redis.rpush(self._keys.store_requests, orjson.dumps(request))
            item = self._redis.blpop([self._keys.store_reply(rid)], timeout=STORE_TIMEOUT)
            payload = self._redis.lpop(self._keys.store_reply(rid)) if item is not None else None
        except redis.RedisError as exc:
            return ConnectionError(f"Redis at {redacted_url(self._url)} is unreachable: {exc}")
        if item is None:
            return TimeoutError(
                f"the quote service did not answer a tick store read in {STORE_TIMEOUT:g}s "
                "(is `python -m feed serve` running?)"
            )
        head = orjson.loads(item[1])
        if not head.get("ok"):
            kind = {"LookupError": LookupError, "ValueError": ValueError, "TimeoutError": TimeoutError}
            return kind.get(head.get("error"), RuntimeError)(head.get("message", "the store read failed"))
        if msg.kind == "symbols":
            return list(head["symbols"])
        frame = _from_ipc(payload or b"")
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
    payload = b""
    try:
        value = read(kind, codes, lo, hi)
        head: dict[str, Any] = {"ok": True}
        if kind == "symbols":
            head["symbols"] = list(value)
        elif kind == "path":
            frame, lost = value
            head["breaks"] = [list(b) for b in lost]
            payload = _to_ipc(frame)
        else:
            payload = _to_ipc(value)
    except Exception as exc:  # the reader raises the same kind, with the same words
        head = {"ok": False, "error": type(exc).__name__, "message": str(exc)}
    try:
        pipe = r.pipeline(transaction=False)
        pipe.rpush(reply_key, orjson.dumps(head), payload)
        pipe.expire(reply_key, 30)
        pipe.execute()
    except redis.RedisError as exc:
        log.warning("could not answer a tick store request: %s", exc)
