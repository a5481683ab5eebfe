"""Fault matrix: the feed survives the real network, bad data and bad answers.

Each test drives the simulator's fault knobs and checks the documented behaviour.
"""

from __future__ import annotations

import math
import time

import pytest

from feed.model import ConnectionState, EventKind, Freshness
from feed.simulator import Simulator
from tests.support import TOKEN, US_OPEN, fast_config, wait_until

US_HK = ["AAPL.US", "MSFT.US", "NVDA.US", "TSLA.US", "700.HK", "9988.HK", "3690.HK", "1810.HK"]


def _assert_sane(df) -> None:
    got = df.dropna(subset=["last"])
    assert ((got["last"] > 0) & got["last"].map(math.isfinite)).all(), got[["symbol", "last"]]


@pytest.mark.slow
def test_drops_and_garbage_for_half_a_minute_lose_nothing(make_manager):
    with Simulator(seed=11, token=TOKEN, tick_interval=0.05, min_request_interval=0.2) as sim:
        m = make_manager(fast_config(sim))
        m.subscribe(US_HK[:-1])
        assert m.wait_ready(10)
        sim.set_faults(garbage_rate=0.05, duplicate_rate=0.1, out_of_order_rate=0.1)
        seen: dict[str, set[float]] = {c: set() for c in US_HK}
        started = time.monotonic()
        next_drop = started + 2.0
        added = False
        while time.monotonic() - started < 30:
            df = m.snapshot()
            _assert_sane(df)  # no bad price is ever in a snapshot
            for code, last in zip(df["symbol"], df["last"], strict=True):
                if not math.isnan(last):
                    seen[code].add(last)
            now = time.monotonic()
            if now >= next_drop:
                sim.drop_connections()  # abrupt, every few seconds
                next_drop = now + 3.0
            if not added and now - started > 12:
                m.subscribe([US_HK[-1]])  # a symbol added mid-way
                added = True
            time.sleep(0.1)
        # Every symbol kept updating: many distinct prices seen, the late one included.
        for code, prices in seen.items():
            assert len(prices) >= 3, f"{code} stopped updating: {sorted(prices)}"
        sim.set_faults()
        sim.pause()
        status = m.status()
        assert status.connections[0].reconnects >= 5
        assert {"malformed", "duplicate", "out_of_order"} <= set(status.drops)

        def final_matches() -> bool:
            df = m.snapshot().set_index("symbol")
            return all(df.loc[c, "last"] == float(sim.last_price(c)) for c in US_HK)

        # The final snapshot equals the last valid price sent for each symbol.
        assert wait_until(final_matches, 10), {c: (sim.last_price(c),) for c in US_HK}


def test_prices_moved_during_an_outage_show_within_5s_of_reconnecting(sim, make_manager):
    m = make_manager(fast_config(sim, reconnect_floor=1.0))
    m.subscribe(["AAPL.US"])
    assert m.wait_ready(10) and sim.wait_subscribed("AAPL.US", 10)
    sim.stall()  # the link goes silent; nothing is pushed to us any more
    sim.set_quote("AAPL.US", last="250.25", prev_close="240.00")  # moves while we are away
    sim.drop_connections()
    sim.unstall()
    assert wait_until(lambda: m.status().connections[0].reconnects >= 1, 10)
    assert wait_until(lambda: m.status().connections[0].state == ConnectionState.LIVE, 10)
    back = time.monotonic()
    assert wait_until(lambda: m.snapshot(["AAPL.US"])["last"].iloc[0] == 250.25, 5)
    assert time.monotonic() - back < 5
    # The "recovered" event waits for the gap fill's HTTP answer, which a loaded machine can
    # push behind the simulator's rate limit and a retry (one CI run: not within 5 s); the
    # moved price, the promise, is checked above.
    assert wait_until(lambda: any(e.kind == EventKind.RECOVERED for e in m.status().events), 15)


@pytest.mark.slow
def test_a_silent_half_open_link_flows_again_within_20s(make_manager):
    """Default protocol timings (heartbeat every 10 s, a reply due within 5 s, no frame
    for 20 s = dead): pushed data flows again at most 20 s after the link went silent."""
    with Simulator(seed=3, token=TOKEN, tick_interval=0.2, heartbeat_timeout=300) as sim:
        m = make_manager(
            fast_config(
                sim, heartbeat_interval=10.0, reply_timeout=5.0, dead_after=20.0, request_interval=1.1
            )
        )
        m.subscribe(["AAPL.US"])
        assert m.wait_ready(15)
        time.sleep(2.0)  # the link is well into its heartbeat cycle
        seq = m.snapshot_state().quotes["AAPL.US"].seq
        sim.stall()  # the socket stays up; no pushes, no heartbeat replies, no close
        stalled = time.monotonic()

        def pushed_again() -> bool:
            q = m.snapshot_state().quotes.get("AAPL.US")
            return q is not None and q.seq > seq and q.source == "push"

        assert wait_until(pushed_again, 21), "no pushed tick within 21 s of the stall"
        took = time.monotonic() - stalled
        assert took <= 20.0, f"data flowed again {took:.1f}s after the link went silent"
        assert m.status().connections[0].reconnects >= 1


def test_request_pacing_errors_slow_the_client_down_and_it_recovers(make_manager):
    # The server wants 1 s between requests; the client is (wrongly) told 0.05 s.
    with Simulator(seed=4, token=TOKEN, min_request_interval=1.0) as sim:
        m = make_manager(fast_config(sim, request_interval=0.05, heartbeat_interval=0.05))
        m.subscribe(["AAPL.US"])
        assert sim.wait_subscribed("AAPL.US", 10)
        for code in ("MSFT.US", "NVDA.US", "TSLA.US"):
            m.subscribe([code])
            time.sleep(0.15)
        want = {"AAPL.US", "MSFT.US", "NVDA.US", "TSLA.US"}
        assert wait_until(lambda: want in [set(c) for c in sim.subscriptions().values()], 20)
        kinds = {e.kind for e in m.status().events}
        assert EventKind.RATE_LIMITED in kinds


@pytest.mark.parametrize("kind", ["429", "no_ret", "605"])
def test_http_rate_limits_are_retried(sim, make_manager, kind):
    sim.fail_http(kind, 2)
    m = make_manager(fast_config(sim))
    m.subscribe(["AAPL.US", "700.HK"])
    assert m.wait_ready(15)


def test_over_cap_connections_fall_back_to_sharing(make_manager):
    # The server's plan allows one stock connection; the client believes it has ten.
    with Simulator(seed=5, token=TOKEN, plan="free", min_request_interval=0.2) as sim:
        m = make_manager(fast_config(sim, plan="professional"))
        m.subscribe(["AAPL.US", "700.HK"])
        assert wait_until(lambda: any(e.kind == EventKind.PLAN_LIMIT for e in m.status().events), 20)
        assert any("connection cap" in e.message for e in m.status().events)
        assert wait_until(lambda: [c.name for c in m.status().connections] == ["stock"], 10)
        assert wait_until(lambda: {"AAPL.US", "700.HK"} in [set(c) for c in sim.subscriptions().values()], 10)
        sim.pause()
        sim.push_tick("700.HK", "399.8")
        sim.push_tick("AAPL.US", "180.01")
        assert wait_until(lambda: list(m.snapshot(["AAPL.US", "700.HK"])["last"]) == [180.01, 399.8], 10)


def test_freshness_shows_a_dead_feed(sim, make_manager):
    m = make_manager(fast_config(sim, reconnect_floor=30.0), clock=lambda: US_OPEN)
    m.subscribe(["AAPL.US"])
    assert m.wait_ready(10)
    assert wait_until(lambda: m.snapshot()["freshness"].iloc[0] == Freshness.LIVE, 5)
    sim.drop_connections()
    assert wait_until(lambda: m.snapshot()["freshness"].iloc[0] == Freshness.DOWN, 5)


HEALTHY = {Freshness.LIVE, Freshness.QUIET, Freshness.CLOSED, Freshness.LUNCH, Freshness.HOLIDAY}


def protocol_config(sim: Simulator):
    """The client's default timings (heartbeat 10 s, 1.1 s per link, 3 s across links)."""
    from feed.config import FeedConfig

    return FeedConfig(token=TOKEN, ws_base=sim.ws_base, http_base=sim.http_base, plan="professional")


def test_one_cut_with_prices_moved_shows_them_within_5s_of_the_cut(make_manager):
    with Simulator(seed=12, token=TOKEN, tick_interval=0.1) as sim:
        m = make_manager(protocol_config(sim))
        m.subscribe(["AAPL.US", "700.HK"])
        assert m.wait_ready(15) and sim.wait_subscribed("AAPL.US", 10) and sim.wait_subscribed("700.HK", 10)
        time.sleep(4.0)  # past the reconnect floor since the first connect
        sim.pause()  # the moves below reach us only through the gap fill
        sim.set_quote("AAPL.US", last="250.25", prev_close="240.00")
        sim.set_quote("700.HK", last="512.5", prev_close="500.0")
        cut = time.monotonic()
        sim.drop_connections()

        def moved() -> bool:
            df = m.snapshot(["AAPL.US", "700.HK"])
            return list(df["last"]) == [250.25, 512.5]

        assert wait_until(moved, 8)
        took = time.monotonic() - cut
        assert took <= 5.0, f"moved prices shown {took:.1f}s after the cut"


@pytest.mark.slow
def test_drops_every_5s_for_40s_keep_every_symbol_fresh_in_80_percent_of_samples(make_manager):
    codes = ["AAPL.US", "TSLA.US", "700.HK", "9988.HK"]
    with Simulator(seed=13, token=TOKEN, tick_interval=0.1) as sim:
        m = make_manager(protocol_config(sim))
        m.subscribe(codes)
        assert m.wait_ready(15) and all(sim.wait_subscribed(c, 10) for c in codes)
        fresh = dict.fromkeys(codes, 0)
        samples = 0
        start = time.monotonic()
        next_drop = start + 5.0
        while time.monotonic() - start < 40.0:
            df = m.snapshot(codes)
            samples += 1
            for code, state in zip(df["symbol"], df["freshness"], strict=True):
                fresh[code] += state in HEALTHY
            if time.monotonic() >= next_drop:
                sim.drop_connections()
                next_drop += 5.0
            time.sleep(1.0 - (time.monotonic() - start) % 1.0)
        share = {c: n / samples for c, n in fresh.items()}
        assert all(s >= 0.8 for s in share.values()), share
        assert m.status().connections[0].reconnects >= 6
