"""Quote service failures with a real redis-server: the publisher killed, Redis killed.

The publisher runs as ``python -m feed serve`` in its own process (demo mode: its own
simulator) so it can die the way a process dies, SIGKILL, with no goodbye.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from feed.config import FeedConfig
from feed.manager import FeedManager
from feed.service.publisher import Publisher
from tests.redis_support import RedisServer, unique_prefix
from tests.support import wait_until
from tests.test_quote_service import reader_config

ROOT = Path(__file__).resolve().parents[1]
CODES = ["AAPL.US", "700.HK"]


def _serve(url: str, prefix: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALLTICK_", "QUOTES_"))}
    env.update({"QUOTES_REDIS_URL": url, "QUOTES_REDIS_PREFIX": prefix})
    return subprocess.Popen(
        [sys.executable, "-m", "feed", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _states(reader: FeedManager) -> set[str]:
    return set(reader.snapshot()["freshness"])


def _all_live(reader: FeedManager) -> bool:
    return _states(reader) == {"live"}


def test_publisher_killed_then_restarted(redis_server: RedisServer) -> None:
    prefix = unique_prefix()
    proc = _serve(redis_server.url, prefix)
    reader = FeedManager(reader_config(redis_server.url, prefix)).start()
    try:
        reader.subscribe(CODES)
        assert wait_until(lambda: _all_live(reader), 30), reader.snapshot()[["symbol", "freshness"]]
        proc.kill()
        proc.wait(5)
        killed = time.monotonic()
        assert wait_until(lambda: "live" not in _states(reader), 10)
        assert time.monotonic() - killed <= 10.0
        assert _states(reader) == {"feed down"}  # prices kept, marked as not current
        assert reader.snapshot()["last"].gt(0).all()
        status = reader.status()
        assert "publisher" in (status.service_error or "")
        assert all("publisher" in n for n in reader.snapshot()["note"])
        proc = _serve(redis_server.url, prefix)
        restarted = time.monotonic()
        assert wait_until(lambda: _all_live(reader), 15), reader.snapshot()[["symbol", "freshness", "note"]]
        assert time.monotonic() - restarted <= 15.0
        assert reader.status().service_error is None
    finally:
        reader.stop()
        proc.kill()
        proc.wait(5)


def test_redis_killed_then_restarted(own_redis: RedisServer) -> None:
    prefix = unique_prefix()
    feed = FeedManager(FeedConfig(default_symbols=(), release_grace=5.0)).start()  # demo: own simulator
    publisher = Publisher(feed, own_redis.url, prefix=prefix, ttl=2.0).start()
    reader = FeedManager(reader_config(own_redis.url, prefix)).start()
    try:
        reader.subscribe(CODES)
        assert wait_until(lambda: _all_live(reader), 20)
        own_redis.stop()
        assert wait_until(lambda: "Redis" in (reader.status().service_error or ""), 5)
        error = reader.status().service_error or ""
        assert f"127.0.0.1:{own_redis.port}" in error and "unreachable" in error
        assert wait_until(lambda: _states(reader) == {"feed down"}, 3)
        assert reader.snapshot()["last"].gt(0).all()  # reads go on, no exception
        own_redis.start()  # same port, empty: the publisher republishes, the reader re-registers
        assert wait_until(lambda: _all_live(reader) and reader.status().service_error is None, 15)
        assert set(feed.watched()) >= set(CODES)
    finally:
        reader.stop()
        publisher.stop()
        feed.stop()
