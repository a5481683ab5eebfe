"""Opening a WebSocket to AllTick, and naming why it failed.

Called by a link's pump, on its own thread; no state. Errors are classified here,
once, into the session's causes: a refused or timed-out TCP connect or an unresolvable
host is *unreachable*; HTTP 401 at the upgrade is *auth*; 429 is *rate limit*; any
other answer to the upgrade is a *server* error. The TCP connect runs in short slices
so that ``stop()`` never waits for a slow connect to time out.
"""

from __future__ import annotations

import errno
import select
import socket
import ssl
import threading
import time
import urllib.parse

import websocket

from feed.config import redact
from feed.session import Failure, OpenFailure

__all__ = ["CONNECT_TIMEOUT", "OpenError", "close_text", "describe", "handshake", "tcp_connect"]

CONNECT_TIMEOUT = 5.0
RECV_TIMEOUT = 0.2
_IN_PROGRESS = (errno.EINPROGRESS, errno.EAGAIN, errno.EALREADY)


def handshake(url: str, token: str, stop: threading.Event) -> websocket.WebSocket:
    """Connect and upgrade; raises :class:`OpenError` carrying the cause."""
    parts = urllib.parse.urlsplit(url)
    secure = parts.scheme == "wss"
    host = parts.hostname or ""
    port = parts.port or (443 if secure else 80)
    sock = tcp_connect(host, port, CONNECT_TIMEOUT, stop)
    try:
        if secure:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        sock.settimeout(CONNECT_TIMEOUT)
        ws = websocket.create_connection(url, socket=sock, timeout=CONNECT_TIMEOUT, skip_utf8_validation=True)
    except websocket.WebSocketBadStatusException as exc:
        sock.close()
        raise OpenError(status_failure(exc.status_code)) from None
    except (OSError, websocket.WebSocketException) as exc:
        sock.close()
        timeout = (TimeoutError, OSError, websocket.WebSocketTimeoutException)
        kind = Failure.UNREACHABLE if isinstance(exc, timeout) else Failure.SERVER
        raise OpenError(OpenFailure(kind, f"upgrade failed: {describe(exc, token)}")) from None
    ws.settimeout(RECV_TIMEOUT)
    return ws


class OpenError(Exception):
    def __init__(self, failure: OpenFailure) -> None:
        super().__init__(failure.detail)
        self.failure = failure


def tcp_connect(host: str, port: int, timeout: float, stop: threading.Event) -> socket.socket:
    """Connect in short slices so ``stop()`` never waits for a slow connect to time out."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise OpenError(OpenFailure(Failure.UNREACHABLE, f"host name {host!r} not resolved")) from None
    detail = "no address"
    for family, kind, proto, _, addr in infos:
        sock = socket.socket(family, kind, proto)
        sock.setblocking(False)
        err = sock.connect_ex(addr)
        deadline = time.monotonic() + timeout
        while err in _IN_PROGRESS and not stop.is_set() and time.monotonic() < deadline:  # EINPROGRESS
            _, writable, _ = select.select([], [sock], [], 0.1)
            if writable:
                err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err == 0:
            sock.setblocking(True)
            return sock
        sock.close()
        if err == errno.ECONNREFUSED:
            detail = f"connection refused ({host}:{port})"
        elif err in _IN_PROGRESS:
            detail = f"connect timed out after {timeout:g}s ({host}:{port})"
        else:
            detail = f"cannot connect to {host}:{port}: {errno.errorcode.get(err, err)}"
    raise OpenError(OpenFailure(Failure.UNREACHABLE, detail))


def status_failure(status: int) -> OpenFailure:
    if status == 401:
        return OpenFailure(Failure.AUTH, "HTTP 401 at the WebSocket upgrade (token invalid or expired)")
    if status == 429:
        return OpenFailure(Failure.RATE_LIMIT, "HTTP 429 at the WebSocket upgrade (reconnecting too fast)")
    return OpenFailure(Failure.SERVER, f"HTTP {status} at the WebSocket upgrade")


def close_text(payload: bytes) -> str:
    if len(payload) >= 2:
        code = int.from_bytes(payload[:2], "big")
        reason = payload[2:].decode("utf-8", "replace")
        return f"closed by the server ({code}{' ' + reason if reason else ''})"
    return "closed by the server"


def describe(exc: BaseException, token: str) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by the server"
    return redact(f"{type(exc).__name__}: {exc}".rstrip(": "), token)
