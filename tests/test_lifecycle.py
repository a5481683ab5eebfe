"""Lifecycle through the public API: subscribe before start, stop twice, restart, no leaks."""

from __future__ import annotations

import gc
import threading
import time

import psutil
import pytest

from feed.manager import FeedManager
from feed.model import ConnectionState, Freshness
from tests.support import fast_config, wait_until


def feed_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("feed-") and t.is_alive()]


def sockets_to(port: int) -> int:
    return sum(1 for c in psutil.Process().net_connections("tcp") if c.raddr and c.raddr.port == port)


def test_subscribe_before_start_gets_prices_previous_closes_and_names(sim):
    m = FeedManager(fast_config(sim))
    m.subscribe(["AAPL.US", "700.HK"])
    assert m.watched() == ("AAPL.US", "700.HK")
    with m:
        assert m.wait_ready(10)
        assert wait_until(lambda: (m.snapshot()["name"] != "").all(), 5)
        df = m.snapshot().set_index("symbol")
        assert df["prev_close"].notna().all()
        assert df.loc["700.HK", "name"].startswith("Tencent")


def test_stop_twice_inside_a_with_block_keeps_the_blocks_own_exception(sim):
    class Boom(Exception):
        pass

    with pytest.raises(Boom), FeedManager(fast_config(sim)) as m:
        m.subscribe(["AAPL.US"])
        m.stop()
        m.stop()
        raise Boom
    assert not m.running


def test_start_after_stop_restarts_cleanly_and_a_stopped_feed_never_says_live(sim):
    m = FeedManager(fast_config(sim)).start()
    try:
        m.subscribe(["AAPL.US"])
        assert m.wait_ready(10)
        up = (Freshness.LIVE, Freshness.QUIET, Freshness.CLOSED)  # which one depends on the hour
        assert wait_until(lambda: m.snapshot()["freshness"].iloc[0] in up, 5)
        m.stop()
        stopped = m.snapshot()
        assert stopped["freshness"].iloc[0] == Freshness.DOWN and "stopped" in stopped["note"].iloc[0]
        assert not m.status().running and not m.wait_ready(0.1)
        assert "stopped" in m.wait_ready(0.1).missing["AAPL.US"]
        m.start()  # the same watchlist, a new generation of threads
        assert m.running and m.watched() == ("AAPL.US",)
        assert m.wait_ready(10)
        assert wait_until(lambda: m.status().connections and m.status().connections[0].state == "live", 10)
    finally:
        m.stop()


def test_five_create_subscribe_stop_cycles_leave_no_thread_or_socket(sim):
    before = feed_threads()
    for _ in range(5):
        m = FeedManager(fast_config(sim)).start()
        m.subscribe(["AAPL.US", "700.HK", "BTCUSDT"])
        assert m.wait_ready(10)
        m.stop()
    assert wait_until(lambda: feed_threads() == before, 2.0), feed_threads()
    assert wait_until(lambda: sim.connection_count() == 0, 2.0)
    assert wait_until(lambda: sockets_to(sim.ws_port) + sockets_to(sim.http_port) == 0, 2.0)


def test_a_manager_dropped_without_stop_stops_its_threads(sim):
    """A notebook cell re-run: the old manager is unreachable, its threads must go."""
    before = feed_threads()
    for _ in range(3):
        m = FeedManager(fast_config(sim)).start()
        m.subscribe(["AAPL.US"])
        assert m.wait_ready(10)
    del m
    gc.collect()
    assert wait_until(lambda: feed_threads() == before, 3.0), feed_threads()
    assert wait_until(lambda: sim.connection_count() == 0, 2.0)


def test_no_thread_outlives_stop_by_more_than_a_second(sim):
    m = FeedManager(fast_config(sim)).start()
    m.subscribe(["AAPL.US", "700.HK", "600519.SH", "USDHKD", "BTCUSDT"])
    assert m.wait_ready(10)
    t0 = time.monotonic()
    m.stop()
    assert wait_until(lambda: not feed_threads(), 1.0), feed_threads()
    assert time.monotonic() - t0 < 1.5
    assert all(c.state is not ConnectionState.LIVE for c in m.status().connections)
