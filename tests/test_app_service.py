"""The dashboard as a reader of the quote service (QUOTES_REDIS_URL), under AppTest.

A demo publisher runs in-process against a real redis-server; the pages read it
through the cached manager exactly as a replica would, and say so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from feed.config import FeedConfig
from feed.manager import FeedManager
from feed.service.publisher import Publisher
from tests.redis_support import RedisServer, unique_prefix
from tests.support import run_until

ROOT = Path(__file__).resolve().parents[1]
ENTRY = ROOT / "streamlit_app.py"
HEALTH = ROOT / "pages" / "3_Feed_health.py"


def _publisher(url: str, prefix: str) -> tuple[FeedManager, Publisher]:
    feed = FeedManager(FeedConfig(default_symbols=())).start()  # demo: its own simulator
    return feed, Publisher(feed, url, prefix=prefix, ttl=2.0).start()


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch, own_redis: RedisServer) -> Iterator[RedisServer]:
    prefix = unique_prefix()
    monkeypatch.setenv("QUOTES_REDIS_URL", own_redis.url)
    monkeypatch.setenv("QUOTES_REDIS_PREFIX", prefix)
    monkeypatch.chdir(ROOT)
    feed, publisher = _publisher(own_redis.url, prefix)
    yield own_redis
    st.cache_resource.clear()  # stops the page's reader
    publisher.stop()
    feed.stop()


def _run_until(at: AppTest, done: Callable[[AppTest], bool], timeout: float = 15.0) -> AppTest:
    at = run_until(at, lambda a: not a.exception and done(a), timeout)
    assert not at.exception, [e.value for e in at.exception]
    return at


def _priced(at: AppTest) -> bool:
    table = at.dataframe[0].value if at.dataframe else None
    return table is not None and len(table) > 0 and table["Last"].ne("—").all()


def _texts(elements: object) -> str:
    return "\n".join(str(e.value) for e in elements)  # type: ignore[attr-defined]


def test_quotes_page_reads_the_service_and_says_so(served: RedisServer) -> None:
    at = _run_until(AppTest.from_file(str(ENTRY), default_timeout=30), _priced)
    assert _priced(at)
    sidebar = _texts(at.sidebar.caption)
    assert f"via quote service ({served.url})" in sidebar.replace("\\", "")
    infos = _texts(at.info)
    assert "the quote service publishes simulated data" in infos
    assert "ALLTICK_TOKEN" not in infos  # a reader needs no token
    assert not at.error


def test_feed_health_names_the_service(served: RedisServer) -> None:
    at = _run_until(
        AppTest.from_file(str(HEALTH), default_timeout=30),
        lambda a: any("Quote service" in str(m.value) for m in a.metric),
    )
    assert any("Via quote service" in str(c.value) for c in at.caption)


def test_redis_down_shows_a_banner_and_recovers(served: RedisServer) -> None:
    at = _run_until(AppTest.from_file(str(ENTRY), default_timeout=30), _priced)
    served.stop()
    at = _run_until(at, lambda a: "Redis is unreachable" in _texts(a.error), timeout=8)
    assert f"127.0.0.1:{served.port}" in _texts(at.error).replace("\\", "")
    assert _priced(at)  # the last prices stay on screen, marked down
    served.start()
    at = _run_until(at, lambda a: not a.error, timeout=15)
    assert not at.error
