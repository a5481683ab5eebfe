"""The quote service against a real redis-server: one publisher, several readers, one feed.

Readers are FeedManagers with ``redis_url``: each has its own reader id, its own Redis
connections and its own watch key, exactly as two processes would (a CLI test below
runs one as a separate process too).
"""

from __future__ import annotations

import contextlib
import math
import subprocess
import sys
from collections.abc import Iterator

import pandas as pd
import pytest
import redis

from feed.config import FeedConfig
from feed.manager import FeedManager
from feed.service import Keys
from feed.service.publisher import Publisher
from feed.simulator import Simulator
from tests.redis_support import RedisServer, unique_prefix
from tests.support import TOKEN, fast_config, wait_until


def reader_config(url: str, prefix: str, **overrides: object) -> FeedConfig:
    values: dict[str, object] = {
        "redis_url": url,
        "redis_prefix": prefix,
        "release_grace": 0.5,
        "reader_ttl": 3.0,
        "default_symbols": (),
    }
    values.update(overrides)
    return FeedConfig(**values)  # type: ignore[arg-type]


@contextlib.contextmanager
def publishing(config: FeedConfig, url: str, prefix: str) -> Iterator[Publisher]:
    manager = FeedManager(config).start()
    publisher = Publisher(manager, url, prefix=prefix, ttl=2.0).start()
    try:
        yield publisher
    finally:
        publisher.stop()
        manager.stop()


@pytest.fixture
def free_sim() -> Iterator[Simulator]:
    """An AllTick server on the free plan: one WebSocket per token."""
    options = {"tick_interval": 0.1, "min_request_interval": 0.2, "heartbeat_timeout": 3.0}
    with Simulator(seed=11, token=TOKEN, plan="free", **options) as s:
        yield s


def _price(manager: FeedManager, code: str) -> float:
    df = manager.snapshot([code])
    return float(df["last"].iloc[0])


def test_two_readers_share_one_feed_and_show_the_pushed_prices(
    free_sim: Simulator, redis_server: RedisServer
) -> None:
    prefix = unique_prefix()
    config = fast_config(free_sim, release_grace=0.5, default_symbols=())
    with publishing(config, redis_server.url, prefix) as pub:
        a = FeedManager(reader_config(redis_server.url, prefix)).start()
        b = FeedManager(reader_config(redis_server.url, prefix)).start()
        try:
            a.subscribe(["AAPL.US", "700.HK"])
            b.subscribe(["TSLA.US", "9988.HK"])
            assert a.wait_ready(15, need_prev_close=False), a.wait_ready(0)
            assert b.wait_ready(15, need_prev_close=False), b.wait_ready(0)
            # The AllTick server saw one feed: the free plan's single stock link, whoever reads.
            assert free_sim.connection_count() == 1
            attempts = free_sim.upgrade_attempts()
            subscribed = {c for codes in free_sim.subscriptions().values() for c in codes}
            assert {"AAPL.US", "700.HK", "TSLA.US", "9988.HK"} <= subscribed
            # Each reader shows the price the server pushed, and only its own symbols.
            free_sim.pause()
            free_sim.push_tick("AAPL.US", "187.4321")
            free_sim.push_tick("9988.HK", "88.65")
            assert wait_until(lambda: _price(a, "AAPL.US") == 187.4321, 5)
            assert wait_until(lambda: _price(b, "9988.HK") == 88.65, 5)
            assert list(a.snapshot()["symbol"]) == ["AAPL.US", "700.HK"]
            assert list(b.snapshot()["symbol"]) == ["TSLA.US", "9988.HK"]
            with pytest.raises(KeyError, match=r"TSLA\.US"):
                a.snapshot(["TSLA.US"])
            status = a.status()
            assert status.source == "redis" and status.service_error is None
            # The publisher's links, as its status (republished every second) names them.
            assert wait_until(lambda: [c.name for c in a.status().connections] == ["stock"], 3)
            assert free_sim.upgrade_attempts() == attempts  # readers never dial AllTick
            b.stop()
            # A reader gone: the publisher releases what nobody else watches.
            assert wait_until(lambda: "TSLA.US" not in pub.manager.watched(), 8)
            assert "AAPL.US" in pub.manager.watched()
        finally:
            b.stop()
            a.stop()


def test_reader_history_bars_and_ticks_come_through_the_service(
    sim: Simulator, redis_server: RedisServer
) -> None:
    prefix = unique_prefix()
    with publishing(fast_config(sim, default_symbols=()), redis_server.url, prefix):
        reader = FeedManager(reader_config(redis_server.url, prefix)).start()
        try:
            reader.subscribe(["AAPL.US"])
            assert reader.wait_ready(15)
            # Ready is a price and a previous close (HTTP may bring both first); pushes
            # follow once the server has the subscription.
            assert sim.wait_subscribed("AAPL.US", 15)
            ticks = []
            sim.pause()
            with reader.on_tick(ticks.append):
                seq = sim.push_tick("AAPL.US", "190.01")
                assert wait_until(lambda: any(t.seq == seq for t in ticks), 5)
            assert {t.symbol for t in ticks} == {"AAPL.US"}
            assert next(t for t in ticks if t.seq == seq).price == 190.01
            assert wait_until(lambda: _price(reader, "AAPL.US") == 190.01, 3)
            hist = reader.history("AAPL.US")
            assert len(hist) >= 2 and hist["price"].iloc[-1] == 190.01
            bars = reader.bars("AAPL.US", "1m")
            assert len(bars) >= 10 and list(bars.columns) == ["open", "high", "low", "close", "volume"]
            assert bars.index.is_monotonic_increasing and bars["high"].ge(bars["low"]).all()
            with pytest.raises(ValueError, match="interval"):
                reader.bars("AAPL.US", "7m")
        finally:
            reader.stop()


def test_the_token_never_enters_redis(sim: Simulator, redis_server: RedisServer) -> None:
    prefix = unique_prefix()
    with publishing(fast_config(sim, default_symbols=()), redis_server.url, prefix):
        reader = FeedManager(reader_config(redis_server.url, prefix)).start()
        try:
            reader.subscribe(["AAPL.US", "NOPE.US"])  # an invalid code: events with messages
            reader.wait_ready(10)
            reader.bars("AAPL.US", "1d")
            assert wait_until(lambda: reader.status().invalid_symbols, 10)
        finally:
            reader.stop()
        blob = _dump(redis_server, prefix)
    assert len(blob) > 1000 and b"AAPL.US" in blob
    assert TOKEN.encode() not in blob and b"token=" not in blob.lower()


def _dump(server: RedisServer, prefix: str) -> bytes:
    r = server.client()
    out = []
    for key in r.scan_iter(match=f"{prefix}:*"):
        kind = r.type(key)
        if kind == b"string":
            out.append(r.get(key) or b"")
        elif kind == b"hash":
            out.extend(v for kv in r.hgetall(key).items() for v in kv)
        elif kind == b"stream":
            out.extend(v for _, fields in r.xrange(key) for kv in fields.items() for v in kv)
        elif kind == b"list":
            out.extend(r.lrange(key, 0, -1))
    return b"\n".join(out)


def test_a_reader_needs_no_more_than_read_access_and_its_own_keys(
    sim: Simulator, redis_server: RedisServer
) -> None:
    """An ACL user that can write only watch keys and bars requests: the reader works."""
    prefix = unique_prefix()
    admin = redis_server.client()
    user = f"reader-{prefix}"
    admin.execute_command(
        "ACL", "SETUSER", user, "on", ">pw", "resetkeys", f"%R~{prefix}:*", f"%RW~{prefix}:watch:*",
        f"%RW~{prefix}:bars:*", f"%RW~{prefix}:store:*", "resetchannels", "-@all", "+@read",
        "+@connection", "+set", "+del", "+rpush", "+blpop", "+lpop",
    )  # fmt: skip
    url = f"redis://{user}:pw@127.0.0.1:{redis_server.port}/0"
    with publishing(fast_config(sim, default_symbols=()), redis_server.url, prefix) as pub:
        reader = FeedManager(reader_config(url, prefix)).start()
        try:
            reader.subscribe(["AAPL.US"])
            assert reader.wait_ready(15)
            assert len(reader.bars("AAPL.US", "5m")) > 0
            # The tick store is the publisher's: a reader's history() reads it through Redis.
            assert wait_until(lambda: len(reader.history("AAPL.US", kind="ticks")) >= 5, 15)
            got = reader.history("AAPL.US", kind="ticks")
            own = pub.manager.history("AAPL.US", kind="ticks")
            pd.testing.assert_frame_equal(got, own.iloc[: len(got)])
            minutes = reader.history("AAPL.US", kind="1m")
            assert list(minutes.columns) == list(pub.manager.history("AAPL.US", kind="1m").columns)
        finally:
            reader.stop()
    denied = [e for e in admin.acl_log() if e.get("username") == user]
    assert not denied, denied
    with pytest.raises(redis.exceptions.NoPermissionError):  # the ACL does bite
        redis.Redis.from_url(url).set(Keys(prefix).snapshot, b"forged")


def test_reader_cli_is_a_separate_process(sim: Simulator, redis_server: RedisServer) -> None:
    prefix = unique_prefix()
    with publishing(fast_config(sim, default_symbols=()), redis_server.url, prefix):
        env = {"QUOTES_REDIS_URL": redis_server.url, "QUOTES_REDIS_PREFIX": prefix, "PATH": "/usr/bin:/bin"}
        cmd = [sys.executable, "-m", "feed", "snapshot", "--symbols", "AAPL.US,700.HK", "--format", "csv"]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, cwd=_root())
    assert out.returncode == 0, out.stderr
    assert "demo mode" not in out.stderr
    rows = {line.split(",")[0]: line.split(",") for line in out.stdout.splitlines()[1:]}
    assert set(rows) == {"AAPL.US", "700.HK"}
    assert all(not math.isnan(float(r[5])) and float(r[5]) > 0 for r in rows.values())


def test_serve_needs_a_redis_url() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "feed", "serve"], capture_output=True, text=True, timeout=30, cwd=_root()
    )
    assert out.returncode == 2 and "QUOTES_REDIS_URL" in out.stderr


def _root() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parents[1])
