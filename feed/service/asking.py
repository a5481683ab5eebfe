"""One request to the publisher, answered on a reply list: what ``bars()`` and the tick
store's reads through Redis have in common.

Reader side, :class:`Asker` (on the caller's thread, which waits for the answer anyway;
redis-py's connection pool is thread-safe): push a JSON request, block on the reply key,
turn a refusal into the exception the publisher raised (the same kind, the same words)
and an unreachable Redis or a silent publisher into one that names it. Publisher side,
:func:`reply`: the answer (a JSON header, then optional payload items) on the reply key,
which expires if nobody takes it.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable

import orjson
import redis

from feed.service import client, redacted_url

__all__ = ["REPLY_TTL", "Asker", "reply"]

log = logging.getLogger(__name__)

REPLY_TTL = 30  # seconds an unread answer stays
_ERRORS: dict[str, type[Exception]] = {
    "KeyError": KeyError,
    "LookupError": LookupError,
    "ValueError": ValueError,
    "TimeoutError": TimeoutError,
}


class Asker:
    def __init__(self, url: str, timeout: float) -> None:
        self._url = url
        self._timeout = timeout
        self._redis: redis.Redis | None = None

    def ask(
        self, requests_key: str, reply_key: Callable[[str], str], request: dict, what: str
    ) -> tuple[dict, list] | Exception:
        """``(header, payload items)`` of the answer to ``request``, or the exception to raise.

        ``reply_key(request_id)`` names the list the answer lands on; ``what`` names the
        call in the messages ("bars()", "a tick store read")."""
        rid = secrets.token_hex(8)
        request = {"id": rid, **request, "expires_at": time.time() + self._timeout}
        key = reply_key(rid)
        try:
            if self._redis is None:
                self._redis = client(self._url, timeout=self._timeout + 1)
            self._redis.rpush(requests_key, orjson.dumps(request))
            item = self._redis.blpop([key], timeout=self._timeout)
            rest = (self._redis.lpop(key, 100) or []) if item is not None else []
        except redis.RedisError as exc:
            return ConnectionError(f"Redis at {redacted_url(self._url)} is unreachable: {exc}")
        if item is None:
            return TimeoutError(
                f"the quote service did not answer {what} in {self._timeout:g}s "
                "(is `python -m feed serve` running?)"
            )
        head = orjson.loads(item[1])
        if not head.get("ok"):
            kind = _ERRORS.get(head.get("error"), RuntimeError)
            return kind(head.get("message", f"{what} failed"))
        return head, rest


def reply(r: redis.Redis, key: str, head: dict, *payload: bytes) -> None:
    """The publisher's answer on ``key``: the header, then the payload items (if any)."""
    try:
        pipe = r.pipeline(transaction=False)
        pipe.rpush(key, orjson.dumps(head), *payload)
        pipe.expire(key, REPLY_TTL)
        pipe.execute()
    except redis.RedisError as exc:
        log.warning("could not answer a reader's request: %s", exc)
