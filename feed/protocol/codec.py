"""AllTick WebSocket codec: pure functions, text in, events out, and the reverse.

Sans-I/O in the style of ``h11``/``websockets``: nothing here touches a socket or a
clock, so the client, the simulator and the property tests all speak through the
same code and cannot drift apart. Both directions live here: the client encodes
requests and decodes responses and pushes; the simulator decodes requests and
encodes responses and pushes.

Decoding never raises on bad input from the peer: a frame that is not a valid
message becomes a :class:`Rejected` event carrying the reason, so the caller can
count it and carry on (the feed must outlive any garbage the network sends).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Annotated, Any, NamedTuple

import msgspec
import orjson

__all__ = [
    "INT64",
    "CancelType",
    "Cmd",
    "DropReason",
    "Event",
    "Rejected",
    "Request",
    "Response",
    "Ret",
    "Tick",
    "decode",
    "decode_request",
    "encode_cancel",
    "encode_heartbeat",
    "encode_response",
    "encode_subscribe",
    "encode_tick_push",
    "parse_epoch_ms",
]


class Cmd(IntEnum):
    """Protocol numbers; a response is always its request + 1."""

    HEARTBEAT = 22000
    HEARTBEAT_ACK = 22001
    DEPTH_SUBSCRIBE = 22002
    DEPTH_SUBSCRIBE_ACK = 22003
    TICK_SUBSCRIBE = 22004
    TICK_SUBSCRIBE_ACK = 22005
    CANCEL = 22006
    CANCEL_ACK = 22007
    TICK_PUSH = 22998
    DEPTH_PUSH = 22999


class CancelType(IntEnum):
    ALL = 0
    DEPTH = 1
    TICK = 2


class Ret(IntEnum):
    """AllTick result codes (shared by WebSocket and HTTP)."""

    OK = 200
    HEADER_INVALID_ALT = 201
    DATA_INVALID_ALT = 202
    BAD_REQUEST = 400
    TOKEN_INVALID = 401
    QUERY_INVALID = 402
    RATE_LIMIT = 429
    CODE_INVALID = 600
    BODY_EMPTY = 601
    TOKEN_LEVEL = 603
    CODE_UNAUTHORIZED = 604
    TOO_MANY_REQUESTS = 605
    TOO_MANY_CLOSING = 606

    @property
    def explanation(self) -> str:
        return RET_EXPLANATIONS[self]


RET_EXPLANATIONS = {
    Ret.OK: "ok",
    Ret.HEADER_INVALID_ALT: "request header param invalid",
    Ret.DATA_INVALID_ALT: "request data param invalid",
    Ret.BAD_REQUEST: "request header param invalid",
    Ret.TOKEN_INVALID: "token invalid",
    Ret.QUERY_INVALID: "query invalid",
    Ret.RATE_LIMIT: "rate limit",
    Ret.CODE_INVALID: "code invalid",
    Ret.BODY_EMPTY: "body empty",
    Ret.TOKEN_LEVEL: "token level not enough",
    Ret.CODE_UNAUTHORIZED: "code unauthorized",
    Ret.TOO_MANY_REQUESTS: "too many requests",
    Ret.TOO_MANY_CLOSING: "too many requests and connection will be closed",
}


class DropReason(StrEnum):
    """Why a push never reached the quote book; every drop is counted by one of these."""

    MALFORMED = "malformed"
    NON_POSITIVE = "non_positive"
    NON_FINITE = "non_finite"
    UNKNOWN_CODE = "unknown_code"
    DUPLICATE = "duplicate"
    OUT_OF_ORDER = "out_of_order"
    BAD_PRINT = "bad_print"


class Tick(NamedTuple):
    """One trade pushed by the server (22998) or returned by ``/trade-tick``.

    A NamedTuple rather than a dataclass: ticks are the hot path (tens of thousands
    a second), and tuples are the cheapest immutable record Python has.
    """

    code: str
    seq: int
    time_ms: int
    price: float
    volume: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Response:
    """The server's answer to one request; ``ret`` other than 200 is an error."""

    cmd_id: int
    seq_id: int
    trace: str
    ret: int
    msg: str

    @property
    def ok(self) -> bool:
        return self.ret == Ret.OK


@dataclass(frozen=True, slots=True, kw_only=True)
class Rejected:
    """A frame that could not be used, and why. Never raised: returned and counted."""

    reason: DropReason
    detail: str
    code: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """A client request as the simulator sees it."""

    cmd_id: int
    seq_id: int
    trace: str
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def codes(self) -> list[str]:
        """Codes of a (tick/depth) subscription request, in order."""
        items = self.data.get("symbol_list") or []
        return [i["code"] for i in items if isinstance(i, dict) and isinstance(i.get("code"), str)]


Event = Tick | Response | Rejected

_loads = orjson.loads
_new_tuple = tuple.__new__
_TICK_PUSH = int(Cmd.TICK_PUSH)
_INF = math.inf
# A seq or time past 64 bits is garbage nothing downstream holds (the store's BIGINT,
# Arrow, MessagePack): both ways refuse it, the hot path in C, the careful way below.
INT64 = range(-(2**63), 2**63)
_Seq = Annotated[int, msgspec.Meta(ge=INT64.start, le=INT64.stop - 1)]
_EpochMs = Annotated[int, msgspec.Meta(ge=100_000_000_000, le=INT64.stop - 1)]  # seconds: the careful way


class _PushData(msgspec.Struct, gc=False):
    code: str
    seq: _Seq
    tick_time: _EpochMs
    price: float
    volume: float = 0.0


class _Push(msgspec.Struct, tag_field="cmd_id", tag=_TICK_PUSH, gc=False):
    data: _PushData


# The hot path's parser: a push typed in C, AllTick's numeric strings taken (``strict=False``),
# ~0.5 µs against ~4 µs for orjson and Python checks; what it refuses goes the careful way.
_push = msgspec.json.Decoder(_Push, strict=False).decode


# --- Client side: encode requests -------------------------------------------------


def _envelope(cmd: Cmd, seq_id: int, trace: str, data: dict[str, Any]) -> str:
    # seq_id must fit in a uint32 (the server rejects longer values).
    return orjson.dumps(
        {"cmd_id": int(cmd), "seq_id": seq_id % 2**32, "trace": trace[:64], "data": data}
    ).decode()


def encode_heartbeat(seq_id: int, trace: str) -> str:
    return _envelope(Cmd.HEARTBEAT, seq_id, trace, {})


def encode_subscribe(codes: list[str], seq_id: int, trace: str) -> str:
    """A tick subscription carrying the FULL list: each one replaces the last."""
    return _envelope(Cmd.TICK_SUBSCRIBE, seq_id, trace, {"symbol_list": [{"code": c} for c in codes]})


def encode_cancel(cancel_type: CancelType, seq_id: int, trace: str) -> str:
    return _envelope(Cmd.CANCEL, seq_id, trace, {"cancel_type": int(cancel_type)})


# --- Client side: decode responses and pushes -------------------------------------


def parse_epoch_ms(value: object) -> int:
    """Epoch milliseconds from a string or integer; 10-digit values are seconds.

    Raises ValueError/TypeError on anything else (bools included).
    """
    n = _integer(value)
    if not 0 < n < INT64.stop:
        raise ValueError("timestamp must be positive" if n <= 0 else "timestamp does not fit 64 bits")
    return n * 1000 if n < 100_000_000_000 else n


def _integer(value: object) -> int:
    """An integer, or an integral number written as a float or a string ("5", 5.0, "5.0",
    "1e3"): what the hot path's parser takes, so both ways agree. Never a bool."""
    if isinstance(value, bool):
        raise TypeError(f"a bool is not an integer: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return int(_finite(float(value)))
    return int(_finite(value))


def _finite(value: object) -> float:
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        if abs(value) > 2**53:  # as msgspec: orjson reads -(2**63) - 1 as a float, -(2**63)
            raise ValueError(f"{value!r} is past 2**53, where a float stops holding every integer")
        return value
    raise TypeError(f"not an integer: {value!r}")


def tick_from_fields(d: dict[str, Any]) -> Tick | Rejected:
    """Validate one tick record (push ``data`` or ``/trade-tick`` item).

    Invalid data is filtered here, as early as possible: prices that are not positive
    finite numbers never become a Tick.
    """
    try:
        code = d["code"]
        if not isinstance(code, str) or not code:
            return Rejected(reason=DropReason.MALFORMED, detail="missing code")
        raw_price = d["price"]
        if isinstance(raw_price, bool) or not isinstance(raw_price, (str, int, float)):
            return Rejected(reason=DropReason.MALFORMED, detail="price is not a number", code=code)
        price = float(raw_price)
        seq = _integer(d["seq"])
        if seq not in INT64:
            raise ValueError("seq does not fit 64 bits")
        time_ms = parse_epoch_ms(d["tick_time"])
        raw_volume = d.get("volume", "0")
        volume = float(raw_volume) if raw_volume not in (None, "") else 0.0
    except (KeyError, TypeError, ValueError, OverflowError, AttributeError) as exc:
        code = d.get("code") if isinstance(d, dict) and isinstance(d.get("code"), str) else None
        return Rejected(reason=DropReason.MALFORMED, detail=f"bad tick field: {exc}", code=code)
    if not math.isfinite(price):
        return Rejected(reason=DropReason.NON_FINITE, detail=f"price {raw_price!r}", code=code)
    if price <= 0:
        return Rejected(reason=DropReason.NON_POSITIVE, detail=f"price {raw_price!r}", code=code)
    if not math.isfinite(volume) or volume < 0:
        volume = 0.0
    return Tick(code, seq, time_ms, price, volume)


def decode(frame: str | bytes) -> Event:
    """Decode one text frame from the server into an event.

    Returns:
        :class:`Tick` for a valid 22998 push, :class:`Response` for any answer to a
        request (check ``.ok``), or :class:`Rejected` for anything unusable. If this
        function raises, that is a bug.
    """
    try:
        d = _push(frame).data
    except (msgspec.DecodeError, TypeError):
        pass
    else:  # a well-formed push; its values still have to be sane (the careful way names why not)
        price, time_ms, volume = d.price, d.tick_time, d.volume
        if d.code and 0.0 < price < _INF and 0.0 <= volume < _INF:
            return _new_tuple(Tick, (d.code, d.seq, time_ms, price, volume))
    try:
        msg = _loads(frame)
    except (orjson.JSONDecodeError, TypeError):
        return Rejected(reason=DropReason.MALFORMED, detail="not JSON")
    if type(msg) is not dict:
        return Rejected(reason=DropReason.MALFORMED, detail="not a JSON object")
    cmd = msg.get("cmd_id")
    if cmd == _TICK_PUSH:
        data = msg.get("data")
        if type(data) is not dict:
            return Rejected(reason=DropReason.MALFORMED, detail="push without data")
        return tick_from_fields(data)
    if "ret" in msg:
        try:
            return Response(
                cmd_id=int(cmd or 0),
                seq_id=int(msg.get("seq_id") or 0),
                trace=str(msg.get("trace") or ""),
                ret=int(msg["ret"]),
                msg=str(msg.get("msg") or ""),
            )
        except (TypeError, ValueError, OverflowError):
            return Rejected(reason=DropReason.MALFORMED, detail="bad response envelope")
    if cmd == Cmd.DEPTH_PUSH:
        return Rejected(reason=DropReason.MALFORMED, detail="depth push not subscribed")
    return Rejected(reason=DropReason.MALFORMED, detail=f"unknown message cmd_id={cmd!r}")


# --- Server side (simulator): decode requests, encode responses and pushes ---------


def decode_request(frame: str | bytes) -> Request | Response:
    """Decode a client request; a malformed one yields the error Response to send."""
    try:
        msg = orjson.loads(frame)
    except (orjson.JSONDecodeError, TypeError):
        msg = None
    if (
        not isinstance(msg, dict)
        or not isinstance(msg.get("cmd_id"), int)
        or not isinstance(msg.get("seq_id"), int)
        or not isinstance(msg.get("trace"), str)
        or not isinstance(msg.get("data"), dict)
    ):
        return Response(cmd_id=0, seq_id=0, trace="", ret=Ret.BAD_REQUEST, msg=Ret.BAD_REQUEST.explanation)
    return Request(cmd_id=msg["cmd_id"], seq_id=msg["seq_id"], trace=msg["trace"], data=msg["data"])


def encode_response(request: Request | None, ret: int, *, cmd_id: int | None = None) -> str:
    """The answer to ``request`` (cmd_id + 1, echoed seq_id/trace, empty data)."""
    explanation = RET_EXPLANATIONS.get(Ret(ret), "error") if ret in Ret._value2member_map_ else "error"
    return orjson.dumps(
        {
            "ret": int(ret),
            "msg": explanation,
            "cmd_id": cmd_id if cmd_id is not None else (request.cmd_id + 1 if request else 0),
            "seq_id": request.seq_id if request else 0,
            "trace": request.trace if request else "",
            "data": {},
        }
    ).decode()


def encode_tick_push(
    code: str,
    seq: int,
    time_ms: int,
    price: str,
    volume: str,
    turnover: str,
    direction: int = 0,
    *,
    integer_ids: bool = False,
) -> str:
    """A 22998 push. Strings for ``seq``/``tick_time`` by default, as HTTP captures show."""
    seq_v: int | str = seq if integer_ids else str(seq)
    time_v: int | str = time_ms if integer_ids else str(time_ms)
    return orjson.dumps(
        {
            "cmd_id": int(Cmd.TICK_PUSH),
            "data": {
                "code": code,
                "seq": seq_v,
                "tick_time": time_v,
                "price": price,
                "volume": volume,
                "turnover": turnover,
                "trade_direction": direction,
            },
        }
    ).decode()
