"""K-line bars the simulator answers on ``/kline`` and ``/batch-kline``.

Why it exists: bars are the client's previous closes (daily) and minute paths
(intraday), so they must agree with the prices the simulator streams. Intraday bars are
built from the trades the market really made (a per-minute tape) wherever it has them;
the minutes before the tape starts are a seeded Brownian bridge from the previous close
to the first real price, so a chart of any length looks like a market. Either way the
last bar closes at the last price. Daily bars are the previous trading day (closing at
the previous close) and today so far.

State: :class:`MinuteTape` is mutable and belongs to one quote of
:class:`~feed.sim.market.MarketModel`, used only under the market's lock. The bar
functions are pure: same inputs and seed, same bars.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from feed.protocol.records import bar_record
from feed.symbols import Market
from feed.universe import Instrument, round_to_tick

__all__ = ["MINUTES_KEPT", "DaySoFar", "MinuteTape", "daily_bars", "intraday_bars", "record"]

MINUTES_KEPT = 24 * 60  # a day of one-minute aggregates per symbol

# Per-minute log-price volatility of the synthetic bridge, and the day's spread.
MINUTE_SIGMA = {Market.US: 8e-4, Market.HK: 8e-4, Market.CN: 6e-4, Market.FX: 1e-4, Market.CRYPTO: 1.2e-3}
DAY_SIGMA = {Market.US: 0.012, Market.HK: 0.015, Market.CN: 0.01, Market.FX: 0.003, Market.CRYPTO: 0.02}

_Agg = list[Decimal]  # open, high, low, close, volume, turnover


def dec(x: float) -> Decimal:
    return Decimal(repr(x))


def lot(inst: Instrument) -> Decimal:
    return Decimal(inst.lot_size if inst.is_stock else 1)


def fmt_price(inst: Instrument, p: Decimal) -> str:
    return f"{p:.{inst.decimals}f}"


class MinuteTape:
    """One symbol's trades folded into one-minute OHLCV aggregates, oldest first.

    Minutes are stamped by the simulator's clock when the trade was made and never go
    backwards (a clock set back files trades under the latest minute), so the newest
    aggregate always holds the newest trade.
    """

    __slots__ = ("_minutes",)

    def __init__(self) -> None:
        self._minutes: dict[int, _Agg] = {}

    def add(self, time_s: float, price: Decimal, volume: Decimal) -> None:
        minute = int(time_s // 60) * 60
        if self._minutes:
            minute = max(minute, next(reversed(self._minutes)))
        agg = self._minutes.get(minute)
        if agg is None:
            self._minutes[minute] = [price, price, price, price, volume, price * volume]
            if len(self._minutes) > MINUTES_KEPT:
                del self._minutes[next(iter(self._minutes))]
            return
        agg[1] = max(agg[1], price)
        agg[2] = min(agg[2], price)
        agg[3] = price
        agg[4] += volume
        agg[5] += price * volume

    def clear(self) -> None:
        self._minutes.clear()

    def buckets(self, step: int, start: int) -> dict[int, _Agg]:
        """Aggregates of ``step`` seconds (a multiple of 60) from ``start`` on, by bucket start."""
        out: dict[int, _Agg] = {}
        for minute, (o, h, lo, c, v, t) in self._minutes.items():
            if minute < start:
                continue
            key = minute // step * step
            agg = out.get(key)
            if agg is None:
                out[key] = [o, h, lo, c, v, t]
            else:
                agg[1], agg[2], agg[3] = max(agg[1], h), min(agg[2], lo), c
                agg[4] += v
                agg[5] += t
        return out


@dataclass(frozen=True, slots=True)
class DaySoFar:
    """A symbol's trading day as the market knows it now."""

    prev_close: Decimal
    open: Decimal
    high: Decimal
    low: Decimal
    last: Decimal
    volume: Decimal
    turnover: Decimal


def record(
    inst: Instrument, ts: int, o: Decimal, h: Decimal, lo: Decimal, c: Decimal, v: Decimal, t: Decimal
) -> dict[str, str]:
    return bar_record(
        ts,
        fmt_price(inst, o),
        fmt_price(inst, h),
        fmt_price(inst, lo),
        fmt_price(inst, c),
        f"{v:f}",
        f"{t:.6f}",
    )


def _midnight(d: date, tz: object) -> int:
    return int(datetime.combine(d, dtime(0), tzinfo=tz).timestamp())  # type: ignore[arg-type]


def daily_bars(inst: Instrument, seed: int, day: DaySoFar, num: int, now_s: float) -> list[dict[str, str]]:
    """Previous trading day (close = previous close) and today (close = last), at local midnights."""
    tz = inst.market.tz
    today = datetime.fromtimestamp(now_s, tz).date()
    prev_day = today - timedelta(days=1)
    if inst.market is not Market.CRYPTO:
        while prev_day.weekday() >= 5:
            prev_day -= timedelta(days=1)
    r = random.Random(f"{seed}:{inst.code}:day:{prev_day.isoformat()}")
    sigma = DAY_SIGMA[inst.market]
    close = day.prev_close
    open_ = round_to_tick(inst, dec(float(close) * math.exp(r.gauss(0.0, sigma))))
    spread = 1 + abs(r.gauss(0.0, sigma / 2))
    high = round_to_tick(inst, dec(float(max(open_, close)) * spread), ROUND_CEILING)
    low = round_to_tick(inst, dec(float(min(open_, close)) / spread), ROUND_FLOOR)
    volume = Decimal(r.randint(1_000, 50_000)) * lot(inst)
    mid = (high + low + open_ + close) / 4
    bars = [
        record(inst, _midnight(prev_day, tz), open_, high, low, close, volume, volume * mid),
        record(
            inst,
            _midnight(today, tz),
            day.open,
            max(day.high, day.open, day.last),
            min(day.low, day.open, day.last),
            day.last,
            day.volume,
            day.turnover,
        ),
    ]
    return bars[-num:] if num < len(bars) else bars


def intraday_bars(
    inst: Instrument,
    seed: int,
    kline_type: int,
    step: int,
    num: int,
    now_s: float,
    day: DaySoFar,
    tape: MinuteTape,
) -> list[dict[str, str]]:
    """``num`` bars of ``step`` seconds ending with the current one, oldest first.

    Buckets the tape has trades for are those trades; a bucket after them with no trade
    is flat at the close before it; the buckets before the tape's first are the bridge.
    The last bar's close is always ``day.last``.
    """
    num = max(1, num)
    end = int(now_s // step) * step
    starts = [end - (num - 1 - i) * step for i in range(num)]
    real = tape.buckets(step, starts[0])
    first = next((i for i, s in enumerate(starts) if s in real), num)
    target = real[starts[first]][0] if first < num else day.last
    bars = _bridge(inst, seed, kline_type, step, num, end, starts[:first], day.prev_close, target)
    close = target
    for s in starts[first:]:
        agg = real.get(s)
        if agg is None:
            bars.append(record(inst, s, close, close, close, close, Decimal(0), Decimal(0)))
        else:
            bars.append(record(inst, s, *agg))
            close = agg[3]
    if close != day.last and first < num:  # the tape ran ahead of the clock: end at the last price
        bars[-1] = _closing_at(inst, bars[-1], day.last)
    return bars


def _closing_at(inst: Instrument, bar: dict[str, str], price: Decimal) -> dict[str, str]:
    high = max(Decimal(bar["high_price"]), price)
    low = min(Decimal(bar["low_price"]), price)
    return bar | {
        "close_price": fmt_price(inst, price),
        "high_price": fmt_price(inst, high),
        "low_price": fmt_price(inst, low),
    }


def _bridge(
    inst: Instrument,
    seed: int,
    kline_type: int,
    step: int,
    num: int,
    end: int,
    starts: list[int],
    start_price: Decimal,
    target: Decimal,
) -> list[dict[str, str]]:
    """A seeded Brownian bridge from ``start_price`` to ``target`` over ``len(starts)`` bars."""
    n = len(starts)
    if n == 0:
        return []
    r = random.Random(f"{seed}:{inst.code}:k{kline_type}:{end}:{num}")
    sigma = MINUTE_SIGMA[inst.market] * math.sqrt(step / 60)
    a, b = math.log(float(start_price)), math.log(float(target))
    walk = [0.0]
    for _ in range(n):
        walk.append(walk[-1] + r.gauss(0.0, sigma))
    closes = []
    for k in range(1, n + 1):
        t = k / n
        closes.append(round_to_tick(inst, dec(math.exp(a + (b - a) * t + walk[k] - t * walk[n]))))
    closes[-1] = target
    opens = [start_price, *closes[:-1]]
    bars = []
    for s, o, c in zip(starts, opens, closes, strict=True):
        wick = 1 + abs(r.gauss(0.0, sigma / 2))
        high = round_to_tick(inst, dec(float(max(o, c)) * wick), ROUND_CEILING)
        low = round_to_tick(inst, dec(float(min(o, c)) / wick), ROUND_FLOOR)
        volume = Decimal(r.randint(1, 200)) * lot(inst)
        bars.append(record(inst, s, o, high, low, c, volume, volume * c))
    return bars
