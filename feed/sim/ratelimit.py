"""The plan's HTTP rate limits (alltick-protocol.md §4.3), as the live server applies them.

Why it exists: a client that paces itself by :mod:`feed.protocol.plans` must never be
throttled by a simulator enforcing the same table, and one that does not must see the
two failures the wild shows: the bare ``{"error_msg": ...}`` body for calls too close
together on one endpoint, and status 429 when the minute or day quota is spent.

State: per-token call times, owned by this object under its own lock (HTTP request
threads call :meth:`HttpRateLimiter.check`). Time comes in as arguments: no clock here.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import date
from enum import Enum

from feed.protocol.plans import Plan

__all__ = ["HttpRateLimiter", "Limited"]


class Limited(Enum):
    """Why a call was refused."""

    TOO_SOON = "too soon"  # under the endpoint's interval: the bare error_msg body
    QUOTA = "quota"  # minute or day quota spent: status 429


@dataclass
class _TokenCalls:
    last: dict[str, float] = field(default_factory=dict)  # endpoint name -> monotonic time
    window: deque[float] = field(default_factory=deque)  # calls in the last minute
    day: date | None = None
    day_count: int = 0


class HttpRateLimiter:
    """``check(token, name, now, today)``: None when the call may proceed (and is counted)."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self._lock = threading.Lock()
        self._tokens: dict[str, _TokenCalls] = {}

    def check(self, token: str, name: str, now: float, today: date) -> Limited | None:
        plan = self.plan
        interval = plan.batch_kline_interval if name == "batch-kline" else plan.http_interval
        with self._lock:
            st = self._tokens.setdefault(token, _TokenCalls())
            last = st.last.get(name)
            if last is not None and now - last < interval:
                return Limited.TOO_SOON
            while st.window and now - st.window[0] >= 60:
                st.window.popleft()
            if st.day != today:
                st.day, st.day_count = today, 0
            if len(st.window) >= plan.http_per_minute or st.day_count >= plan.http_per_day:
                return Limited.QUOTA
            st.last[name] = now
            st.window.append(now)
            st.day_count += 1
        return None
