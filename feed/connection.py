"""The pump: one WebSocket link's socket, driven by its :class:`~feed.session.Session`.

Each pump runs in its own thread (``feed-link-<name>``), which owns the socket, the
frame reader, the session and the link's counters; nothing else touches them. The pump
is deliberately thin: it connects when the session says ``Connect``, sends what the
session says to send, reads the socket in large chunks (see :mod:`feed.protocol.frames`
for why), hands ticks to the shared ingest queue and everything else to the session,
and forwards the session's notices to the supervisor. Other threads talk to it only
through :meth:`Pump.set_codes` and :meth:`Pump.stop` (a queue and an event), and read
its published, frozen :class:`LinkStats`.

Opening the socket and naming why it failed is :mod:`feed.dial`'s job.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import queue
import socket
import ssl
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import websocket

from feed.config import redact
from feed.dial import OpenError, close_text, describe, handshake
from feed.ingest import IngestQueue
from feed.messages import LinkNotice
from feed.model import ConnectionState
from feed.protocol.codec import Rejected, Response, Tick, decode
from feed.protocol.frames import OP_CLOSE, OP_PING, OP_PONG, FrameError, FrameReader
from feed.protocol.paths import WS_PATH
from feed.session import Close, Connect, Notice, Send, Session, SessionTiming
from feed.symbols import Endpoint

__all__ = ["LinkStats", "Pump", "TokenPacer"]

log = logging.getLogger("feed.connection")

RECV_TIMEOUT = 0.2
RECV_CHUNK = 256 * 1024
STATS_EVERY = 0.5


class TokenPacer:
    """Spaces requests across all links of one token (3 s by default).

    Shared by the pumps: the one piece of cross-thread state in the link layer, a
    number behind a lock that is held for the arithmetic only.
    """

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


@dataclass(frozen=True, slots=True)
class LinkStats:
    """A link's health as its pump last published it (twice a second, and on change)."""

    name: str
    endpoint: str
    markets: tuple[str, ...]
    state: ConnectionState
    symbols: tuple[str, ...] = ()
    messages: int = 0
    msgs_per_s: float = 0.0
    reconnects: int = 0
    last_error: str | None = None
    connected_since: dt.datetime | None = None
    last_message_at: dt.datetime | None = None
    rejected: dict[str, int] = field(default_factory=dict)
    errors: int = 0


class Pump:
    """One link: ``start()``, ``set_codes()`` any time, ``stop()``; ``stats`` to read."""

    def __init__(
        self,
        name: str,
        endpoint: Endpoint,
        markets: tuple[str, ...],
        *,
        ws_base: str,
        token: str,
        timing: SessionTiming,
        pacer: TokenPacer,
        ingest: IngestQueue,
        notify: Callable[[LinkNotice], None],
    ) -> None:
        self.name = name
        self.endpoint = endpoint
        self.markets = markets
        self._token = token
        self._url = f"{ws_base.rstrip('/')}{WS_PATH[endpoint]}?token={urllib.parse.quote(token, safe='')}"
        self._session = Session(name, timing, pace=pacer.try_acquire)
        self._ingest = ingest
        self._notify = notify
        self._inbox: queue.SimpleQueue[tuple[str, ...]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._ws: websocket.WebSocket | None = None
        self._reader = FrameReader()
        self._messages = 0
        self._reconnects = 0
        self._errors = 0
        self._rejected: Counter[str] = Counter()
        self._last_error: str | None = None
        self._connected_since: float | None = None
        self._last_message_at: float | None = None
        self._rate = (time.monotonic(), 0, 0.0)
        self.stats = LinkStats(name, endpoint.value, markets, ConnectionState.CONNECTING)
        self._thread = threading.Thread(target=self._run, name=f"feed-link-{name}", daemon=True)

    def __repr__(self) -> str:
        return f"Pump({self.name!r}, {self.stats.state.value}, codes={len(self.stats.symbols)})"

    # --- from other threads ----------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def set_codes(self, codes: tuple[str, ...]) -> None:
        self._inbox.put(tuple(codes))

    def stop(self) -> None:
        """Ask the pump to end; returns at once (see :meth:`join`)."""
        self._stop.set()

    def join(self, timeout: float) -> bool:
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    # --- the thread ------------------------------------------------------------------

    def _run(self) -> None:
        last_stats = 0.0
        while not self._stop.is_set():
            try:
                self._step()
            except Exception:  # one bad step must not end the link
                self._errors += 1
                log.exception("link %s: unexpected error (counted; the link carries on)", self.name)
                self._drop("internal error")
                self._stop.wait(0.5)
            now = time.monotonic()
            if now - last_stats >= STATS_EVERY:
                self._publish(now)
                last_stats = now
        self._drop("stopped")
        self._publish(time.monotonic(), stopped=True)

    def _step(self) -> None:
        codes = None
        with contextlib.suppress(queue.Empty):
            while True:
                codes = self._inbox.get_nowait()
        if codes is not None:
            self._session.set_desired(codes)
        now = time.monotonic()
        self._execute(self._session.poll(now))
        if self._ws is None:
            self._stop.wait(min(RECV_TIMEOUT, max(0.01, self._session.seconds_to_attempt(now))))
            return
        self._read()

    def _execute(self, actions: list) -> None:
        for action in actions:
            if isinstance(action, Notice):
                if action.state is not None:
                    self._publish(time.monotonic())
                self._notify(LinkNotice(self.name, action))
            elif isinstance(action, Send):
                self._send(action.text)
            elif isinstance(action, Connect):
                self._open()
            elif isinstance(action, Close):
                self._last_error = action.reason
                self._reconnects += 1
                log.info("! %s %s; closing the link", self.name, action.reason)
                self._drop(action.reason)

    def _open(self) -> None:
        try:
            ws = handshake(self._url, self._token, self._stop)
        except OpenError as exc:
            self._last_error = exc.failure.detail
            log.info("! %s %s", self.name, exc.failure.detail)
            self._execute(self._session.open_failed(exc.failure, time.monotonic()))
            return
        self._ws = ws
        self._reader = FrameReader()
        self._connected_since = self._last_message_at = time.monotonic()
        log.info("= %s connected to %s", self.name, redact(self._url, self._token))
        self._execute(self._session.opened(time.monotonic()))

    def _read(self) -> None:
        ws = self._ws
        assert ws is not None
        try:
            chunk = ws.sock.recv(RECV_CHUNK)
        except TimeoutError:
            return
        except (OSError, ssl.SSLError) as exc:
            self._lost(describe(exc, self._token))
            return
        now = time.monotonic()
        if not chunk:
            self._lost("connection closed by the server")
            return
        session = self._session
        session.frame(now)
        self._last_message_at = now
        try:
            frames = self._reader.feed(chunk)
        except FrameError as exc:
            self._lost(f"bad framing: {exc}")
            return
        ticks: list[Tick] = []
        for opcode, data in frames:
            if opcode == OP_CLOSE:
                self._flush(ticks, now)
                self._lost(close_text(data))
                return
            if opcode == OP_PING:
                self._pong(data)
                continue
            if opcode == OP_PONG:
                continue
            self._messages += 1
            event = decode(data)
            if type(event) is Tick:
                ticks.append(event)
            elif type(event) is Rejected:
                self._rejected[event.reason.value] += 1
            else:
                assert isinstance(event, Response)
                self._execute(session.response(event, now))
                if self._ws is None:  # the response closed the link (e.g. ret 401)
                    return
        self._flush(ticks, now)

    def _flush(self, ticks: list[Tick], now: float) -> None:
        if ticks:
            self._ingest.put_many(ticks)
            self._session.data(now)

    def _send(self, text: str) -> None:
        if self._ws is None:
            return
        try:
            self._ws.send(text)
        except (OSError, websocket.WebSocketException) as exc:
            self._lost(f"send failed: {describe(exc, self._token)}")

    def _pong(self, data: bytes) -> None:
        with contextlib.suppress(OSError, websocket.WebSocketException):
            assert self._ws is not None
            self._ws.pong(data)

    def _lost(self, detail: str) -> None:
        if self._stop.is_set():
            self._drop("stopped")
            return
        self._last_error = detail
        self._reconnects += 1
        log.info("! %s %s", self.name, detail)
        self._drop(detail)
        self._execute(self._session.closed(detail, time.monotonic()))

    def _drop(self, reason: str) -> None:
        ws, self._ws = self._ws, None
        self._connected_since = None
        if ws is not None:
            with contextlib.suppress(Exception):  # a dead socket may fail to close any way it likes
                ws.sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(Exception):
                ws.sock.close()

    def _publish(self, now: float, *, stopped: bool = False) -> None:
        t0, n0, rate = self._rate
        if now - t0 >= 1.0:
            rate = (self._messages - n0) / (now - t0)
            self._rate = (now, self._messages, rate)
        self.stats = LinkStats(
            name=self.name,
            endpoint=self.endpoint.value,
            markets=self.markets,
            state=ConnectionState.STOPPED if stopped else self._session.state,
            symbols=self._session.acked if self._ws is not None else (),
            messages=self._messages,
            msgs_per_s=rate,
            reconnects=self._reconnects,
            last_error=self._last_error,
            connected_since=_wall(self._connected_since, now),
            last_message_at=_wall(self._last_message_at, now),
            rejected=dict(self._rejected),
            errors=self._errors,
        )


def _wall(mono: float | None, now: float) -> dt.datetime | None:
    if mono is None:
        return None
    return dt.datetime.now(dt.UTC) - dt.timedelta(seconds=now - mono)
