"""The HTTP client through its transport seam: errors, retries, bisecting bad codes."""

from __future__ import annotations

import urllib.parse

import orjson
import pytest

from feed.http import AllTickHttp, AuthError, RateLimiter, Unreachable
from feed.protocol.plans import plan_named
from feed.symbols import Endpoint

TOKEN = "tok-http-SECRET"


class FakeServer:
    """A transport that answers /trade-tick like AllTick: 600 if any code is unknown."""

    def __init__(self, known: set[str], script: list[tuple[int, bytes]] | None = None) -> None:
        self.known = known
        self.script = list(script or [])
        self.calls: list[list[str]] = []

    def __call__(self, method: str, url: str, body: bytes | None) -> tuple[int, bytes]:
        if self.script:
            return self.script.pop(0)
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        assert query["token"] == [TOKEN]
        codes = [s["code"] for s in orjson.loads(query["query"][0])["data"]["symbol_list"]]
        self.calls.append(codes)
        if any(c not in self.known for c in codes):
            return 200, orjson.dumps({"ret": 600, "msg": "code invalid", "trace": "", "data": {}})
        ticks = [
            {"code": c, "seq": "1", "tick_time": "1751068801000", "price": "10.5", "volume": "1"}
            for c in codes
        ]
        return 200, orjson.dumps({"ret": 200, "msg": "ok", "trace": "", "data": {"tick_list": ticks}})


class NoWait:
    """A stop event whose waits return at once: pacing is asserted, not slept through."""

    def wait(self, seconds: float) -> bool:
        return False


def client(transport, plan="professional") -> AllTickHttp:
    return AllTickHttp("http://127.0.0.1:1", TOKEN, plan_named(plan), transport=transport, stop=NoWait())


def test_a_bad_code_is_isolated_and_the_rest_get_prices():
    server = FakeServer({"A.US", "B.US", "C.US", "D.US"})
    ticks, bad = client(server).trade_ticks(Endpoint.STOCK, ["A.US", "B.US", "BAD.US", "C.US", "D.US"])
    assert {t.code for t in ticks} == {"A.US", "B.US", "C.US", "D.US"} and bad == {"BAD.US": 600}


def test_http_401_is_an_auth_error_without_the_token():
    with pytest.raises(AuthError) as info:
        client(FakeServer(set(), [(401, b"")])).trade_ticks(Endpoint.STOCK, ["A.US"])
    assert TOKEN not in str(info.value)


@pytest.mark.parametrize(
    "reply",
    [
        (429, b""),
        (200, b'{"error_msg":"Too many requests"}'),
        (200, b'{"ret":605,"msg":"too many requests"}'),
    ],
    ids=["http-429", "no-ret", "ret-605"],
)
def test_rate_limit_answers_are_retried(reply):
    server = FakeServer({"A.US"}, [reply, reply])
    http = client(server)
    ticks, bad = http.trade_ticks(Endpoint.STOCK, ["A.US"])
    assert [t.code for t in ticks] == ["A.US"] and not bad


def test_network_errors_are_redacted():
    def boom(method, url, body):
        raise OSError(f"cannot reach {url}")

    http = client(boom)
    with pytest.raises(Unreachable) as info:
        http.trade_ticks(Endpoint.STOCK, ["A.US"])
    assert TOKEN not in str(info.value) and "token=***" in str(info.value)


def test_requests_are_chunked_by_the_plan():
    server = FakeServer({f"S{i}.US" for i in range(12)})
    client(server, plan="free").trade_ticks(Endpoint.STOCK, [f"S{i}.US" for i in range(12)])
    assert [len(c) for c in server.calls] == [5, 5, 2]


def test_rate_limiter_spaces_calls_per_bucket():
    now = [100.0]
    limiter = RateLimiter({"query": 10.0, "batch": 1.0}, clock=lambda: now[0])
    assert limiter.reserve("query") == 0.0
    assert limiter.reserve("query") == 10.0
    assert limiter.reserve("batch") == 0.0
    now[0] += 25.0
    assert limiter.reserve("query") == 0.0
