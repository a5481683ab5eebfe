"""Feed configuration from the environment (and, in the app, Streamlit secrets).

``FeedConfig`` is frozen and hashable because the Streamlit singleton getter is keyed
by it: stable configuration in, one process-wide manager out. The token is kept out
of ``repr`` and every string the feed logs goes through :func:`redact`.

Thread ownership: none; a FeedConfig is immutable and shared by every thread.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from feed.protocol.plans import Plan, plan_named
from feed.symbols import parse_watchlist

__all__ = ["DEFAULT_SYMBOLS", "FeedConfig", "RedactFilter", "data_dir_from", "redact", "retention_from"]

# The seed article's four rows first, then a US + HK mix with a dual-listed pair.
DEFAULT_SYMBOLS: tuple[str, ...] = (
    "AAPL.US",
    "TSLA.US",
    "700.HK",
    "9988.HK",
    "MSFT.US",
    "NVDA.US",
    "BABA.US",
    "3690.HK",
    "1810.HK",
    "5.HK",
)

DEFAULT_WS_BASE = "wss://quote.alltick.co"
DEFAULT_DATA_DIR = "./data"  # the tick store's directory; QUOTES_DATA_DIR=off disables it
DEFAULT_RETENTION_DAYS = 30
DEFAULT_HTTP_BASE = "https://quote.alltick.co"

_TOKEN_IN_URL = re.compile(r"(token=)[^&\s'\"]+", re.IGNORECASE)


def data_dir_from(env: Mapping[str, str] | None = None) -> str | None:
    """``QUOTES_DATA_DIR`` (default ``./data``); ``off`` (or ``none``, ``0``, ``false``) disables it."""
    env = os.environ if env is None else env
    raw = (env.get("QUOTES_DATA_DIR") or "").strip()
    if raw.lower() in ("off", "none", "0", "false", "no"):
        return None
    return raw or DEFAULT_DATA_DIR


def store_process_from(env: Mapping[str, str] | None = None) -> bool:
    """``QUOTES_STORE_PROCESS`` (default on): the store's DuckDB work runs in a child process."""
    return _flag(os.environ if env is None else env, "QUOTES_STORE_PROCESS", True)


def retention_from(env: Mapping[str, str] | None = None) -> int:
    """``QUOTES_RETENTION_DAYS`` (default 30): days of ticks and bars the store keeps."""
    env = os.environ if env is None else env
    raw = (env.get("QUOTES_RETENTION_DAYS") or "").strip()
    if not raw:
        return DEFAULT_RETENTION_DAYS
    try:
        days = int(raw)
    except ValueError:
        raise ValueError(f"QUOTES_RETENTION_DAYS: {raw!r} is not a whole number of days") from None
    if days < 1:
        raise ValueError(f"QUOTES_RETENTION_DAYS: {days} must be at least 1")
    return days


def redact(text: object, token: str | None = None) -> str:
    """Text safe to log or show: any ``token=...`` query value and the token itself masked."""
    s = str(text)
    if token:
        s = s.replace(token, "***")
    return _TOKEN_IN_URL.sub(r"\1***", s)


class RedactFilter(logging.Filter):
    """Masks ``token=...`` in records of loggers we do not format ourselves (servers, libraries)."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        if "token=" in msg.lower():
            record.msg, record.args = redact(msg), None
        return True


@dataclass(frozen=True, slots=True)
class FeedConfig:
    """Everything a FeedManager needs; no token means demo mode (built-in simulator)."""

    token: str | None = field(default=None, repr=False)
    ws_base: str = DEFAULT_WS_BASE
    http_base: str = DEFAULT_HTTP_BASE
    plan: str = "free"
    default_symbols: tuple[str, ...] = DEFAULT_SYMBOLS

    # Timing (seconds). Protocol values by default; tests shrink them.
    heartbeat_interval: float = 10.0
    reply_timeout: float = 5.0  # a heartbeat unanswered this long: the link is half-open
    dead_after: float = 20.0  # no frame at all this long: the link is half-open
    request_interval: float = 1.1
    token_request_interval: float = 3.0
    reconnect_floor: float | None = None  # None: the plan's reconnect spacing
    backoff_cap: float = 5.0  # longest wait between failed connects (keeps blips short)
    auth_retry: float = 30.0  # first retry after a refused token; doubles up to 5 minutes
    reexpand_after: float = 60.0  # after a plan-cap fallback, a shared link up this long tries again
    publish_interval: float = 0.002
    quiet_after: float = 60.0
    # Freeze the process's long-lived objects after the feed's warm-up (feed/heap.py), so a
    # full garbage collection no longer stalls every thread ~100 ms (QUOTES_GC_FREEZE=0: off).
    freeze_gc: bool = True

    # Limits.
    history_len: int = 2_000
    queue_capacity: int = 100_000
    bad_print_band: float | None = None  # e.g. 0.2 holds a tick 20 % off the last price
    max_watch: int = 500
    release_grace: float = 30.0  # seconds a closed watchlist's codes stay subscribed

    # Cross-listed pairs of the operator's own, besides the packaged file (QUOTES_PAIRS_FILE).
    pairs_file: str | None = None
    # The tick store (feed/store): a DuckDB file under data_dir; None disables it. The
    # defaults read QUOTES_DATA_DIR / QUOTES_RETENTION_DAYS when the config is made.
    data_dir: str | None = field(default_factory=data_dir_from)
    retention_days: int = field(default_factory=retention_from)
    store_buffer: int = 250_000  # ticks held in memory while the disk is slow or full
    # Off: the store writes on a thread of this process (its Arrow and DuckDB work then
    # competes with ingest for the GIL); on: in ``python -m feed.store.child``.
    store_process: bool = field(default_factory=store_process_from)

    # Demo mode: the simulator's seed and whether its markets trade around the clock.
    simulator_seed: int = 0
    demo_sessions: str = "always"

    # The quote service (Redis): a URL makes this process a reader of a publisher's feed.
    redis_url: str | None = field(default=None, repr=False)  # may hold a password
    redis_prefix: str = "quotes"
    service_ttl: float = 3.0  # the publisher's health key expires this long after its last refresh
    reader_ttl: float = 10.0  # a reader's watch key expires this long after its last refresh

    @property
    def demo(self) -> bool:
        """No token and no quote service: the built-in simulator."""
        return not self.token and not self.redis_url

    @property
    def plan_limits(self) -> Plan:
        # The simulator grants a professional plan so each market gets its own thread.
        return plan_named("professional" if self.demo else self.plan)

    @property
    def reconnect_spacing(self) -> float:
        return self.plan_limits.reconnect_floor if self.reconnect_floor is None else self.reconnect_floor

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> FeedConfig:
        """Read ``ALLTICK_*`` and ``QUOTES_*`` (symbols, pairs file, store, quote service);
        bad values raise ValueError naming the variable."""
        env = os.environ if env is None else env
        token = (env.get("ALLTICK_TOKEN") or "").strip() or None
        plan = (env.get("ALLTICK_PLAN") or "free").strip().lower()
        plan_named(plan)  # validate early with a clear message
        symbols = DEFAULT_SYMBOLS
        raw = env.get("QUOTES_SYMBOLS")
        if raw and raw.strip():
            parsed, errors = parse_watchlist(raw)
            if errors:
                raise ValueError("QUOTES_SYMBOLS: " + "; ".join(str(e) for e in errors))
            symbols = tuple(s.code for s in parsed)
        values: dict[str, object] = {
            "token": token,
            "plan": plan,
            "default_symbols": symbols,
            "ws_base": (env.get("ALLTICK_WS_BASE") or DEFAULT_WS_BASE).rstrip("/"),
            "http_base": (env.get("ALLTICK_HTTP_BASE") or DEFAULT_HTTP_BASE).rstrip("/"),
            "pairs_file": (env.get("QUOTES_PAIRS_FILE") or "").strip() or None,
            "data_dir": data_dir_from(env),
            "retention_days": retention_from(env),
            "store_process": store_process_from(env),
            "redis_url": (env.get("QUOTES_REDIS_URL") or "").strip() or None,
            "redis_prefix": (env.get("QUOTES_REDIS_PREFIX") or "quotes").strip() or "quotes",
            "freeze_gc": _flag(env, "QUOTES_GC_FREEZE", True),
        }
        url = values["redis_url"]
        if url and not str(url).startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("QUOTES_REDIS_URL: expected redis://host:port/db, rediss://… or unix://…")
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name}: expected 1/0, true/false, yes/no or on/off, not {raw!r}")
