"""A reader's ``bars()``: one request to the publisher, answered on a reply list.

A reader holds no token, so the publisher (which owns the HTTP client and its rate
limits) fetches the K-lines and merges the live bar; the reader's ``BarsApi`` gets them
as if its own reference-data worker had. Runs on the caller's thread, which waits for
the answer anyway; the client object is the caller-side port's own (redis-py's
connection pool is thread-safe).
"""

from __future__ import annotations

from feed.config import FeedConfig
from feed.messages import FetchBars
from feed.protocol.records import KLINE_TYPES, Bar
from feed.service import Keys
from feed.service.asking import Asker

__all__ = ["BARS_TIMEOUT", "BarsPort"]

BARS_TIMEOUT = 14.0
_INTERVALS = {v: k for k, v in KLINE_TYPES.items()}


class BarsPort:
    """``refdata`` of a reader: a FetchBars becomes one request to the publisher (caller's thread)."""

    def __init__(self, config: FeedConfig) -> None:
        assert config.redis_url
        self._keys = Keys(config.redis_prefix)
        self._asker = Asker(config.redis_url, BARS_TIMEOUT)

    def submit(self, msg: object) -> None:
        if not isinstance(msg, FetchBars):
            return
        msg.reply.put(self._ask(msg))

    def _ask(self, msg: FetchBars) -> object:
        request = {"symbol": msg.code, "interval": _INTERVALS[msg.kline_type], "count": msg.count}
        answer = self._asker.ask(self._keys.bars_requests, self._keys.bars_reply, request, "bars()")
        if isinstance(answer, Exception):
            return answer
        head, _ = answer
        return [Bar(int(b[0]), *map(float, b[1:6])) for b in head["bars"]]
