"""A reader of the quote service: the feed's API from Redis, with no AllTick connection or token.

``FeedManager`` builds a :class:`RedisRun` instead of a local run when its config has a
``redis_url``. It offers the ports the manager and its mixins talk to (``processor``,
``supervisor``, ``refdata``, ``view``), so ``snapshot``, ``status``, ``history``,
``on_tick``, ``bars``, ``wait_ready`` and watchlists work unchanged. Two threads, each
the owner of its state:

* ``feed-redis`` owns the Redis client for polling, this process's watch registry (the
  union of its sessions' watchlists, with the same release grace as a local feed),
  the last remote snapshot, the path cache and the service state. It writes only the
  reader's own watch key (a TTL it refreshes; a reader never writes quotes), polls the
  publisher's version key and fetches a snapshot when it changed, and publishes a
  local Snapshot holding this reader's watchlist. When the publisher's health key is
  gone, or Redis cannot be reached, every watched market's link says why (named by
  cause), so the rows stop saying live, and ``status().service_error`` says it too.
* ``feed-redis-ticks`` reads the ticks stream while tick subscriptions exist and hands
  batches of this reader's symbols to them (the same :class:`~feed.sinks.TickSink`).
* ``bars()`` asks the publisher over a request list (:mod:`feed.service.bars`).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from types import MappingProxyType
from typing import Any

import orjson
import redis

from feed import heap
from feed.config import FeedConfig
from feed.messages import AddSink, FetchBars, LinkView, LiveBars, RemoveSink, SetWatch, Stop
from feed.model import ConnectionState, FeedStatus
from feed.protocol.codec import Tick
from feed.service import Keys, client, reader_id, redacted_url
from feed.service.bars import BarsPort
from feed.service.store import StorePort
from feed.sinks import Batch, TickSink
from feed.snapshot import Snapshot
from feed.viewer import Built, ViewBuilder
from feed.watches import WatchRegistry
from feed.wire import decode_path, decode_snapshot, decode_status, decode_tick

__all__ = ["RedisRun"]

log = logging.getLogger("feed.service.reader")

POLL = 0.1  # seconds between looks at the version key
STATUS_EVERY = 1.0
LINK = "quote service"


class Reader:
    """The ``feed-redis`` thread; ``snapshot`` and the service fields are its published values."""

    def __init__(
        self, config: FeedConfig, registry: WatchRegistry, on_publish: Callable[[Snapshot], None]
    ) -> None:
        assert config.redis_url
        self.url = config.redis_url
        self.where = redacted_url(self.url)
        self.keys = Keys(config.redis_prefix)
        self.id = reader_id()
        self._config = config
        self.registry = registry
        self._on_publish = on_publish
        self._inbox: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._version = 0
        self._remote: Snapshot | None = None
        self._remote_key: bytes | None = None
        self._paths: dict[str, Any] = {}
        self._path_revs: dict[str, int] = {}
        self.sinks: tuple[TickSink, ...] = ()
        self._resume_from: bytes | str | None = None  # where the ticks thread starts reading
        self.remote_status: FeedStatus | None = None
        self.service_error: str | None = None
        self.calendars = True
        self.errors = 0
        self._down_logged = False
        self.snapshot = self._compose()
        self._thread = threading.Thread(target=self._run, name="feed-redis", daemon=True)
        self._ticks = threading.Thread(target=self._tick_loop, name="feed-redis-ticks", daemon=True)

    # --- from other threads ----------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()
        self._ticks.start()

    def submit(self, msg: object) -> None:
        if isinstance(msg, LiveBars):
            msg.reply.put([])  # the publisher's bars already carry the live bar
            return
        if isinstance(msg, AddSink) and not self.sinks:
            self._resume_from = self._stream_tail()  # ticks from this moment on, none missed
        self._inbox.put(msg)

    def _stream_tail(self) -> bytes | str | None:
        """The ticks stream's newest entry id now (caller's thread; None if Redis is away)."""
        try:
            newest = client(self.url, timeout=1.0).xrevrange(self.keys.ticks, count=1)
        except redis.RedisError:
            return None
        return newest[0][0] if newest else "0-0"

    def stop(self) -> None:
        self._stop.set()
        self._inbox.put(Stop())

    def join(self, timeout: float) -> bool:
        for t in (self._thread, self._ticks):
            if t.is_alive():
                t.join(timeout)
        return not self.alive

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def watched(self) -> tuple[str, ...]:  # the supervisor's answer: what this reader asks for
        return self.registry.union

    # --- the thread ------------------------------------------------------------------------

    def _run(self) -> None:
        r = client(self.url)
        next_status = next_watch = 0.0
        while not self._stop.is_set():
            replies = self._drain()
            if replies is None:
                break
            now = time.monotonic()
            changed = bool(replies) or self.registry.expire(now)
            try:
                if changed or now >= next_watch:
                    self._write_watch(r)
                    next_watch = now + self._config.reader_ttl / 3
                fresh, error = self._poll(r, now >= next_status)
                if now >= next_status:
                    next_status = now + STATUS_EVERY
                changed |= self._service(error) or fresh
            except redis.RedisError as exc:
                changed |= self._service(f"Redis at {self.where} is unreachable: {exc}")
                next_watch = 0.0  # rewrite the watch key as soon as Redis is back
            except Exception:
                self.errors += 1
                log.exception("quote service reader: one round failed (counted; reading goes on)")
            if changed:
                self._publish()
            for reply in replies:
                reply.put(self.registry.version)
        self._goodbye(r)

    def _drain(self) -> list | None:
        """Apply queued messages; the replies wait for the next publish. None: stop."""
        replies: list = []
        try:
            msg: object = self._inbox.get(timeout=POLL)
        except queue.Empty:
            return replies
        while True:
            if isinstance(msg, Stop):
                return None
            if isinstance(msg, SetWatch):
                if msg.codes is None:
                    self.registry.close(msg.watch_id, time.monotonic(), self._config.release_grace)
                else:
                    self.registry.set(msg.watch_id, msg.codes)
                if msg.reply is not None:
                    replies.append(msg.reply)
            elif isinstance(msg, AddSink):
                self.sinks = (*self.sinks, msg.sink)
            elif isinstance(msg, RemoveSink):
                self.sinks = tuple(s for s in self.sinks if s is not msg.sink)
            elif isinstance(msg, FetchBars):  # not routed here; answered for safety
                msg.reply.put(RuntimeError("bars go through the quote service's bars port"))
            try:
                msg = self._inbox.get_nowait()
            except queue.Empty:
                return replies

    def _write_watch(self, r: redis.Redis) -> None:
        body = {"codes": list(self.registry.union), "at": time.time()}
        r.set(self.keys.watch(self.id), orjson.dumps(body), px=int(self._config.reader_ttl * 1000))

    def _poll(self, r: redis.Redis, with_status: bool) -> tuple[bool, str | None]:
        """(a new remote snapshot arrived, why the service cannot be read or None)."""
        pipe = r.pipeline(transaction=False)
        pipe.get(self.keys.health)
        pipe.get(self.keys.version)
        if with_status:
            pipe.get(self.keys.status)
        health, version, *status = pipe.execute()
        if status and status[0] is not None:
            self.remote_status = decode_status(status[0])
        if health is None:
            age = self._config.service_ttl
            return False, f"the quote service's publisher is silent (no health refresh for {age:g}s or more)"
        self.calendars = bool(orjson.loads(health).get("calendars", True))
        if version is None or version == self._remote_key:
            return False, None
        raw = r.get(self.keys.snapshot)
        if raw is None:
            return False, None
        remote, revs = decode_snapshot(raw, self._paths)
        stale = [c for c, rev in revs.items() if self._path_revs.get(c) != rev]
        if stale:
            for code, data in zip(stale, r.hmget(self.keys.paths, stale), strict=True):
                if data is not None:
                    self._paths[code] = decode_path(data)
                    self._path_revs[code] = revs[code]
            remote = replace(
                remote, paths=MappingProxyType({c: p for c, p in self._paths.items() if c in revs})
            )
        for code in [c for c in self._paths if c not in revs]:
            del self._paths[code]
            self._path_revs.pop(code, None)
        self._remote, self._remote_key = remote, version
        return True, None

    def _service(self, error: str | None) -> bool:
        """Record why the service cannot be read (None: it can); True when that changed."""
        if error == self.service_error:
            return False
        if error is not None and not self._down_logged:
            log.warning("quote service: %s", error)
            self._down_logged = True
        elif error is None and self.service_error is not None:
            log.warning("quote service: readable again (%s)", self.where)
            self._down_logged = False
        self.service_error = error
        return True

    def _compose(self) -> Snapshot:
        remote = self._remote or Snapshot()
        watched = self.registry.union
        markets = {c: self.registry.markets[c] for c in watched}
        links = remote.links
        if self.service_error is not None:
            down = LinkView(LINK, ConnectionState.UNREACHABLE, self.service_error)
            links = MappingProxyType({m.value: down for m in set(markets.values())})
        self._version += 1
        return replace(
            remote,
            version=self._version,
            published=time.monotonic(),
            running=True,
            watch_version=self.registry.version,
            watched=watched,
            markets=MappingProxyType(markets),
            links=links,
        )

    def _publish(self) -> None:
        self.snapshot = self._compose()
        self._on_publish(self.snapshot)

    def _goodbye(self, r: redis.Redis) -> None:
        """Delete the watch key, so the publisher releases this reader's symbols promptly."""
        with contextlib.suppress(redis.RedisError):  # else it expires by itself
            r.delete(self.keys.watch(self.id))
        self.snapshot = replace(self.snapshot, running=False, version=self.snapshot.version + 1)

    # --- feed-redis-ticks --------------------------------------------------------------------

    def _tick_loop(self) -> None:
        r = client(self.url, timeout=3.0)
        last: bytes | str | None = None
        while not self._stop.is_set():
            if not self.sinks:
                last = None
                self._stop.wait(0.2)
                continue
            try:
                if last is None:
                    last, self._resume_from = self._resume_from, None
                if last is None:
                    newest = r.xrevrange(self.keys.ticks, count=1)
                    last = newest[0][0] if newest else "0-0"
                answer = r.xread({self.keys.ticks: last}, count=2000, block=500)
            except redis.RedisError:
                self._stop.wait(0.5)
                continue
            for _, entries in answer or ():
                if entries:
                    last = entries[-1][0]
                    self._hand_over(entries)

    def _hand_over(self, entries: list) -> None:
        markets = self.snapshot.markets
        ticks = []
        for _, fields in entries:
            try:
                code, _, seq, price, volume, time_ms = decode_tick(fields)
            except (KeyError, ValueError):
                continue
            if code in markets:
                ticks.append(Tick(code, seq, time_ms, price, volume))
        if ticks:
            batch = Batch(ticks, markets)
            for sink in self.sinks:
                sink.offer(batch)


class RedisRun:
    """One start-to-stop generation of a reader: the ``feed-redis`` threads and the view builder.

    It owns none of their state; the manager's caller threads read it.
    """

    def __init__(
        self, config: FeedConfig, registry: WatchRegistry, clock: Callable[[], float], *, sinks: tuple = ()
    ) -> None:
        self.config = config
        self.clock = clock
        self.simulator = None
        self._sinks = sinks
        self.reader = Reader(config, registry, lambda s: self.view.notify(s))
        self.processor = self.supervisor = self.reader  # snapshot, watchlists and sinks
        self.refdata = BarsPort(config)
        self.store = StorePort(config)  # history(), bars() and export read the publisher's store
        self.view = ViewBuilder(
            lambda: self.reader.snapshot,
            quiet_after=config.quiet_after,
            use_calendars=lambda: self.reader.calendars,
            clock=clock,
            on_warm=heap.freeze_once if config.freeze_gc else None,
        )

    @property
    def parts(self) -> dict[str, Any]:
        return {"redis reader": self.reader, "view": self.view}

    def start(self) -> None:
        for sink in self._sinks:
            sink.start()
            self.reader.submit(AddSink(sink))
        self.reader.start()
        self.view.start()

    def stop(self) -> tuple[Snapshot, Built, WatchRegistry]:
        self.reader.stop()
        self.view.stop()
        for sink in self._sinks:
            sink.stop()
        for part in (self.reader, self.view, *self._sinks):
            part.join(1.0)
        final = self.reader.snapshot
        return final, self.view.build_final(final), self.reader.registry

    def status(self, snap: Snapshot, sinks: tuple = ()) -> FeedStatus:
        """The publisher's status, read through this reader: its watchlist, its sinks, its errors."""
        base = self.reader.remote_status or FeedStatus(
            demo=False, plan="unknown", max_connections=0, max_codes=0, connections=()
        )
        errors = dict(base.errors)
        if self.reader.errors or self.view.errors:
            errors["redis reader"] = self.reader.errors + self.view.errors
        errors.update({f"{name} thread died": 1 for name, part in self.parts.items() if not part.alive})
        rows = {
            s.name: {
                "delivered": s.stats.delivered,
                "dropped": s.stats.dropped,
                "errors": s.stats.errors,
                "buffered": s.stats.buffered,
            }
            for s in sinks
        }
        return replace(
            base,
            source="redis",
            service=self.reader.where,
            service_error=self.reader.service_error,
            running=snap.running,
            snapshot_version=snap.version,
            events=snap.events,
            invalid_symbols={c: r for c, r in snap.invalid.items() if c in snap.markets},
            errors=errors,
            sinks=rows,
        )
