"""One WebSocket connection to AllTick and the daemon thread that owns it.

The thread owns the socket end to end (connect, subscribe, heartbeat, receive,
reconnect), so no lock is ever held across I/O and nothing else writes to the socket.
It only decodes and enqueues: ticks go to the shared :class:`IngestQueue`, everything
else becomes a callback to the manager. It never touches Streamlit.

Protocol duties (alltick-protocol.md §3): heartbeat every 10 s; at least 1 s between
requests on this connection and 3 s between requests across the token's connections
(:class:`TokenPacer`); the FULL code list on every subscribe, since each one replaces
the last; reconnect with backoff and jitter no sooner than the plan's reconnect spacing;
a link with no frame for ``dead_after`` seconds (heartbeat replies included) is half-open
and gets replaced.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import websocket

from feed.protocol.codec import (
    CancelType,
    Cmd,
    Rejected,
    Response,
    Ret,
    Tick,
    decode,
    encode_cancel,
    encode_heartbeat,
    encode_subscribe,
)
from feed.config import FeedConfig, redact
from feed.protocol.frames import OP_CLOSE, OP_PING, OP_PONG, FrameReader
from feed.ingest import IngestQueue
from feed.model import ConnectionState, EventKind
from feed.symbols import Endpoint

__all__ = ["Connection", "ConnectionListener", "TokenPacer"]

log = logging.getLogger("feed.connection")

WS_PATH = {Endpoint.STOCK: "/quote-stock-b-ws-api", Endpoint.FOREX: "/quote-b-ws-api"}
RECV_TIMEOUT = 0.2
RECV_CHUNK = 256 * 1024
EARLY_CLOSE_WINDOW = 2.0
BACKOFF_BASE = 1.0
BACKOFF_CAP = 60.0
AUTH_RETRY = 300.0


class TokenPacer:
    """Spaces requests across all connections of one token (3 s by default)."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self._next = 0.0
        self._lock = threading.Lock()
        self._clock = clock

    def try_acquire(self) -> float:
        """0.0 if a request may go now (and claims the slot), else seconds to wait."""
        with self._lock:
            now = self._clock()
            if now >= self._next:
                self._next = now + self.interval
                return 0.0
            return self._next - now


class ConnectionListener(Protocol):
    """What a connection tells its manager; called from the connection thread."""

    def on_event(self, conn: Connection, kind: EventKind, message: str) -> None: ...

    def on_subscribed(self, conn: Connection, codes: tuple[str, ...], after_reconnect: bool) -> None: ...

    def on_code_invalid(self, conn: Connection, codes: tuple[str, ...]) -> None: ...

    def on_over_cap(self, conn: Connection) -> None: ...


@dataclass
class _Stats:
    messages: int = 0
    reconnects: int = 0
    last_error: str | None = None
    connected_since: float | None = None
    last_message_at: float | None = None


class Connection:
    """A market group's link. The thread re-reads ``desired()`` at least every 0.2 s and
    sends the full list whenever it differs from what the server acknowledged (pacing
    permitting), so a watchlist change needs no signal and a burst of changes costs one
    subscribe."""

    def __init__(
        self,
        name: str,
        endpoint: Endpoint,
        markets: tuple[str, ...],
        *,
        config: FeedConfig,
        token: str,
        ws_base: str,
        desired: Callable[[], tuple[str, ...]],
        queue: IngestQueue,
        pacer: TokenPacer,
        listener: ConnectionListener,
        rejected: Callable[[Rejected], None],
    ) -> None:
        self.name = name
        self.endpoint = endpoint
        self.markets = markets
        self._config = config
        self._token = token
        self._url = f"{ws_base.rstrip('/')}{WS_PATH[endpoint]}?token={token}"
        self._desired = desired
        self._queue = queue
        self._pacer = pacer
        self._listener = listener
        self._rejected = rejected
        self._stop = threading.Event()
        self._ws: websocket.WebSocket | None = None
        self._state = ConnectionState.CONNECTING
        self.stats = _Stats()
        # What the server last acknowledged, and what is in flight.
        self.subscribed: tuple[str, ...] = ()
        self._pending: tuple[str, ...] | None = None
        self._seq = 0
        self._pace_penalty = 0.0
        self._thread = threading.Thread(target=self._run, name=f"feed-{name}", daemon=True)

    def __repr__(self) -> str:
        return f"Connection(name={self.name!r}, state={self._state.value}, codes={len(self.subscribed)})"

    @property
    def url_for_log(self) -> str:
        return redact(self._url, self._token)

    @property
    def state(self) -> ConnectionState:
        return self._state

    @state.setter
    def state(self, value: ConnectionState) -> None:
        if value != self._state:
            log.debug("= %s %s -> %s", self.name, self._state.value, value.value)
            self._state = value

    # --- control, from any thread -----------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 3.0) -> None:
        self._stop.set()
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):  # a dead socket may fail to close any way it likes
                ws.shutdown()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self.state = ConnectionState.STOPPED

    # --- the thread ----------------------------------------------------------------------

    def _run(self) -> None:
        attempt = 0
        last_attempt = -1e9
        early_closes = 0
        while not self._stop.is_set():
            spacing = self._config.reconnect_spacing
            if self.state == ConnectionState.AUTH_FAILED:
                delay = AUTH_RETRY
            elif attempt == 0:
                delay = 0.0
            else:
                backoff = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))
                delay = backoff * random.uniform(0.5, 1.0)
            delay = max(delay, last_attempt + spacing - time.monotonic())
            if delay > 0 and self._stop.wait(delay):
                break
            last_attempt = time.monotonic()
            attempt += 1
            if self.state != ConnectionState.AUTH_FAILED:
                self.state = ConnectionState.CONNECTING if attempt == 1 else ConnectionState.RECONNECTING
            opened_at = time.monotonic()
            try:
                got_response = self._session(after_reconnect=self.stats.reconnects > 0 or attempt > 1)
            except _AuthFailed as exc:
                self.state = ConnectionState.AUTH_FAILED
                self.stats.last_error = str(exc)
                self._listener.on_event(self, EventKind.AUTH_FAILED, str(exc))
                continue
            except Exception as exc:
                self._record_error(exc)
                got_response = False
            finally:
                self._close()
            if self._stop.is_set():
                break
            lived = time.monotonic() - opened_at
            if lived >= self._config.stable_after:
                attempt = 1  # a stable link resets the backoff
            if self.stats.connected_since is not None:
                self.stats.connected_since = None
                self.stats.reconnects += 1
                self.state = ConnectionState.RECONNECTING
                self._listener.on_event(
                    self, EventKind.DISCONNECTED, f"link lost: {self.stats.last_error or 'closed'}"
                )
            # Closed right after open without a word: the plan's connection cap.
            if lived < EARLY_CLOSE_WINDOW and not got_response and self.stats.last_error != "timeout":
                early_closes += 1
                if early_closes >= 2:
                    early_closes = 0
                    self._listener.on_over_cap(self)
            else:
                early_closes = 0
        self._close()

    def _record_error(self, exc: BaseException) -> None:
        if self._stop.is_set():
            return  # our own shutdown closed the socket
        text = redact(f"{type(exc).__name__}: {exc}".rstrip(": "), self._token)
        if isinstance(exc, websocket.WebSocketTimeoutException):
            text = "timeout"
        self.stats.last_error = text
        log.info("! %s %s", self.name, text)

    def _close(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            with contextlib.suppress(Exception):
                ws.close(timeout=0.2)

    def _session(self, *, after_reconnect: bool) -> bool:
        """One connected session; returns whether the server answered anything."""
        try:
            ws = websocket.create_connection(
                self._url, timeout=5, skip_utf8_validation=True, enable_multithread=True
            )
        except websocket.WebSocketBadStatusException as exc:
            if exc.status_code == 401:
                raise _AuthFailed(f"{self.name}: token rejected (HTTP 401) - check ALLTICK_TOKEN") from None
            raise
        self._ws = ws
        ws.settimeout(RECV_TIMEOUT)
        now = time.monotonic()
        st = self.stats
        st.connected_since = now
        st.last_message_at = now
        st.last_error = None
        self.subscribed = ()
        self._pending = None
        self.state = ConnectionState.SUBSCRIBING
        log.info("= %s connected to %s", self.name, self.url_for_log)
        self._listener.on_event(self, EventKind.CONNECTED, f"connected ({', '.join(self.markets)})")
        last_request = -1e9
        last_heartbeat = last_check = now
        got_response = False
        recovering = after_reconnect
        put_many = self._queue.put_many
        sock = ws.sock
        reader = FrameReader()
        rejected = self._rejected
        dead_after = self._config.dead_after
        hb_every = self._config.heartbeat_interval
        stop = self._stop
        while not stop.is_set():
            # Whole chunks, not one frame at a time: see feed/frames.py for why.
            try:
                chunk = sock.recv(RECV_CHUNK)
            except TimeoutError:
                chunk = None
            now = time.monotonic()
            if chunk is not None:
                if not chunk:
                    st.last_error = "connection closed by the server"
                    return got_response
                ticks: list[Tick] = []
                for opcode, data in reader.feed(chunk):
                    if opcode == OP_CLOSE:
                        st.last_error = "closed by server"
                        return got_response
                    if opcode == OP_PING:
                        ws.pong(data)
                        continue
                    if opcode == OP_PONG:
                        continue
                    st.messages += 1
                    event = decode(data)
                    if type(event) is Tick:
                        ticks.append(event)
                    elif type(event) is Rejected:
                        rejected(event)
                    else:
                        got_response = True
                        if self._on_response(event, recovering):
                            recovering = False
                if ticks:
                    put_many(ticks)
                st.last_message_at = now
                # Under a firehose, look at timers only every 50 ms.
                if now - last_check < 0.05:
                    continue
            elif now - st.last_message_at > dead_after:
                st.last_error = f"no data for {dead_after:.0f}s (half-open link)"
                log.warning("! %s %s; replacing it", self.name, st.last_error)
                return got_response
            last_check = now
            # Requests: at most one per request_interval on this link, paced across links.
            if now - last_request < self._config.request_interval + self._pace_penalty:
                continue
            want = self._desired()
            if self._pending is None and want != self.subscribed:
                if self._pacer.try_acquire() == 0.0:
                    self._send_subscribe(ws, want)
                    last_request = now
                continue
            if now - last_heartbeat >= hb_every:
                self._seq += 1
                ws.send(encode_heartbeat(self._seq, f"hb-{self.name}-{self._seq}"))
                last_heartbeat = last_request = now
        return got_response

    def _send_subscribe(self, ws: websocket.WebSocket, codes: tuple[str, ...]) -> None:
        self._seq += 1
        self._pending = codes
        if codes:
            ws.send(encode_subscribe(list(codes), self._seq, f"sub-{self.name}-{self._seq}"))
            log.info("> %s subscribe %d codes", self.name, len(codes))
        else:
            ws.send(encode_cancel(CancelType.TICK, self._seq, f"cancel-{self.name}-{self._seq}"))
            log.info("> %s cancel tick subscription", self.name)

    def _on_response(self, resp: Response, recovering: bool) -> bool:
        """Handle an answer; True when a subscription landed after a reconnect."""
        if resp.cmd_id == Cmd.HEARTBEAT_ACK and resp.ok:
            return False
        if resp.cmd_id in (Cmd.TICK_SUBSCRIBE_ACK, Cmd.CANCEL_ACK) or resp.cmd_id == 0:
            pending, self._pending = self._pending, None
            if pending is None:
                return False
            if resp.ok:
                self._pace_penalty = 0.0
                self.subscribed = pending
                self.state = ConnectionState.LIVE
                self._listener.on_subscribed(self, pending, recovering)
                return recovering
            return self._on_error(resp, pending, recovering)
        if not resp.ok:
            self._on_error(resp, (), recovering)
        return False

    def _on_error(self, resp: Response, pending: tuple[str, ...], recovering: bool) -> bool:
        ret = resp.ret
        text = f"server answered ret {ret} ({resp.msg or 'error'})"
        self.stats.last_error = text
        log.warning("! %s %s", self.name, text)
        if ret == Ret.TOKEN_INVALID:
            raise _AuthFailed(f"{self.name}: token rejected (ret 401) - check ALLTICK_TOKEN")
        if ret in (Ret.CODE_INVALID, Ret.CODE_UNAUTHORIZED):
            # The valid codes may well be streaming; count them subscribed, find the bad ones.
            self.subscribed = pending
            self.state = ConnectionState.LIVE
            self._listener.on_code_invalid(self, pending)
            self._listener.on_subscribed(self, pending, recovering)
            return recovering
        if ret == Ret.TOKEN_LEVEL:
            self.subscribed = pending
            self._listener.on_event(
                self, EventKind.PLAN_LIMIT, f"{self.name}: {text}: the plan refuses this list"
            )
            return False
        if ret in (Ret.RATE_LIMIT, Ret.TOO_MANY_REQUESTS, Ret.TOO_MANY_CLOSING):
            self._pace_penalty = min(10.0, self._pace_penalty * 2 + 1.0)
            self._listener.on_event(self, EventKind.RATE_LIMITED, f"{self.name}: {text}; pacing down")
            return False
        self._listener.on_event(self, EventKind.ERROR, f"{self.name}: {text}")
        return False


class _AuthFailed(Exception):
    pass
