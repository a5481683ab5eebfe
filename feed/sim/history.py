"""Daily and weekly K-lines of many days: a seeded past behind the simulator's today.

Why it exists: ``bars("1d")`` and ``bars("1w")`` ask for hundreds of bars, and the
previous close must still be the close of the latest bar dated before today. The last
two daily bars are :func:`feed.sim.bars.daily_bars` (yesterday closing at the previous
close, today so far); each earlier day is drawn from a generator seeded by (seed, code,
date), closing near the next day's open, so the same seed gives the same history.
Weekly bars aggregate the daily ones per ISO week, stamped at the week's Monday.

State: none (pure functions, called under the market's lock with its day so far).
"""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from feed.sim.bars import DAY_SIGMA, DaySoFar, daily_bars, dec, lot, record
from feed.symbols import Market
from feed.universe import Instrument, round_to_tick

__all__ = ["many_daily_bars", "weekly_bars"]

MAX_BARS = 500


def _trading_days_before(inst: Instrument, first: date, n: int) -> list[date]:
    """``n`` trading dates strictly before ``first``, newest first (weekends skipped)."""
    out: list[date] = []
    d = first
    while len(out) < n:
        d -= timedelta(days=1)
        if inst.market is Market.CRYPTO or d.weekday() < 5:
            out.append(d)
    return out


def _bar(inst: Instrument, d: date, o: Decimal, h: Decimal, lo: Decimal, c: Decimal, v: Decimal) -> dict:
    ts = int(datetime.combine(d, datetime.min.time(), tzinfo=inst.market.tz).timestamp())
    return record(inst, ts, o, h, lo, c, v, v * (o + h + lo + c) / 4)


def many_daily_bars(
    inst: Instrument, seed: int, day: DaySoFar, num: int, now_s: float
) -> list[dict[str, str]]:
    """Up to 500 daily bars, oldest first, ending with yesterday and today."""
    recent = daily_bars(inst, seed, day, 2, now_s)
    num = max(1, min(num, MAX_BARS))
    if num <= 2:
        return recent[-num:]
    oldest_recent = datetime.fromtimestamp(int(recent[0]["timestamp"]), inst.market.tz).date()
    next_open = Decimal(recent[0]["open_price"])
    sigma = DAY_SIGMA[inst.market]
    earlier: list[dict[str, str]] = []
    for d in _trading_days_before(inst, oldest_recent, num - 2):
        r = random.Random(f"{seed}:{inst.code}:history:{d.isoformat()}")
        close = round_to_tick(inst, dec(float(next_open) * math.exp(r.gauss(0.0, sigma / 4))))
        open_ = round_to_tick(inst, dec(float(close) * math.exp(r.gauss(0.0, sigma))))
        spread = 1 + abs(r.gauss(0.0, sigma / 2))
        high = round_to_tick(inst, dec(float(max(open_, close)) * spread), ROUND_CEILING)
        low = round_to_tick(inst, dec(float(min(open_, close)) / spread), ROUND_FLOOR)
        volume = Decimal(r.randint(1_000, 50_000)) * lot(inst)
        earlier.append(_bar(inst, d, open_, high, low, close, volume))
        next_open = open_
    return [*reversed(earlier), *recent]


def weekly_bars(inst: Instrument, seed: int, day: DaySoFar, num: int, now_s: float) -> list[dict[str, str]]:
    """Up to 500 weekly bars (ISO weeks, stamped at Monday 00:00 local), oldest first."""
    num = max(1, min(num, MAX_BARS))
    days = many_daily_bars(inst, seed, day, min(MAX_BARS, num * 5 + 5), now_s)
    weeks: dict[date, list[dict[str, str]]] = {}
    for b in days:
        d = datetime.fromtimestamp(int(b["timestamp"]), inst.market.tz).date()
        weeks.setdefault(d - timedelta(days=d.weekday()), []).append(b)
    out = []
    for monday, group in sorted(weeks.items()):
        o = Decimal(group[0]["open_price"])
        h = max(Decimal(b["high_price"]) for b in group)
        lo = min(Decimal(b["low_price"]) for b in group)
        c = Decimal(group[-1]["close_price"])
        v = sum((Decimal(b["volume"]) for b in group), Decimal(0))
        out.append(_bar(inst, monday, o, h, lo, c, v))
    return out[-num:]
