"""Who gets in: the token rule for both servers and the WebSocket upgrade's answer.

Why it exists: a client names a failure by its cause only if the server produces each
cause on its own (alltick-protocol.md §1.2, feed-architecture.md §3): a bad token (401),
reconnecting too fast (429), an overloaded server (503), a plan's connection cap hit by
another process (the upgrade is accepted, then closed at once). This module decides
which of these an upgrade gets, counts every attempt, and holds the token rule the HTTP
service shares, so "expired token" flips both servers at once.

State: the knobs and the attempt counters, owned by this object under its own lock;
written by control callers, read by WebSocket handshake threads and HTTP threads.
Nothing here is held across I/O.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from http import HTTPStatus

from feed.symbols import Endpoint

__all__ = ["CloseAfterUpgrade", "Gate", "Refusal"]


@dataclass(frozen=True, slots=True)
class Refusal:
    """An upgrade answered with an HTTP error instead of 101."""

    status: int
    text: str


@dataclass(frozen=True, slots=True)
class CloseAfterUpgrade:
    """Accept the upgrade, then close at once: with ``code``/``reason``, or abruptly if ``code`` is None."""

    code: int | None
    reason: str


_NOT_FOUND = Refusal(404, "Not Found\n")
_TOKEN_INVALID = Refusal(401, "token invalid\n")


class Gate:
    """The token rule, the upgrade faults and the upgrade attempt counter."""

    def __init__(self, token: str | None) -> None:
        self.token = token  # None: any non-empty token is accepted
        self._lock = threading.Lock()
        self._token_rejected = False
        self._fail_status: int | None = None
        self._fail_left: int | None = None  # None: until accept_upgrades()
        self._close_after: CloseAfterUpgrade | None = None
        self._attempts: Counter[Endpoint | None] = Counter()

    # --- the token rule ---------------------------------------------------------------

    def token_ok(self, token: str) -> bool:
        with self._lock:
            if self._token_rejected or not token:
                return False
        return self.token is None or token == self.token

    def reject_token(self, rejected: bool) -> None:
        with self._lock:
            self._token_rejected = rejected

    # --- upgrade faults -----------------------------------------------------------

    def fail_upgrades(self, status: int, count: int | None) -> None:
        try:
            known = HTTPStatus(status)
        except ValueError:
            raise ValueError(f"status must be a standard HTTP status, got {status!r}") from None
        if not 400 <= known <= 599:
            raise ValueError(f"status must be an error (4xx or 5xx), got {status}")
        if count is not None and count < 1:
            raise ValueError(f"count must be at least 1 (or None for every upgrade), got {count}")
        with self._lock:
            self._fail_status, self._fail_left = int(status), count

    def accept_upgrades(self) -> None:
        with self._lock:
            self._fail_status = self._fail_left = None

    def close_after_upgrade(self, rule: CloseAfterUpgrade | None) -> None:
        with self._lock:
            self._close_after = rule

    def closing_rule(self) -> CloseAfterUpgrade | None:
        with self._lock:
            return self._close_after

    # --- the handshake ------------------------------------------------------------

    def admit(self, endpoint: Endpoint | None, token: str) -> Refusal | None:
        """Count one upgrade attempt and decide it: a refusal, or None to accept.

        In order: an unknown path is 404; an injected failure (``fail_upgrades``) comes
        next, then the token rule (401).
        """
        with self._lock:
            self._attempts[endpoint] += 1
            if endpoint is None:
                return _NOT_FOUND
            status = self._fail_status
            if status is not None:
                if self._fail_left is not None:
                    self._fail_left -= 1
                    if self._fail_left == 0:
                        self._fail_status = self._fail_left = None
                text = "token invalid\n" if status == 401 else f"{HTTPStatus(status).phrase}\n"
                return Refusal(status, text)
        return None if self.token_ok(token) else _TOKEN_INVALID

    def attempts(self, endpoint: Endpoint | None = None) -> int:
        with self._lock:
            if endpoint is None:
                return sum(self._attempts.values())
            return self._attempts[endpoint]
