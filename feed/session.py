"""One WebSocket link's protocol state machine, sans-I/O.

Owned by its pump thread (:mod:`feed.connection`), which feeds it what happened on the
socket (``opened``, ``open_failed``, ``closed``, ``response``, ``data``) and calls
:meth:`Session.poll` with the time; the session answers with :class:`Action` values
(connect, send a frame, close) and :class:`Notice` values for the supervisor. It never
touches a socket, a clock or a thread, so every rule below is tested table-style with
a fake clock (``tests/test_session.py``).

The rules (alltick-protocol.md §2-§3):

* **Subscribe** carries the FULL list (each one replaces the last); at most one request
  per ``request_interval`` on the link and one per ``token_interval`` across the token's
  links (the shared ``pace`` callable); an empty list is a cancel.
* **Heartbeat** every ``heartbeat_interval``; a heartbeat unanswered for
  ``reply_timeout``, or no frame at all for ``dead_after``, means a half-open link: close
  it and connect afresh.
* **Failures are named by their cause**: unreachable (refused, DNS, timeout), auth (HTTP
  401 at the upgrade or ``ret 401`` in any frame, solicited or not), rate limit (HTTP 429
  at the upgrade, ``ret`` 429/605/606), plan cap (accepted upgrades the server closes
  within seconds, twice in a row), server error. Each is its own state and notice.
* **Backoff follows the link's history**: a link that subscribed and delivered data
  reconnects at once (the plan's reconnect floor still applies); repeated failures back
  off with jitter up to ``backoff_cap``, which keeps a blip short; auth failures retry
  slowly (``auth_retry``, doubling to five minutes).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from feed.model import ConnectionState, EventKind
from feed.protocol.codec import (
    CancelType,
    Cmd,
    Response,
    Ret,
    encode_cancel,
    encode_heartbeat,
    encode_subscribe,
)

__all__ = [
    "Action",
    "Close",
    "Connect",
    "Failure",
    "Notice",
    "OpenFailure",
    "Send",
    "Session",
    "SessionTiming",
]

EARLY_CLOSE_WINDOW = 2.0  # an accepted upgrade closed this soon, unanswered, looks like a plan cap
EARLY_CLOSES_FOR_CAP = 2
ACK_TIMEOUT = 10.0  # a subscribe unanswered this long is sent again
_RATE_RETS = frozenset({Ret.RATE_LIMIT, Ret.TOO_MANY_REQUESTS, Ret.TOO_MANY_CLOSING})


class Failure(StrEnum):
    """Why an upgrade attempt failed, as the pump classified the exception."""

    UNREACHABLE = "unreachable"
    AUTH = "auth"
    RATE_LIMIT = "rate limit"
    SERVER = "server"


@dataclass(frozen=True, slots=True)
class OpenFailure:
    kind: Failure
    detail: str  # e.g. "connection refused (127.0.0.1:9)", "HTTP 401 at the upgrade"


@dataclass(frozen=True, slots=True)
class SessionTiming:
    """Seconds; protocol values by default (tests shrink them)."""

    heartbeat_interval: float = 10.0
    reply_timeout: float = 5.0
    dead_after: float = 20.0
    request_interval: float = 1.1
    reconnect_floor: float = 3.0
    backoff_base: float = 0.5
    backoff_cap: float = 5.0
    auth_retry: float = 30.0
    rate_retry: float = 10.0


@dataclass(frozen=True, slots=True)
class Connect:
    """Open a socket to the link's URL and report ``opened`` or ``open_failed``."""


@dataclass(frozen=True, slots=True)
class Send:
    text: str


@dataclass(frozen=True, slots=True)
class Close:
    """Close the socket; the session has already moved on (do not report ``closed``)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the supervisor should know. ``state`` is set when the link's state changed."""

    kind: EventKind | None = None
    message: str = ""
    state: ConnectionState | None = None
    subscribed: tuple[str, ...] | None = None  # the list the server acknowledged
    after_reconnect: bool = False
    refused: tuple[str, ...] = ()  # codes of a list answered 600/604 (which ones is unknown)
    refused_ret: int = 0


Action = Connect | Send | Close | Notice

_AWAY, _CONNECTING, _OPEN = "away", "connecting", "open"


class Session:
    """The protocol state of one link, across all the sockets it opens over time."""

    def __init__(
        self,
        name: str,
        timing: SessionTiming,
        *,
        pace: Callable[[], float] = lambda: 0.0,
        rng: random.Random | None = None,
    ) -> None:
        self.name = name
        self.timing = timing
        self._pace = pace
        self._rng = rng or random.Random()
        self.state = ConnectionState.CONNECTING
        self.desired: tuple[str, ...] = ()
        self.acked: tuple[str, ...] = ()
        self._phase = _AWAY
        self._next_attempt = 0.0
        self._last_attempt = -1e18
        self._failures = 0  # consecutive unproductive attempts
        self._auth_failures = 0
        self._early_closes = 0
        self._ever_subscribed = False
        self._asked_here = False  # a subscribe with codes was sent on this socket
        self._asked_before = False  # ... or on an earlier one: a reconnect has a gap to fill
        self._seq = 0
        self._reset_link(0.0)

    def _reset_link(self, now: float) -> None:
        self._asked_before |= self._asked_here
        self._asked_here = False
        self._opened_at = now
        self._answered = False  # the server answered anything on this socket
        self._productive = False  # subscribed and delivered data on this socket
        self._subscribed_here = False  # a subscription was acknowledged on this socket
        self._pending: tuple[str, ...] | None = None
        self._pending_at = 0.0
        self._last_request = -1e18
        self._last_heartbeat = now
        self._hb_sent_at: float | None = None
        self._last_rx = now
        self._penalty = 0.0
        self.acked = ()

    def __repr__(self) -> str:
        return (
            f"Session({self.name!r}, state={self.state.value}, phase={self._phase}, codes={len(self.acked)})"
        )

    # --- inputs ----------------------------------------------------------------------

    def set_desired(self, codes: tuple[str, ...]) -> None:
        self.desired = tuple(codes)

    def opened(self, now: float) -> list[Action]:
        self._phase = _OPEN
        self._reset_link(now)
        out: list[Action] = [Notice(EventKind.CONNECTED, f"{self.name}: connected")]
        if self.state not in (ConnectionState.AUTH_FAILED, ConnectionState.PLAN_CAP):
            out += self._set_state(ConnectionState.SUBSCRIBING)
        return out

    def open_failed(self, failure: OpenFailure, now: float) -> list[Action]:
        self._phase = _AWAY
        t = self.timing
        if failure.kind is Failure.AUTH:
            return self._auth_failed(failure.detail, now)
        self._failures += 1
        if failure.kind is Failure.RATE_LIMIT:
            delay = min(60.0, t.rate_retry * 2 ** (self._failures - 1))
            self._schedule(now, delay)
            kind, state = EventKind.RATE_LIMITED, ConnectionState.RATE_LIMITED
        elif failure.kind is Failure.UNREACHABLE:
            self._schedule(now, self._backoff())
            kind, state = EventKind.UNREACHABLE, ConnectionState.UNREACHABLE
        else:
            self._schedule(now, self._backoff())
            kind = EventKind.SERVER_ERROR
            state = ConnectionState.RECONNECTING if self._ever_subscribed else ConnectionState.CONNECTING
        out: list[Action] = []
        # One event when the cause first appears, not one per retry.
        if self.state is not state:
            out.append(Notice(kind, f"{self.name}: {failure.detail}; retrying"))
        return out + self._set_state(state, failure.detail, force=True)

    def closed(self, detail: str, now: float) -> list[Action]:
        """The socket ended without the session asking (peer close, reset, error)."""
        if self._phase != _OPEN:
            return []
        self._phase = _AWAY
        early = now - self._opened_at < EARLY_CLOSE_WINDOW and not self._answered
        out: list[Action] = []
        if early:
            self._early_closes += 1
            self._failures += 1
            self._schedule(now, self._backoff())
            if self._early_closes >= EARLY_CLOSES_FOR_CAP:
                if self.state is not ConnectionState.PLAN_CAP:
                    out.append(
                        Notice(
                            EventKind.PLAN_LIMIT,
                            f"{self.name}: the server closed {self._early_closes} accepted connections "
                            "right after opening them: over the plan's connection cap",
                        )
                    )
                return out + self._set_state(ConnectionState.PLAN_CAP, detail)
        else:
            self._early_closes = 0
            if self._productive:
                self._failures = 0
                self._schedule(now, 0.0)
            else:
                self._failures += 1
                self._schedule(now, self._backoff())
        out.append(Notice(EventKind.DISCONNECTED, f"{self.name}: link lost: {detail}"))
        if self.state in (ConnectionState.AUTH_FAILED, ConnectionState.PLAN_CAP):
            return out
        return out + self._set_state(ConnectionState.RECONNECTING, detail, force=True)

    def frame(self, now: float) -> None:
        """Any frame arrived (cheap: called once per socket read)."""
        self._last_rx = now

    def data(self, now: float) -> None:
        """Ticks arrived on this socket."""
        self._last_rx = now
        if not self._productive and self.acked:
            self._productive = True
            self._failures = 0
            self._early_closes = 0
            self._auth_failures = 0

    def response(self, resp: Response, now: float) -> list[Action]:
        self._last_rx = now
        self._answered = True
        if resp.ret == Ret.TOKEN_INVALID:
            return self._auth_failed(f"the server answered ret 401 ({resp.msg or 'token invalid'})", now)
        if resp.cmd_id == Cmd.HEARTBEAT_ACK:
            self._hb_sent_at = None
            return [] if resp.ok else self._error(resp, now)
        if resp.cmd_id in (Cmd.TICK_SUBSCRIBE_ACK, Cmd.CANCEL_ACK) or resp.cmd_id == 0:
            pending, self._pending = self._pending, None
            if pending is not None:
                return self._on_ack(resp, pending, now)
        return [] if resp.ok else self._error(resp, now)

    # --- timers ----------------------------------------------------------------------

    def poll(self, now: float) -> list[Action]:
        if self._phase == _AWAY:
            if now >= self._next_attempt:
                self._phase = _CONNECTING
                self._last_attempt = now
                return [Connect()]
            return []
        if self._phase != _OPEN:
            return []
        t = self.timing
        if self._hb_sent_at is not None and now - self._hb_sent_at > t.reply_timeout:
            return self._dead(f"no heartbeat reply for {t.reply_timeout:g}s (half-open link)", now)
        if now - self._last_rx > t.dead_after:
            return self._dead(f"no data for {t.dead_after:g}s (half-open link)", now)
        if self._pending is not None and now - self._pending_at > ACK_TIMEOUT:
            self._pending = None  # unanswered: send it again below
        if now - self._last_request < t.request_interval + self._penalty:
            return []
        if self._pending is None and self.desired != self.acked:
            if self._pace() > 0.0:
                return []
            return [self._subscribe(now)]
        if now - self._last_heartbeat >= t.heartbeat_interval:
            self._seq += 1
            self._last_heartbeat = self._last_request = now
            if self._hb_sent_at is None:
                self._hb_sent_at = now
            return [Send(encode_heartbeat(self._seq, f"hb-{self.name}-{self._seq}"))]
        return []

    @property
    def is_open(self) -> bool:
        return self._phase == _OPEN

    def seconds_to_attempt(self, now: float) -> float:
        return max(0.0, self._next_attempt - now) if self._phase == _AWAY else 0.0

    # --- internals -------------------------------------------------------------------

    def _subscribe(self, now: float) -> Send:
        self._seq += 1
        self._pending = self.desired
        self._pending_at = self._last_request = now
        if self.desired:
            self._asked_here = True
            return Send(encode_subscribe(list(self.desired), self._seq, f"sub-{self.name}-{self._seq}"))
        return Send(encode_cancel(CancelType.TICK, self._seq, f"cancel-{self.name}-{self._seq}"))

    def _on_ack(self, resp: Response, pending: tuple[str, ...], now: float) -> list[Action]:
        if resp.ok or resp.ret in (Ret.CODE_INVALID, Ret.CODE_UNAUTHORIZED):
            # 600/604: the valid codes of the list do stream; which codes are bad is found
            # over HTTP, one by one, by the reference-data worker.
            self._penalty = 0.0
            self.acked = pending
            # A recovery when an earlier socket asked for codes, acknowledged or not: a
            # subscribe whose answer was lost with the link may still have streamed.
            after = self._asked_before and not self._subscribed_here
            self._ever_subscribed = self._subscribed_here = True
            self._auth_failures = 0
            out: list[Action] = [
                Notice(
                    subscribed=pending,
                    after_reconnect=after,
                    refused=() if resp.ok else pending,
                    refused_ret=0 if resp.ok else resp.ret,
                )
            ]
            return out + self._set_state(ConnectionState.LIVE)
        return self._error(resp, now, pending)

    def _error(self, resp: Response, now: float, pending: tuple[str, ...] = ()) -> list[Action]:
        text = f"{self.name}: the server answered ret {resp.ret} ({resp.msg or 'error'})"
        if resp.ret in _RATE_RETS:
            self._penalty = min(10.0, self._penalty * 2 + 1.0)
            return [Notice(EventKind.RATE_LIMITED, f"{text}; pacing down")]
        if resp.ret == Ret.TOKEN_LEVEL:
            self.acked = pending  # refused as a whole: do not resend it in a loop
            return [Notice(EventKind.PLAN_LIMIT, f"{text}: the plan refuses this list")]
        return [Notice(EventKind.SERVER_ERROR, text)]

    def _auth_failed(self, detail: str, now: float) -> list[Action]:
        self._auth_failures += 1
        delay = min(300.0, self.timing.auth_retry * 2 ** (self._auth_failures - 1))
        was_open = self._phase == _OPEN
        self._phase = _AWAY
        self._schedule(now, delay)
        out: list[Action] = [Close("token rejected")] if was_open else []
        if self.state is not ConnectionState.AUTH_FAILED:
            out.append(Notice(EventKind.AUTH_FAILED, f"{self.name}: AllTick rejected the token: {detail}"))
        return out + self._set_state(ConnectionState.AUTH_FAILED, detail, force=True)

    def _dead(self, reason: str, now: float) -> list[Action]:
        self._phase = _AWAY
        if self._productive:
            self._failures = 0
            self._schedule(now, 0.0)
        else:
            self._failures += 1
            self._schedule(now, self._backoff())
        out: list[Action] = [Close(reason), Notice(EventKind.DISCONNECTED, f"{self.name}: {reason}")]
        return out + self._set_state(ConnectionState.RECONNECTING, reason, force=True)

    def _backoff(self) -> float:
        t = self.timing
        raw = min(t.backoff_cap, t.backoff_base * 2 ** max(0, self._failures - 1))
        return raw * self._rng.uniform(0.75, 1.0)

    def _schedule(self, now: float, delay: float) -> None:
        self._next_attempt = max(now + delay, self._last_attempt + self.timing.reconnect_floor)

    def _set_state(self, state: ConnectionState, detail: str = "", *, force: bool = False) -> list[Action]:
        """A state notice (``message`` carries the cause) when the state or, forced, its cause changed."""
        if state is self.state and not force:
            return []
        self.state = state
        return [Notice(state=state, message=detail)]
