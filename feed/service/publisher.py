"""The publisher: one running feed written to Redis for every reader (``python -m feed serve``).

Three threads, each with its own Redis client and its own state:

* ``feed-publish`` owns what readers poll: it refreshes the health key (a short TTL,
  so a dead publisher is noticed by its absence), writes each new snapshot version,
  the minute paths that changed, the status and new events, and turns the readers'
  watch keys into one :class:`~feed.watches.Watch` per reader on the manager, so the
  feed streams the union of live readers' lists and releases what none wants (a key
  that expired is a reader gone);
* ``feed-sink-redis`` (a :class:`~feed.sinks.TickSink`) appends every accepted trade
  to the ticks stream, trimmed with ``MAXLEN ~``; while Redis is down its batches are
  counted as dropped, never queued without bound;
* ``feed-publish-bars`` answers readers' ``bars()`` requests from the feed's HTTP
  client (readers hold no token).

Redis going away is an outage, not a crash: each thread logs it once, retries with a
capped backoff and, once back, republishes everything. The token never enters Redis.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import orjson
import redis

from feed.dispatch import make_trade_ticks
from feed.manager import FeedManager, Watch
from feed.service import Keys, client, redacted_url
from feed.service.asking import reply
from feed.service.store import answer as answer_store_read
from feed.sinks import Batch, TickSink
from feed.wire import SCHEMA, encode_path, encode_snapshot, encode_status, encode_tick

__all__ = ["Publisher"]

log = logging.getLogger("feed.service.publisher")

INTERVAL = 0.1  # seconds between looks at the feed for a new snapshot
STATUS_EVERY = 1.0
WATCH_EVERY = 0.5
TICKS_MAXLEN = 100_000
EVENTS_MAXLEN = 1_000
BACKOFF_CAP = 2.0


class _Outage:
    """One thread's view of Redis: log the first failure and the recovery, once each."""

    def __init__(self, what: str, url: str) -> None:
        self.what, self.url, self.down_since = what, url, None
        self.failures = 0

    def failed(self, exc: Exception) -> float:
        self.failures += 1
        if self.down_since is None:
            self.down_since = time.monotonic()
            log.warning("%s: Redis at %s unreachable (%s); retrying", self.what, self.url, exc)
        return min(BACKOFF_CAP, 0.25 * 2 ** min(self.failures, 4))

    def ok(self) -> bool:
        """True when this success ends an outage (the caller republishes everything)."""
        self.failures = 0
        if self.down_since is None:
            return False
        log.warning(
            "%s: Redis at %s is back after %.1fs", self.what, self.url, time.monotonic() - self.down_since
        )
        self.down_since = None
        return True


class Publisher:
    """Publishes ``manager`` (started, not a reader itself) to the Redis at ``url``."""

    def __init__(self, manager: FeedManager, url: str, *, prefix: str = "quotes", ttl: float = 3.0) -> None:
        if manager.config.redis_url:
            raise ValueError("the publisher's feed must be a local one (its config has a redis_url)")
        self.manager = manager
        self.url = url
        self.keys = Keys(prefix)
        self.ttl = ttl
        self.run_id = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.started_at = time.time()
        self._stop = threading.Event()
        self._watches: dict[str, Watch] = {}  # reader id -> its handle (feed-publish thread)
        self._path_revs: dict[str, int] = {}
        self._paths_sent: dict[str, Any] = {}
        self._last_version = -1
        self._last_event = 0
        self.errors = 0
        self._sink = TickSink("redis", self._write_ticks, capacity=200_000)
        self._tick_redis = client(url)
        self._tick_outage = _Outage("ticks", redacted_url(url))
        self._threads = [
            threading.Thread(target=self._guarded(self._publish_loop), name="feed-publish", daemon=True),
            threading.Thread(target=self._guarded(self._bars_loop), name="feed-publish-bars", daemon=True),
        ]

    def start(self) -> Publisher:
        self.manager._register_sink(self._sink.start())
        for t in self._threads:
            t.start()
        log.info("publishing the feed to %s under %r", redacted_url(self.url), self.keys.prefix)
        return self

    def stop(self) -> None:
        """Stop publishing; the health key is deleted so readers say "down" at once."""
        self._stop.set()
        self.manager._unregister_sink(self._sink)
        self._sink.stop()
        for t in self._threads:
            t.join(3.0)
        self._sink.join(1.0)
        for watch in self._watches.values():
            watch.close()
        self._watches.clear()
        with contextlib.suppress(redis.RedisError):  # Redis gone too: the key expires by itself
            client(self.url, timeout=0.5).delete(self.keys.health)

    def __enter__(self) -> Publisher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def sink_stats(self) -> Any:
        return self._sink.stats

    def _guarded(self, loop: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                loop()
            except Exception:  # a bug: say so; the serve command notices the dead thread
                self.errors += 1
                log.exception("publisher: %s died", threading.current_thread().name)

        return run

    # --- feed-publish ------------------------------------------------------------------------

    def _publish_loop(self) -> None:
        r = client(self.url)
        outage = _Outage("publisher", redacted_url(self.url))
        next_status = next_watch = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            try:
                if now >= next_watch:
                    self._sync_watches(r)
                    next_watch = now + WATCH_EVERY
                self._publish_snapshot(r)
                if now >= next_status:
                    self._publish_status(r)
                    next_status = now + STATUS_EVERY
                if outage.ok():
                    self._forget_sent()
                    next_status = 0.0
            except redis.RedisError as exc:
                self._stop.wait(outage.failed(exc))
                continue
            except Exception:
                self.errors += 1
                log.exception("publisher: one round failed (counted; publishing goes on)")
            self._stop.wait(INTERVAL)

    def _forget_sent(self) -> None:
        """After an outage (Redis may have restarted empty): send everything again."""
        self._last_version = -1
        self._paths_sent.clear()
        self._last_event = 0

    def _publish_status(self, r: redis.Redis) -> None:
        status = self.manager.status()
        health = {
            "schema": SCHEMA,
            "run": self.run_id,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": self.started_at,
            "at": time.time(),
            "version": status.snapshot_version,
            "demo": status.demo,
            "calendars": not (self.manager.config.demo and self.manager.config.demo_sessions == "always"),
            "readers": len(self._watches),
        }
        pipe = r.pipeline(transaction=False)
        pipe.exists(self.keys.snapshot)
        pipe.set(self.keys.status, encode_status(status))
        pipe.set(self.keys.health, orjson.dumps(health), px=int(self.ttl * 1000))
        had_snapshot, *_ = pipe.execute()
        if not had_snapshot:  # Redis restarted empty (or was flushed) between two rounds
            self._forget_sent()

    def _publish_snapshot(self, r: redis.Redis) -> None:
        snap = self.manager.snapshot_state()
        if snap.version == self._last_version:
            return
        pipe = r.pipeline(transaction=False)
        for code, path in snap.paths.items():
            if self._paths_sent.get(code) is not path:
                self._path_revs[code] = self._path_revs.get(code, 0) + 1
                pipe.hset(self.keys.paths, code, encode_path(path))
        gone = [c for c in self._paths_sent if c not in snap.paths]
        if gone:
            pipe.hdel(self.keys.paths, *gone)
        revs = {c: self._path_revs[c] for c in snap.paths}
        pipe.set(self.keys.snapshot, encode_snapshot(snap, revs, run=self.run_id))
        pipe.set(self.keys.version, f"{self.run_id}:{snap.version}")
        fresh = [e for e in snap.events if e.seq > self._last_event]
        for e in fresh:
            fields = {"seq": e.seq, "time": e.time.isoformat(), "kind": e.kind.value}
            fields.update({"connection": e.connection, "message": e.message, "codes": ",".join(e.codes)})
            pipe.xadd(self.keys.events, fields, maxlen=EVENTS_MAXLEN, approximate=True)
        pipe.execute()
        self._paths_sent = dict(snap.paths)
        self._last_version = snap.version
        if fresh:
            self._last_event = fresh[-1].seq

    def _sync_watches(self, r: redis.Redis) -> None:
        """One Watch per live reader key; a key that expired (a reader gone) closes its Watch."""
        keys = list(r.scan_iter(match=self.keys.watch_pattern, count=500))
        values = r.mget(keys) if keys else []
        cut = len(self.keys.watch(""))
        seen: dict[str, list[str]] = {}
        for key, raw in zip(keys, values, strict=True):
            if raw is None:
                continue
            try:
                codes = orjson.loads(raw)["codes"]
            except (orjson.JSONDecodeError, KeyError, TypeError):
                log.warning("ignoring a malformed watch key %r", key)
                continue
            reader = (key.decode() if isinstance(key, bytes) else key)[cut:]
            seen[reader] = [str(c) for c in codes][: self.manager.config.max_watch]
        for reader in [w for w in self._watches if w not in seen]:
            self._watches.pop(reader).close()  # released after the feed's release grace
            log.info("reader %s gone: its symbols are released", reader)
        for reader, codes in seen.items():
            watch = self._watches.get(reader)
            if watch is None:
                watch = self._watches[reader] = self.manager.watch()
                log.info("reader %s watches %d symbols", reader, len(codes))
            watch.set(codes)

    # --- feed-sink-redis -----------------------------------------------------------------------

    def _write_ticks(self, batch: Batch) -> None:
        ticks = make_trade_ticks(batch)
        if not ticks:
            return
        pipe = self._tick_redis.pipeline(transaction=False)
        for t in ticks:
            fields = encode_tick(t.symbol, t.market, t.seq, t.price, t.volume, t.time_ms)
            pipe.xadd(self.keys.ticks, fields, maxlen=TICKS_MAXLEN, approximate=True)
        try:
            pipe.execute()
        except redis.RedisError as exc:
            self._sink.count_dropped(len(ticks))
            self._stop.wait(min(0.5, self._tick_outage.failed(exc)))
            return
        self._tick_outage.ok()

    # --- feed-publish-bars ---------------------------------------------------------------------

    def _bars_loop(self) -> None:
        r = client(self.url, timeout=3.0)
        outage = _Outage("bars", redacted_url(self.url))
        while not self._stop.is_set():
            try:
                item = r.blpop([self.keys.bars_requests, self.keys.store_requests], timeout=1)
                outage.ok()
            except redis.RedisError as exc:
                self._stop.wait(outage.failed(exc))
                continue
            if item is None:
                continue
            key = item[0].decode() if isinstance(item[0], bytes) else item[0]
            if key == self.keys.store_requests:
                answer_store_read(r, self.keys, item[1], self.manager._history_source().store_read)
            else:
                self._answer(r, item[1])

    def _answer(self, r: redis.Redis, raw: bytes) -> None:
        try:
            req = orjson.loads(raw)
            reply_key = self.keys.bars_reply(str(req["id"]))
        except (orjson.JSONDecodeError, KeyError, TypeError):
            log.warning("ignoring a malformed bars request")
            return
        try:
            df = self.manager.bars(str(req["symbol"]), str(req["interval"]))
            rows = [
                [int(ts.timestamp()), *map(float, row)]
                for ts, row in zip(df.index, df.to_numpy(), strict=True)
            ]
            answer = {"ok": True, "bars": rows}
        except Exception as exc:  # the reader raises the same kind, with the same words
            answer = {"ok": False, "error": type(exc).__name__, "message": str(exc)}
        reply(r, reply_key, answer)
