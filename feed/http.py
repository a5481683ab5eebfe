"""AllTick HTTP client: latest trades, daily and minute K-lines, static info.

The WebSocket stream carries trades only, and a closed market is silent for hours, so
everything a table needs at start-up (last price, previous close, names) and after an
outage (the gap fill) comes from here.

Errors form a small tree, each carrying the endpoint and AllTick ``ret`` but never the
token (``httpx`` style)::

    HttpError
    ├── Unreachable      refused, DNS failure, timeout: nothing answered
    ├── AuthError        HTTP 401 / ret 401: the token is bad
    ├── RateLimited      HTTP 429 / ret 429, 605, 606 / body without ``ret``: pace down
    ├── CodeInvalid      ret 600 / 604: the code, not the call, is bad
    ├── PlanLimit        ret 603: too many items for the plan
    └── ServerError      HTTP 5xx, a body that is not JSON, any other ``ret``

Requests go through one seam, ``transport(method, url, body) -> (status, bytes)``, which
tests replace; every request waits its turn in a per-token :class:`RateLimiter`. A call
retries a rate-limit answer a couple of times (the limiter is then pushed back); every
other failure is raised at once, so the caller's retry schedule (``feed.refdata``) is
the only one. Owned by the thread that calls it (the reference-data worker).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import orjson

from feed.config import redact
from feed.protocol.codec import Rejected, Ret, Tick, tick_from_fields
from feed.protocol.paths import HTTP_BASE
from feed.protocol.plans import Plan
from feed.protocol.records import KLINE_1M, KLINE_DAILY, Bar, StaticInfo, bars_from, static_info_from
from feed.symbols import Endpoint

__all__ = [
    "KLINE_1M",
    "KLINE_DAILY",
    "AllTickHttp",
    "AuthError",
    "Bar",
    "CodeInvalid",
    "HttpError",
    "PlanLimit",
    "RateLimited",
    "RateLimiter",
    "ServerError",
    "StaticInfo",
    "Stopped",
    "Transport",
    "Unreachable",
    "urllib_transport",
]

log = logging.getLogger("feed.http")

Transport = Callable[[str, str, bytes | None], tuple[int, bytes]]


class HttpError(Exception):
    def __init__(self, endpoint: str, message: str, *, ret: int | None = None, status: int | None = None):
        self.endpoint = endpoint
        self.ret = ret
        self.status = status
        detail = f"ret {ret}" if ret is not None else f"HTTP {status}" if status else "error"
        super().__init__(f"{endpoint}: {detail}: {message}")


class Stopped(HttpError):
    """The feed is stopping: the call was abandoned, not failed."""


class Unreachable(HttpError):
    pass


class AuthError(HttpError):
    pass


class RateLimited(HttpError):
    pass


class CodeInvalid(HttpError):
    pass


class PlanLimit(HttpError):
    pass


class ServerError(HttpError):
    pass


def urllib_transport(method: str, url: str, body: bytes | None, timeout: float = 5.0) -> tuple[int, bytes]:
    """The production transport: stdlib urllib, so the runtime needs no HTTP library."""
    req = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read() or b""


class RateLimiter:
    """Spaces calls per named bucket (``query``, ``batch``); shared by one token's callers."""

    def __init__(self, intervals: dict[str, float], *, clock: Callable[[], float] = time.monotonic):
        self._intervals = dict(intervals)
        self._next: dict[str, float] = dict.fromkeys(intervals, 0.0)
        self._lock = threading.Lock()
        self._clock = clock

    def reserve(self, bucket: str) -> float:
        """Claim the next slot and return how long to wait for it."""
        with self._lock:
            now = self._clock()
            at = max(now, self._next[bucket])
            self._next[bucket] = at + self._intervals[bucket]
            return at - now

    def penalize(self, bucket: str, seconds: float) -> None:
        """Push the bucket back after the server said we were too fast."""
        with self._lock:
            self._next[bucket] = max(self._next[bucket], self._clock() + seconds)


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), max(1, size)):
        yield items[i : i + size]


class AllTickHttp:
    """Calls the classic ``?token=&query=`` API on the stock and forex bases."""

    def __init__(
        self,
        base: str,
        token: str,
        plan: Plan,
        *,
        transport: Transport | None = None,
        retries: int = 2,
        stop: threading.Event | None = None,
    ) -> None:
        self._base = base.rstrip("/")
        self._token = token
        self.plan = plan
        self._transport = transport or urllib_transport
        self._retries = retries
        self._stop = stop or threading.Event()
        self.limiter = RateLimiter({"query": plan.http_interval, "batch": plan.batch_kline_interval})
        self.requests = 0

    def __repr__(self) -> str:
        return f"AllTickHttp(base={self._base!r}, plan={self.plan.name!r})"

    # --- the one place requests are made -------------------------------------------

    def _call(self, endpoint: Endpoint, path: str, data: dict[str, Any], *, post: bool = False) -> dict:
        trace = f"{path.strip('/')}-{time.time_ns() % 10**12}"
        payload = orjson.dumps({"trace": trace, "data": data})
        url = f"{self._base}{HTTP_BASE[endpoint]}{path}?token={urllib.parse.quote(self._token, safe='')}"
        if not post:
            url += "&query=" + urllib.parse.quote(payload.decode(), safe="")
        name = f"{HTTP_BASE[endpoint]}{path}"
        bucket = "batch" if post else "query"
        delay = 0.5
        for attempt in range(self._retries + 1):
            wait = self.limiter.reserve(bucket)
            if wait > 0 and self._stop.wait(wait):
                raise Stopped(name, "stopped")
            self.requests += 1
            try:
                status, body = self._transport("POST" if post else "GET", url, payload if post else None)
            except OSError as exc:
                # Network errors carry the URL in some messages: redact before it travels.
                raise Unreachable(name, redact(_describe(exc), self._token)) from None
            try:
                return self._check(name, status, body)
            except RateLimited:
                if attempt == self._retries:
                    raise
                log.info("rate limited on %s; retrying in %.1fs", name, delay)
                self.limiter.penalize(bucket, delay)
                delay = min(delay * 2, 10.0)
        raise AssertionError("unreachable")

    @staticmethod
    def _check(name: str, status: int, body: bytes) -> dict:
        if status == 401:
            raise AuthError(name, "token invalid or expired", status=401)
        if status == 429:
            raise RateLimited(name, "too many requests", status=429)
        if status >= 500:
            raise ServerError(name, "server error", status=status)
        try:
            msg = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise ServerError(name, "response is not JSON", status=status) from None
        if not isinstance(msg, dict):
            raise ServerError(name, "response is not an object", status=status)
        if "ret" not in msg:
            # The bare {"error_msg": "Too many requests"} seen in the wild.
            raise RateLimited(name, str(msg.get("error_msg") or "response without ret"), status=status)
        ret = msg.get("ret")
        text = str(msg.get("msg") or "")
        if ret == Ret.OK:
            data = msg.get("data")
            return data if isinstance(data, dict) else {}
        if ret == Ret.TOKEN_INVALID:
            raise AuthError(name, text or "token invalid", ret=401)
        if ret in (Ret.RATE_LIMIT, Ret.TOO_MANY_REQUESTS, Ret.TOO_MANY_CLOSING):
            raise RateLimited(name, text, ret=ret)
        if ret in (Ret.CODE_INVALID, Ret.CODE_UNAUTHORIZED):
            raise CodeInvalid(name, text, ret=ret)
        if ret == Ret.TOKEN_LEVEL:
            raise PlanLimit(name, text, ret=ret)
        raise ServerError(name, text, ret=ret if isinstance(ret, int) else None, status=status)

    # --- endpoints ------------------------------------------------------------------

    def _isolating(self, codes: list[str], bad: dict[str, int], fetch: Callable[[list[str]], None]) -> None:
        """Run ``fetch`` on a batch; if the server refuses it (600/604), split the batch
        in halves until the bad codes are isolated, so one typo never costs the rest of
        the watchlist its data."""
        try:
            fetch(codes)
        except CodeInvalid as exc:
            if len(codes) == 1:
                bad[codes[0]] = exc.ret or 600
                return
            mid = len(codes) // 2
            self._isolating(codes[:mid], bad, fetch)
            self._isolating(codes[mid:], bad, fetch)

    def trade_ticks(self, endpoint: Endpoint, codes: list[str]) -> tuple[list[Tick], dict[str, int]]:
        """Latest trade per code, and the codes the server refused, with its ret (600/604)."""
        ticks: list[Tick] = []
        invalid: dict[str, int] = {}

        def fetch(batch: list[str]) -> None:
            data = self._call(endpoint, "/trade-tick", {"symbol_list": [{"code": c} for c in batch]})
            seen: set[str] = set()
            for item in data.get("tick_list") or []:
                if not isinstance(item, dict):
                    continue
                tick = tick_from_fields(item)
                if isinstance(tick, Rejected):
                    log.warning("trade-tick: dropped %s (%s)", tick.code, tick.reason)
                elif tick.code in batch and tick.code not in seen:
                    ticks.append(tick)
                    seen.add(tick.code)
            if len(batch) > 1:
                # A batch may leave unknown codes out silently; ask for each one alone,
                # where an unknown code answers 600 and a quiet one an empty list.
                for code in batch:
                    if code not in seen:
                        self._isolating([code], invalid, fetch)

        for chunk in _chunks(list(codes), self.plan.codes_per_query):
            self._isolating(chunk, invalid, fetch)
        return ticks, invalid

    def daily_bars(self, endpoint: Endpoint, codes: list[str]) -> tuple[dict[str, list[Bar]], dict[str, int]]:
        """The latest two daily bars per code via ``/batch-kline`` (oldest first)."""
        out: dict[str, list[Bar]] = {}
        invalid: dict[str, int] = {}

        def fetch(batch: list[str]) -> None:
            items = [
                {
                    "code": c,
                    "kline_type": KLINE_DAILY,
                    "kline_timestamp_end": 0,
                    "query_kline_num": 2,
                    "adjust_type": 0,
                }
                for c in batch
            ]
            data = self._call(endpoint, "/batch-kline", {"data_list": items}, post=True)
            for entry in data.get("kline_list") or []:
                if isinstance(entry, dict) and entry.get("code") in batch:
                    out[entry["code"]] = bars_from(entry.get("kline_data"))

        for chunk in _chunks(list(codes), self.plan.batch_kline_items):
            self._isolating(chunk, invalid, fetch)
        return out, invalid

    def kline(self, endpoint: Endpoint, code: str, kline_type: int, count: int, end_s: int = 0) -> list[Bar]:
        """Up to 500 bars of one code, oldest first, ending at ``end_s`` (0: the latest)."""
        data = self._call(
            endpoint,
            "/kline",
            {
                "code": code,
                "kline_type": kline_type,
                "kline_timestamp_end": int(end_s),
                "query_kline_num": min(count, 500),
                "adjust_type": 0,
            },
        )
        return bars_from(data.get("kline_list"))

    def static_info(self, codes: list[str]) -> dict[str, StaticInfo]:
        """Names and currencies (stock base only; forex has no static info)."""
        out: dict[str, StaticInfo] = {}
        for chunk in _chunks(list(codes), self.plan.codes_per_query):
            try:
                data = self._call(
                    Endpoint.STOCK, "/static_info", {"symbol_list": [{"code": c} for c in chunk]}
                )
            except CodeInvalid:
                continue
            for item in data.get("static_info_list") or []:
                info = static_info_from(item)
                if info is not None:
                    out[info.code] = info
        return out


def _describe(exc: OSError) -> str:
    """A network error in words: "connection refused", "name not resolved", "timed out"."""
    reason = getattr(exc, "reason", exc)  # urllib wraps the socket error in URLError.reason
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, socket.gaierror):
        return "host name not resolved"
    return f"{type(reason).__name__}: {reason}"
