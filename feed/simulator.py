"""A real AllTick-protocol server on loopback: the demo feed and the test double.

The app falls back to it in demo mode (no token), and the tests point the real
client at it to inject faults a live server only produces on bad days: dropped and
half-open sockets, garbage frames, duplicate and out-of-order pushes, rate limits.
It speaks the wire protocol of alltick-protocol.md through the project's own codec
(``feed.protocol.codec``), so client and simulator cannot drift apart.

Two servers run in daemon threads: a WebSocket server (``websockets.sync``) for
both stream paths, and a threading HTTP server for the REST paths (``websockets``
cannot serve POST, and ``/batch-kline`` is a POST). One scheduler thread moves
the prices: every ~50 ms it lets each symbol whose next trade is due trade once,
and queues the push for the connections subscribed to it. Each connection's
handler thread is the only writer of its socket, so responses and pushes stay in
order and a slow client only stalls itself.

Prices are seeded random walks on each instrument's tick grid, kept as Decimal so
the wire strings are exact. Each symbol has its own ``random.Random`` seeded from
(seed, code): the same seed gives every symbol the same price sequence, whatever
the thread timing.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import math
import random
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request as WsRequest
from websockets.http11 import Response as WsResponse
from websockets.sync.server import Server, ServerConnection, serve

from feed.config import RedactFilter
from feed.protocol.codec import (
    CancelType,
    Cmd,
    Request,
    Response,
    Ret,
    decode_request,
    encode_response,
    encode_tick_push,
)
from feed.symbols import Endpoint, Market
from feed.universe import UNIVERSE, Instrument, round_to_tick

__all__ = ["HTTP_PATHS", "PLANS", "WS_PATHS", "PlanLimits", "Simulator", "main"]

logger = logging.getLogger("feed.simulator")
# The server logs request lines, which carry ?token=: mask it like the client does.
for _name in ("feed.simulator", "feed.simulator.ws"):
    logging.getLogger(_name).addFilter(RedactFilter())
_ws_logger = logging.getLogger("feed.simulator.ws")  # websockets' own protocol log

_TOKEN_IN_TEXT = re.compile(r"(token=)[^&\s\"']+")


class _RedactToken(logging.Filter):
    """Tokens are secrets: request lines (ours and websockets') are logged as ``token=***``."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if "token=" in text:
            record.msg = _TOKEN_IN_TEXT.sub(r"\1***", text)
            record.args = None
        return True


for _logger in (logger, _ws_logger):
    _logger.addFilter(_RedactToken())

WS_PATHS: dict[str, Endpoint] = {
    "/quote-stock-b-ws-api": Endpoint.STOCK,
    "/quote-b-ws-api": Endpoint.FOREX,
}
HTTP_BASES: dict[str, Endpoint] = {
    "/quote-stock-b-api": Endpoint.STOCK,
    "/quote-b-api": Endpoint.FOREX,
}
_HTTP_NAMES: dict[Endpoint, frozenset[str]] = {
    Endpoint.STOCK: frozenset({"kline", "batch-kline", "trade-tick", "static_info"}),
    Endpoint.FOREX: frozenset({"kline", "batch-kline", "trade-tick"}),
}
HTTP_PATHS: list[str] = sorted(f"{b}/{n}" for b, g in HTTP_BASES.items() for n in _HTTP_NAMES[g])


@dataclass(frozen=True, slots=True)
class PlanLimits:
    """What a plan allows (protocol §3.3 and §4.2/4.3)."""

    ws_connections: int  # per endpoint group
    codes_per_subscription: int
    batch_kline_items: int
    trade_tick_codes: int
    http_interval: float  # seconds between calls of one query endpoint
    batch_interval: float  # seconds between /batch-kline calls
    http_per_minute: int
    http_per_day: int


PLANS: dict[str, PlanLimits] = {
    "free": PlanLimits(1, 5, 5, 5, 10.0, 10.0, 10, 1_000),
    "basic": PlanLimits(1, 100, 100, 200, 1.0, 3.0, 60, 86_400),
    "premium": PlanLimits(3, 200, 200, 200, 0.1, 2.0, 600, 864_000),
    "professional": PlanLimits(10, 3000, 500, 200, 0.05, 1.0, 1_200, 1_728_000),
}

HTTP_FAULTS = frozenset({"429", "no_ret", "605"})
_RATE_LIMITED_BODY = b'{"error_msg":"Too many requests"}'

_BATCH_SECONDS = 0.05  # scheduler period
_MAX_TRADES_PER_BATCH = 20  # so tick_interval below the batch period still means more trades
_POLL_SECONDS = 0.05  # how often a connection handler looks at its outbox
_CLOSE_TIMEOUT = 0.5  # wait this long for a client's close frame (bounds stop())
_OUTBOX_MAX = 20_000  # frames queued per connection before the oldest are dropped
_VIOLATION_WINDOW = 10.0  # a second pacing violation within this closes the connection
_KAPPA = 0.001  # per-tick pull of the log price back to the day's anchor

# Per-tick and per-minute log-price volatility, and the day's spread of change.
_TICK_SIGMA = {Market.US: 4e-4, Market.HK: 4e-4, Market.CN: 3e-4, Market.FX: 4e-5, Market.CRYPTO: 6e-4}
_MINUTE_SIGMA = {Market.US: 8e-4, Market.HK: 8e-4, Market.CN: 6e-4, Market.FX: 1e-4, Market.CRYPTO: 1.2e-3}
_DAY_SIGMA = {Market.US: 0.012, Market.HK: 0.015, Market.CN: 0.01, Market.FX: 0.003, Market.CRYPTO: 0.02}

# Symbols that never go quiet: the seed article's four keep the demo lively.
_ALWAYS_ACTIVE = frozenset({"AAPL.US", "TSLA.US", "700.HK", "9988.HK"})

# Seconds per bar for the intraday kline types (daily is type 8, handled apart).
_KLINE_SECONDS = {1: 60, 2: 300, 3: 900, 4: 1800, 5: 3600, 6: 7200, 7: 14400}
_DAILY = 8
_MAX_KLINES = 500
_MAX_BATCH_KLINES = 2

_SIX = Decimal("0.000001")


# --- market sessions ----------------------------------------------------------------


class _Sessions:
    """Whether a market trades at a wall-clock instant; answers cached per minute.

    "real" mode asks ``feed.calendars`` (exchange_calendars for XNYS/XHKG/XSHG, FX
    Sunday 22:00 to Friday 22:00 UTC, crypto always), the same module the client uses
    to decide whether silence is expected, so the two agree on when a market is shut.
    """

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self._cache: dict[Market, tuple[int, bool]] = {}
        self._market_clock: Callable[[Market, datetime], Any] | None = None
        if mode == "real":
            # Imported here: exchange_calendars costs ~1 s to load and "always" mode never needs it.
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


# --- per-symbol and per-connection state ------------------------------------------


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


@dataclass(eq=False)
class _Conn:
    """One accepted WebSocket connection and its subscriptions."""

    id: int
    ws: ServerConnection
    group: Endpoint
    token: str
    opened: float
    ticks: list[str] = field(default_factory=list)
    tick_set: frozenset[str] = frozenset()
    depth: list[str] = field(default_factory=list)
    outbox: deque[tuple[str | None, str]] = field(default_factory=lambda: deque(maxlen=_OUTBOX_MAX))
    last_request: float | None = None
    violations: list[float] = field(default_factory=list)
    last_heartbeat: float = 0.0
    stalled_until: float = 0.0
    close_request: tuple[int, str] | None = None


@dataclass
class _RateState:
    last: dict[str, float] = field(default_factory=dict)
    window: deque[float] = field(default_factory=deque)
    day: date | None = None
    day_count: int = 0


@dataclass
class _Faults:
    garbage_rate: float = 0.0
    duplicate_rate: float = 0.0
    out_of_order_rate: float = 0.0


class _BadRequest(Exception):
    """A request whose fields are unusable; answered with ``ret``."""

    def __init__(self, ret: int) -> None:
        super().__init__(ret)
        self.ret = ret


# --- the simulator -------------------------------------------------------------------


class Simulator:
    """An AllTick WebSocket + HTTP server on loopback with deterministic prices.

    Use as a context manager, or ``start()``/``stop()``. All control methods are
    thread-safe and may be called before ``start()``.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        token: str | None = None,
        plan: str = "professional",
        heartbeat_timeout: float = 30.0,
        min_request_interval: float = 1.0,
        tick_interval: float = 0.5,
        integer_ids: bool = False,
        clock: Callable[[], float] = time.time,
        host: str = "127.0.0.1",
        ws_port: int = 0,
        http_port: int = 0,
        http_rate_limit: bool = False,
        sessions: str = "always",
    ) -> None:
        if plan not in PLANS:
            raise ValueError(f"unknown plan {plan!r}; expected one of {sorted(PLANS)}")
        if sessions not in ("always", "real"):
            raise ValueError("sessions must be 'always' or 'real'")
        if tick_interval <= 0:
            raise ValueError("tick_interval must be positive")
        self.seed = seed
        self.token = token
        self.plan = plan
        self.limits = PLANS[plan]
        self.heartbeat_timeout = heartbeat_timeout
        self.min_request_interval = min_request_interval
        self.tick_interval = tick_interval
        self.integer_ids = integer_ids
        self.clock = clock
        self.host = host
        self.http_rate_limit = http_rate_limit
        self.sessions = sessions
        self._ws_port = ws_port
        self._http_port = http_port

        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        now_s = clock()
        self._quotes: dict[str, _Quote] = {
            code: self._new_quote(inst, now_s) for code, inst in UNIVERSE.items()
        }
        self._conns: dict[int, _Conn] = {}
        self._group_counts: Counter[tuple[str, Endpoint]] = Counter()
        self._conn_ids = itertools.count(1)
        self._paused = False
        self._token_rejected = False
        self._faults = _Faults()
        self._fault_rng = random.Random(f"{seed}:faults")
        self._http_failures: deque[str] = deque()
        self._http_counts: Counter[str] = Counter()
        self._http_rate: dict[str, _RateState] = {}
        self._seen_ws: list[ServerConnection] = []

        self._stop_event = threading.Event()
        self._threads: list[threading.Thread] = []
        self._ws_server: Server | None = None
        self._http_server: _HttpServer | None = None
        self._session_state: _Sessions | None = None
        self._started = False
        self._bound_ws_port: int | None = None
        self._bound_http_port: int | None = None

    # --- lifecycle ---------------------------------------------------------------

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> Simulator:
        """Bind both servers and start serving; returns self."""
        if self._started:
            return self
        self._session_state = _Sessions(self.sessions)
        self._stop_event.clear()
        self._ws_server = serve(
            self._ws_handler,
            self.host,
            self._ws_port,
            process_request=self._ws_process_request,
            open_timeout=2.0,  # a socket that never sends its upgrade must not hold stop()
            ping_interval=None,  # AllTick uses app-level heartbeats; keep the wire quiet
            close_timeout=_CLOSE_TIMEOUT,
            compression=None,
            logger=_ws_logger,
        )
        try:
            self._http_server = _HttpServer((self.host, self._http_port), self)
        except OSError:
            self._ws_server.shutdown()
            raise
        self._bound_ws_port = int(self._ws_server.socket.getsockname()[1])
        self._bound_http_port = int(self._http_server.server_address[1])
        start_mono = time.monotonic()
        with self._lock:
            for q in self._quotes.values():
                q.next_due = start_mono + q.timing.uniform(0, q.mean_interval)
        self._threads = [
            threading.Thread(target=self._ws_server.serve_forever, name="sim-ws", daemon=True),
            threading.Thread(
                target=self._http_server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name="sim-http",
                daemon=True,
            ),
            threading.Thread(target=self._run_scheduler, name="sim-ticks", daemon=True),
        ]
        for t in self._threads:
            t.start()
        self._started = True
        logger.info("simulator serving ws=%s http=%s plan=%s", self.ws_base, self.http_base, self.plan)
        return self

    def stop(self) -> None:
        """Close every connection, stop both servers and join all threads (~1 s at most)."""
        if not self._started:
            return
        self._started = False
        self._stop_event.set()
        deadline = time.monotonic() + 2.0
        if self._ws_server is not None:
            self._ws_server.shutdown(code=1001, reason="server stopping")
        if self._http_server is not None:
            self._http_server.shutdown()
            self._http_server.server_close()  # joins request threads
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            seen, self._seen_ws = self._seen_ws, []
        for ws in seen:
            ws.recv_events_thread.join(max(0.05, deadline - time.monotonic()))
        alive = [t.name for t in self._threads if t.is_alive()]
        if alive:
            logger.warning("simulator threads still alive after stop: %s", alive)
        logger.info("simulator stopped")

    @property
    def ws_port(self) -> int:
        if self._bound_ws_port is None:
            raise RuntimeError("simulator not started")
        return self._bound_ws_port

    @property
    def http_port(self) -> int:
        if self._bound_http_port is None:
            raise RuntimeError("simulator not started")
        return self._bound_http_port

    @property
    def ws_base(self) -> str:
        """``ws://host:port``; the client appends the endpoint path and ``?token=``."""
        return f"ws://{self.host}:{self.ws_port}"

    @property
    def http_base(self) -> str:
        """``http://host:port``; the client appends ``/quote-stock-b-api/kline`` etc."""
        return f"http://{self.host}:{self.http_port}"

    # --- control API (tests and demo) -----------------------------------------------

    def set_quote(self, code: str, last: str, prev_close: str, *, freeze: bool = True) -> None:
        """Pin a symbol's last price and previous daily close; ``freeze`` stops its walk."""
        with self._lock:
            q = self._quotes[code]
            q.last = Decimal(last)
            q.prev_close = Decimal(prev_close)
            q.anchor = float(q.last)
            q.open = q.prev_close
            q.high = max(q.open, q.last)
            q.low = min(q.open, q.last)
            q.frozen = freeze
            q.day = self._local_date(q.inst, self.clock())
            # A pinned price is a trade like any other: newer seq and time, so a client
            # that fetches it over HTTP (a gap fill) sees it as news, not a duplicate.
            q.seq += 1
            q.time_ms = max(q.time_ms + 1, int(self.clock() * 1000))

    def push_tick(
        self,
        code: str,
        price: str,
        *,
        seq: int | None = None,
        time_ms: int | None = None,
        volume: str = "100",
    ) -> int:
        """Send one push for ``code`` now and return its seq.

        ``price`` goes on the wire verbatim, so invalid prices ("NaN", "-1") can be
        injected; a valid one also becomes the symbol's last price.
        """
        with self._lock:
            q = self._quotes[code]
            ms = int(self.clock() * 1000) if time_ms is None else time_ms
            seq_used = q.seq + 1 if seq is None else seq
            q.seq = max(q.seq, seq_used)
            p = _decimal_or_none(price)
            v = _decimal_or_none(volume) or Decimal(0)
            turnover = "0"
            if p is not None and p > 0:
                turnover = f"{p * v:.6f}"
                self._record_trade(q, p, v, 0, ms)
            frame = encode_tick_push(
                code, seq_used, ms, price, volume, turnover, 0, integer_ids=self.integer_ids
            )
            self._deliver(code, [frame])
        return seq_used

    def send_raw(self, text: str) -> None:
        """Send a raw text frame to every connection, whatever it subscribed (garbage injection)."""
        with self._lock:
            for conn in self._conns.values():
                conn.outbox.append((None, text))

    def pause(self) -> None:
        """Stop the random walk (and its pushes); ``push_tick`` still works."""
        with self._lock:
            self._paused = True

    def resume(self) -> None:
        with self._lock:
            self._paused = False

    def subscriptions(self) -> dict[int, list[str]]:
        """Connection id -> its tick subscription, in the order the client sent it."""
        with self._lock:
            return {cid: list(c.ticks) for cid, c in self._conns.items()}

    def wait_subscribed(self, code: str, timeout: float) -> bool:
        """Block until some connection subscribes to ``code`` (True) or ``timeout`` passes."""
        with self._changed:
            return self._changed.wait_for(
                lambda: any(code in c.tick_set for c in self._conns.values()), timeout
            )

    def connection_count(self) -> int:
        """Accepted WebSocket connections still open (over-cap ones never count)."""
        with self._lock:
            return len(self._conns)

    def wait_connections(self, count: int, timeout: float) -> bool:
        """Block until exactly ``count`` connections are open (True) or ``timeout`` passes."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self._conns) == count, timeout)

    def last_price(self, code: str) -> str:
        """The symbol's last price as the wire formats it (e.g. ``"175.200000"``)."""
        with self._lock:
            q = self._quotes[code]
            return _fmt_price(q.inst, q.last)

    def prev_close(self, code: str) -> str:
        with self._lock:
            q = self._quotes[code]
            return _fmt_price(q.inst, q.prev_close)

    def last_seq(self, code: str) -> int:
        with self._lock:
            return self._quotes[code].seq

    def http_requests(self) -> dict[str, int]:
        """HTTP requests received so far, keyed by path (``/quote-stock-b-api/kline``)."""
        with self._lock:
            return dict(self._http_counts)

    # --- fault knobs -------------------------------------------------------------

    def drop_connections(self) -> None:
        """Abrupt loss: close every TCP socket without a close frame."""
        with self._lock:
            conns = list(self._conns.values())
        for conn in conns:
            conn.ws.close_socket()
        logger.info("dropped %d connection(s)", len(conns))

    def close_connections(self, code: int = 1000, reason: str = "") -> None:
        """Clean close: each handler sends a close frame with ``code`` (asynchronous)."""
        with self._lock:
            for conn in self._conns.values():
                conn.close_request = (code, reason)

    def stall(self, seconds: float | None = None) -> None:
        """Half-open the connections open now: sockets stay up, nothing at all is sent.

        No pushes, no responses, no heartbeat replies, and requests are ignored, until
        ``unstall()`` or ``seconds`` pass. Connections opened later are not stalled, so
        a client that gives up and reconnects gets a working feed again.
        """
        until = math.inf if seconds is None else time.monotonic() + seconds
        with self._lock:
            for conn in self._conns.values():
                conn.stalled_until = until

    def unstall(self) -> None:
        with self._lock:
            for conn in self._conns.values():
                conn.stalled_until = 0.0

    def set_faults(
        self, garbage_rate: float = 0.0, duplicate_rate: float = 0.0, out_of_order_rate: float = 0.0
    ) -> None:
        """Mix faults into the random-walk pushes: probability per push of an extra
        garbage frame, an exact duplicate, or the previous (older) push re-sent."""
        with self._lock:
            self._faults = _Faults(garbage_rate, duplicate_rate, out_of_order_rate)

    def fail_http(self, kind: str, count: int = 1) -> None:
        """Make the next ``count`` HTTP requests fail: "429" (status 429), "no_ret"
        (bare ``{"error_msg": ...}`` body) or "605" (ret 605)."""
        if kind not in HTTP_FAULTS:
            raise ValueError(f"kind must be one of {sorted(HTTP_FAULTS)}")
        with self._lock:
            self._http_failures.extend([kind] * count)

    def reject_token(self) -> None:
        """Treat every token as invalid (expired) for new WS upgrades and HTTP calls."""
        with self._lock:
            self._token_rejected = True

    def accept_token(self) -> None:
        with self._lock:
            self._token_rejected = False

    # --- prices --------------------------------------------------------------------

    def _new_quote(self, inst: Instrument, now_s: float) -> _Quote:
        rng = random.Random(f"{self.seed}:{inst.code}")
        rate = random.Random(f"{self.seed}:{inst.code}:rate")
        factor = math.exp(rate.gauss(0.0, 0.5))
        if rate.random() < 0.2 and inst.code not in _ALWAYS_ACTIVE and inst.market is not Market.CRYPTO:
            factor *= 8.0  # a quiet name: trades rarely
        day_sigma = _DAY_SIGMA[inst.market]
        prev = round_to_tick(inst, _dec(float(inst.price) * math.exp(rng.gauss(0.0, 0.01))))
        last = round_to_tick(inst, _dec(float(prev) * math.exp(rng.gauss(0.0, day_sigma))))
        open_ = round_to_tick(inst, _dec(float(prev) * math.exp(rng.gauss(0.0, day_sigma / 3))))
        spread = 1 + abs(rng.gauss(0.0, day_sigma / 2))
        high = round_to_tick(inst, _dec(float(max(open_, last)) * spread), ROUND_CEILING)
        low = round_to_tick(inst, _dec(float(min(open_, last)) / spread), ROUND_FLOOR)
        volume = Decimal(rng.randint(1_000, 50_000)) * _lot(inst)
        return _Quote(
            inst=inst,
            rng=rng,
            timing=random.Random(f"{self.seed}:{inst.code}:timing"),
            mean_interval=self.tick_interval * factor,
            sigma=_TICK_SIGMA[inst.market],
            prev_close=prev,
            last=last,
            anchor=float(last),
            open=open_,
            high=high,
            low=low,
            volume=volume,
            turnover=(volume * last).quantize(_SIX),
            day=self._local_date(inst, now_s),
            seq=rng.randint(1_000_000, 90_000_000),
            time_ms=int(now_s * 1000),
            last_volume=_draw_volume(inst, rate),  # so /trade-tick never shows a zero-size trade
        )

    @staticmethod
    def _local_date(inst: Instrument, now_s: float) -> date:
        return datetime.fromtimestamp(now_s, inst.market.tz).date()

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

    def _record_trade(self, q: _Quote, price: Decimal, volume: Decimal, direction: int, ms: int) -> None:
        q.last = price
        q.high = max(q.high, price)
        q.low = min(q.low, price)
        q.volume += volume
        q.turnover += (price * volume).quantize(_SIX)
        q.last_volume = volume
        q.last_direction = direction
        q.time_ms = ms

    def _walk(self, q: _Quote, now_ms: int) -> str:
        """One random-walk trade; returns its 22998 frame. Draws a fixed count per trade."""
        r = q.rng
        x = math.log(float(q.last) / q.anchor) * (1 - _KAPPA) + q.sigma * r.gauss(0.0, 1.0)
        price = round_to_tick(q.inst, _dec(q.anchor * math.exp(x)))
        volume = _draw_volume(q.inst, r)
        neutral = int(r.random() * 3)
        if q.inst.market is Market.FX:
            direction = 0
        elif price != q.last:
            direction = 1 if price > q.last else 2
        else:
            direction = neutral
        q.seq += 1
        self._record_trade(q, price, volume, direction, now_ms)
        return encode_tick_push(
            q.inst.code,
            q.seq,
            now_ms,
            _fmt_price(q.inst, price),
            _fmt_volume(volume),
            f"{price * volume:.6f}",
            direction,
            integer_ids=self.integer_ids,
        )

    def _with_faults(self, q: _Quote, frame: str, now_ms: int) -> list[str]:
        frames = [frame]
        f = self._faults
        r = self._fault_rng
        if f.duplicate_rate and r.random() < f.duplicate_rate:
            frames.append(frame)
        if f.out_of_order_rate and q.prev_frame is not None and r.random() < f.out_of_order_rate:
            frames.append(q.prev_frame)
        if f.garbage_rate and r.random() < f.garbage_rate:
            frames.append(_garbage(r, q.inst.code, q.seq, now_ms))
        q.prev_frame = frame
        return frames

    def _deliver(self, code: str, frames: list[str]) -> None:
        for conn in self._conns.values():
            if code in conn.tick_set:
                conn.outbox.extend((code, f) for f in frames)

    def _run_scheduler(self) -> None:
        while not self._stop_event.wait(_BATCH_SECONDS):
            try:
                self._tick_batch()
            except Exception:
                logger.exception("scheduler batch failed")

    def _tick_batch(self) -> None:
        assert self._session_state is not None
        now = time.monotonic()
        now_s = self.clock()
        now_ms = int(now_s * 1000)
        open_now = {m: self._session_state.is_open(m, now_s) for m in Market}
        with self._lock:
            self._roll_days(now_s)
            if self._paused:
                return
            for q in self._quotes.values():
                if now - q.next_due > 1.0:  # woke late (e.g. after pause()): no burst of catch-up trades
                    q.next_due = now
                trades = 0
                while q.next_due <= now and trades < _MAX_TRADES_PER_BATCH:
                    q.next_due += q.timing.expovariate(1.0 / q.mean_interval)
                    trades += 1
                    if q.frozen or not open_now[q.inst.market]:
                        continue
                    frame = self._walk(q, now_ms)
                    self._deliver(q.inst.code, self._with_faults(q, frame, now_ms))

    # --- bars ------------------------------------------------------------------------

    def _bars(self, q: _Quote, kline_type: int, num: int, now_s: float) -> list[dict[str, str]]:
        if kline_type == _DAILY:
            return self._daily_bars(q, num, now_s)
        step = _KLINE_SECONDS.get(kline_type)
        return self._intraday_bars(q, kline_type, step, num, now_s) if step else []

    def _daily_bars(self, q: _Quote, num: int, now_s: float) -> list[dict[str, str]]:
        """Previous trading day (close = previous close) and today (close = last)."""
        inst = q.inst
        tz = inst.market.tz
        today = datetime.fromtimestamp(now_s, tz).date()
        prev_day = today - timedelta(days=1)
        if inst.market is not Market.CRYPTO:
            while prev_day.weekday() >= 5:
                prev_day -= timedelta(days=1)
        r = random.Random(f"{self.seed}:{inst.code}:day:{prev_day.isoformat()}")
        sigma = _DAY_SIGMA[inst.market]
        close = q.prev_close
        open_ = round_to_tick(inst, _dec(float(close) * math.exp(r.gauss(0.0, sigma))))
        spread = 1 + abs(r.gauss(0.0, sigma / 2))
        high = round_to_tick(inst, _dec(float(max(open_, close)) * spread), ROUND_CEILING)
        low = round_to_tick(inst, _dec(float(min(open_, close)) / spread), ROUND_FLOOR)
        volume = Decimal(r.randint(1_000, 50_000)) * _lot(inst)
        mid = (high + low + open_ + close) / 4
        bars = [
            _bar(inst, _midnight(prev_day, tz), open_, high, low, close, volume, volume * mid),
            _bar(
                inst,
                _midnight(today, tz),
                q.open,
                max(q.high, q.open, q.last),
                min(q.low, q.open, q.last),
                q.last,
                q.volume,
                q.turnover,
            ),
        ]
        return bars[-num:] if num < len(bars) else bars

    def _intraday_bars(
        self, q: _Quote, kline_type: int, step: int, num: int, now_s: float
    ) -> list[dict[str, str]]:
        """A Brownian bridge from the previous close to the last price over ``num`` bars."""
        inst = q.inst
        n = max(1, min(num, _MAX_KLINES))
        end = int(now_s // step) * step
        r = random.Random(f"{self.seed}:{inst.code}:k{kline_type}:{end}:{n}")
        sigma = _MINUTE_SIGMA[inst.market] * math.sqrt(step / 60)
        a = math.log(float(q.prev_close))
        b = math.log(float(q.last))
        walk = [0.0]
        for _ in range(n):
            walk.append(walk[-1] + r.gauss(0.0, sigma))
        closes = []
        for k in range(1, n + 1):
            t = k / n
            closes.append(round_to_tick(inst, _dec(math.exp(a + (b - a) * t + walk[k] - t * walk[n]))))
        closes[-1] = q.last
        opens = [q.prev_close, *closes[:-1]]
        bars = []
        for i, (o, c) in enumerate(zip(opens, closes, strict=True)):
            wick = 1 + abs(r.gauss(0.0, sigma / 2))
            high = round_to_tick(inst, _dec(float(max(o, c)) * wick), ROUND_CEILING)
            low = round_to_tick(inst, _dec(float(min(o, c)) / wick), ROUND_FLOOR)
            volume = Decimal(r.randint(1, 200)) * _lot(inst)
            bars.append(_bar(inst, end - (n - 1 - i) * step, o, high, low, c, volume, volume * c))
        return bars

    # --- WebSocket ---------------------------------------------------------------------

    def _token_ok(self, token: str) -> bool:
        with self._lock:
            if self._token_rejected or not token:
                return False
        return self.token is None or token == self.token

    def _ws_process_request(self, connection: ServerConnection, request: WsRequest) -> WsResponse | None:
        with self._lock:
            self._seen_ws = [ws for ws in self._seen_ws if ws.recv_events_thread.is_alive()]
            self._seen_ws.append(connection)
        parts = urlsplit(request.path)
        if parts.path not in WS_PATHS:
            return connection.respond(404, "Not Found\n")
        token = parse_qs(parts.query).get("token", [""])[0]
        if not self._token_ok(token):
            logger.info("ws upgrade refused: token invalid")
            return connection.respond(401, "token invalid\n")
        return None

    def _ws_handler(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        parts = urlsplit(ws.request.path)
        group = WS_PATHS[parts.path]
        token = parse_qs(parts.query).get("token", [""])[0]
        now = time.monotonic()
        with self._changed:
            key = (token, group)
            if self._group_counts[key] >= self.limits.ws_connections:
                conn = None
            else:
                self._group_counts[key] += 1
                conn = _Conn(next(self._conn_ids), ws, group, token, opened=now, last_heartbeat=now)
                self._conns[conn.id] = conn
                self._changed.notify_all()
        if conn is None:
            logger.info("ws %s connection over the %s plan cap: closing", group, self.plan)
            ws.close(1008, "connection limit")
            return
        logger.info("ws connection %d opened on %s", conn.id, parts.path)
        try:
            self._serve_connection(conn)
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                self._conns.pop(conn.id, None)
                self._group_counts[(token, group)] -= 1
                self._changed.notify_all()
            logger.info("ws connection %d closed", conn.id)

    def _serve_connection(self, conn: _Conn) -> None:
        ws = conn.ws
        was_stalled = False
        while True:  # until the connection closes (stop() closes it with 1001)
            now = time.monotonic()
            with self._lock:
                close_request = conn.close_request
                stalled = conn.stalled_until > now
                items = list(conn.outbox)
                conn.outbox.clear()
                ticks = conn.tick_set
            if close_request is not None:
                ws.close(*close_request)
                return
            if stalled:
                was_stalled = True
            else:
                if was_stalled:  # the client's heartbeats never "arrived": restart the clock
                    conn.last_heartbeat = now
                    was_stalled = False
                for code, frame in items:
                    if code is None or code in ticks:
                        ws.send(frame)
                if now - conn.last_heartbeat > self.heartbeat_timeout:
                    logger.info("ws connection %d: no heartbeat for %.1fs", conn.id, self.heartbeat_timeout)
                    ws.close(1000, "heartbeat timeout")
                    return
            try:
                frame_in = ws.recv(timeout=_POLL_SECONDS)
            except TimeoutError:
                continue
            with self._lock:
                if conn.stalled_until > time.monotonic():
                    continue  # half-open: the request never reached us
            if not self._handle_request(conn, frame_in):
                return

    def _handle_request(self, conn: _Conn, frame: str | bytes) -> bool:
        """Answer one client frame; False when the connection must close."""
        ws = conn.ws
        decoded = decode_request(frame)
        if isinstance(decoded, Response):
            ws.send(encode_response(None, decoded.ret))
            return True
        req: Request = decoded
        now = time.monotonic()
        interval = self.min_request_interval
        if interval > 0 and conn.last_request is not None and now - conn.last_request < interval:
            if req.cmd_id == Cmd.HEARTBEAT:  # lenient: answer it, it is not a violation
                conn.last_heartbeat = now
                ws.send(encode_response(req, Ret.OK))
                return True
            conn.violations = [t for t in conn.violations if now - t < _VIOLATION_WINDOW]
            if conn.violations:
                logger.info("ws connection %d: repeated pacing violation, closing", conn.id)
                ws.send(encode_response(req, Ret.TOO_MANY_CLOSING))
                ws.close(1008, "too many requests")
                return False
            conn.violations.append(now)
            ws.send(encode_response(req, Ret.TOO_MANY_REQUESTS))
            return True
        conn.last_request = now
        ws.send(encode_response(req, self._dispatch(conn, req, now)))
        return True

    def _dispatch(self, conn: _Conn, req: Request, now: float) -> int:
        cmd = req.cmd_id
        if cmd == Cmd.HEARTBEAT:
            conn.last_heartbeat = now
            return Ret.OK
        if cmd in (Cmd.TICK_SUBSCRIBE, Cmd.DEPTH_SUBSCRIBE):
            items = req.data.get("symbol_list")
            if not isinstance(items, list):
                return Ret.BAD_REQUEST
            codes, invalid = self._valid_codes(conn.group, items)
            with self._changed:
                if cmd == Cmd.TICK_SUBSCRIBE:
                    conn.ticks = codes
                    conn.tick_set = frozenset(codes)
                else:
                    conn.depth = codes
                self._changed.notify_all()
            logger.debug("ws connection %d subscribed %s (invalid=%s)", conn.id, codes, invalid)
            return Ret.CODE_INVALID if invalid else Ret.OK
        if cmd == Cmd.CANCEL:
            kind = req.data.get("cancel_type")
            if isinstance(kind, bool) or kind not in tuple(CancelType):
                return Ret.BAD_REQUEST
            with self._changed:
                if kind in (CancelType.ALL, CancelType.TICK):
                    conn.ticks = []
                    conn.tick_set = frozenset()
                if kind in (CancelType.ALL, CancelType.DEPTH):
                    conn.depth = []
                self._changed.notify_all()
            return Ret.OK
        return Ret.BAD_REQUEST

    def _valid_codes(self, group: Endpoint, items: list[Any]) -> tuple[list[str], bool]:
        """Known codes of this endpoint group, deduplicated, first N of the plan kept."""
        codes: list[str] = []
        seen: set[str] = set()
        invalid = False
        for item in items:
            code = item.get("code") if isinstance(item, dict) else None
            if not isinstance(code, str) or self._lookup(group, code) is None:
                invalid = True
            elif code not in seen:
                seen.add(code)
                codes.append(code)
        return codes[: self.limits.codes_per_subscription], invalid

    def _lookup(self, group: Endpoint, code: Any) -> _Quote | None:
        q = self._quotes.get(code) if isinstance(code, str) else None
        return q if q is not None and q.inst.market.endpoint is group else None

    # --- HTTP ------------------------------------------------------------------------

    def _handle_http(self, h: _HttpHandler, method: str) -> None:
        parts = urlsplit(h.path)
        path = parts.path
        base, _, name = path.rpartition("/")
        group = HTTP_BASES.get(base)
        with self._lock:
            self._http_counts[path] += 1
        if group is None or name not in _HTTP_NAMES[group]:
            _send(h, 404, b"not found", "text/plain")
            return
        if (method == "POST") != (name == "batch-kline"):
            _send(h, 405, b"method not allowed", "text/plain")
            return
        with self._lock:
            fault = self._http_failures.popleft() if self._http_failures else None
        if fault == "429":
            _send_json(h, 429, _envelope(Ret.RATE_LIMIT, "", {}))
            return
        if fault == "no_ret":
            _send(h, 200, _RATE_LIMITED_BODY)
            return
        if fault == "605":
            _send_json(h, 200, _envelope(Ret.TOO_MANY_REQUESTS, "", {}))
            return
        params = parse_qs(parts.query)
        token = params.get("token", [""])[0]
        if not self._token_ok(token):
            _send_json(h, 401, _envelope(Ret.TOKEN_INVALID, "", {}))
            return
        if self.http_rate_limit:
            limited = self._rate_check(token, name)
            if limited is not None:
                _send(h, limited[0], limited[1])
                return
        trace = ""
        try:
            if method == "POST":
                try:
                    length = int(h.headers.get("Content-Length") or 0)
                except ValueError:
                    length = 0
                body = h.rfile.read(length) if length > 0 else b""
                if not body.strip():
                    raise _BadRequest(Ret.BODY_EMPTY)
                msg = _loads_or(body, Ret.BAD_REQUEST)
            else:
                query = params.get("query")
                if not query:
                    raise _BadRequest(Ret.QUERY_INVALID)
                msg = _loads_or(query[0], Ret.QUERY_INVALID)
            if not isinstance(msg, dict) or not isinstance(msg.get("trace"), str):
                raise _BadRequest(Ret.BAD_REQUEST)
            trace = msg["trace"]
            data = msg.get("data")
            if not isinstance(data, dict):
                raise _BadRequest(Ret.BAD_REQUEST)
            now_s = self.clock()
            with self._lock:
                self._roll_days(now_s)
                result = self._http_dispatch(group, name, data, now_s)
        except _BadRequest as exc:
            _send_json(h, 200, _envelope(exc.ret, trace, {}))
            return
        _send_json(h, 200, _envelope(Ret.OK, trace, result))

    def _http_dispatch(
        self, group: Endpoint, name: str, data: dict[str, Any], now_s: float
    ) -> dict[str, Any]:
        if name == "kline":
            kline_type, num = _kline_params(data, _MAX_KLINES)
            q = self._lookup(group, data.get("code"))
            if q is None:
                raise _BadRequest(Ret.CODE_INVALID)
            return {
                "code": q.inst.code,
                "kline_type": kline_type,
                "kline_list": self._bars(q, kline_type, num, now_s),
            }
        if name == "batch-kline":
            items = data.get("data_list")
            if not isinstance(items, list) or not items:
                raise _BadRequest(Ret.BAD_REQUEST)
            if len(items) > self.limits.batch_kline_items:
                raise _BadRequest(Ret.TOKEN_LEVEL)
            out = []
            for item in items:
                if not isinstance(item, dict):
                    raise _BadRequest(Ret.BAD_REQUEST)
                kline_type, num = _kline_params(item, _MAX_BATCH_KLINES)
                q = self._lookup(group, item.get("code"))
                if q is not None:
                    bars = self._bars(q, kline_type, num, now_s)
                    out.append({"code": q.inst.code, "kline_type": kline_type, "kline_data": bars})
            return {"kline_list": out}
        # trade-tick and static_info: a symbol_list of many codes
        items = data.get("symbol_list")
        if not isinstance(items, list) or not items:
            raise _BadRequest(Ret.BAD_REQUEST)
        if len(items) > self.limits.trade_tick_codes:
            raise _BadRequest(Ret.TOKEN_LEVEL)
        codes = [i.get("code") if isinstance(i, dict) else None for i in items]
        quotes = [q for q in (self._lookup(group, c) for c in codes) if q is not None]
        if len(codes) == 1 and not quotes:
            raise _BadRequest(Ret.CODE_INVALID)
        if name == "trade-tick":
            return {"tick_list": [_trade_record(q) for q in quotes]}
        return {"static_info_list": [_static_record(q.inst) for q in quotes]}

    def _rate_check(self, token: str, name: str) -> tuple[int, bytes] | None:
        """Plan HTTP limits (§4.3); None when the call may proceed."""
        limits = self.limits
        now = time.monotonic()
        today = datetime.fromtimestamp(self.clock(), UTC).date()
        with self._lock:
            st = self._http_rate.setdefault(token, _RateState())
            interval = limits.batch_interval if name == "batch-kline" else limits.http_interval
            last = st.last.get(name)
            if last is not None and now - last < interval:
                return 200, _RATE_LIMITED_BODY
            while st.window and now - st.window[0] >= 60:
                st.window.popleft()
            if st.day != today:
                st.day, st.day_count = today, 0
            if len(st.window) >= limits.http_per_minute or st.day_count >= limits.http_per_day:
                return 429, orjson.dumps(_envelope(Ret.RATE_LIMIT, "", {}))
            st.last[name] = now
            st.window.append(now)
            st.day_count += 1
        return None


# --- HTTP server plumbing ------------------------------------------------------------


class _HttpHandler(BaseHTTPRequestHandler):
    server: _HttpServer
    timeout = 2  # a stuck client must not hold a request thread (and stop()) for long
    server_version = "alltick-sim/1.0"

    def do_GET(self) -> None:
        self.server.sim._handle_http(self, "GET")

    def do_POST(self) -> None:
        self.server.sim._handle_http(self, "POST")

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("http %s " + format, self.client_address[0], *args)


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = False  # so server_close() joins request threads
    block_on_close = True

    def __init__(self, address: tuple[str, int], sim: Simulator) -> None:
        self.sim = sim
        super().__init__(address, _HttpHandler)


def _send(h: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str = "application/json") -> None:
    h.send_response(status)
    h.send_header("Content-Type", ctype)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


def _send_json(h: BaseHTTPRequestHandler, status: int, obj: dict[str, Any]) -> None:
    _send(h, status, orjson.dumps(obj))


def _envelope(ret: int, trace: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"ret": int(ret), "msg": Ret(ret).explanation, "trace": trace, "data": data}


def _loads_or(raw: str | bytes, ret: int) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise _BadRequest(ret) from None


def _kline_params(d: dict[str, Any], max_num: int) -> tuple[int, int]:
    kline_type = d.get("kline_type")
    num = d.get("query_kline_num", 1)
    if not _is_int(kline_type) or not 1 <= kline_type <= 10 or not _is_int(num) or num < 1:
        raise _BadRequest(Ret.BAD_REQUEST)
    return kline_type, min(num, max_num)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


# --- formatting helpers --------------------------------------------------------------


def _dec(x: float) -> Decimal:
    return Decimal(repr(x))


def _decimal_or_none(text: str) -> Decimal | None:
    try:
        d = Decimal(text)
    except (InvalidOperation, TypeError, ValueError):
        return None
    return d if d.is_finite() else None


def _lot(inst: Instrument) -> Decimal:
    return Decimal(inst.lot_size if inst.is_stock else 1)


def _draw_volume(inst: Instrument, r: random.Random) -> Decimal:
    n = r.randint(1, 20)
    if inst.market is Market.US:
        return Decimal(n * 10)
    if inst.market is Market.CRYPTO:
        return Decimal(n * r.randint(1, 500)).scaleb(-4)
    return Decimal(n) * _lot(inst)


def _fmt_price(inst: Instrument, p: Decimal) -> str:
    return f"{p:.{inst.decimals}f}"


def _fmt_volume(v: Decimal) -> str:
    return f"{v:f}"


def _midnight(d: date, tz: Any) -> int:
    return int(datetime.combine(d, dtime(0), tzinfo=tz).timestamp())


def _bar(
    inst: Instrument,
    ts: int,
    o: Decimal,
    h: Decimal,
    lo: Decimal,
    c: Decimal,
    volume: Decimal,
    turnover: Decimal,
) -> dict[str, str]:
    return {
        "timestamp": str(ts),
        "open_price": _fmt_price(inst, o),
        "close_price": _fmt_price(inst, c),
        "high_price": _fmt_price(inst, h),
        "low_price": _fmt_price(inst, lo),
        "volume": _fmt_volume(volume),
        "turnover": f"{turnover:.6f}",
    }


def _trade_record(q: _Quote) -> dict[str, Any]:
    return {
        "code": q.inst.code,
        "seq": str(q.seq),
        "tick_time": str(q.time_ms),
        "price": _fmt_price(q.inst, q.last),
        "volume": _fmt_volume(q.last_volume),
        "turnover": f"{q.last * q.last_volume:.6f}",
        "trade_direction": q.last_direction,
    }


def _static_record(inst: Instrument) -> dict[str, str]:
    board = {Market.US: "USEquity", Market.HK: "HKEquity", Market.CN: "CNEquity"}.get(inst.market, "")
    return {
        "symbol": inst.code,
        "name_en": inst.name_en,
        "name_cn": inst.name_cn,
        "name_hk": inst.name_cn,
        "currency": inst.currency,
        "exchange": inst.exchange,
        "board": board,
        "lot_size": str(inst.lot_size),
    }


def _garbage(r: random.Random, code: str, seq: int, ms: int) -> str:
    """A frame a client must survive: not JSON, wrong shape, or an impossible price."""
    kind = r.randrange(9)
    if kind == 0:
        return "not json at all"
    if kind == 1:
        return '{"cmd_id":22998,"data":{"code":'
    if kind == 2:
        return "[]"
    if kind == 3:
        return '{"cmd_id":22998,"data":"oops"}'
    if kind == 4:
        return '{"cmd_id":12345,"data":{}}'
    price = ("NaN", "-1.5", "0", "inf")[kind - 5]
    return orjson.dumps(
        {
            "cmd_id": int(Cmd.TICK_PUSH),
            "data": {
                "code": code,
                "seq": str(seq),
                "tick_time": str(ms),
                "price": price,
                "volume": "1",
                "turnover": "0",
                "trade_direction": 0,
            },
        }
    ).decode()


# --- CLI -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the simulator in the foreground until Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog="python -m feed.simulator", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--port", type=int, default=8765, help="WebSocket port (0 = any free port)")
    parser.add_argument("--http-port", type=int, default=None, help="HTTP port (default: --port + 1)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plan", choices=sorted(PLANS), default="professional")
    parser.add_argument("--token", default=None, help="required token (default: accept any)")
    parser.add_argument("--sessions", choices=("always", "real"), default="always")
    parser.add_argument("--tick-interval", type=float, default=0.5)
    args = parser.parse_args(argv)
    http_port = args.http_port if args.http_port is not None else (args.port + 1 if args.port else 0)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    sim = Simulator(
        seed=args.seed,
        token=args.token,
        plan=args.plan,
        host=args.host,
        ws_port=args.port,
        http_port=http_port,
        sessions=args.sessions,
        tick_interval=args.tick_interval,
    )
    with sim:
        print(f"WebSocket base: {sim.ws_base}", flush=True)
        print(f"HTTP base:      {sim.http_base}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("stopping", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
