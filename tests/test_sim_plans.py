"""The simulator enforces the client's own plan table and answers in the client's own records.

One source of truth: every limit checked here is read from ``feed.protocol.plans`` and
every HTTP answer is parsed with ``feed.protocol.records``/``feed.protocol.codec``, the
functions the client uses. A copy of either drifting inside the simulator fails here.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from datetime import date

import pytest

from feed.protocol.codec import Tick, decode, tick_from_fields
from feed.protocol.plans import PLANS, plan_named
from feed.protocol.records import StaticInfo, bars_from, static_info_from
from feed.sim.ratelimit import HttpRateLimiter, Limited
from feed.sim.ws import cap_codes
from feed.symbols import Endpoint
from feed.universe import UNIVERSE
from tests.test_simulator import (
    STOCK_HTTP,
    batch_body,
    client,
    http_get,
    http_post,
    pushes,
    read_close,
    running,
    subscribe,
)

PLAN_NAMES = sorted(PLANS)
STOCK_CODES = [c for c, i in UNIVERSE.items() if i.market.endpoint is Endpoint.STOCK]


def _symbols(n: int) -> list[dict[str, str]]:
    """``n`` symbol_list items (codes repeat: the cap counts items, as the server's does)."""
    return [{"code": STOCK_CODES[i % len(STOCK_CODES)]} for i in range(n)]


# --- WebSocket limits ------------------------------------------------------------------


@pytest.mark.parametrize("name", PLAN_NAMES)
def test_connection_cap_is_the_plans_max_connections(name: str) -> None:
    cap = plan_named(name).max_connections
    with running(plan=name) as sim, ExitStack() as stack:
        for _ in range(cap):
            stack.enter_context(client(sim))
        assert sim.wait_connections(cap, 3)
        with client(sim) as extra:
            assert read_close(extra) == (1008, "connection limit")
        assert sim.connection_count() == cap
        assert sim.upgrade_attempts() == cap + 1


@pytest.mark.parametrize("name", PLAN_NAMES)
def test_subscription_keeps_the_first_max_codes(name: str) -> None:
    """All 89 stock codes of the universe: free keeps 5, every other plan all of them."""
    cap = plan_named(name).max_codes
    with running(plan=name) as sim, client(sim) as ws:
        assert subscribe(ws, STOCK_CODES)["ret"] == 200
        assert list(sim.subscriptions().values()) == [STOCK_CODES[:cap]]


@pytest.mark.parametrize("name", PLAN_NAMES)
def test_the_subscription_cap_cuts_at_max_codes_beyond_the_universe(name: str) -> None:
    cap = plan_named(name).max_codes
    items = [{"code": f"C{i}.US"} for i in range(cap + 7)]
    codes, invalid = cap_codes(items, lambda code: True, cap)
    assert codes == [f"C{i}.US" for i in range(cap)] and not invalid


# --- HTTP limits -------------------------------------------------------------------------


@pytest.mark.parametrize("name", PLAN_NAMES)
@pytest.mark.parametrize("endpoint", ["trade-tick", "static_info"])
def test_query_endpoints_take_codes_per_query_codes(name: str, endpoint: str) -> None:
    n = plan_named(name).codes_per_query
    with running(plan=name) as sim:
        status, body = http_get(sim, f"{STOCK_HTTP}/{endpoint}", {"symbol_list": _symbols(n)})
        assert (status, body["ret"]) == (200, 200)
        status, body = http_get(sim, f"{STOCK_HTTP}/{endpoint}", {"symbol_list": _symbols(n + 1)})
        assert (status, body["ret"]) == (200, 603)


@pytest.mark.parametrize("name", PLAN_NAMES)
def test_batch_kline_takes_batch_kline_items(name: str) -> None:
    n = plan_named(name).batch_kline_items
    items = [(STOCK_CODES[i % len(STOCK_CODES)], 8) for i in range(n)]
    with running(plan=name) as sim:
        status, body = http_post(sim, f"{STOCK_HTTP}/batch-kline", batch_body(items))
        assert (status, body["ret"], len(body["data"]["kline_list"])) == (200, 200, n)
        too_many = batch_body([*items, ("AAPL.US", 8)])
        assert http_post(sim, f"{STOCK_HTTP}/batch-kline", too_many)[1]["ret"] == 603


@pytest.mark.parametrize("name", PLAN_NAMES)
def test_http_intervals_and_quotas_are_the_plans(name: str) -> None:
    plan = plan_named(name)
    limiter = HttpRateLimiter(plan)
    today = date(2025, 3, 5)
    assert limiter.check("t", "kline", 0.0, today) is None
    assert limiter.check("t", "kline", plan.http_interval * 0.9, today) is Limited.TOO_SOON
    assert limiter.check("t", "batch-kline", 0.0, today) is None
    assert limiter.check("t", "batch-kline", plan.batch_kline_interval * 0.9, today) is Limited.TOO_SOON
    assert limiter.check("t", "batch-kline", plan.batch_kline_interval, today) is None
    # Fill the minute: three query endpoints in turn, each called once per interval.
    names = ("kline", "trade-tick", "static_info")
    fresh = HttpRateLimiter(plan)
    step = plan.http_interval / len(names) * 1.001  # a hair over, against float rounding
    for i in range(plan.http_per_minute):
        assert fresh.check("t", names[i % 3], i * step, today) is None, i
    t = plan.http_per_minute * step
    assert t < 60
    assert fresh.check("t", names[plan.http_per_minute % 3], t, today) is Limited.QUOTA
    assert fresh.check("other-token", "kline", t, today) is None


def test_the_free_plans_day_quota_resets_with_the_date() -> None:
    plan = plan_named("free")
    limiter = HttpRateLimiter(plan)
    today = date(2025, 3, 5)
    spacing = 60.0 / plan.http_per_minute + 0.01  # never the minute quota
    for i in range(plan.http_per_day):
        assert limiter.check("t", "kline", i * spacing + i * plan.http_interval, today) is None
    later = plan.http_per_day * (spacing + plan.http_interval)
    assert limiter.check("t", "kline", later, today) is Limited.QUOTA
    assert limiter.check("t", "kline", later, date(2025, 3, 6)) is None


def test_basic_plan_http_interval_is_enforced_end_to_end() -> None:
    data = {"code": "AAPL.US", "kline_type": 8, "query_kline_num": 2}
    with running(plan="basic", http_rate_limit=True) as sim:
        assert http_get(sim, f"{STOCK_HTTP}/kline", data)[1]["ret"] == 200
        assert http_get(sim, f"{STOCK_HTTP}/kline", data) == (200, {"error_msg": "Too many requests"})


# --- answers round-trip through the client's parsers -------------------------------------


def test_daily_bars_parse_into_previous_close_and_last() -> None:
    with running() as sim:
        sim.set_quote("700.HK", "421.20", "415.40")
        query = {"code": "700.HK", "kline_type": 8, "query_kline_num": 2}
        bars = bars_from(http_get(sim, f"{STOCK_HTTP}/kline", query)[1]["data"]["kline_list"])
        assert [b.close for b in bars] == [415.4, 421.2]
        assert bars[0].time_s < bars[1].time_s
        body = http_post(sim, f"{STOCK_HTTP}/batch-kline", batch_body([("700.HK", 8)]))[1]
        (entry,) = body["data"]["kline_list"]
        assert bars_from(entry["kline_data"]) == bars


def test_trade_ticks_parse_into_the_last_trade() -> None:
    with running() as sim:
        sim.pause()
        sim.set_quote("AAPL.US", "190.50", "188.00")
        sim.push_tick("AAPL.US", "191.25", volume="300")
        (item,) = http_get(sim, f"{STOCK_HTTP}/trade-tick", {"symbol_list": [{"code": "AAPL.US"}]})[1][
            "data"
        ]["tick_list"]
        tick = tick_from_fields(item)
        assert isinstance(tick, Tick)
        assert (tick.code, tick.seq, tick.price, tick.volume) == (
            "AAPL.US",
            sim.last_seq("AAPL.US"),
            191.25,
            300.0,
        )
        assert tick.price == float(sim.last_price("AAPL.US"))


def test_static_info_parses_into_the_universe_facts() -> None:
    inst = UNIVERSE["9988.HK"]
    with running() as sim:
        body = http_get(sim, f"{STOCK_HTTP}/static_info", {"symbol_list": [{"code": "9988.HK"}]})[1]
    (item,) = body["data"]["static_info_list"]
    assert static_info_from(item) == StaticInfo(
        "9988.HK", inst.name_en, inst.currency, inst.exchange, inst.name_cn
    )


def test_pushes_decode_into_the_ticks_the_server_recorded() -> None:
    with running() as sim, client(sim) as ws:
        subscribe(ws, ["TSLA.US"])
        got = pushes(ws, 5)
        sim.pause()
    ticks = [decode(json.dumps({"cmd_id": 22998, "data": p})) for p in got]
    sent = dict(sim.sent_ticks("TSLA.US"))
    for p, t in zip(got, ticks, strict=True):
        assert isinstance(t, Tick)
        assert sent[t.seq] == p["price"] and float(sent[t.seq]) == t.price
