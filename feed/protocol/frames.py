"""WebSocket frame splitting for the receive path: bytes in, whole messages out.

websocket-client makes two or three ``recv`` system calls per frame, and each one
hands the GIL to another thread; with several link threads and the processor that
handoff, not parsing, is what caps the feed (profiled: ~45 % of the pipeline's time).
So the connection lets websocket-client do the handshake and all sending, then reads
the socket in large chunks and splits them here. Sans-I/O like the codec: no socket,
no clock; RFC 6455 §5.2 framing, server-to-client (normally unmasked) frames,
fragmented messages reassembled, control frames passed through as they arrive.
"""

from __future__ import annotations

__all__ = ["OP_BINARY", "OP_CLOSE", "OP_PING", "OP_PONG", "OP_TEXT", "FrameError", "FrameReader"]

OP_CONT, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA
MAX_MESSAGE = 16 * 1024 * 1024  # far beyond any AllTick message


class FrameError(Exception):
    """The peer broke the framing rules; the connection must be dropped."""


class FrameReader:
    """Feed it bytes with :meth:`feed`; get back ``(opcode, payload)`` messages."""

    __slots__ = ("_buf", "_frag_op", "_frags")

    def __init__(self) -> None:
        self._buf = b""
        self._frags: list[bytes] = []
        self._frag_op = 0

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        buf = self._buf + data if self._buf else data
        out: list[tuple[int, bytes]] = []
        pos = 0
        n = len(buf)
        while n - pos >= 2:
            b0 = buf[pos]
            b1 = buf[pos + 1]
            ln = b1 & 0x7F
            hdr = 2
            if ln == 126:
                if n - pos < 4:
                    break
                ln = (buf[pos + 2] << 8) | buf[pos + 3]
                hdr = 4
            elif ln == 127:
                if n - pos < 10:
                    break
                ln = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                hdr = 10
            if ln > MAX_MESSAGE:
                raise FrameError(f"frame of {ln} bytes is over the {MAX_MESSAGE}-byte limit")
            masked = b1 & 0x80
            start = pos + hdr + (4 if masked else 0)
            end = start + ln
            if end > n:
                break
            payload = buf[start:end]
            if masked:  # servers must not mask, but tolerate one that does
                key = buf[pos + hdr : start]
                payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
            pos = end
            self._frame(b0 & 0x80, b0 & 0x0F, payload, out)
        self._buf = buf[pos:]
        return out

    def _frame(self, fin: int, op: int, payload: bytes, out: list[tuple[int, bytes]]) -> None:
        if op >= OP_CLOSE:  # control frames may arrive between fragments
            out.append((op, payload))
            return
        if op == OP_CONT:
            if not self._frags:
                raise FrameError("continuation frame without a start")
            self._frags.append(payload)
            if sum(map(len, self._frags)) > MAX_MESSAGE:
                raise FrameError("fragmented message over the size limit")
            if fin:
                out.append((self._frag_op, b"".join(self._frags)))
                self._frags = []
            return
        if self._frags:
            raise FrameError("new message before the fragmented one ended")
        if fin:
            out.append((op, payload))
        else:
            self._frag_op = op
            self._frags = [payload]
