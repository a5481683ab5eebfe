"""The loopback AllTick simulator speaks the protocol the client expects, faults included.

Driven with the same libraries as the app (websocket-client, urllib) so these tests
also prove the simulator is usable by the real client code.
"""

from __future__ import annotations

import itertools
import json
import logging
import struct
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import websocket

from feed.protocol.codec import Rejected, Tick, decode
from feed.sim import Simulator
from feed.symbols import Market, parse_symbol
from feed.universe import DUAL_LISTED, UNIVERSE, round_to_tick

STOCK = "/quote-stock-b-ws-api"
FOREX = "/quote-b-ws-api"
STOCK_HTTP = "/quote-stock-b-api"
FOREX_HTTP = "/quote-b-api"


# --- helpers ---------------------------------------------------------------------------


@contextmanager
def running(**options: Any) -> Iterator[Simulator]:
    defaults: dict[str, Any] = {"seed": 1, "tick_interval": 0.05, "min_request_interval": 0.0}
    with Simulator(**(defaults | options)) as sim:
        yield sim


@contextmanager
def client(sim: Simulator, path: str = STOCK, token: str = "tok") -> Iterator[websocket.WebSocket]:
    ws = websocket.create_connection(
        f"{sim.ws_base}{path}?token={token}", skip_utf8_validation=True, timeout=3
    )
    try:
        yield ws
    finally:
        ws.close(timeout=0.2)


def request(ws: websocket.WebSocket, cmd_id: int, data: dict[str, Any], seq_id: int = 1) -> None:
    ws.send(json.dumps({"cmd_id": cmd_id, "seq_id": seq_id, "trace": f"t-{seq_id}", "data": data}))


def response(ws: websocket.WebSocket) -> dict[str, Any]:
    """The next answer to a request, skipping pushes in between."""
    while True:
        msg = json.loads(ws.recv())
        if "ret" in msg:
            return msg


def subscribe(ws: websocket.WebSocket, codes: list[str], seq_id: int = 1) -> dict[str, Any]:
    request(ws, 22004, {"symbol_list": [{"code": c} for c in codes]}, seq_id)
    return response(ws)


def pushes(ws: websocket.WebSocket, n: int, timeout: float = 3.0) -> list[dict[str, Any]]:
    """The data of the next ``n`` 22998 pushes."""
    out: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(out) < n and time.monotonic() < deadline:
        msg = json.loads(ws.recv())
        if msg.get("cmd_id") == 22998:
            out.append(msg["data"])
    assert len(out) == n, f"only {len(out)} of {n} pushes"
    return out


def drain(ws: websocket.WebSocket, quiet: float = 0.3) -> list[str]:
    """Read frames until none arrives for ``quiet`` seconds."""
    frames: list[str] = []
    ws.settimeout(quiet)
    try:
        while True:
            frames.append(ws.recv())
    except websocket.WebSocketTimeoutException:
        pass
    finally:
        ws.settimeout(3)
    return frames


def read_close(ws: websocket.WebSocket, timeout: float = 3.0) -> tuple[int, str] | None:
    """The close frame's (code, reason), or None when the socket died without one."""
    ws.settimeout(timeout)
    try:
        while True:
            opcode, frame = ws.recv_data_frame(control_frame=True)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                data = frame.data
                return struct.unpack("!H", data[:2])[0], data[2:].decode()
    except (websocket.WebSocketConnectionClosedException, ConnectionError):
        return None


def http_get(sim: Simulator, path: str, data: dict[str, Any], token: str = "tok") -> tuple[int, Any]:
    query = urllib.parse.quote(json.dumps({"trace": "tr-1", "data": data}))
    return _http(urllib.request.Request(f"{sim.http_base}{path}?token={token}&query={query}"))


def http_post(sim: Simulator, path: str, body: bytes, token: str = "tok") -> tuple[int, Any]:
    req = urllib.request.Request(
        f"{sim.http_base}{path}?token={token}",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    return _http(req)


def _http(req: urllib.request.Request) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(req, timeout=3) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw.startswith(b"{") else raw


def batch_body(items: list[tuple[str, int]], num: int = 2) -> bytes:
    data_list = [
        {"code": c, "kline_type": k, "kline_timestamp_end": 0, "query_kline_num": num, "adjust_type": 0}
        for c, k in items
    ]
    return json.dumps({"trace": "bk", "data": {"data_list": data_list}}).encode()


def local_midnight(day: date, market: Market) -> str:
    return str(int(datetime(day.year, day.month, day.day, tzinfo=market.tz).timestamp()))


# --- static data -------------------------------------------------------------------------


def test_universe_codes_are_canonical_and_cover_the_seed_article() -> None:
    assert len([i for i in UNIVERSE.values() if i.market in (Market.US, Market.HK)]) >= 60
    for code, inst in UNIVERSE.items():
        sym = parse_symbol(code)
        assert (sym.code, sym.market) == (code, inst.market)
        assert round_to_tick(inst, inst.price) > 0
    for code in ("AAPL.US", "TSLA.US", "700.HK", "9988.HK", "600519.SH", "USDHKD", "Silver", "BTCUSDT"):
        assert code in UNIVERSE
    assert ("BABA.US", "9988.HK", 8) in DUAL_LISTED
    for us, hk, ratio in DUAL_LISTED:
        implied = UNIVERSE[hk].price * ratio / Decimal("7.78")
        assert abs(UNIVERSE[us].price / implied - 1) < Decimal("0.01")


def test_hk_prices_sit_on_the_hkex_spread_table() -> None:
    tencent = UNIVERSE["700.HK"]
    assert round_to_tick(tencent, Decimal("418.73")) == Decimal("418.800000")
    assert round_to_tick(UNIVERSE["1398.HK"], Decimal("5.527")) == Decimal("5.530000")
    assert round_to_tick(UNIVERSE["USDJPY"], Decimal("149.82345")) == Decimal("149.823")


# --- WebSocket: subscriptions and pushes -------------------------------------------------


def test_subscribe_replaces_the_previous_tick_set() -> None:
    with running() as sim, client(sim) as ws:
        assert subscribe(ws, ["AAPL.US", "700.HK"])["ret"] == 200
        assert list(sim.subscriptions().values()) == [["AAPL.US", "700.HK"]]
        answer = subscribe(ws, ["TSLA.US"], seq_id=2)
        assert answer == {"ret": 200, "msg": "ok", "cmd_id": 22005, "seq_id": 2, "trace": "t-2", "data": {}}
        assert list(sim.subscriptions().values()) == [["TSLA.US"]]
        assert {p["code"] for p in pushes(ws, 6)} == {"TSLA.US"}


def test_pushes_arrive_only_for_subscribed_codes_with_string_ids() -> None:
    with running() as sim, client(sim) as ws:
        subscribe(ws, ["AAPL.US", "9988.HK"])
        got = pushes(ws, 20)
        assert {p["code"] for p in got} <= {"AAPL.US", "9988.HK"}
        for p in got:
            assert isinstance(p["seq"], str) and isinstance(p["tick_time"], str)
            assert len(p["tick_time"]) == 13 and p["trade_direction"] in (0, 1, 2)
            assert isinstance(decode(json.dumps({"cmd_id": 22998, "data": p})), Tick)
            assert len(p["price"].split(".")[1]) == 6
        for code in ("AAPL.US", "9988.HK"):
            seqs = [int(p["seq"]) for p in got if p["code"] == code]
            assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def test_integer_ids_mode_emits_json_integers() -> None:
    with running(integer_ids=True) as sim, client(sim) as ws:
        subscribe(ws, ["AAPL.US"])
        p = pushes(ws, 1)[0]
        assert isinstance(p["seq"], int) and isinstance(p["tick_time"], int)


def test_codes_over_the_free_plan_cap_are_silently_ignored() -> None:
    codes = ["AAPL.US", "MSFT.US", "NVDA.US", "AMZN.US", "GOOGL.US", "META.US", "TSLA.US"]
    with running(plan="free") as sim, client(sim) as ws:
        assert subscribe(ws, codes)["ret"] == 200
        assert list(sim.subscriptions().values()) == [codes[:5]]


def test_unknown_or_wrong_endpoint_code_answers_600_and_keeps_the_valid_ones() -> None:
    with running() as sim, client(sim) as stock, client(sim, FOREX) as fx:
        answer = subscribe(stock, ["AAPL.US", "NOPE.US", "BTCUSDT", "700.HK"])
        assert (answer["ret"], answer["msg"]) == (600, "code invalid")
        answer = subscribe(fx, ["EURUSD", "AAPL.US"])
        assert answer["ret"] == 600
        assert sorted(sim.subscriptions().values()) == [["AAPL.US", "700.HK"], ["EURUSD"]]
        assert {p["code"] for p in pushes(fx, 3)} == {"EURUSD"}
        assert len(pushes(fx, 1)[0]["price"].split(".")[1]) == 5


def test_cancel_clears_the_tick_set_and_depth_is_acknowledged() -> None:
    with running() as sim, client(sim) as ws:
        subscribe(ws, ["AAPL.US"])
        request(ws, 22002, {"symbol_list": [{"code": "700.HK", "depth_level": 5}]}, 2)
        assert response(ws)["cmd_id"] == 22003
        request(ws, 22006, {"cancel_type": 2}, 3)
        answer = response(ws)
        assert (answer["cmd_id"], answer["ret"]) == (22007, 200)
        assert list(sim.subscriptions().values()) == [[]]
        drain(ws, 0.1)
        assert not [f for f in drain(ws, 0.4) if '"cmd_id":22998' in f]


def test_malformed_request_gets_the_codec_400() -> None:
    with running() as sim, client(sim) as ws:
        ws.send('{"cmd_id":22000,"seq_id":1,"trace":"x","data":[]}')
        assert response(ws) == {
            "ret": 400,
            "msg": "request header param invalid",
            "cmd_id": 0,
            "seq_id": 0,
            "trace": "",
            "data": {},
        }
        ws.send("not json")
        assert response(ws)["ret"] == 400


def test_push_tick_reaches_subscribers_and_moves_the_last_price() -> None:
    with running() as sim, client(sim) as ws:
        sim.set_quote("AAPL.US", "190.50", "188.00")
        subscribe(ws, ["AAPL.US"])
        seq = sim.push_tick("AAPL.US", "191.25", time_ms=1_700_000_000_000, volume="300")
        p = pushes(ws, 1)[0]
        assert p == {
            "code": "AAPL.US",
            "seq": str(seq),
            "tick_time": "1700000000000",
            "price": "191.25",
            "volume": "300",
            "turnover": "57375.000000",
            "trade_direction": 0,
        }
        assert sim.last_price("AAPL.US") == "191.250000" and sim.last_seq("AAPL.US") == seq
        sim.push_tick("AAPL.US", "NaN", seq=seq + 5)
        assert pushes(ws, 1)[0]["price"] == "NaN"
        assert sim.last_price("AAPL.US") == "191.250000" and sim.last_seq("AAPL.US") == seq + 5


def test_send_raw_reaches_every_connection() -> None:
    with running() as sim, client(sim) as a, client(sim, FOREX) as b:
        assert sim.wait_connections(2, 2)
        sim.send_raw("garbage{")
        for ws in (a, b):
            assert ws.recv() == "garbage{"


def test_same_seed_gives_the_same_prices() -> None:
    def run(seed: int) -> tuple[str, list[str]]:
        sim = Simulator(seed=seed, tick_interval=0.02, min_request_interval=0)
        sim.pause()
        with sim, client(sim) as ws:
            first = sim.last_price("700.HK")
            subscribe(ws, ["700.HK"])
            sim.resume()
            return first, [p["price"] for p in pushes(ws, 8)]

    first = run(11)
    assert run(11) == first
    assert run(12) != first


# --- WebSocket: auth, limits, pacing, heartbeat ----------------------------------------


def test_bad_token_is_refused_with_401_on_upgrade_and_on_http() -> None:
    with running(token="right") as sim:
        with pytest.raises(websocket.WebSocketBadStatusException) as err:
            websocket.create_connection(f"{sim.ws_base}{STOCK}?token=wrong", timeout=3)
        assert err.value.status_code == 401
        with pytest.raises(websocket.WebSocketBadStatusException) as err:
            websocket.create_connection(f"{sim.ws_base}{STOCK}", timeout=3)
        assert err.value.status_code == 401
        status, body = http_get(
            sim, f"{STOCK_HTTP}/trade-tick", {"symbol_list": [{"code": "AAPL.US"}]}, "wrong"
        )
        assert status == 401 and body["ret"] == 401
        with client(sim, token="right") as ws:
            assert subscribe(ws, ["AAPL.US"])["ret"] == 200


def test_reject_token_simulates_an_expired_token_until_accept_token() -> None:
    with running() as sim:
        sim.reject_token()
        with pytest.raises(websocket.WebSocketBadStatusException) as err:
            websocket.create_connection(f"{sim.ws_base}{FOREX}?token=tok", timeout=3)
        assert err.value.status_code == 401
        assert http_get(sim, f"{FOREX_HTTP}/trade-tick", {"symbol_list": [{"code": "GOLD"}]})[0] == 401
        sim.accept_token()
        assert http_get(sim, f"{FOREX_HTTP}/trade-tick", {"symbol_list": [{"code": "GOLD"}]})[0] == 200


def test_wrong_path_is_refused_with_404() -> None:
    with running() as sim, pytest.raises(websocket.WebSocketBadStatusException) as err:
        websocket.create_connection(f"{sim.ws_base}/quote-ws?token=tok", timeout=3)
    assert err.value.status_code == 404


def test_connection_over_the_plan_cap_is_closed_with_1008() -> None:
    with running(plan="free") as sim, client(sim) as first:
        assert sim.wait_connections(1, 2)
        with client(sim) as extra:
            assert read_close(extra) == (1008, "connection limit")
        with client(sim, FOREX) as fx:  # the forex group has its own slot
            request(fx, 22000, {})
            assert response(fx)["cmd_id"] == 22001
            assert sim.connection_count() == 2
        assert subscribe(first, ["AAPL.US"])["ret"] == 200


def test_silent_connection_is_closed_after_the_heartbeat_timeout() -> None:
    with running(heartbeat_timeout=1.5) as sim, client(sim) as silent, client(sim) as alive:
        started = time.monotonic()
        for i in range(5):
            request(alive, 22000, {}, seq_id=i)
            assert response(alive)["ret"] == 200
            time.sleep(0.4)
        assert read_close(silent) == (1000, "heartbeat timeout")
        assert 1.5 <= time.monotonic() - started < 3.5
        assert sim.wait_connections(1, 2)


def test_pacing_violation_gets_605_then_606_and_close() -> None:
    with running(min_request_interval=1.0) as sim, client(sim) as ws:
        assert subscribe(ws, ["AAPL.US"])["ret"] == 200
        request(ws, 22000, {}, 2)  # a heartbeat inside the window is just answered
        assert response(ws)["ret"] == 200
        assert subscribe(ws, ["TSLA.US"], 3)["ret"] == 605
        assert list(sim.subscriptions().values()) == [["AAPL.US"]]
        answer = subscribe(ws, ["TSLA.US"], 4)
        assert (answer["ret"], answer["cmd_id"]) == (606, 22005)
        assert read_close(ws) == (1008, "too many requests")
        assert sim.wait_connections(0, 2)


def test_paced_requests_are_served() -> None:
    with running(min_request_interval=0.3) as sim, client(sim) as ws:
        assert subscribe(ws, ["AAPL.US"])["ret"] == 200
        time.sleep(0.35)
        assert subscribe(ws, ["TSLA.US"], 2)["ret"] == 200
        assert list(sim.subscriptions().values()) == [["TSLA.US"]]


# --- WebSocket: fault knobs ------------------------------------------------------------


def test_drop_connections_closes_sockets_without_a_close_frame() -> None:
    with running() as sim, client(sim) as ws:
        subscribe(ws, ["AAPL.US"])
        sim.drop_connections()
        assert read_close(ws) is None
        assert sim.wait_connections(0, 2)


def test_close_connections_sends_a_clean_close_frame() -> None:
    with running() as sim, client(sim) as ws:
        assert sim.wait_connections(1, 2)
        sim.close_connections(code=1012)
        assert read_close(ws) == (1012, "")
        assert sim.wait_connections(0, 2)


def test_stall_sends_nothing_until_unstall_while_new_connections_work() -> None:
    with running() as sim, client(sim) as ws:
        subscribe(ws, ["AAPL.US", "TSLA.US"])
        pushes(ws, 2)
        sim.stall()
        drain(ws, 0.2)  # frames already on the wire
        request(ws, 22000, {}, 2)
        assert drain(ws, 0.6) == []
        assert sim.connection_count() == 1
        with client(sim) as fresh:
            request(fresh, 22000, {})
            assert response(fresh)["ret"] == 200
        sim.unstall()
        assert len(pushes(ws, 3)) == 3
        sim.stall(seconds=0.5)
        drain(ws, 0.1)
        assert len(pushes(ws, 3, timeout=3)) == 3


def test_faults_mix_duplicates_stale_pushes_and_garbage_into_the_stream() -> None:
    with running(seed=3, tick_interval=0.01) as sim, client(sim) as ws:
        subscribe(ws, ["AAPL.US"])
        sim.set_faults(garbage_rate=0.3, duplicate_rate=0.3, out_of_order_rate=0.3)
        frames = [ws.recv() for _ in range(80)]
    events = [decode(f) for f in frames]
    assert any(isinstance(e, Rejected) for e in events)
    ticks = [e for e in events if isinstance(e, Tick)]
    assert any(a == b for a, b in itertools.pairwise(frames) if '"cmd_id":22998' in a)
    newest = 0
    stale = 0
    for t in ticks:
        stale += t.seq < newest
        newest = max(newest, t.seq)
    assert stale > 0


# --- HTTP -------------------------------------------------------------------------------


def test_daily_bars_show_set_quote_previous_close_at_local_midnights() -> None:
    monday = datetime(2025, 3, 3, 15, 0, tzinfo=UTC).timestamp()  # 23:00 in Hong Kong
    with running(clock=lambda: monday) as sim:
        sim.set_quote("700.HK", "420.40", "415.20")
        status, body = http_get(
            sim,
            f"{STOCK_HTTP}/kline",
            {
                "code": "700.HK",
                "kline_type": 8,
                "kline_timestamp_end": 0,
                "query_kline_num": 2,
                "adjust_type": 0,
            },
        )
    assert status == 200 and (body["ret"], body["msg"], body["trace"]) == (200, "ok", "tr-1")
    data = body["data"]
    assert (data["code"], data["kline_type"]) == ("700.HK", 8)
    prev, today = data["kline_list"]
    assert prev["timestamp"] == local_midnight(date(2025, 2, 28), Market.HK)  # Friday
    assert today["timestamp"] == local_midnight(date(2025, 3, 3), Market.HK)
    assert prev["close_price"] == "415.200000" and today["close_price"] == "420.400000"
    for bar in (prev, today):
        assert set(bar) == {
            "timestamp",
            "open_price",
            "close_price",
            "high_price",
            "low_price",
            "volume",
            "turnover",
        }
        assert all(isinstance(v, str) for v in bar.values())
        lo, hi = Decimal(bar["low_price"]), Decimal(bar["high_price"])
        assert lo <= Decimal(bar["open_price"]) <= hi and lo <= Decimal(bar["close_price"]) <= hi


def test_one_minute_bars_ascend_and_end_at_the_last_price() -> None:
    now = datetime(2025, 3, 5, 15, 7, 42, tzinfo=UTC).timestamp()
    query = {
        "code": "AAPL.US",
        "kline_type": 1,
        "kline_timestamp_end": 0,
        "query_kline_num": 30,
        "adjust_type": 0,
    }
    with running(clock=lambda: now) as sim:
        sim.set_quote("AAPL.US", "201.19", "199.50")
        status, body = http_get(sim, f"{STOCK_HTTP}/kline", query)
        assert status == 200 and body["ret"] == 200
        bars = body["data"]["kline_list"]
        assert len(bars) == 30
        stamps = [int(b["timestamp"]) for b in bars]
        assert stamps[-1] == int(now) // 60 * 60
        assert {b - a for a, b in itertools.pairwise(stamps)} == {60}
        assert bars[-1]["close_price"] == "201.190000" and bars[0]["open_price"] == "199.500000"
        for bar in bars:
            lo, hi = Decimal(bar["low_price"]), Decimal(bar["high_price"])
            assert lo <= Decimal(bar["open_price"]) <= hi and lo <= Decimal(bar["close_price"]) <= hi
        assert http_get(sim, f"{STOCK_HTTP}/kline", query)[1]["data"]["kline_list"] == bars
        query["query_kline_num"] = 900
        assert len(http_get(sim, f"{STOCK_HTTP}/kline", query)[1]["data"]["kline_list"]) == 500


def test_kline_for_an_unknown_or_wrong_base_code_answers_600() -> None:
    with running() as sim:
        for path, code in ((f"{STOCK_HTTP}/kline", "00700.HK"), (f"{FOREX_HTTP}/kline", "AAPL.US")):
            status, body = http_get(sim, path, {"code": code, "kline_type": 8, "query_kline_num": 2})
            assert (status, body["ret"], body["msg"]) == (200, 600, "code invalid")


def test_trade_tick_returns_last_prices_and_leaves_unknown_codes_out() -> None:
    with running() as sim:
        sim.set_quote("TSLA.US", "250.10", "245.00")
        codes = [{"code": "TSLA.US"}, {"code": "NOPE.US"}, {"code": "700.HK"}]
        status, body = http_get(sim, f"{STOCK_HTTP}/trade-tick", {"symbol_list": codes})
        assert status == 200 and body["ret"] == 200
        ticks = body["data"]["tick_list"]
        assert [t["code"] for t in ticks] == ["TSLA.US", "700.HK"]
        assert ticks[0]["price"] == "250.100000"
        for t in ticks:
            assert isinstance(t["seq"], str) and isinstance(t["tick_time"], str)
            assert isinstance(t["trade_direction"], int)
        single = http_get(sim, f"{STOCK_HTTP}/trade-tick", {"symbol_list": [{"code": "NOPE.US"}]})[1]
        assert single["ret"] == 600
        fx = http_get(sim, f"{FOREX_HTTP}/trade-tick", {"symbol_list": [{"code": "USDJPY"}]})[1]
        assert fx["data"]["tick_list"][0]["price"].count(".") == 1
        assert len(fx["data"]["tick_list"][0]["price"].split(".")[1]) == 3


def test_batch_kline_answers_in_request_order_and_enforces_the_plan() -> None:
    with running(plan="free") as sim:
        sim.set_quote("9988.HK", "101.30", "99.80")
        status, body = http_post(
            sim, f"{STOCK_HTTP}/batch-kline", batch_body([("9988.HK", 8), ("AAPL.US", 8)], 5)
        )
        assert status == 200 and (body["ret"], body["trace"]) == (200, "bk")
        entries = body["data"]["kline_list"]
        assert [(e["code"], e["kline_type"]) for e in entries] == [("9988.HK", 8), ("AAPL.US", 8)]
        assert [len(e["kline_data"]) for e in entries] == [2, 2]
        assert entries[0]["kline_data"][0]["close_price"] == "99.800000"
        too_many = batch_body(
            [(c, 8) for c in ("AAPL.US", "MSFT.US", "NVDA.US", "AMZN.US", "META.US", "V.US")]
        )
        assert http_post(sim, f"{STOCK_HTTP}/batch-kline", too_many)[1]["ret"] == 603
        assert http_post(sim, f"{STOCK_HTTP}/batch-kline", b"")[1]["ret"] == 601


def test_static_info_describes_stocks_only_on_the_stock_base() -> None:
    with running() as sim:
        status, body = http_get(sim, f"{STOCK_HTTP}/static_info", {"symbol_list": [{"code": "700.HK"}]})
        assert status == 200
        (info,) = body["data"]["static_info_list"]
        assert info["symbol"] == "700.HK" and info["name_en"] == "Tencent Holdings Ltd."
        assert (info["currency"], info["exchange"], info["lot_size"]) == ("HKD", "SEHK", "100")
        assert all(isinstance(v, str) for v in info.values())
        assert http_get(sim, f"{FOREX_HTTP}/static_info", {"symbol_list": [{"code": "GOLD"}]})[0] == 404


def test_http_faults_fail_the_next_requests_then_recover_and_are_counted() -> None:
    data = {"symbol_list": [{"code": "AAPL.US"}]}
    with running() as sim:
        sim.fail_http("429")
        sim.fail_http("no_ret")
        sim.fail_http("605")
        assert http_get(sim, f"{STOCK_HTTP}/trade-tick", data)[0] == 429
        assert http_get(sim, f"{STOCK_HTTP}/trade-tick", data) == (200, {"error_msg": "Too many requests"})
        assert http_get(sim, f"{STOCK_HTTP}/trade-tick", data)[1]["ret"] == 605
        assert http_get(sim, f"{STOCK_HTTP}/trade-tick", data)[1]["ret"] == 200
        assert sim.http_requests() == {f"{STOCK_HTTP}/trade-tick": 4}


def test_http_rate_limit_follows_the_plan_when_enabled() -> None:
    data = {"code": "AAPL.US", "kline_type": 8, "query_kline_num": 2}
    with running(plan="free", http_rate_limit=True) as sim:
        assert http_get(sim, f"{STOCK_HTTP}/kline", data)[1]["ret"] == 200
        assert http_get(sim, f"{STOCK_HTTP}/kline", data) == (200, {"error_msg": "Too many requests"})
        assert (
            http_get(sim, f"{STOCK_HTTP}/trade-tick", {"symbol_list": [{"code": "AAPL.US"}]})[1]["ret"] == 200
        )


def test_http_query_errors_use_alltick_codes() -> None:
    with running() as sim:
        url = f"{sim.http_base}{STOCK_HTTP}/kline?token=tok&query=%7Bnot-json"
        assert _http(urllib.request.Request(url))[1]["ret"] == 402
        assert _http(urllib.request.Request(f"{sim.http_base}{STOCK_HTTP}/kline?token=tok"))[1]["ret"] == 402
        assert http_get(sim, f"{STOCK_HTTP}/kline", {"code": "AAPL.US"})[1]["ret"] == 400
        assert _http(urllib.request.Request(f"{sim.http_base}/nope?token=tok"))[0] == 404


# --- sessions and lifecycle -------------------------------------------------------------


def test_real_sessions_silence_closed_markets_but_not_crypto() -> None:
    saturday = datetime(2025, 3, 8, 15, 0, tzinfo=UTC).timestamp()
    with (
        running(sessions="real", clock=lambda: saturday) as sim,
        client(sim) as stock,
        client(sim, FOREX) as fx,
    ):
        subscribe(stock, ["AAPL.US", "700.HK"])
        subscribe(fx, ["BTCUSDT", "EURUSD"])
        assert {p["code"] for p in pushes(fx, 5)} == {"BTCUSDT"}
        assert not [f for f in drain(stock, 0.5) if '"cmd_id":22998' in f]
    wednesday_open = (datetime(2025, 3, 5, 15, 0, tzinfo=UTC) + timedelta(minutes=1)).timestamp()
    with running(sessions="real", clock=lambda: wednesday_open) as sim, client(sim) as stock:
        subscribe(stock, ["AAPL.US"])
        assert pushes(stock, 2)[0]["code"] == "AAPL.US"


def test_stop_leaves_no_threads_alive() -> None:
    before = set(threading.enumerate())
    sim = Simulator(seed=2, tick_interval=0.05, min_request_interval=0).start()
    ws = websocket.create_connection(f"{sim.ws_base}{STOCK}?token=tok", timeout=3)
    subscribe(ws, ["AAPL.US"])
    http_get(sim, f"{STOCK_HTTP}/trade-tick", {"symbol_list": [{"code": "AAPL.US"}]})
    started = time.monotonic()
    sim.stop()  # the client never answers the close frame: stop must not wait for it
    assert time.monotonic() - started < 2.0
    assert [t.name for t in set(threading.enumerate()) - before] == []
    ws.close(timeout=0.1)
    with pytest.raises(RuntimeError, match="not started"):
        _ = Simulator().ws_base


def test_the_token_never_appears_in_the_simulator_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "tok-0123456789abcdef-SECRET"
    with running(token=secret) as sim:
        with client(sim, token=secret) as ws:
            subscribe(ws, ["AAPL.US"])
        with pytest.raises(websocket.WebSocketBadStatusException):
            websocket.create_connection(f"{sim.ws_base}{STOCK}?token={secret}x", timeout=3)
        http_get(sim, f"{STOCK_HTTP}/trade-tick", {"symbol_list": [{"code": "AAPL.US"}]}, secret)
    assert "token=***" in caplog.text
    assert "SECRET" not in caplog.text
