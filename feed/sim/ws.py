"""WebSocket serving: the handshake, one handler loop per connection, request answers.

Why it exists: this is the simulator's stream side of alltick-protocol.md §2–3, spoken
through the client's own codec (``decode_request``/``encode_response``), so the two
cannot drift. It enforces what a live server enforces: the plan's connection cap (an
over-cap connection is closed with 1008), the per-connection request pacing (605, then
606 and a close), the heartbeat timeout, the first N codes of a subscription; and it
carries out the hub's fault states (stall, close request) on its own socket.

State: each connection's handler thread (from ``websockets.sync.server``) owns its
socket and the "handler" fields of its :class:`~feed.sim.hub.Conn`; shared state lives
in the hub and the gate. The service itself only keeps the handshake sockets seen, so
``stop()`` can join their threads (under its own lock).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request as WsRequest
from websockets.http11 import Response as WsResponse
from websockets.sync.server import Server, ServerConnection, serve

from feed.config import RedactFilter
from feed.protocol.codec import CancelType, Cmd, Request, Response, Ret, decode_request, encode_response
from feed.protocol.paths import endpoint_of_ws_path
from feed.sim.gate import Gate
from feed.sim.hub import Conn, Hub
from feed.symbols import Endpoint

__all__ = ["WsService", "cap_codes"]

logger = logging.getLogger("feed.sim.ws")
protocol_logger = logging.getLogger("feed.sim.websockets")  # websockets' own log: request lines
for _logger in (logger, protocol_logger):
    _logger.addFilter(RedactFilter())  # request lines carry ?token=

POLL_SECONDS = 0.05  # how often a handler looks at its outbox
CLOSE_TIMEOUT = 0.5  # wait this long for a client's close frame (bounds stop())
VIOLATION_WINDOW = 10.0  # a second pacing violation within this closes the connection


def cap_codes(items: list[Any], known: Callable[[object], bool], max_codes: int) -> tuple[list[str], bool]:
    """A subscription's ``symbol_list`` as served: known codes, deduplicated, the first ``max_codes``.

    Returns the codes and whether any item was invalid (answered with ``ret 600``); codes
    over the cap are dropped silently, as the live server does (protocol §3.3).
    """
    codes: list[str] = []
    seen: set[str] = set()
    invalid = False
    for item in items:
        code = item.get("code") if isinstance(item, dict) else None
        if not isinstance(code, str) or not known(code):
            invalid = True
        elif code not in seen:
            seen.add(code)
            codes.append(code)
    return codes[:max_codes], invalid


def _token_of(path: str) -> str:
    return parse_qs(urlsplit(path).query).get("token", [""])[0]


class WsService:
    """Handshake and handler callbacks for ``websockets.sync.server.serve``."""

    def __init__(
        self,
        *,
        hub: Hub,
        gate: Gate,
        knows: Callable[[Endpoint, object], bool],
        max_codes: int,
        heartbeat_timeout: float,
        min_request_interval: float,
        plan_name: str,
    ) -> None:
        self.hub = hub
        self.gate = gate
        self.knows = knows
        self.max_codes = max_codes
        self.heartbeat_timeout = heartbeat_timeout
        self.min_request_interval = min_request_interval
        self.plan_name = plan_name
        self._seen_lock = threading.Lock()
        self._seen: list[ServerConnection] = []

    def serve(self, host: str, port: int) -> Server:
        """Bind (SO_REUSEADDR, as ``socket.create_server`` sets it) and return the server."""
        return serve(
            self.handler,
            host,
            port,
            process_request=self.process_request,
            open_timeout=2.0,  # a socket that never sends its upgrade must not hold stop()
            ping_interval=None,  # AllTick uses app-level heartbeats; keep the wire quiet
            close_timeout=CLOSE_TIMEOUT,
            compression=None,
            logger=protocol_logger,
        )

    def join_seen(self, deadline: float) -> None:
        """Join the threads of every connection seen since the last call (``stop()``)."""
        with self._seen_lock:
            seen, self._seen = self._seen, []
        for ws in seen:
            ws.recv_events_thread.join(max(0.05, deadline - time.monotonic()))

    # --- the handshake --------------------------------------------------------------

    def process_request(self, connection: ServerConnection, request: WsRequest) -> WsResponse | None:
        with self._seen_lock:
            self._seen = [ws for ws in self._seen if ws.recv_events_thread.is_alive()]
            self._seen.append(connection)
        endpoint = endpoint_of_ws_path(urlsplit(request.path).path)
        refusal = self.gate.admit(endpoint, _token_of(request.path))
        if refusal is None:
            return None
        logger.info("ws upgrade refused: %d %s", refusal.status, refusal.text.strip())
        return connection.respond(refusal.status, refusal.text)

    def handler(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        path = urlsplit(ws.request.path).path
        group = endpoint_of_ws_path(path)
        assert group is not None  # process_request refused every other path
        rule = self.gate.closing_rule()
        if rule is not None:
            logger.info("ws %s upgrade accepted, closing at once (close_after_upgrade)", group)
            if rule.code is None:
                ws.close_socket()
            else:
                ws.close(rule.code, rule.reason)
            return
        conn = self.hub.open(ws, group, _token_of(ws.request.path), time.monotonic())
        if conn is None:
            logger.info("ws %s connection over the %s plan cap: closing", group, self.plan_name)
            ws.close(1008, "connection limit")
            return
        logger.info("ws connection %d opened on %s", conn.id, path)
        try:
            self._serve(conn)
        except ConnectionClosed:
            pass
        finally:
            self.hub.close(conn)
            logger.info("ws connection %d closed", conn.id)

    # --- one connection ----------------------------------------------------------------

    def _serve(self, conn: Conn) -> None:
        """Until the connection closes (``stop()`` closes it with 1001)."""
        ws = conn.ws
        was_stalled = False
        while True:
            now = time.monotonic()
            out = self.hub.take(conn, now)
            if out.close_request is not None:
                ws.close(*out.close_request)
                return
            if out.stalled:
                was_stalled = True
            else:
                if was_stalled:  # the client's heartbeats never "arrived": restart the clock
                    conn.last_heartbeat = now
                    was_stalled = False
                for frame in out.frames:
                    ws.send(frame)
                if now - conn.last_heartbeat > self.heartbeat_timeout:
                    logger.info("ws connection %d: no heartbeat for %.1fs", conn.id, self.heartbeat_timeout)
                    ws.close(1000, "heartbeat timeout")
                    return
            try:
                frame_in = ws.recv(timeout=POLL_SECONDS)
            except TimeoutError:
                continue
            if self.hub.is_stalled(conn, time.monotonic()):
                continue  # half-open: the request never reached us
            if not self._answer(conn, frame_in):
                return

    def _answer(self, conn: Conn, frame: str | bytes) -> bool:
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
            conn.violations = [t for t in conn.violations if now - t < VIOLATION_WINDOW]
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

    def _dispatch(self, conn: Conn, req: Request, now: float) -> int:
        cmd = req.cmd_id
        if cmd == Cmd.HEARTBEAT:
            conn.last_heartbeat = now
            return Ret.OK
        if cmd in (Cmd.TICK_SUBSCRIBE, Cmd.DEPTH_SUBSCRIBE):
            items = req.data.get("symbol_list")
            if not isinstance(items, list):
                return Ret.BAD_REQUEST
            codes, invalid = cap_codes(items, lambda c: self.knows(conn.group, c), self.max_codes)
            self.hub.subscribe(conn, codes, depth=cmd == Cmd.DEPTH_SUBSCRIBE)
            logger.debug("ws connection %d subscribed %s (invalid=%s)", conn.id, codes, invalid)
            return Ret.CODE_INVALID if invalid else Ret.OK
        if cmd == Cmd.CANCEL:
            kind = req.data.get("cancel_type")
            if isinstance(kind, bool) or kind not in tuple(CancelType):
                return Ret.BAD_REQUEST
            self.hub.cancel(conn, CancelType(kind))
            return Ret.OK
        return Ret.BAD_REQUEST
