"""Helpers shared by the feed tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from feed.config import FeedConfig
from feed.simulator import Simulator

# Wed 2025-03-05 15:00 UTC: New York is open (10:00 ET), Hong Kong is closed (23:00 HKT).
US_OPEN = 1741186800.0

TOKEN = "tok-0123456789abcdef-SECRET"  # a fake token; tests check it never leaks


def wait_until(pred: Callable[[], object], timeout: float = 10.0, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(interval)
    return bool(pred())


def fast_config(sim: Simulator, **overrides: object) -> FeedConfig:
    """Protocol timings scaled down so a test takes seconds, not minutes."""
    values: dict[str, object] = {
        "token": TOKEN,
        "ws_base": sim.ws_base,
        "http_base": sim.http_base,
        "plan": sim.plan,
        "heartbeat_interval": 0.5,
        "dead_after": 2.0,
        "request_interval": 0.25,
        "token_request_interval": 0.1,
        "reconnect_floor": 0.2,
        "reexpand_after": 1.0,
        "backoff_cap": 1.0,
        "reply_timeout": 1.0,
    }
    values.update(overrides)
    return FeedConfig(**values)  # type: ignore[arg-type]


def run_until(at: Any, done: Callable[[Any], bool], timeout: float = 20.0) -> Any:
    """Rerun an AppTest until ``done(at)`` holds or ``timeout`` passes: the simulator's first
    prices and the page's data arrive a moment after the feed starts."""
    deadline = time.monotonic() + timeout
    at.run()
    while not done(at) and time.monotonic() < deadline:
        time.sleep(0.3)
        at.run()
    return at
