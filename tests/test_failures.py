"""Failures named by their cause, against the simulator: unreachable, auth, plan cap, bugs."""

from __future__ import annotations

import logging
import socket
import time

import pytest

from feed.book import QuoteBook
from feed.manager import FeedManager
from feed.model import ConnectionState, EventKind
from feed.simulator import Simulator
from tests.support import TOKEN, fast_config, wait_until

SIM_OPTIONS = {"tick_interval": 0.1, "min_request_interval": 0.2, "heartbeat_timeout": 3.0}
UNSOLICITED_401 = '{"ret":401,"msg":"token invalid","cmd_id":0,"seq_id":0,"trace":"","data":{}}'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dead_config(ws_port: int, http_port: int, **overrides):
    values = {
        "token": TOKEN,
        "ws_base": f"ws://127.0.0.1:{ws_port}",
        "http_base": f"http://127.0.0.1:{http_port}",
        "plan": "professional",
        "heartbeat_interval": 0.5,
        "reply_timeout": 1.0,
        "dead_after": 2.0,
        "request_interval": 0.25,
        "token_request_interval": 0.1,
        "reconnect_floor": 0.2,
        "backoff_cap": 1.0,
    }
    values.update(overrides)
    from feed.config import FeedConfig

    return FeedConfig(**values)


def complete(m: FeedManager, codes: list[str]) -> bool:
    df = m.snapshot(codes)
    return bool(df["last"].notna().all() and df["prev_close"].notna().all() and (df["name"] != "").all())


@pytest.mark.slow
def test_a_server_down_for_the_first_8s_is_complete_within_5s_of_coming_up(make_manager, caplog):
    """Item 1: prices, previous closes and names all arrive once the server is up."""
    caplog.set_level(logging.INFO)
    ws_port, http_port = free_port(), free_port()
    codes = ["AAPL.US", "700.HK", "600519.SH"]
    m = make_manager(dead_config(ws_port, http_port, backoff_cap=5.0))
    m.subscribe(codes)
    time.sleep(2.0)
    early = m.wait_ready(0)
    assert not early and all(why.startswith("unreachable") for why in early.missing.values()), early
    time.sleep(6.0)
    with Simulator(seed=4, token=TOKEN, ws_port=ws_port, http_port=http_port, **SIM_OPTIONS):
        up = time.monotonic()
        assert wait_until(lambda: complete(m, codes), 8)
        took = time.monotonic() - up
        assert took <= 5.0, f"complete {took:.1f}s after the server came up"
        assert m.wait_ready(1)


def test_a_refused_connection_is_unreachable_never_a_plan_limit(make_manager, caplog):
    """Item 2: status, events and the log name the cause; the layout is not downgraded."""
    caplog.set_level(logging.INFO)
    ws_port, http_port = free_port(), free_port()
    m = make_manager(dead_config(ws_port, http_port))
    m.subscribe(["AAPL.US", "700.HK"])
    assert wait_until(
        lambda: {c.state for c in m.status().connections} == {ConnectionState.UNREACHABLE}, 5
    ), m.status().connections
    time.sleep(3.0)  # many refused attempts
    status = m.status()
    kinds = {e.kind for e in status.events}
    assert EventKind.UNREACHABLE in kinds and EventKind.PLAN_LIMIT not in kinds
    assert all("connection refused" in (c.last_error or "") for c in status.connections)
    assert {c.name for c in status.connections} == {"US", "HK"}  # still one link per market
    assert "unreachable" in caplog.text and "connection refused" in caplog.text
    assert "plan limit" not in caplog.text and "cap" not in caplog.text
    row = m.snapshot(["AAPL.US"]).iloc[0]
    assert row["freshness"] == "unreachable" and "refused" in row["note"]
    with Simulator(seed=4, token=TOKEN, ws_port=ws_port, http_port=http_port, **SIM_OPTIONS):
        assert wait_until(lambda: {c.state for c in m.status().connections} == {ConnectionState.LIVE}, 8)
        assert {c.name for c in m.status().connections} == {"US", "HK"}


@pytest.mark.parametrize("where", ["unsolicited frame", "upgrade"])
def test_ret_401_is_auth_failed_within_2s_and_retried_at_most_3_times_a_minute(make_manager, where):
    """Item 6: a wrong token answered after the upgrade (or at it) is named, not retried hard."""
    with Simulator(seed=5, token=TOKEN, **SIM_OPTIONS) as sim:
        m = make_manager(fast_config(sim, auth_retry=30.0))
        m.subscribe(["AAPL.US"])
        assert sim.wait_subscribed("AAPL.US", 10)
        if where == "upgrade":
            sim.fail_upgrades(401)
            sim.drop_connections()
        t0 = time.monotonic()
        if where == "unsolicited frame":
            sim.send_raw(UNSOLICITED_401)
        assert wait_until(lambda: m.status().connections[0].state == ConnectionState.AUTH_FAILED, 2.0)
        assert wait_until(lambda: m.snapshot(["AAPL.US"]).iloc[0]["freshness"] == "auth failed", 2.0)
        assert time.monotonic() - t0 <= 2.0
        assert m.status().auth_error and "token" in m.status().auth_error
        attempts = sim.upgrade_attempts()
        time.sleep(5.0)  # the next try is 30 s away: 2 a minute at most
        assert sim.upgrade_attempts() - attempts == 0
        assert [e.kind for e in m.status().events].count(EventKind.AUTH_FAILED) == 1


def test_a_plan_cap_falls_back_to_one_shared_link_and_re_expands(make_manager):
    """Accepted upgrades closed at once, repeatedly: share one link; try again once it stays up."""
    with Simulator(seed=6, token=TOKEN, **SIM_OPTIONS) as sim:
        m = make_manager(fast_config(sim, reexpand_after=1.0))
        m.subscribe(["AAPL.US", "700.HK"])
        assert wait_until(lambda: {c.name for c in m.status().connections} == {"US", "HK"}, 5)
        sim.close_after_upgrade(True)
        sim.drop_connections()
        assert wait_until(lambda: [c.name for c in m.status().connections] == ["stock"], 10)

        # Links are read off the supervisor's pumps, events off the processor's next snapshot:
        # the event may trail the new layout by one publish.
        def shared() -> bool:
            events = m.status().events
            return any(e.kind == EventKind.PLAN_LIMIT and "share one link" in e.message for e in events)

        assert wait_until(shared, 2)
        sim.close_after_upgrade(False)
        assert wait_until(lambda: m.status().connections[0].state == ConnectionState.LIVE, 10)
        assert wait_until(lambda: {c.name for c in m.status().connections} == {"US", "HK"}, 15)


def test_an_exception_in_a_tick_batch_is_counted_and_the_feed_goes_on(sim, make_manager, monkeypatch):
    """Item 9: the book's only writer survives a bad batch and says so in status()."""
    real = QuoteBook.apply
    calls = {"n": 0}

    def flaky(self, ticks, received, source="push"):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("injected")
        return real(self, ticks, received, source)

    monkeypatch.setattr(QuoteBook, "apply", flaky)
    m = make_manager(fast_config(sim))
    m.subscribe(["AAPL.US"])
    assert wait_until(lambda: m.status().errors.get("processor", 0) >= 1, 10)
    assert sim.wait_subscribed("AAPL.US", 10)
    sim.pause()
    sim.push_tick("AAPL.US", "333.33")
    assert wait_until(lambda: m.snapshot(["AAPL.US"])["last"].iloc[0] == 333.33, 5)


def test_an_exception_in_a_book_job_is_counted_and_the_feed_goes_on(sim, make_manager, monkeypatch):
    def broken(self, code, points):
        raise RuntimeError("injected")

    monkeypatch.setattr(QuoteBook, "seed_history", broken)  # every minute-path result fails
    m = make_manager(fast_config(sim))
    m.subscribe(["AAPL.US", "700.HK"])
    assert wait_until(lambda: m.status().errors.get("processor", 0) >= 2, 10)
    assert m.wait_ready(10) and sim.wait_subscribed("700.HK", 10)
    sim.pause()
    sim.push_tick("700.HK", "444.4")
    assert wait_until(lambda: m.snapshot(["700.HK"])["last"].iloc[0] == 444.4, 5)
