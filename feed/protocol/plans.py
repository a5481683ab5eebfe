"""AllTick plan limits (alltick-protocol.md §3.3, §4.2, §4.3), in one table.

The client caps itself by these numbers so it never relies on the server's silent
truncation (symbols over the cap are reported as not streamed, never quietly missing),
and the simulator enforces the very same numbers, so a test against it measures the
client against the limits it believes in.

Thread ownership: none; a pure, immutable table.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PLANS", "Plan", "plan_named"]


@dataclass(frozen=True, slots=True)
class Plan:
    name: str
    # WebSocket connections per endpoint group (a stock and a forex connection count apart).
    max_connections: int
    # Codes per tick subscription; the server serves the first N and ignores the rest.
    max_codes: int
    # Seconds between reconnect attempts the docs ask for.
    reconnect_floor: float
    # HTTP: seconds between calls of /kline, /trade-tick, /static_info (per token).
    http_interval: float
    # HTTP: seconds between /batch-kline calls.
    batch_kline_interval: float
    # Items (codes x kline types) per /batch-kline call; more is ret 603.
    batch_kline_items: int
    # Codes per /trade-tick or /static_info call (free: 5; paid: "≤ 50" for URL length).
    codes_per_query: int
    # HTTP calls per minute and per day, all endpoints together.
    http_per_minute: int
    http_per_day: int


PLANS: dict[str, Plan] = {
    p.name: p
    for p in (
        Plan("free", 1, 5, 10.0, 10.0, 10.0, 5, 5, 10, 1_000),
        Plan("basic", 1, 100, 3.0, 1.0, 3.0, 100, 50, 60, 86_400),
        Plan("premium", 3, 200, 3.0, 0.1, 2.0, 200, 50, 600, 864_000),
        Plan("professional", 10, 3000, 3.0, 0.05, 1.0, 500, 50, 1_200, 1_728_000),
    )
}
# The market-wide plans (All-HK, All-CN, All-US) have professional limits.
for _alias in ("all-hk", "all-cn", "all-us"):
    PLANS[_alias] = PLANS["professional"]


def plan_named(name: str) -> Plan:
    """Look a plan up by name; unknown names raise ValueError listing the valid ones."""
    key = (name or "free").strip().lower()
    try:
        return PLANS[key]
    except KeyError:
        raise ValueError(f"unknown ALLTICK_PLAN {name!r}; use one of {', '.join(sorted(PLANS))}") from None
