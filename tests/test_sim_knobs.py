"""The simulator's records and fault knobs for the feed rebuild: sent ticks, refused and
closed upgrades, attempt counts, fixed ports, minute bars that agree with the stream."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import websocket

import feed.sim.market
from feed.protocol.codec import Tick, decode
from feed.protocol.records import bars_from
from feed.sim import Simulator
from feed.symbols import Endpoint
from tests.test_simulator import (
    FOREX,
    STOCK,
    STOCK_HTTP,
    client,
    drain,
    http_get,
    pushes,
    read_close,
    request,
    response,
    running,
    subscribe,
)


def _upgrade_status(sim: Simulator, path: str = STOCK, token: str = "tok") -> int:
    """The HTTP status of a refused upgrade (101 if it was accepted; the socket is closed)."""
    try:
        ws = websocket.create_connection(f"{sim.ws_base}{path}?token={token}", timeout=3)
    except websocket.WebSocketBadStatusException as exc:
        return exc.status_code
    ws.close(timeout=0.2)
    return 101


# --- sent_ticks ----------------------------------------------------------------------------


def test_sent_ticks_are_exactly_the_new_trades_a_client_received_despite_faults() -> None:
    with running(seed=5, tick_interval=0.01) as sim, client(sim) as ws:
        subscribe(ws, ["AAPL.US"])
        sim.set_faults(garbage_rate=0.3, duplicate_rate=0.3, out_of_order_rate=0.3)
        frames = [ws.recv() for _ in range(150)]
        sim.pause()
        frames += drain(ws, 0.4)
    received: list[tuple[int, str]] = []
    for frame in frames:
        event = decode(frame)
        if isinstance(event, Tick) and (not received or event.seq > received[-1][0]):
            received.append((event.seq, json.loads(frame)["data"]["price"]))
    sent = sim.sent_ticks("AAPL.US")
    assert len(sent) > 20
    assert sent == received
    assert len(frames) > len(sent)  # the faults were there, and none was recorded


def test_push_tick_records_only_new_valid_trades_that_reached_a_subscriber() -> None:
    with running() as sim:
        sim.pause()
        sim.push_tick("AAPL.US", "190.00")  # nobody subscribed: nothing was sent
        assert sim.sent_ticks("AAPL.US") == []
        with client(sim) as ws:
            subscribe(ws, ["AAPL.US"])
            first = sim.push_tick("AAPL.US", "191.25")
            sim.push_tick("AAPL.US", "NaN")  # garbage price
            sim.push_tick("AAPL.US", "189.00", seq=first - 10)  # a stale re-send
            last = sim.push_tick("AAPL.US", "192.5")
            assert len(pushes(ws, 4)) == 4
            assert sim.sent_ticks("AAPL.US") == [(first, "191.25"), (last, "192.5")]
            sim.send_raw('{"cmd_id":22998,"data":{}}')
            assert sim.sent_ticks("AAPL.US") == [(first, "191.25"), (last, "192.5")]


def test_pushes_to_a_stalled_connection_are_not_sent() -> None:
    with running() as sim, client(sim) as ws:
        sim.pause()
        subscribe(ws, ["TSLA.US"])
        sim.stall()
        sim.push_tick("TSLA.US", "250.00")
        assert sim.sent_ticks("TSLA.US") == []
        sim.unstall()
        seq = sim.push_tick("TSLA.US", "251.00")
        assert pushes(ws, 1)[0]["seq"] == str(seq)
        assert sim.sent_ticks("TSLA.US") == [(seq, "251.00")]


def test_sent_ticks_keep_only_the_newest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feed.sim.market, "SENT_KEPT", 3)
    with running() as sim, client(sim) as ws:
        sim.pause()
        subscribe(ws, ["AAPL.US"])
        seqs = [sim.push_tick("AAPL.US", f"{180 + i}.00") for i in range(6)]
        assert [s for s, _ in sim.sent_ticks("AAPL.US")] == seqs[-3:]


# --- the upgrade ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 429, 503])
def test_fail_upgrades_answers_the_status_count_times(status: int) -> None:
    with running() as sim:
        sim.fail_upgrades(status, count=2)
        assert [_upgrade_status(sim) for _ in range(3)] == [status, status, 101]
        assert sim.upgrade_attempts() == 3


def test_fail_upgrades_without_count_lasts_until_accept_upgrades() -> None:
    with running() as sim:
        sim.fail_upgrades(503)
        assert {_upgrade_status(sim, path) for path in (STOCK, FOREX, STOCK)} == {503}
        assert _upgrade_status(sim, "/elsewhere") == 404  # the path rule still comes first
        sim.accept_upgrades()
        with client(sim) as ws:
            assert subscribe(ws, ["AAPL.US"])["ret"] == 200
        assert sim.connection_count() <= 1 and sim.upgrade_attempts() == 5


@pytest.mark.parametrize(("status", "count"), [(200, None), (101, None), (999, None), (503, 0)])
def test_fail_upgrades_rejects_what_is_not_a_refusal(status: int, count: int | None) -> None:
    with pytest.raises(ValueError):
        Simulator().fail_upgrades(status, count)


def test_close_after_upgrade_accepts_then_closes_like_a_plan_cap() -> None:
    with running() as sim:
        sim.close_after_upgrade(True)
        with client(sim) as ws:  # the upgrade itself succeeds (101)
            assert read_close(ws) == (1008, "connection limit")
        assert sim.connection_count() == 0 and sim.upgrade_attempts() == 1
        sim.close_after_upgrade(True, code=None)
        with client(sim, FOREX) as ws:
            assert read_close(ws) is None  # dropped without a close frame
        sim.close_after_upgrade(False)
        with client(sim) as ws:
            request(ws, 22000, {})
            assert response(ws)["ret"] == 200
            assert sim.connection_count() == 1
        assert sim.upgrade_attempts() == 3


def test_upgrade_attempts_count_refused_and_over_cap_upgrades() -> None:
    with running(plan="free", token="right") as sim:
        assert _upgrade_status(sim, token="wrong") == 401
        assert _upgrade_status(sim, "/nope", token="right") == 404
        with client(sim, token="right"):
            assert sim.wait_connections(1, 2)
            with client(sim, token="right") as extra:
                assert read_close(extra) == (1008, "connection limit")
            with client(sim, FOREX, token="right"):
                pass
        assert sim.upgrade_attempts() == 5
        assert sim.upgrade_attempts(Endpoint.STOCK) == 3
        assert sim.upgrade_attempts(Endpoint.FOREX) == 1
        assert sim.connection_count() == 0 or sim.wait_connections(0, 2)


# --- ports ---------------------------------------------------------------------------------------


def test_a_new_simulator_binds_the_ports_of_a_stopped_one() -> None:
    first = Simulator(seed=1, min_request_interval=0).start()
    try:
        with client(first) as ws:
            subscribe(ws, ["AAPL.US"])
            pushes(ws, 1)
            ports = (first.ws_port, first.http_port)
    finally:
        first.stop()  # the server closed sockets: its side of them sits in TIME_WAIT
    with Simulator(seed=2, ws_port=ports[0], http_port=ports[1], min_request_interval=0) as second:
        assert (second.ws_port, second.http_port) == ports
        with client(second) as ws:
            assert subscribe(ws, ["AAPL.US"])["ret"] == 200
        assert http_get(second, f"{STOCK_HTTP}/trade-tick", {"symbol_list": [{"code": "AAPL.US"}]})[0] == 200


def test_a_restarted_simulator_comes_back_on_its_ports_with_its_market() -> None:
    sim = Simulator(seed=3, min_request_interval=0)
    with sim, client(sim) as ws:
        sim.pause()
        subscribe(ws, ["700.HK"])
        seq = sim.push_tick("700.HK", "420.2")
        pushes(ws, 1)
        ports = (sim.ws_port, sim.http_port)
    with sim:
        assert (sim.ws_port, sim.http_port) == ports
        assert sim.last_seq("700.HK") == seq and sim.last_price("700.HK") == "420.200000"
        assert sim.sent_ticks("700.HK") == [(seq, "420.2")]
        with client(sim) as ws:
            subscribe(ws, ["700.HK"])
            assert sim.push_tick("700.HK", "420.4") == seq + 1
            assert pushes(ws, 1)[0]["seq"] == str(seq + 1)


# --- minute bars -------------------------------------------------------------------------------


def test_minute_bars_are_the_trades_then_flat_and_end_at_the_last_price() -> None:
    now = [datetime(2025, 3, 5, 15, 7, 42, tzinfo=UTC).timestamp()]
    with running(clock=lambda: now[0]) as sim, client(sim) as ws:
        sim.pause()
        sim.set_quote("AAPL.US", "200.00", "198.00")
        subscribe(ws, ["AAPL.US"])
        for price in ("200.50", "201.75", "199.80", "200.90"):
            sim.push_tick("AAPL.US", price, volume="10")
        now[0] += 180  # three minutes on, no trade since
        bars = sim.minute_bars("AAPL.US", 10)
        query = {"code": "AAPL.US", "kline_type": 1, "query_kline_num": 10}
        assert bars_from(http_get(sim, f"{STOCK_HTTP}/kline", query)[1]["data"]["kline_list"]) == bars
        assert sim.sent_ticks("AAPL.US")[-1] == (sim.last_seq("AAPL.US"), "200.90")
    traded = bars[-4]
    assert traded.time_s == int(datetime(2025, 3, 5, 15, 7, tzinfo=UTC).timestamp())
    assert (traded.open, traded.high, traded.low, traded.close, traded.volume) == (
        200.0,
        201.75,
        199.8,
        200.9,
        40,
    )
    assert [(b.open, b.high, b.low, b.close, b.volume) for b in bars[-3:]] == [
        (200.9, 200.9, 200.9, 200.9, 0)
    ] * 3
    assert bars[0].open == 198.0  # the minutes before the tape bridge from the previous close
    assert all(b.low <= min(b.open, b.close) and b.high >= max(b.open, b.close) for b in bars)


def test_five_minute_bars_fold_the_same_trades() -> None:
    now = [datetime(2025, 3, 5, 15, 6, 10, tzinfo=UTC).timestamp()]
    with running(clock=lambda: now[0]) as sim:
        sim.pause()
        sim.set_quote("MSFT.US", "400.00", "398.00")
        sim.push_tick("MSFT.US", "401.00", volume="5")
        now[0] += 60
        sim.push_tick("MSFT.US", "399.00", volume="5")
        query = {"code": "MSFT.US", "kline_type": 2, "query_kline_num": 3}
        bars = bars_from(http_get(sim, f"{STOCK_HTTP}/kline", query)[1]["data"]["kline_list"])
    last = bars[-1]
    assert last.time_s == int(datetime(2025, 3, 5, 15, 5, tzinfo=UTC).timestamp())
    assert (last.open, last.high, last.low, last.close, last.volume) == (400.0, 401.0, 399.0, 399.0, 10)
