"""The simulator's market: every symbol's price, trading day, trade tape and pushes.

Why it exists: one model answers everything a client can learn about a price, the
22998 pushes, ``/trade-tick``, ``/kline`` and ``/static_info``, so what it streams and
what it serves cannot disagree. Prices are seeded random walks on each instrument's
tick grid, kept as Decimal so the wire strings are exact. Each symbol has its own
``random.Random`` seeded from (seed, code), drawn a fixed number of times per trade,
so the same seed gives every symbol the same price sequence whatever the thread timing.

It is the simulator's :class:`~feed.sim.httpd.RecordSource`: the HTTP service asks it
for records and never sees a quote.

State: the quotes, owned by this object and touched only under :attr:`MarketModel.lock`,
by the scheduler thread (random-walk trades), HTTP request threads (records) and control
callers (``set_quote``, ``push_tick``). A push is made and handed to the fan-out under
that one lock, so pushes leave in the order their seqs were drawn; the fan-out's own
lock is always taken second (lock order: market, then hub).
"""

from __future__ import annotations

import math
import random
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any, Protocol

from feed.protocol.codec import encode_tick_push
from feed.protocol.records import (
    KLINE_DAILY,
    KLINE_SECONDS,
    KLINE_WEEKLY,
    Bar,
    bars_from,
    static_record,
    trade_record,
)
from feed.sim.bars import DAY_SIGMA, DaySoFar, MinuteTape, dec, fmt_price, intraday_bars, lot
from feed.sim.faults import PushFaults
from feed.sim.history import many_daily_bars, weekly_bars
from feed.symbols import Endpoint, Market
from feed.universe import UNIVERSE, Instrument, round_to_tick

__all__ = ["SENT_KEPT", "Fanout", "MarketModel"]

SENT_KEPT = 100_000  # sent pushes remembered per symbol (``sent_ticks``)
MAX_TRADES_PER_BATCH = 20  # so a tick_interval below the batch period still means more trades
KAPPA = 0.001  # per-trade pull of the log price back to the day's anchor
TICK_SIGMA = {Market.US: 4e-4, Market.HK: 4e-4, Market.CN: 3e-4, Market.FX: 4e-5, Market.CRYPTO: 6e-4}
# Symbols that never go quiet: the seed article's four keep the demo lively.
ALWAYS_ACTIVE = frozenset({"AAPL.US", "TSLA.US", "700.HK", "9988.HK"})
_SIX = Decimal("0.000001")
_BOARDS = {Market.US: "USEquity", Market.HK: "HKEquity", Market.CN: "CNEquity"}


class Fanout(Protocol):
    """Where pushes go: the connections subscribed to a code (``feed.sim.hub.Hub``)."""

    def deliver(self, code: str, frames: list[str]) -> int:
        """Queue ``frames`` for every live subscriber of ``code``; returns how many took them."""
        ...


@dataclass(eq=False, slots=True)
class _Quote:
    """Everything the simulator knows about one symbol's trading day."""

    inst: Instrument
    rng: random.Random  # price path: fixed draws per trade, so the sequence is seeded
    timing: random.Random  # inter-trade times, kept apart so timing never shifts prices
    mean_interval: float
    sigma: float
    prev_close: Decimal
    last: Decimal
    anchor: float
    open: Decimal
    high: Decimal
    low: Decimal
    volume: Decimal
    turnover: Decimal
    day: date
    seq: int
    time_ms: int
    last_volume: Decimal = Decimal(0)
    last_direction: int = 0
    frozen: bool = False
    next_due: float = 0.0
    prev_frame: str | None = None
    tape: MinuteTape = field(default_factory=MinuteTape)
    sent: deque[tuple[int, str]] = field(default_factory=lambda: deque(maxlen=SENT_KEPT))

    def day_so_far(self) -> DaySoFar:
        return DaySoFar(
            self.prev_close, self.open, self.high, self.low, self.last, self.volume, self.turnover
        )


def _draw_volume(inst: Instrument, r: random.Random) -> Decimal:
    n = r.randint(1, 20)
    if inst.market is Market.US:
        return Decimal(n * 10)
    if inst.market is Market.CRYPTO:
        return Decimal(n * r.randint(1, 500)).scaleb(-4)
    return Decimal(n) * lot(inst)


def _decimal_or_none(text: str) -> Decimal | None:
    try:
        d = Decimal(text)
    except (InvalidOperation, TypeError, ValueError):
        return None
    return d if d.is_finite() else None


def _local_date(inst: Instrument, now_s: float) -> date:
    return datetime.fromtimestamp(now_s, inst.market.tz).date()


class MarketModel:
    """The quotes of :data:`feed.universe.UNIVERSE`, their trades and their records."""

    def __init__(
        self, *, seed: int, tick_interval: float, integer_ids: bool, clock: Any, fanout: Fanout
    ) -> None:
        self.seed = seed
        self.integer_ids = integer_ids
        self.clock = clock
        self.lock = threading.RLock()
        self._fanout = fanout
        now_s = clock()
        self._quotes = {code: self._new_quote(inst, now_s, tick_interval) for code, inst in UNIVERSE.items()}
        self._paused = False
        self._faults = PushFaults()
        self._fault_rng = random.Random(f"{seed}:faults")

    def _new_quote(self, inst: Instrument, now_s: float, tick_interval: float) -> _Quote:
        rng = random.Random(f"{self.seed}:{inst.code}")
        rate = random.Random(f"{self.seed}:{inst.code}:rate")
        factor = math.exp(rate.gauss(0.0, 0.5))
        if rate.random() < 0.2 and inst.code not in ALWAYS_ACTIVE and inst.market is not Market.CRYPTO:
            factor *= 8.0  # a quiet name: trades rarely
        day_sigma = DAY_SIGMA[inst.market]
        prev = round_to_tick(inst, dec(float(inst.price) * math.exp(rng.gauss(0.0, 0.01))))
        last = round_to_tick(inst, dec(float(prev) * math.exp(rng.gauss(0.0, day_sigma))))
        open_ = round_to_tick(inst, dec(float(prev) * math.exp(rng.gauss(0.0, day_sigma / 3))))
        spread = 1 + abs(rng.gauss(0.0, day_sigma / 2))
        high = round_to_tick(inst, dec(float(max(open_, last)) * spread), ROUND_CEILING)
        low = round_to_tick(inst, dec(float(min(open_, last)) / spread), ROUND_FLOOR)
        volume = Decimal(rng.randint(1_000, 50_000)) * lot(inst)
        return _Quote(
            inst=inst,
            rng=rng,
            timing=random.Random(f"{self.seed}:{inst.code}:timing"),
            mean_interval=tick_interval * factor,
            sigma=TICK_SIGMA[inst.market],
            prev_close=prev,
            last=last,
            anchor=float(last),
            open=open_,
            high=high,
            low=low,
            volume=volume,
            turnover=(volume * last).quantize(_SIX),
            day=_local_date(inst, now_s),
            seq=rng.randint(1_000_000, 90_000_000),
            time_ms=int(now_s * 1000),
            last_volume=_draw_volume(inst, rate),  # so /trade-tick never shows a zero-size trade
        )

    # --- control (any thread) ---------------------------------------------------------

    def set_quote(self, code: str, last: str, prev_close: str, freeze: bool) -> None:
        """Rewrite the day: opened at ``prev_close``, now at ``last`` (the tape restarts there)."""
        with self.lock:
            q = self._quotes[code]
            now_s = self.clock()
            q.last = Decimal(last)
            q.prev_close = Decimal(prev_close)
            q.anchor = float(q.last)
            q.open = q.prev_close
            q.high = max(q.open, q.last)
            q.low = min(q.open, q.last)
            q.frozen = freeze
            q.day = _local_date(q.inst, now_s)
            # A pinned price is a trade like any other: newer seq and time, so a client
            # that fetches it over HTTP (a gap fill) sees it as news, not a duplicate.
            q.seq += 1
            q.time_ms = max(q.time_ms + 1, int(now_s * 1000))
            q.tape.clear()
            q.tape.add(now_s, q.last, Decimal(0))

    def push_tick(self, code: str, price: str, seq: int | None, time_ms: int | None, volume: str) -> int:
        """Push one frame for ``code`` now (``price`` verbatim); returns the seq it carried."""
        with self.lock:
            q = self._quotes[code]
            now_s = self.clock()
            ms = int(now_s * 1000) if time_ms is None else time_ms
            seq_used = q.seq + 1 if seq is None else seq
            is_new = seq_used > q.seq
            q.seq = max(q.seq, seq_used)
            p = _decimal_or_none(price)
            v = _decimal_or_none(volume) or Decimal(0)
            turnover = "0"
            valid = p is not None and p > 0
            if valid:
                assert p is not None
                turnover = f"{p * v:.6f}"
                self._record_trade(q, p, v, 0, ms, now_s)
            frame = encode_tick_push(
                code, seq_used, ms, price, volume, turnover, 0, integer_ids=self.integer_ids
            )
            if self._fanout.deliver(code, [frame]) and valid and is_new:
                q.sent.append((seq_used, price))
        return seq_used

    def pause(self, paused: bool) -> None:
        with self.lock:
            self._paused = paused

    def set_faults(self, faults: PushFaults) -> None:
        with self.lock:
            self._faults = faults

    # --- readings (any thread) --------------------------------------------------------

    def last_price(self, code: str) -> str:
        with self.lock:
            q = self._quotes[code]
            return fmt_price(q.inst, q.last)

    def prev_close(self, code: str) -> str:
        with self.lock:
            q = self._quotes[code]
            return fmt_price(q.inst, q.prev_close)

    def last_seq(self, code: str) -> int:
        with self.lock:
            return self._quotes[code].seq

    def sent_ticks(self, code: str) -> list[tuple[int, str]]:
        with self.lock:
            return list(self._quotes[code].sent)

    def minute_bars(self, code: str, num: int) -> list[Bar]:
        inst = UNIVERSE[code]
        return bars_from(self.kline(inst.market.endpoint, code, 1, num, self.clock()))

    # --- the random walk (scheduler thread) -----------------------------------------

    def schedule_from(self, start_mono: float) -> None:
        """Spread each symbol's first trade over its mean interval from ``start_mono``."""
        with self.lock:
            for q in self._quotes.values():
                q.next_due = start_mono + q.timing.uniform(0, q.mean_interval)

    def trade_due(self, now_mono: float, now_s: float, open_now: Mapping[Market, bool]) -> None:
        """Let every symbol whose next trade is due trade, and push each trade."""
        now_ms = int(now_s * 1000)
        with self.lock:
            self._roll_days(now_s)
            if self._paused:
                return
            for q in self._quotes.values():
                if now_mono - q.next_due > 1.0:  # woke late (e.g. after a pause): no burst of catch-up
                    q.next_due = now_mono
                trades = 0
                while q.next_due <= now_mono and trades < MAX_TRADES_PER_BATCH:
                    q.next_due += q.timing.expovariate(1.0 / q.mean_interval)
                    trades += 1
                    if q.frozen or not open_now[q.inst.market]:
                        continue
                    self._walk(q, now_ms, now_s)

    def _walk(self, q: _Quote, now_ms: int, now_s: float) -> None:
        """One random-walk trade and its push (with any faults). Draws a fixed count per trade."""
        r = q.rng
        x = math.log(float(q.last) / q.anchor) * (1 - KAPPA) + q.sigma * r.gauss(0.0, 1.0)
        price = round_to_tick(q.inst, dec(q.anchor * math.exp(x)))
        volume = _draw_volume(q.inst, r)
        neutral = int(r.random() * 3)
        if q.inst.market is Market.FX:
            direction = 0
        elif price != q.last:
            direction = 1 if price > q.last else 2
        else:
            direction = neutral
        q.seq += 1
        self._record_trade(q, price, volume, direction, now_ms, now_s)
        wire_price = fmt_price(q.inst, price)
        frame = encode_tick_push(
            q.inst.code,
            q.seq,
            now_ms,
            wire_price,
            f"{volume:f}",
            f"{price * volume:.6f}",
            direction,
            integer_ids=self.integer_ids,
        )
        frames = self._faults.mix(frame, q.prev_frame, q.inst.code, q.seq, now_ms, self._fault_rng)
        q.prev_frame = frame
        if self._fanout.deliver(q.inst.code, frames):
            q.sent.append((q.seq, wire_price))

    def _record_trade(
        self, q: _Quote, price: Decimal, volume: Decimal, direction: int, ms: int, now_s: float
    ) -> None:
        q.last = price
        q.high = max(q.high, price)
        q.low = min(q.low, price)
        q.volume += volume
        q.turnover += (price * volume).quantize(_SIX)
        q.last_volume = volume
        q.last_direction = direction
        q.time_ms = ms
        q.tape.add(now_s, price, volume)

    def _roll_days(self, now_s: float) -> None:
        """At an exchange-local midnight, today's last becomes the previous close."""
        today = {m: datetime.fromtimestamp(now_s, m.tz).date() for m in Market}
        for q in self._quotes.values():
            d = today[q.inst.market]
            if d > q.day and not q.frozen:
                q.prev_close = q.last
                q.anchor = float(q.last)
                q.open = q.high = q.low = q.last
                q.volume = q.turnover = Decimal(0)
                q.day = d
                q.tape.clear()

    # --- the record source (HTTP request threads) -----------------------------------

    def knows(self, endpoint: Endpoint, code: object) -> bool:
        """Whether ``code`` is served on ``endpoint`` (the universe is fixed: no lock needed)."""
        inst = UNIVERSE.get(code) if isinstance(code, str) else None
        return inst is not None and inst.market.endpoint is endpoint

    def kline(
        self, endpoint: Endpoint, code: object, kline_type: int, num: int, now_s: float
    ) -> list[dict[str, str]] | None:
        if not self.knows(endpoint, code):
            return None
        assert isinstance(code, str)
        step = KLINE_SECONDS.get(kline_type)
        with self.lock:
            self._roll_days(now_s)
            q = self._quotes[code]
            if kline_type == KLINE_DAILY:
                return many_daily_bars(q.inst, self.seed, q.day_so_far(), num, now_s)
            if kline_type == KLINE_WEEKLY:
                return weekly_bars(q.inst, self.seed, q.day_so_far(), num, now_s)
            if step is None:
                return []
            return intraday_bars(q.inst, self.seed, kline_type, step, num, now_s, q.day_so_far(), q.tape)

    def trade_ticks(self, endpoint: Endpoint, codes: Iterable[object]) -> list[dict[str, Any]]:
        known = [c for c in codes if self.knows(endpoint, c)]
        with self.lock:
            self._roll_days(self.clock())
            return [self._trade_record(self._quotes[c]) for c in known]  # type: ignore[index]

    def static_infos(self, endpoint: Endpoint, codes: Iterable[object]) -> list[dict[str, str]]:
        out = []
        for code in codes:
            if self.knows(endpoint, code):
                i = UNIVERSE[code]  # type: ignore[index]
                board = _BOARDS.get(i.market, "")
                out.append(
                    static_record(i.code, i.name_en, i.name_cn, i.currency, i.exchange, board, i.lot_size)
                )
        return out

    @staticmethod
    def _trade_record(q: _Quote) -> dict[str, Any]:
        price = fmt_price(q.inst, q.last)
        turnover = f"{q.last * q.last_volume:.6f}"
        return trade_record(
            q.inst.code, q.seq, q.time_ms, price, f"{q.last_volume:f}", turnover, q.last_direction
        )
