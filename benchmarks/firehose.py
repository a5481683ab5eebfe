"""A loopback AllTick firehose: pre-encoded 22998 pushes, as fast as the socket takes them.

The project's real client connects to it unchanged. The server speaks just enough of
the protocol (alltick-protocol.md §2): the upgrade on both stream paths, heartbeat
22000 -> 22001, tick subscribe 22004 -> 22005 with ret 200 (the full list replaces the
last), cancel 22006 -> 22007. On command it writes pre-encoded pushes for the codes each
connection subscribed, in one global round-robin order (frame ``i`` is code
``i % len(codes)``) with a monotonic string ``seq`` per code, either flat out or at a
steady rate. A second port serves the seeding calls (``/trade-tick``, ``/batch-kline``,
``/static_info``, ``/kline``) for every code it blasts, so no code is ever marked
invalid: the simulator's own HTTP service (``feed.sim.httpd``, the same envelope, routes,
``ret`` codes and professional-plan limits) over a record source for the synthetic codes
that builds its answers with ``feed.protocol.records``. The WebSocket side stays a raw
socket blaster: it exists for speed.

The server runs in its own process (``multiprocessing``, spawn) so its Python never
competes with the client under test for the GIL. Both processes read
``time.perf_counter`` (CLOCK_MONOTONIC on Linux, one clock for every process), so send
times recorded here compare directly with receive times in the client's process.

    with Firehose(symbols=200) as fh:           # ports 0: any free port
        config = FeedConfig(token="bench", ws_base=fh.ws_base, http_base=fh.http_base, ...)
        ...subscribe; fh.wait_subscribed(200)...
        fh.prepare(300_000)                      # encode before the clock starts
        t0 = fh.go()
        result = fh.wait_done()
"""

from __future__ import annotations

import base64
import bisect
import contextlib
import hashlib
import logging
import math
import multiprocessing
import socket
import struct
import threading
import time
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from feed.protocol.codec import Cmd, Request, Ret, decode_request, encode_response, encode_tick_push
from feed.protocol.paths import WS_PATH
from feed.protocol.plans import PLANS
from feed.protocol.records import KLINE_DAILY, bar_record, static_record, trade_record
from feed.sim.httpd import HttpService
from feed.symbols import Endpoint

__all__ = [
    "BlastResult",
    "ClientInfo",
    "Firehose",
    "final_ticks",
    "make_codes",
    "price_of",
]

log = logging.getLogger("benchmarks.firehose")

WS_PATHS = frozenset(WS_PATH.values())
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_CHUNK_FRAMES = 256  # frames per sendall in a flat-out blast
_PACE_SLEEP = 0.0002  # seconds between looks at the schedule in a paced blast

# Codes the simulator knows come first, so a Simulator's HTTP server can seed them too.
_REAL_US = ("AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META", "TSLA", "JPM", "V", "MA", "UNH", "XOM")
_REAL_HK = ("700", "9988", "3690", "1810", "5", "1299", "939", "388", "2318", "1211", "9618", "2628")

# Frames a client must survive (mixed into a blast with ``garbage_every``).
GARBAGE = (
    "not json at all",
    '{"cmd_id":22998,"data":{"code":',
    "[]",
    '{"cmd_id":22998,"data":"oops"}',
    '{"cmd_id":12345,"data":{}}',
    '{"cmd_id":22998,"data":{"code":"%s","seq":"%d","tick_time":"1","price":"NaN","volume":"1"}}',
    '{"cmd_id":22998,"data":{"code":"%s","seq":"%d","tick_time":"1","price":"-1.5","volume":"1"}}',
    '{"cmd_id":22998,"data":{"code":"%s","seq":"%d","tick_time":"1","price":"0","volume":"1"}}',
)


def make_codes(n: int) -> list[str]:
    """``n`` valid, distinct codes alternating US and HK (well-known names first)."""
    us = [f"{t}.US" for t in _REAL_US]
    hk = [f"{t}.HK" for t in _REAL_HK]
    k = 0
    while len(us) + len(hk) < n:
        # Synthetic tickers: "QA".."QZZZ" and five-digit HK numbers are valid syntax.
        us.append(f"Q{_letters(k)}.US")
        hk.append(f"{20000 + k}.HK")
        k += 1
    out: list[str] = []
    for a, b in zip(us, hk, strict=False):
        out += [a, b]
    return out[:n]


def _letters(k: int) -> str:
    s = ""
    k += 1
    while k:
        k, r = divmod(k - 1, 26)
        s = chr(65 + r) + s
    return s


def price_of(code_index: int, seq: int) -> str:
    """The deterministic price string of code ``code_index`` at ``seq`` (3 decimals)."""
    base = 10.0 + (code_index % 400) * 0.5
    return f"{base + ((seq * 7 + code_index) % 100) * 0.01:.3f}"


def final_ticks(codes: list[str], cursor: int) -> dict[str, tuple[int, float]]:
    """Each code's last (seq, price) after ``cursor`` global frames (codes never sent are absent)."""
    s = len(codes)
    out: dict[str, tuple[int, float]] = {}
    for c, code in enumerate(codes):
        if c < cursor:
            seq = (cursor - 1 - c) // s + 1
            out[code] = (seq, float(price_of(c, seq)))
    return out


def ws_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """One unmasked server frame (FIN set)."""
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, n))
    elif n < 65536:
        head = bytes((0x80 | opcode, 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 127)) + n.to_bytes(8, "big")
    return head + payload


@dataclass(frozen=True, slots=True)
class ClientInfo:
    id: int
    path: str
    codes: int
    alive: bool
    subscribes: int


@dataclass(slots=True)
class BlastResult:
    """What the server sent: frames, its own start/end (perf_counter) and, paced, per-frame times."""

    frames: int
    t_start: float
    t_end: float
    sent: dict[int, int] = field(default_factory=dict)
    send_times: array | None = None  # by global frame index in the blast; NaN if never sent

    @property
    def server_rate(self) -> float:
        span = self.t_end - self.t_start
        return self.frames / span if span > 0 else math.inf


# --- the server process ------------------------------------------------------------------


class _Client:
    def __init__(self, sock: socket.socket, cid: int, path: str) -> None:
        self.sock = sock
        self.id = cid
        self.path = path
        self.lock = threading.Lock()
        self.codes: tuple[str, ...] = ()
        self.alive = True
        self.subscribes = 0

    def send(self, data: bytes) -> bool:
        if not self.alive:
            return False
        try:
            with self.lock:
                self.sock.sendall(data)
            return True
        except OSError:
            self.alive = False
            return False

    def abort(self) -> None:
        """An abrupt drop: RST, no close frame."""
        self.alive = False
        with contextlib.suppress(OSError):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with contextlib.suppress(OSError):
            self.sock.close()


class _Server:
    def __init__(self, codes: list[str], host: str, base_ms: int) -> None:
        self.codes = codes
        self.index = {c: i for i, c in enumerate(codes)}
        self.host = host
        self.base_ms = base_ms
        self.clients: dict[int, _Client] = {}
        self.lock = threading.Lock()
        self.next_id = 1
        self.stopping = threading.Event()
        self.cursor = 0
        self.http: HttpService | None = None  # set by _server_main
        self.plan: list[tuple[_Client, list[bytes], array | None]] = []
        self.plan_frames = 0
        self.plan_rate: float | None = None
        self.plan_drop_at: float | None = None
        self.senders: list[threading.Thread] = []
        self.result: dict[str, Any] | None = None
        self.send_times: array | None = None
        self.sent: dict[int, int] = {}
        self.t_start = 0.0
        self.t_end = 0.0

    # WebSocket side ------------------------------------------------------------------

    def accept_loop(self, lsock: socket.socket) -> None:
        lsock.settimeout(0.2)
        while not self.stopping.is_set():
            try:
                sock, _ = lsock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(
                target=self.serve_client, args=(sock,), name="firehose-conn", daemon=True
            ).start()

    def serve_client(self, sock: socket.socket) -> None:
        reader = _Reader(sock)
        try:
            head = reader.until(b"\r\n\r\n")
        except (OSError, EOFError):
            sock.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        path = urlsplit(parts[1]).path if len(parts) > 1 else ""
        headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
        key = headers.get("sec-websocket-key", "")
        if path not in WS_PATHS or not key:
            with contextlib.suppress(OSError):
                sock.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            sock.close()
            return
        accept = base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()
        sock.sendall(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
            ).encode()
        )
        with self.lock:
            client = _Client(sock, self.next_id, path)
            self.next_id += 1
            self.clients[client.id] = client
        try:
            while client.alive and not self.stopping.is_set():
                opcode, payload = reader.frame()
                if opcode == 0x8:  # close: answer and hang up
                    client.send(ws_frame(payload[:2], 0x8))
                    break
                if opcode == 0x9:
                    client.send(ws_frame(payload, 0xA))
                elif opcode == 0x1:
                    self.on_request(client, payload)
        except (OSError, EOFError):
            pass
        finally:
            client.alive = False
            with contextlib.suppress(OSError):
                sock.close()

    def on_request(self, client: _Client, payload: bytes) -> None:
        req = decode_request(payload)
        if not isinstance(req, Request):
            client.send(ws_frame(encode_response(None, req.ret).encode()))
            return
        if req.cmd_id == Cmd.TICK_SUBSCRIBE:
            client.codes = tuple(req.codes)
            client.subscribes += 1
        elif req.cmd_id == Cmd.CANCEL:
            client.codes = ()
        client.send(ws_frame(encode_response(req, Ret.OK).encode()))

    # Blasts ------------------------------------------------------------------------------

    def prepare(
        self, n: int, rate: float | None, garbage_every: int, drop_at: float | None
    ) -> dict[str, Any]:
        """Encode the next ``n`` global frames for the clients subscribed right now."""
        with self.lock:
            clients = [c for c in self.clients.values() if c.alive and c.codes]
        s = len(self.codes)
        start = self.cursor
        self.cursor += n
        owners: dict[int, list[tuple[_Client, list[bytes], array]]] = {}
        per_client: list[tuple[_Client, list[bytes], array]] = []
        for c in clients:
            entry: tuple[_Client, list[bytes], array] = (c, [], array("l"))
            per_client.append(entry)
            for code in c.codes:
                idx = self.index.get(code)
                if idx is not None:
                    owners.setdefault(idx, []).append(entry)
        base_ms = self.base_ms
        codes = self.codes
        planned = 0
        for i in range(n):
            g = start + i
            c = g % s
            targets = owners.get(c)
            if not targets:
                continue
            seq = g // s + 1
            frame = ws_frame(
                encode_tick_push(codes[c], seq, base_ms + seq, price_of(c, seq), "100", "1000.0", 1).encode()
            )
            for _, frames, idx in targets:
                frames.append(frame)
                idx.append(i)
                planned += 1
                if garbage_every and len(frames) % garbage_every == 0:
                    text = GARBAGE[(len(frames) // garbage_every) % len(GARBAGE)]
                    if "%s" in text:
                        text = text % (codes[c], seq)
                    frames.append(ws_frame(text.encode()))
                    idx.append(i)
        if rate is None:
            self.plan = [
                (cl, [b"".join(fr[k : k + _CHUNK_FRAMES]) for k in range(0, len(fr), _CHUNK_FRAMES)], None)
                for cl, fr, _ in per_client
            ]
            self.send_times = None
        else:
            self.plan = [(cl, fr, ix) for cl, fr, ix in per_client]
            self.send_times = array("d", [math.nan]) * n
        self.plan_frames = n
        self.plan_rate = rate
        self.plan_drop_at = drop_at
        return {"planned": planned, "clients": len(per_client), "cursor": self.cursor}

    def go(self) -> float:
        self.result = None
        self.sent = {}
        self.t_start = time.perf_counter()
        self.senders = []
        for client, frames, idx in self.plan:
            target = self.send_flat if idx is None else self.send_paced
            t = threading.Thread(target=target, args=(client, frames, idx), name="firehose-send", daemon=True)
            self.senders.append(t)
        for t in self.senders:
            t.start()
        return self.t_start

    def send_flat(self, client: _Client, chunks: list[bytes], _idx: None) -> None:
        drop_after = len(chunks) if self.plan_drop_at is None else int(len(chunks) * self.plan_drop_at)
        sent = 0
        for chunk in chunks:
            if sent >= drop_after:
                client.abort()  # mid-stream, with frames in flight
                break
            if not client.send(chunk):
                break
            sent += 1
        self.sent[client.id] = sent * _CHUNK_FRAMES

    def send_paced(self, client: _Client, frames: list[bytes], idx: array) -> None:
        assert self.plan_rate is not None and self.send_times is not None
        rate = self.plan_rate
        t0 = self.t_start
        times = self.send_times
        pos, n = 0, len(frames)
        drop_after = n if self.plan_drop_at is None else int(n * self.plan_drop_at)
        perf = time.perf_counter
        while pos < n and not self.stopping.is_set():
            if pos >= drop_after:
                client.abort()
                break
            due = int((perf() - t0) * rate)  # global frames due so far
            end = min(bisect.bisect_left(idx, due, lo=pos), drop_after)
            if end > pos:
                t = perf()
                if not client.send(b"".join(frames[pos:end])):
                    break
                for j in range(pos, end):
                    times[idx[j]] = t
                pos = end
            else:
                time.sleep(_PACE_SLEEP)
        self.sent[client.id] = pos

    def poll(self) -> dict[str, Any] | None:
        if any(t.is_alive() for t in self.senders):
            return None
        if self.result is None:
            self.t_end = time.perf_counter()
            self.result = {
                "frames": self.plan_frames,
                "t_start": self.t_start,
                "t_end": self.t_end,
                "sent": dict(self.sent),
                "send_times": self.send_times.tobytes() if self.send_times is not None else None,
            }
        return self.result

    def drop(self) -> int:
        with self.lock:
            clients = [c for c in self.clients.values() if c.alive]
        for c in clients:
            c.abort()
        return len(clients)

    def status(self) -> dict[str, Any]:
        with self.lock:
            clients = [
                ClientInfo(c.id, c.path, len(c.codes), c.alive, c.subscribes) for c in self.clients.values()
            ]
            for cid in [c.id for c in self.clients.values() if not c.alive]:
                del self.clients[cid]
        http_requests = sum(self.http.requests().values()) if self.http is not None else 0
        return {"clients": clients, "http_requests": http_requests, "cursor": self.cursor}

    def stop(self) -> None:
        self.stopping.set()
        self.drop()


class _Reader:
    """Buffered reads of an HTTP head and of masked client frames."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = bytearray()

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.buf += data

    def until(self, marker: bytes) -> bytes:
        while (i := self.buf.find(marker)) < 0:
            if len(self.buf) > 65536:
                raise EOFError
            self._fill()
        out = bytes(self.buf[: i + len(marker)])
        del self.buf[: i + len(marker)]
        return out

    def exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def frame(self) -> tuple[int, bytes]:
        b0, b1 = self.exact(2)
        n = b1 & 0x7F
        if n == 126:
            n = int.from_bytes(self.exact(2), "big")
        elif n == 127:
            n = int.from_bytes(self.exact(8), "big")
        mask = self.exact(4) if b1 & 0x80 else b""
        payload = self.exact(n)
        if mask and n:
            key = (mask * (n // 4 + 1))[:n]
            payload = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")
        return b0 & 0x0F, payload


class _FirehoseRecords:
    """The firehose's codes as a ``feed.sim.httpd.RecordSource``: what seeding needs, no more.

    ``/trade-tick``: seq 0 at ``base_ms`` and the price of seq 0 (the blast starts at
    seq 1); ``/batch-kline`` and daily ``/kline``: two daily bars closing at 0.99 x that
    price; intraday ``/kline``: no bars (the firehose keeps no minute history).
    Every code is a US or HK stock, served on the stock endpoint only.
    """

    def __init__(self, codes: list[str], base_ms: int) -> None:
        self.index = {c: i for i, c in enumerate(codes)}
        self.base_ms = base_ms

    def _known(self, endpoint: Endpoint, codes: list[object]) -> list[str]:
        return [c for c in codes if endpoint is Endpoint.STOCK and isinstance(c, str) and c in self.index]

    def kline(
        self, endpoint: Endpoint, code: object, kline_type: int, num: int, now_s: float
    ) -> list[dict[str, str]] | None:
        if not self._known(endpoint, [code]):
            return None
        if kline_type != KLINE_DAILY:
            return []
        close = f"{float(price_of(self.index[code], 0)) * 0.99:.3f}"  # type: ignore[index]
        base_s = self.base_ms // 1000
        bars = [
            bar_record(base_s - days * 86_400, close, close, close, close, "1000", "0") for days in (3, 2)
        ]
        return bars[-num:]

    def trade_ticks(self, endpoint: Endpoint, codes: list[object]) -> list[dict[str, Any]]:
        return [
            trade_record(c, 0, self.base_ms, price_of(self.index[c], 0), "0", "0", 0)
            for c in self._known(endpoint, codes)
        ]

    def static_infos(self, endpoint: Endpoint, codes: list[object]) -> list[dict[str, str]]:
        out = []
        for c in self._known(endpoint, codes):
            us = c.endswith(".US")
            currency, exchange, board, lot = (
                ("USD", "NASDAQ", "USEquity", 1) if us else ("HKD", "SEHK", "HKEquity", 100)
            )
            out.append(static_record(c, f"Firehose {c}", "", currency, exchange, board, lot))
        return out


def _server_main(pipe: Any, codes: list[str], host: str, ws_port: int, http_port: int, base_ms: int) -> None:
    """The firehose process: serve until told to stop; every command gets one reply."""
    server = _Server(codes, host, base_ms)
    lsock = socket.create_server((host, ws_port), backlog=64)
    # Any token will do; the limits are the professional plan's (what Firehose.plan says).
    server.http = HttpService(
        _FirehoseRecords(codes, base_ms), plan=PLANS["professional"], token_ok=lambda _token: True
    )
    stub = server.http.serve(host, http_port)
    threading.Thread(target=server.accept_loop, args=(lsock,), name="firehose-accept", daemon=True).start()
    threading.Thread(
        target=stub.serve_forever, kwargs={"poll_interval": 0.1}, name="firehose-http", daemon=True
    ).start()
    pipe.send(("ready", lsock.getsockname()[1], stub.server_address[1]))
    try:
        while True:
            try:
                cmd, kw = pipe.recv()
            except EOFError:
                break
            if cmd == "stop":
                pipe.send(None)
                break
            if cmd == "status":
                reply: Any = server.status()
            elif cmd == "prepare":
                reply = server.prepare(**kw)
            elif cmd == "go":
                reply = server.go()
            elif cmd == "poll":
                reply = server.poll()
            elif cmd == "drop":
                reply = server.drop()
            else:
                reply = ValueError(f"unknown command {cmd!r}")
            pipe.send(reply)
    finally:
        server.stop()
        with contextlib.suppress(OSError):
            lsock.close()
        stub.shutdown()
        stub.server_close()


# --- the handle in the client's process --------------------------------------------------


class Firehose:
    """Runs the firehose process; a context manager (ports 0 pick free ports)."""

    def __init__(
        self,
        codes: Iterable[str] | None = None,
        *,
        symbols: int = 200,
        host: str = "127.0.0.1",
        port: int = 0,
        http_port: int = 0,
        base_ms: int | None = None,
    ) -> None:
        self.codes = list(codes) if codes is not None else make_codes(symbols)
        self.host = host
        self._port = port
        self._http_port = http_port
        self.base_ms = base_ms if base_ms is not None else int(time.time() * 1000) - 60_000
        self.cursor = 0
        self.plan = "professional"  # what the server grants (tests.support.fast_config reads it)
        self._pipe: Any = None
        self._proc: multiprocessing.process.BaseProcess | None = None
        self._lock = threading.Lock()
        self.ws_port = 0
        self.http_port = 0

    def __enter__(self) -> Firehose:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> Firehose:
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        self._proc = ctx.Process(
            target=_server_main,
            args=(child, self.codes, self.host, self._port, self._http_port, self.base_ms),
            name="firehose",
            daemon=True,
        )
        self._proc.start()
        child.close()
        self._pipe = parent
        if not parent.poll(30):
            self.stop()
            raise RuntimeError("firehose process did not start")
        _, self.ws_port, self.http_port = parent.recv()
        log.info("firehose serving %s (%d codes)", self.ws_base, len(self.codes))
        return self

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(Exception):
            self._call("stop", timeout=5)
        proc.join(5)
        if proc.is_alive():
            proc.terminate()
            proc.join(2)
        with contextlib.suppress(Exception):
            self._pipe.close()

    @property
    def ws_base(self) -> str:
        return f"ws://{self.host}:{self.ws_port}"

    @property
    def http_base(self) -> str:
        return f"http://{self.host}:{self.http_port}"

    def _call(self, cmd: str, timeout: float = 60.0, **kw: Any) -> Any:
        with self._lock:
            self._pipe.send((cmd, kw))
            if not self._pipe.poll(timeout):
                raise TimeoutError(f"firehose did not answer {cmd!r} within {timeout}s")
            reply = self._pipe.recv()
        if isinstance(reply, Exception):
            raise reply
        return reply

    # control ------------------------------------------------------------------------

    def clients(self) -> list[ClientInfo]:
        return self._call("status")["clients"]

    def http_requests(self) -> int:
        return self._call("status")["http_requests"]

    def wait_subscribed(self, n_codes: int, timeout: float = 20.0, clients: int | None = None) -> bool:
        """Until live connections (``clients`` of them, if given) subscribe ``n_codes`` in all."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            live = [c for c in self.clients() if c.alive]
            if sum(c.codes for c in live) >= n_codes and (clients is None or len(live) == clients):
                return True
            time.sleep(0.02)
        return False

    def prepare(
        self, frames: int, rate: float | None = None, garbage_every: int = 0, drop_at: float | None = None
    ) -> int:
        """Encode the next ``frames`` global frames for the current subscribers; returns frames planned.

        ``garbage_every``: a bad frame after every that many good ones (per connection).
        ``drop_at``: reset each connection (RST, frames in flight) once that fraction of its
        frames is written, so the rest of the blast never reaches it.
        """
        reply = self._call(
            "prepare", timeout=300, n=frames, rate=rate, garbage_every=garbage_every, drop_at=drop_at
        )
        self.cursor = reply["cursor"]
        return reply["planned"]

    def go(self) -> float:
        """Start sending what ``prepare`` encoded; returns ``perf_counter()`` just before the order."""
        t0 = time.perf_counter()
        self._call("go")
        return t0

    def poll(self) -> BlastResult | None:
        r = self._call("poll")
        if r is None:
            return None
        times = None
        if r["send_times"] is not None:
            times = array("d")
            times.frombytes(r["send_times"])
        return BlastResult(r["frames"], r["t_start"], r["t_end"], r["sent"], times)

    def wait_done(self, timeout: float = 120.0) -> BlastResult:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = self.poll()
            if r is not None:
                return r
            time.sleep(0.01)
        raise TimeoutError("blast did not finish")

    def blast(
        self,
        frames: int,
        rate: float | None = None,
        garbage_every: int = 0,
        drop_at: float | None = None,
        timeout: float = 120.0,
    ) -> BlastResult:
        self.prepare(frames, rate, garbage_every, drop_at)
        self.go()
        return self.wait_done(timeout)

    def drop_connections(self) -> int:
        """Reset every client connection (RST, no close frame); returns how many."""
        return self._call("drop")

    def expected(self) -> dict[str, tuple[int, float]]:
        """Each code's final (seq, price) so far."""
        return final_ticks(self.codes, self.cursor)


def main(argv: list[str] | None = None) -> int:
    """Serve a firehose for manual poking: ``python -m benchmarks.firehose --symbols 200``."""
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--symbols", type=int, default=200)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--http-port", type=int, default=0)
    args = ap.parse_args(argv)
    with Firehose(symbols=args.symbols, port=args.port, http_port=args.http_port) as fh:
        print(f"WebSocket base: {fh.ws_base}\nHTTP base:      {fh.http_base}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
