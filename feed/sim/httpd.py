"""HTTP serving of the AllTick REST paths over any source of records.

Why it exists: the simulator and the benchmark firehose both answer ``/kline``,
``/batch-kline``, ``/trade-tick`` and ``/static_info``. The envelope, routing (from
:mod:`feed.protocol.paths`), request parsing, ``ret`` codes, plan limits (from
:mod:`feed.protocol.plans`), injected faults and rate limits are written once, here;
what a code's bars and ticks are comes from a :class:`RecordSource` (the simulator's
market, or the firehose's synthetic codes), which builds them with
:mod:`feed.protocol.records`. ``websockets`` cannot serve POST, hence a second server.

:meth:`HttpService.handle` is pure request-to-reply (in the spirit of httpx's
``MockTransport``), so it is tested without sockets; :class:`HttpServer` only pumps bytes.

State: the fault queue, request counters and rate limiter, owned by the service under
its own lock; any HTTP request thread and control caller may use it. The source guards
its own state.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import orjson

from feed.config import RedactFilter
from feed.protocol.codec import Ret
from feed.protocol.paths import HTTP_METHODS, HTTP_NAMES, endpoint_of_http_base
from feed.protocol.plans import Plan
from feed.protocol.records import RATE_LIMITED_BODY, envelope
from feed.sim.faults import HttpFault
from feed.sim.ratelimit import HttpRateLimiter, Limited
from feed.symbols import Endpoint

__all__ = ["MAX_BATCH_KLINES", "MAX_KLINES", "HttpServer", "HttpService", "RecordSource", "Reply"]

logger = logging.getLogger("feed.sim.http")
logger.addFilter(RedactFilter())  # request lines carry ?token=

MAX_KLINES = 500  # bars per /kline call
MAX_BATCH_KLINES = 2  # bars per item of a /batch-kline call


class RecordSource(Protocol):
    """What the HTTP service asks of a market; records are built with ``feed.protocol.records``.

    ``codes`` are the request's raw ``code`` values (any JSON type); unknown ones (or
    codes of the other endpoint group) are left out, or make :meth:`kline` return None.
    """

    def kline(
        self, endpoint: Endpoint, code: object, kline_type: int, num: int, now_s: float
    ) -> list[dict[str, str]] | None: ...

    def trade_ticks(self, endpoint: Endpoint, codes: list[object]) -> list[dict[str, Any]]: ...

    def static_infos(self, endpoint: Endpoint, codes: list[object]) -> list[dict[str, str]]: ...


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"


class _BadRequest(Exception):
    """A request whose fields are unusable; answered with ``ret``."""

    def __init__(self, ret: int) -> None:
        super().__init__(ret)
        self.ret = ret


def _json(status: int, ret: int, trace: str = "", data: dict[str, Any] | None = None) -> Reply:
    return Reply(status, orjson.dumps(envelope(ret, trace, data or {})))


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _kline_params(d: dict[str, Any], max_num: int) -> tuple[int, int]:
    kline_type = d.get("kline_type")
    num = d.get("query_kline_num", 1)
    if not _is_int(kline_type) or not 1 <= kline_type <= 10 or not _is_int(num) or num < 1:
        raise _BadRequest(Ret.BAD_REQUEST)
    return kline_type, min(num, max_num)


def _loads_or(raw: str | bytes, ret: int) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise _BadRequest(ret) from None


_FAULT_REPLIES = {
    HttpFault.STATUS_429: _json(429, Ret.RATE_LIMIT),
    HttpFault.NO_RET: Reply(200, RATE_LIMITED_BODY),
    HttpFault.RET_605: _json(200, Ret.TOO_MANY_REQUESTS),
}


class HttpService:
    """AllTick's REST rules over a :class:`RecordSource`, under one ``plan``."""

    def __init__(
        self,
        source: RecordSource,
        *,
        plan: Plan,
        token_ok: Callable[[str], bool],
        clock: Callable[[], float] = time.time,
        rate_limit: bool = False,
    ) -> None:
        self.source = source
        self.plan = plan
        self.token_ok = token_ok
        self.clock = clock
        self._lock = threading.Lock()
        self._failures: deque[HttpFault] = deque()
        self._counts: Counter[str] = Counter()
        self._limiter = HttpRateLimiter(plan) if rate_limit else None

    def fail(self, kind: HttpFault, count: int) -> None:
        """The next ``count`` calls to a served path fail with ``kind``."""
        with self._lock:
            self._failures.extend([kind] * count)

    def requests(self) -> dict[str, int]:
        """Requests received so far by path, served or not."""
        with self._lock:
            return dict(self._counts)

    def handle(self, method: str, target: str, body: bytes | None) -> Reply:
        """Answer one request (``target`` is the path with its query string)."""
        parts = urlsplit(target)
        base, _, name = parts.path.rpartition("/")
        endpoint = endpoint_of_http_base(base)
        with self._lock:
            self._counts[parts.path] += 1
        if endpoint is None or name not in HTTP_NAMES[endpoint]:
            return Reply(404, b"not found", "text/plain")
        if HTTP_METHODS[name] != method:
            return Reply(405, b"method not allowed", "text/plain")
        with self._lock:
            fault = self._failures.popleft() if self._failures else None
        if fault is not None:
            return _FAULT_REPLIES[fault]
        params = parse_qs(parts.query)
        token = params.get("token", [""])[0]
        if not self.token_ok(token):
            return _json(401, Ret.TOKEN_INVALID)
        limited = self._limited(token, name)
        if limited is not None:
            return limited
        trace = ""
        try:
            msg = self._message(method, params, body)
            trace = msg["trace"]
            result = self._dispatch(endpoint, name, msg["data"], self.clock())
        except _BadRequest as exc:
            return _json(200, exc.ret, trace)
        return _json(200, Ret.OK, trace, result)

    def _limited(self, token: str, name: str) -> Reply | None:
        if self._limiter is None:
            return None
        today = datetime.fromtimestamp(self.clock(), UTC).date()
        verdict = self._limiter.check(token, name, time.monotonic(), today)
        if verdict is Limited.TOO_SOON:
            return Reply(200, RATE_LIMITED_BODY)
        if verdict is Limited.QUOTA:
            return _json(429, Ret.RATE_LIMIT)
        return None

    @staticmethod
    def _message(method: str, params: dict[str, list[str]], body: bytes | None) -> dict[str, Any]:
        """The request's ``{"trace": str, "data": dict}``: the POST body or the ``query`` parameter."""
        if method == "POST":
            if not body or not body.strip():
                raise _BadRequest(Ret.BODY_EMPTY)
            msg = _loads_or(body, Ret.BAD_REQUEST)
        else:
            query = params.get("query")
            if not query:
                raise _BadRequest(Ret.QUERY_INVALID)
            msg = _loads_or(query[0], Ret.QUERY_INVALID)
        if not isinstance(msg, dict) or not isinstance(msg.get("trace"), str):
            raise _BadRequest(Ret.BAD_REQUEST)
        if not isinstance(msg.get("data"), dict):
            raise _BadRequest(Ret.BAD_REQUEST)
        return msg

    def _dispatch(self, endpoint: Endpoint, name: str, data: dict[str, Any], now_s: float) -> dict[str, Any]:
        if name == "kline":
            kline_type, num = _kline_params(data, MAX_KLINES)
            bars = self.source.kline(endpoint, data.get("code"), kline_type, num, now_s)
            if bars is None:
                raise _BadRequest(Ret.CODE_INVALID)
            return {"code": data["code"], "kline_type": kline_type, "kline_list": bars}
        if name == "batch-kline":
            return {"kline_list": self._batch(endpoint, data, now_s)}
        # trade-tick and static_info: a symbol_list of many codes
        items = data.get("symbol_list")
        if not isinstance(items, list) or not items:
            raise _BadRequest(Ret.BAD_REQUEST)
        if len(items) > self.plan.codes_per_query:
            raise _BadRequest(Ret.TOKEN_LEVEL)
        codes = [i.get("code") if isinstance(i, dict) else None for i in items]
        if name == "trade-tick":
            records: list[dict[str, Any]] = self.source.trade_ticks(endpoint, codes)
            key = "tick_list"
        else:
            records = list(self.source.static_infos(endpoint, codes))
            key = "static_info_list"
        if len(codes) == 1 and not records:
            raise _BadRequest(Ret.CODE_INVALID)
        return {key: records}

    def _batch(self, endpoint: Endpoint, data: dict[str, Any], now_s: float) -> list[dict[str, Any]]:
        items = data.get("data_list")
        if not isinstance(items, list) or not items:
            raise _BadRequest(Ret.BAD_REQUEST)
        if len(items) > self.plan.batch_kline_items:
            raise _BadRequest(Ret.TOKEN_LEVEL)
        out = []
        for item in items:
            if not isinstance(item, dict):
                raise _BadRequest(Ret.BAD_REQUEST)
            kline_type, num = _kline_params(item, MAX_BATCH_KLINES)
            bars = self.source.kline(endpoint, item.get("code"), kline_type, num, now_s)
            if bars is not None:
                out.append({"code": item["code"], "kline_type": kline_type, "kline_data": bars})
        return out

    def serve(self, host: str, port: int) -> HttpServer:
        """Bind (SO_REUSEADDR: ``HTTPServer.allow_reuse_address``) and return the server."""
        return HttpServer((host, port), self)


class _Handler(BaseHTTPRequestHandler):
    server: HttpServer
    timeout = 2  # a stuck client must not hold a request thread (and stop()) for long
    server_version = "alltick-sim/1.0"

    def _answer(self, method: str) -> None:
        body = None
        if method == "POST":
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = 0
            body = self.rfile.read(length) if length > 0 else b""
        reply = self.server.service.handle(method, self.path, body)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("http %s " + format, self.client_address[0], *args)


class HttpServer(ThreadingHTTPServer):
    """A threading HTTP server whose ``server_close()`` joins its request threads."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], service: HttpService) -> None:
        self.service = service
        super().__init__(address, _Handler)
