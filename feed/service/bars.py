"""A reader's ``bars()``: one request to the publisher, answered on a reply list.

A reader holds no token, so the publisher (which owns the HTTP client and its rate
limits) fetches the K-lines and merges the live bar; the reader's ``BarsApi`` gets them
as if its own reference-data worker had. Runs on the caller's thread, which waits for
the answer anyway; the client object is the caller-side port's own (redis-py's
connection pool is thread-safe).
"""

from __future__ import annotations

import secrets
import time

import orjson
import redis

from feed.config import FeedConfig
from feed.messages import FetchBars
from feed.protocol.records import KLINE_TYPES, Bar
from feed.service import Keys, client, redacted_url

__all__ = ["BARS_TIMEOUT", "BarsPort"]

BARS_TIMEOUT = 14.0
_INTERVALS = {v: k for k, v in KLINE_TYPES.items()}


class BarsPort:
    """``refdata`` of a reader: a FetchBars becomes one request to the publisher (caller's thread)."""

    def __init__(self, config: FeedConfig) -> None:
        assert config.redis_url
        self._url = config.redis_url
        self._keys = Keys(config.redis_prefix)
        self._redis: redis.Redis | None = None

    def submit(self, msg: object) -> None:
        if not isinstance(msg, FetchBars):
            return
        msg.reply.put(self._ask(msg))

    def _ask(self, msg: FetchBars) -> object:
        rid = secrets.token_hex(8)
        request = {"id": rid, "symbol": msg.code, "interval": _INTERVALS[msg.kline_type], "count": msg.count}
        request["expires_at"] = time.time() + BARS_TIMEOUT
        try:
            if self._redis is None:
                self._redis = client(self._url, timeout=BARS_TIMEOUT + 1)
            self._redis.rpush(self._keys.bars_requests, orjson.dumps(request))
            item = self._redis.blpop([self._keys.bars_reply(rid)], timeout=BARS_TIMEOUT)
        except redis.RedisError as exc:
            return ConnectionError(f"Redis at {redacted_url(self._url)} is unreachable: {exc}")
        if item is None:
            return TimeoutError(
                f"the quote service did not answer bars() in {BARS_TIMEOUT:g}s "
                "(is `python -m feed serve` running?)"
            )
        answer = orjson.loads(item[1])
        if not answer.get("ok"):
            kind = {"KeyError": KeyError, "ValueError": ValueError, "TimeoutError": TimeoutError}
            return kind.get(answer.get("error"), RuntimeError)(answer.get("message", "bars() failed"))
        return [Bar(int(b[0]), *map(float, b[1:6])) for b in answer["bars"]]
