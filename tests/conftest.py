"""Shared fixtures: a simulator on loopback and a manager wired to it with fast timings."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, settings

from feed.config import FeedConfig
from feed.manager import FeedManager
from feed.simulator import Simulator
from tests.redis_support import RedisServer
from tests.support import TOKEN

# Property tests check what the code does with an input, not how fast a loaded CI machine
# (three workers on two cores) draws it: one CI run failed Hypothesis's generation-speed
# health check on a 5 s stall, and its per-example deadline measures the same stalls.
settings.register_profile("suite", suppress_health_check=[HealthCheck.too_slow], deadline=None)
settings.load_profile("suite")

# Tests that share one worker under pytest-xdist (``-n 3`` in pyproject), by group: the
# browser tests (one Streamlit server and one Chromium at a time, their session fixtures
# started once), and the wall-clock fault tests, kept off the browser's worker. The browser
# worker's queue is the longest, so the other two finish first: its most timing-sensitive
# test, two replicas' spread in a browser, goes last, on a quieter machine.
GROUPS = {"e2e": "browser", "test_reliability.py": "faults", "test_soak.py": "faults"}
LAST = "test_replicas_e2e.py"


def group_of(nodeid: str) -> str | None:
    """The worker group of a test, from its node id (``tests/e2e/...``, ``tests/test_soak.py::...``)."""
    parts = nodeid.split("::", 1)[0].split("/")
    return next((GROUPS[p] for p in parts if p in GROUPS), None)


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """xdist's ``loadgroup`` marks a group by rewriting ``item._nodeid``, which pytest 9 no
    longer reads (node ids live in ``_id``): every "grouped" test ran anywhere. This keeps
    xdist's own scope scheduler and says what a scope is: a group above, else one test."""
    from xdist.scheduler import LoadScopeScheduling

    class Groups(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid) or nodeid

    return Groups(config, log)  # type: ignore[arg-type]


@pytest.hookimpl(trylast=True)  # after pytest's own grouping by session-scoped parameters
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.path.name == LAST)  # stable: everything else keeps its order


@pytest.fixture(autouse=True)
def _keep_main_module() -> Iterator[None]:
    """Streamlit's script runner (AppTest) installs the page as ``__main__`` and leaves it
    there; a later ``multiprocessing`` spawn would then re-run the page in the child."""
    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main


@pytest.fixture(autouse=True)
def _no_real_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see a developer's real token or symbols."""
    for key in (
        "ALLTICK_TOKEN",
        "ALLTICK_PLAN",
        "ALLTICK_WS_BASE",
        "ALLTICK_HTTP_BASE",
        "QUOTES_SYMBOLS",
        "QUOTES_REDIS_URL",
        "QUOTES_REDIS_PREFIX",
    ):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture(autouse=True)
def _store_in_tmp(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The tick store is on by default (``./data``): every test gets its own directory instead,
    so no test writes into the repository or reads another test's ticks."""
    monkeypatch.setenv("QUOTES_DATA_DIR", str(tmp_path_factory.mktemp("store")))
    monkeypatch.delenv("QUOTES_RETENTION_DAYS", raising=False)
    # The store on a thread: a child process per feed would add a Python start-up to
    # every test that makes one. The store's own tests (test_store.py, test_store_process.py)
    # run it in its child process, the default.
    monkeypatch.setenv("QUOTES_STORE_PROCESS", "0")


@pytest.fixture
def sim() -> Iterator[Simulator]:
    options = {"tick_interval": 0.1, "min_request_interval": 0.2, "heartbeat_timeout": 3.0}
    with Simulator(seed=7, token=TOKEN, **options) as s:
        yield s


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One real redis-server for the session (tests keep apart by key prefix)."""
    server = RedisServer(workdir=tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def own_redis(tmp_path: object) -> Iterator[RedisServer]:
    """A redis-server of the test's own, for tests that stop and restart it."""
    server = RedisServer(workdir=tmp_path).start()  # type: ignore[arg-type]
    yield server
    server.stop()


@pytest.fixture
def make_manager() -> Iterator[Callable[..., FeedManager]]:
    managers: list[FeedManager] = []

    def make(config: FeedConfig, **kwargs: object) -> FeedManager:
        m = FeedManager(config, **kwargs).start()
        managers.append(m)
        return m

    yield make
    for m in managers:
        m.stop()


@pytest.fixture(autouse=True)
def _no_leaked_threads() -> Iterator[None]:
    """No feed or simulator thread may outlive the test that started it."""
    before = {t.ident for t in threading.enumerate()}
    yield
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline:
        leaked = [
            t.name
            for t in threading.enumerate()
            if t.ident not in before and t.is_alive() and t.name.startswith(("feed-", "feed."))
        ]
        if not leaked:
            return
        time.sleep(0.05)
    raise AssertionError(f"threads outlived the test: {leaked}")
