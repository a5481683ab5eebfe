"""Stream and HTTP faults a live server only produces on bad days, as values.

Why it exists: the fault knobs of :class:`~feed.sim.server.Simulator` are named after
the condition they imitate; this module holds what those knobs set, so the market
(which mixes push faults into its stream) and the HTTP service (which fails calls)
read one definition, and the frames a client must survive are written in one place.

State: none. :class:`PushFaults` is frozen; the random generator that draws from it
belongs to the market and is only used under the market's lock.

Thread ownership: immutable values; the simulator's lock guards which ones are in force.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

import orjson

from feed.protocol.codec import Cmd

__all__ = ["HttpFault", "PushFaults", "garbage_frame"]


class HttpFault(StrEnum):
    """How one HTTP call fails (``Simulator.fail_http``); the values are the knob's strings."""

    STATUS_429 = "429"  # HTTP status 429 with a ``ret 429`` envelope
    NO_RET = "no_ret"  # status 200, body ``{"error_msg": "Too many requests"}``, no ``ret``
    RET_605 = "605"  # status 200, ``ret 605`` (too many requests)


@dataclass(frozen=True, slots=True)
class PushFaults:
    """Per-push probabilities of an extra frame after a random-walk push.

    ``garbage_rate``: a frame the client must survive (not JSON, wrong shape, bad price);
    ``duplicate_rate``: the same push again; ``out_of_order_rate``: the previous (older)
    push of that symbol re-sent. None of these is a new trade.
    """

    garbage_rate: float = 0.0
    duplicate_rate: float = 0.0
    out_of_order_rate: float = 0.0

    def __post_init__(self) -> None:
        for name in ("garbage_rate", "duplicate_rate", "out_of_order_rate"):
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1], got {rate!r}")

    def mix(
        self, frame: str, previous: str | None, code: str, seq: int, ms: int, rng: random.Random
    ) -> list[str]:
        """``frame`` plus the faults drawn for it, in wire order.

        Draws from ``rng`` only for the faults that are switched on, in a fixed order, so a
        seed gives the same fault pattern run after run.
        """
        frames = [frame]
        if self.duplicate_rate and rng.random() < self.duplicate_rate:
            frames.append(frame)
        if self.out_of_order_rate and previous is not None and rng.random() < self.out_of_order_rate:
            frames.append(previous)
        if self.garbage_rate and rng.random() < self.garbage_rate:
            frames.append(garbage_frame(rng, code, seq, ms))
        return frames


def garbage_frame(rng: random.Random, code: str, seq: int, ms: int) -> str:
    """A frame a client must survive: not JSON, wrong shape, or an impossible price."""
    kind = rng.randrange(9)
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
    data = {
        "code": code,
        "seq": str(seq),
        "tick_time": str(ms),
        "price": price,
        "volume": "1",
        "turnover": "0",
        "trade_direction": 0,
    }
    return orjson.dumps({"cmd_id": int(Cmd.TICK_PUSH), "data": data}).decode()
