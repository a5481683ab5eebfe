"""The HTTP service, request in and reply out, over any record source (no sockets), and the
benchmark firehose, which serves its synthetic codes through the same service."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import orjson
import pytest

from benchmarks.firehose import Firehose, price_of
from feed.protocol.codec import Tick, tick_from_fields
from feed.protocol.plans import plan_named
from feed.protocol.records import bar_record, bars_from, static_info_from, static_record, trade_record
from feed.sim.faults import HttpFault
from feed.sim.httpd import HttpService, Reply
from feed.symbols import Endpoint

STOCK = "/quote-stock-b-api"
FOREX = "/quote-b-api"


class FakeSource:
    """One stock code, ``X.US``, with fixed records; remembers what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[Any, ...]] = []

    def kline(self, endpoint: Endpoint, code: object, kline_type: int, num: int, now_s: float):
        self.asked.append(("kline", endpoint, code, kline_type, num))
        if endpoint is not Endpoint.STOCK or code != "X.US":
            return None
        return [bar_record(1_700_000_000 + 60 * i, "1", "2", "0.5", "1.5", "10", "15") for i in range(num)]

    def trade_ticks(self, endpoint: Endpoint, codes: list[object]):
        return [
            trade_record("X.US", 7, 1_700_000_000_000, "1.5", "10", "15", 1) for c in codes if c == "X.US"
        ]

    def static_infos(self, endpoint: Endpoint, codes: list[object]):
        return [static_record("X.US", "Ex", "", "USD", "NASDAQ", "USEquity", 1) for c in codes if c == "X.US"]


def service(plan: str = "free", **options: Any) -> tuple[HttpService, FakeSource]:
    source = FakeSource()
    token_ok = options.pop("token_ok", lambda token: token == "tok")
    return HttpService(source, plan=plan_named(plan), token_ok=token_ok, clock=lambda: 1e9, **options), source


def get(svc: HttpService, path: str, data: dict[str, Any], token: str = "tok") -> Reply:
    query = urllib.parse.quote(json.dumps({"trace": "tr", "data": data}))
    return svc.handle("GET", f"{path}?token={token}&query={query}", None)


def body(reply: Reply) -> Any:
    return orjson.loads(reply.body)


def test_routes_come_from_the_protocol_paths() -> None:
    svc, _ = service()
    assert svc.handle("GET", "/nope/kline?token=tok", None).status == 404
    assert get(svc, f"{FOREX}/static_info", {"symbol_list": [{"code": "X.US"}]}).status == 404
    assert svc.handle("GET", f"{STOCK}/batch-kline?token=tok", None).status == 405
    assert svc.handle("POST", f"{STOCK}/kline?token=tok", b"{}").status == 405
    assert svc.requests() == {
        "/nope/kline": 1,
        f"{FOREX}/static_info": 1,
        f"{STOCK}/batch-kline": 1,
        f"{STOCK}/kline": 1,
    }


def test_an_answer_echoes_the_trace_and_round_trips_through_the_client_parsers() -> None:
    svc, source = service()
    reply = get(svc, f"{STOCK}/kline", {"code": "X.US", "kline_type": 1, "query_kline_num": 900})
    answer = body(reply)
    assert (reply.status, answer["ret"], answer["msg"], answer["trace"]) == (200, 200, "ok", "tr")
    assert len(bars_from(answer["data"]["kline_list"])) == 500  # the /kline cap
    assert source.asked[-1] == ("kline", Endpoint.STOCK, "X.US", 1, 500)
    (item,) = body(get(svc, f"{STOCK}/trade-tick", {"symbol_list": [{"code": "X.US"}]}))["data"]["tick_list"]
    assert tick_from_fields(item) == Tick("X.US", 7, 1_700_000_000_000, 1.5, 10.0)
    (info,) = body(get(svc, f"{STOCK}/static_info", {"symbol_list": [{"code": "X.US"}]}))["data"][
        "static_info_list"
    ]
    assert static_info_from(info).name == "Ex"  # type: ignore[union-attr]


def test_unknown_codes_and_bad_requests_get_alltick_codes() -> None:
    svc, _ = service()
    assert body(get(svc, f"{STOCK}/kline", {"code": "Y.US", "kline_type": 8}))["ret"] == 600
    assert body(get(svc, f"{STOCK}/trade-tick", {"symbol_list": [{"code": "Y.US"}]}))["ret"] == 600
    two = body(get(svc, f"{STOCK}/trade-tick", {"symbol_list": [{"code": "Y.US"}, {"code": "X.US"}]}))
    assert (two["ret"], len(two["data"]["tick_list"])) == (200, 1)
    assert body(get(svc, f"{STOCK}/kline", {"code": "X.US", "kline_type": 11}))["ret"] == 400
    assert body(svc.handle("GET", f"{STOCK}/kline?token=tok&query=%7Bx", None))["ret"] == 402
    assert body(svc.handle("POST", f"{STOCK}/batch-kline?token=tok", b" "))["ret"] == 601
    assert get(svc, f"{STOCK}/kline", {"code": "X.US", "kline_type": 8}, token="bad").status == 401


def test_the_plan_caps_codes_and_batch_items() -> None:
    svc, _ = service("free")
    six = {"symbol_list": [{"code": "X.US"}] * 6}
    assert body(get(svc, f"{STOCK}/trade-tick", six))["ret"] == 603
    items = [{"code": "X.US", "kline_type": 8, "query_kline_num": 9}] * 5
    reply = svc.handle(
        "POST", f"{STOCK}/batch-kline?token=tok", orjson.dumps({"trace": "b", "data": {"data_list": items}})
    )
    entries = body(reply)["data"]["kline_list"]
    assert [len(e["kline_data"]) for e in entries] == [2] * 5  # two bars per batch item at most
    too_many = orjson.dumps({"trace": "b", "data": {"data_list": [*items, items[0]]}})
    assert body(svc.handle("POST", f"{STOCK}/batch-kline?token=tok", too_many))["ret"] == 603


@pytest.mark.parametrize(
    ("kind", "status", "answer"),
    [
        ("429", 429, {"ret": 429}),
        ("no_ret", 200, {"error_msg": "Too many requests"}),
        ("605", 200, {"ret": 605}),
    ],
)
def test_an_injected_fault_comes_before_the_token_check_and_is_used_once(kind, status, answer) -> None:
    svc, _ = service()
    svc.fail(HttpFault(kind), 1)
    reply = get(svc, f"{STOCK}/trade-tick", {"symbol_list": [{"code": "X.US"}]}, token="bad")
    assert reply.status == status and answer.items() <= body(reply).items()
    assert get(svc, f"{STOCK}/trade-tick", {"symbol_list": [{"code": "X.US"}]}, token="bad").status == 401


def test_the_rate_limit_is_off_unless_asked() -> None:
    for limited in (False, True):
        svc, _ = service("free", rate_limit=limited)
        replies = [get(svc, f"{STOCK}/kline", {"code": "X.US", "kline_type": 8}) for _ in range(2)]
        assert (body(replies[1]).get("ret") == 200) is not limited


# --- the firehose's seeding answers -----------------------------------------------------


def _http(url: str, data: bytes | None = None) -> tuple[int, Any]:
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_the_firehose_seeds_its_codes_through_the_simulators_http_service() -> None:
    with Firehose(symbols=4, base_ms=1_741_186_800_000) as fh:
        codes = fh.codes
        q = urllib.parse.quote(
            json.dumps({"trace": "f", "data": {"symbol_list": [{"code": c} for c in codes]}})
        )
        status, answer = _http(f"{fh.http_base}{STOCK}/trade-tick?token=bench&query={q}")
        assert (status, answer["ret"], answer["trace"]) == (200, 200, "f")
        ticks = [tick_from_fields(t) for t in answer["data"]["tick_list"]]
        assert ticks == [
            Tick(c, 0, 1_741_186_800_000, float(price_of(i, 0)), 0.0) for i, c in enumerate(codes)
        ]
        items = [{"code": c, "kline_type": 8, "query_kline_num": 2} for c in codes]
        payload = json.dumps({"trace": "b", "data": {"data_list": items}}).encode()
        status, answer = _http(f"{fh.http_base}{STOCK}/batch-kline?token=bench", payload)
        closes = [bars_from(e["kline_data"])[-1].close for e in answer["data"]["kline_list"]]
        assert closes == [round(float(price_of(i, 0)) * 0.99, 3) for i in range(len(codes))]
        q = urllib.parse.quote(json.dumps({"trace": "s", "data": {"symbol_list": [{"code": codes[1]}]}}))
        (info,) = _http(f"{fh.http_base}{STOCK}/static_info?token=bench&query={q}")[1]["data"][
            "static_info_list"
        ]
        assert static_info_from(info).currency == "HKD"  # type: ignore[union-attr]
        assert _http(f"{fh.http_base}/elsewhere")[0] == 404
        assert fh.http_requests() == 4
