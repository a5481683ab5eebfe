"""Market hours for the simulator: whether a market trades at a wall-clock instant.

Why it exists: in "real" mode the simulator must fall silent exactly when the client
expects silence, so it asks ``feed.calendars`` (exchange_calendars for XNYS/XHKG/XSHG,
FX Sunday 22:00 to Friday 22:00 UTC, crypto always), the very module the client uses.
In "always" mode (the demo and most tests) every market trades around the clock.

State: a per-minute answer cache, owned by the scheduler thread (the only caller).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from feed.symbols import Market

__all__ = ["SessionMode", "Sessions"]


class SessionMode(StrEnum):
    ALWAYS = "always"  # every market open, all the time
    REAL = "real"  # exchange hours from feed.calendars


class Sessions:
    """``is_open(market, now_s)``; answers are cached per minute (calendars are slow)."""

    def __init__(self, mode: SessionMode | str) -> None:
        self.mode = SessionMode(mode)
        self._cache: dict[Market, tuple[int, bool]] = {}
        self._market_clock: Callable[[Market, datetime], Any] | None = None
        if self.mode is SessionMode.REAL:
            # Imported here: exchange_calendars costs ~1 s to load and "always" never needs it.
            from feed.calendars import market_clock, warm_up

            warm_up()
            self._market_clock = market_clock

    def is_open(self, market: Market, now_s: float) -> bool:
        if self._market_clock is None or market is Market.CRYPTO:
            return True
        minute = int(now_s // 60)
        hit = self._cache.get(market)
        if hit is not None and hit[0] == minute:
            return hit[1]
        result = bool(self._market_clock(market, datetime.fromtimestamp(minute * 60, UTC)).is_open)
        self._cache[market] = (minute, result)
        return result
