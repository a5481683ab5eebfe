"""The :class:`Simulator`: lifecycle, control API and fault knobs of the loopback AllTick.

Why it exists: tests and the demo need one object that starts a WebSocket server, an
HTTP server and a price scheduler, stops them within a second, and exposes every knob a
bad network day needs, named after the condition it imitates. It only wires the parts
together and forwards; the protocol lives in :mod:`feed.sim.ws` and :mod:`feed.sim.httpd`,
the prices in :mod:`feed.sim.market`, the connections in :mod:`feed.sim.hub`, the
handshake rules in :mod:`feed.sim.gate`.

State: the lifecycle fields (servers, threads, bound ports) belong to the thread that
calls ``start()``/``stop()`` (one at a time). Every control method is thread-safe and
may be called before ``start()``: each forwards to a part that guards its own state.
Threads while running: ``sim-ws`` (accepts; websockets starts one handler thread per
connection), ``sim-http`` (accepts; one thread per request), ``sim-ticks`` (the
scheduler: every 50 ms each symbol whose next trade is due trades once and is pushed).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from websockets.sync.server import Server

from feed.config import RedactFilter
from feed.protocol.plans import PLANS, Plan
from feed.protocol.records import Bar
from feed.sim.faults import HttpFault, PushFaults
from feed.sim.gate import CloseAfterUpgrade, Gate
from feed.sim.httpd import MAX_KLINES, HttpServer, HttpService
from feed.sim.hub import Hub
from feed.sim.market import MarketModel
from feed.sim.sessions import SessionMode, Sessions
from feed.sim.ws import WsService
from feed.symbols import Endpoint, Market

__all__ = ["Simulator"]

logger = logging.getLogger("feed.sim")
logger.addFilter(RedactFilter())

BATCH_SECONDS = 0.05  # scheduler period


def _plan(name: str) -> Plan:
    plan = PLANS.get(name.strip().lower()) if isinstance(name, str) else None
    if plan is None:
        raise ValueError(f"unknown plan {name!r}; expected one of {sorted(PLANS)}")
    return plan


class Simulator:
    """An AllTick WebSocket + HTTP server on loopback with deterministic prices.

    Use as a context manager, or ``start()``/``stop()``. All control methods are
    thread-safe and may be called before ``start()``. The plan's limits are
    :data:`feed.protocol.plans.PLANS`, the very table the client caps itself by.

    Ports: ``ws_port``/``http_port`` 0 pick free ports at the first ``start()``; a
    restarted simulator binds the ports it had, and a new simulator given those ports
    binds them too (both servers set SO_REUSEADDR), so a test can stop the server and
    bring it back at the same address.
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
        self.limits = _plan(plan)
        if sessions not in tuple(SessionMode):
            raise ValueError("sessions must be 'always' or 'real'")
        if tick_interval <= 0:
            raise ValueError("tick_interval must be positive")
        self.seed = seed
        self.token = token
        self.plan = plan
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

        self._wire_parts()

        self._stop_event = threading.Event()
        self._threads: list[threading.Thread] = []
        self._ws_server: Server | None = None
        self._http_server: HttpServer | None = None
        self._sessions: Sessions | None = None
        self._started = False
        self._bound_ws_port: int | None = None
        self._bound_http_port: int | None = None

    def _wire_parts(self) -> None:
        """The parts, each the owner of its state: gate, hub, market, and the two services."""
        self._gate = Gate(self.token)
        self._hub = Hub(self.limits.max_connections)
        self._market = MarketModel(
            seed=self.seed,
            tick_interval=self.tick_interval,
            integer_ids=self.integer_ids,
            clock=self.clock,
            fanout=self._hub,
        )
        self._ws = WsService(
            hub=self._hub,
            gate=self._gate,
            knows=self._market.knows,
            max_codes=self.limits.max_codes,
            heartbeat_timeout=self.heartbeat_timeout,
            min_request_interval=self.min_request_interval,
            plan_name=self.plan,
        )
        self._http = HttpService(
            self._market,
            plan=self.limits,
            token_ok=self._gate.token_ok,
            clock=self.clock,
            rate_limit=self.http_rate_limit,
        )

    # --- lifecycle ---------------------------------------------------------------

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> Simulator:
        """Bind both servers and start serving; returns self. A restart keeps its ports."""
        if self._started:
            return self
        self._sessions = Sessions(self.sessions)
        self._stop_event.clear()
        ws_server = self._ws.serve(self.host, self._ws_port or self._bound_ws_port or 0)
        try:
            http_server = self._http.serve(self.host, self._http_port or self._bound_http_port or 0)
        except OSError:
            ws_server.shutdown()
            raise
        self._ws_server, self._http_server = ws_server, http_server
        self._bound_ws_port = int(ws_server.socket.getsockname()[1])
        self._bound_http_port = int(http_server.server_address[1])
        self._market.schedule_from(time.monotonic())
        self._threads = [
            threading.Thread(target=ws_server.serve_forever, name="sim-ws", daemon=True),
            threading.Thread(
                target=http_server.serve_forever, kwargs={"poll_interval": 0.1}, name="sim-http", daemon=True
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
        self._ws.join_seen(deadline)
        alive = [t.name for t in self._threads if t.is_alive()]
        if alive:
            logger.warning("simulator threads still alive after stop: %s", alive)
        logger.info("simulator stopped")

    def _run_scheduler(self) -> None:
        assert self._sessions is not None
        sessions = self._sessions
        while not self._stop_event.wait(BATCH_SECONDS):
            try:
                now_s = self.clock()
                open_now = {m: sessions.is_open(m, now_s) for m in Market}
                self._market.trade_due(time.monotonic(), now_s, open_now)
            except Exception:
                logger.exception("scheduler batch failed")

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

    # --- prices (tests and demo) -----------------------------------------------------

    def set_quote(self, code: str, last: str, prev_close: str, *, freeze: bool = True) -> None:
        """Pin a symbol's last price and previous daily close; ``freeze`` stops its walk.

        The day is rewritten (open at ``prev_close``) and the pin counts as a trade: a
        newer seq, and the minute K-line restarts from it. Nothing is pushed.
        """
        self._market.set_quote(code, last, prev_close, freeze)

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
        return self._market.push_tick(code, price, seq, time_ms, volume)

    def send_raw(self, text: str) -> None:
        """Send a raw text frame to every connection, whatever it subscribed (garbage injection)."""
        self._hub.broadcast(text)

    def pause(self) -> None:
        """Stop the random walk (and its pushes); ``push_tick`` still works."""
        self._market.pause(True)

    def resume(self) -> None:
        self._market.pause(False)

    # --- readings ------------------------------------------------------------------

    def subscriptions(self) -> dict[int, list[str]]:
        """Connection id -> its tick subscription, in the order the client sent it."""
        return self._hub.subscriptions()

    def wait_subscribed(self, code: str, timeout: float) -> bool:
        """Block until some connection subscribes to ``code`` (True) or ``timeout`` passes."""
        return self._hub.wait_subscribed(code, timeout)

    def connection_count(self) -> int:
        """Accepted WebSocket connections still open (over-cap ones never count)."""
        return self._hub.count()

    def wait_connections(self, count: int, timeout: float) -> bool:
        """Block until exactly ``count`` connections are open (True) or ``timeout`` passes."""
        return self._hub.wait_count(count, timeout)

    def upgrade_attempts(self, endpoint: Endpoint | None = None) -> int:
        """Every WebSocket upgrade request received so far, of ``endpoint``'s path or all.

        Refused ones (404, 401, ``fail_upgrades``), over-cap ones and ones closed by
        ``close_after_upgrade`` all count, so a "no hammering" test measures attempts,
        not survivors. Counts survive ``stop()``/``start()``.
        """
        return self._gate.attempts(endpoint)

    def last_price(self, code: str) -> str:
        """The symbol's last price as the wire formats it (e.g. ``"175.200000"``)."""
        return self._market.last_price(code)

    def prev_close(self, code: str) -> str:
        return self._market.prev_close(code)

    def last_seq(self, code: str) -> int:
        return self._market.last_seq(code)

    def sent_ticks(self, code: str) -> list[tuple[int, str]]:
        """``(seq, price)`` of every new trade pushed for ``code``, oldest first (last 100,000).

        A push counts when it was queued for at least one subscribed connection that was
        not stalled or closing. Left out: garbage, duplicates and out-of-order re-sends
        (``set_faults``), ``push_tick`` frames with an invalid price or a seq not above the
        last, ``send_raw``, and trades nobody was subscribed to. ``price`` is the wire string.
        """
        return self._market.sent_ticks(code)

    def minute_bars(self, code: str, num: int = 30) -> list[Bar]:
        """The 1-minute K-line ``/kline`` would answer now (at most 500 bars), parsed by the client's
        ``bars_from``. Minutes with trades are those trades; the last bar closes at ``last_price``."""
        return self._market.minute_bars(code, max(1, min(num, MAX_KLINES)))

    def http_requests(self) -> dict[str, int]:
        """HTTP requests received so far, keyed by path (``/quote-stock-b-api/kline``)."""
        return self._http.requests()

    # --- fault knobs -------------------------------------------------------------

    def drop_connections(self) -> None:
        """Abrupt loss: close every TCP socket without a close frame."""
        sockets = self._hub.sockets()
        for ws in sockets:
            ws.close_socket()
        logger.info("dropped %d connection(s)", len(sockets))

    def close_connections(self, code: int = 1000, reason: str = "") -> None:
        """Clean close: each handler sends a close frame with ``code`` (asynchronous)."""
        self._hub.request_close(code, reason)

    def stall(self, seconds: float | None = None) -> None:
        """Half-open the connections open now: sockets stay up, nothing at all is sent.

        No pushes, no responses, no heartbeat replies, and requests are ignored, until
        ``unstall()`` or ``seconds`` pass. Connections opened later are not stalled, so
        a client that gives up and reconnects gets a working feed again.
        """
        self._hub.stall(seconds)

    def unstall(self) -> None:
        self._hub.unstall()

    def set_faults(
        self, garbage_rate: float = 0.0, duplicate_rate: float = 0.0, out_of_order_rate: float = 0.0
    ) -> None:
        """Mix faults into the random-walk pushes: probability per push of an extra
        garbage frame, an exact duplicate, or the previous (older) push re-sent."""
        self._market.set_faults(PushFaults(garbage_rate, duplicate_rate, out_of_order_rate))

    def fail_http(self, kind: str, count: int = 1) -> None:
        """Make the next ``count`` HTTP requests fail: "429" (status 429), "no_ret"
        (bare ``{"error_msg": ...}`` body) or "605" (ret 605)."""
        try:
            fault = HttpFault(kind)
        except ValueError:
            raise ValueError(f"kind must be one of {sorted(HttpFault)}") from None
        self._http.fail(fault, count)

    def reject_token(self) -> None:
        """Treat every token as invalid (expired) for new WS upgrades and HTTP calls."""
        self._gate.reject_token(True)

    def accept_token(self) -> None:
        self._gate.reject_token(False)

    def fail_upgrades(self, status: int, count: int | None = None) -> None:
        """Answer the next ``count`` WebSocket upgrades (None: every one, until
        ``accept_upgrades()``) with HTTP ``status`` instead of 101.

        401 imitates a bad token at the handshake, 429 "reconnecting too fast", 503 an
        overloaded server; any standard 4xx/5xx is allowed. A wrong path still gets 404.
        """
        self._gate.fail_upgrades(status, count)

    def accept_upgrades(self) -> None:
        """Undo ``fail_upgrades``: upgrades follow the path and token rules again."""
        self._gate.accept_upgrades()

    def close_after_upgrade(
        self, enabled: bool = True, *, code: int | None = 1008, reason: str = "connection limit"
    ) -> None:
        """Accept each new upgrade (101), then close at once, as a plan's connection cap
        reached by another process does (the live server closes extra connections
        immediately). ``code`` None drops the socket without a close frame. Such
        connections never count in ``connection_count``; they do in ``upgrade_attempts``.
        """
        self._gate.close_after_upgrade(CloseAfterUpgrade(code, reason) if enabled else None)
