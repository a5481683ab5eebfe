"""The quote service: one feed published to Redis, read by any number of processes.

``python -m feed serve`` (:mod:`feed.service.publisher`) runs the feed alone and writes
what readers need; a ``FeedManager`` whose config has ``redis_url`` (``QUOTES_REDIS_URL``)
reads it through :mod:`feed.service.reader` with the same API and no AllTick token.
This module is pure: the key layout (``docs/quote-service.md`` is its contract), a
client factory and a URL shown without its password. It owns no state.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

__all__ = ["Keys", "client", "reader_id", "redacted_url"]


@dataclass(frozen=True, slots=True)
class Keys:
    """Every key of one service, under ``prefix`` (default ``quotes``)."""

    prefix: str = "quotes"

    @property
    def health(self) -> str:  # publisher alive: JSON, expires service_ttl after its last refresh
        return f"{self.prefix}:health"

    @property
    def snapshot(self) -> str:  # the latest Snapshot, JSON (feed.wire)
        return f"{self.prefix}:snapshot"

    @property
    def version(self) -> str:  # "<run id>:<version>" of that snapshot: cheap to poll
        return f"{self.prefix}:version"

    @property
    def status(self) -> str:  # the publisher's FeedStatus, JSON
        return f"{self.prefix}:status"

    @property
    def paths(self) -> str:  # hash: code -> today's minute path, JSON
        return f"{self.prefix}:paths"

    @property
    def ticks(self) -> str:  # stream: one entry per accepted trade, MAXLEN ~
        return f"{self.prefix}:ticks"

    @property
    def events(self) -> str:  # stream: one entry per feed event
        return f"{self.prefix}:events"

    @property
    def bars_requests(self) -> str:  # list: readers' bars() requests, JSON
        return f"{self.prefix}:bars:requests"

    def bars_reply(self, request_id: str) -> str:  # list: the one answer to a request
        return f"{self.prefix}:bars:reply:{request_id}"

    @property
    def store_requests(self) -> str:  # list: readers' tick store reads, JSON
        return f"{self.prefix}:store:requests"

    def store_reply(self, request_id: str) -> str:  # list: JSON header, then an Arrow IPC frame
        return f"{self.prefix}:store:reply:{request_id}"

    def watch(self, reader: str) -> str:  # one reader's watchlist, JSON, with a TTL
        return f"{self.prefix}:watch:{reader}"

    @property
    def watch_pattern(self) -> str:
        return f"{self.prefix}:watch:*"


def reader_id() -> str:
    """A name unique to this reader: host, process and a random part (two managers, two ids)."""
    host = socket.gethostname().replace(":", "_")[:40]
    return f"{host}-{os.getpid()}-{secrets.token_hex(4)}"


def client(url: str, *, timeout: float = 2.0) -> redis.Redis:
    """A client that fails fast (``timeout`` seconds) instead of hanging on a dead server."""
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        health_check_interval=15,
        retry_on_timeout=False,
        retry=Retry(NoBackoff(), 1),  # once: a pooled socket a Redis restart broke; then fail fast
        client_name="quotes-feed",
    )


def redacted_url(url: str) -> str:
    """``redis://host:port/db`` without user or password: safe for the page and the log."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "redis"
    if parts.scheme == "unix":
        return f"unix://{parts.path}"
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path if parts.path not in ('', '/') else ''}"
