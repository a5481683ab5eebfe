"""The processor: the only writer of the quote book and the reference data.

One thread (``feed-processor``) drains the ingest queue (ticks from every link) and its
inbox (typed messages from the supervisor and the reference-data worker), applies them,
and publishes one frozen :class:`~feed.snapshot.Snapshot` per batch: collect first,
process in one place. Only then does it hand the batch to the sinks (the tick store,
the quote service), so their hand-over is not on a tick's path to the snapshot. It
decides what reference data is missing (a new code's seed, a previous close a new
session made stale, a minute path) and sends jobs for it; a reader or the view never does.

Every item is guarded: an exception in one message or one tick batch is logged,
counted in ``Snapshot.errors`` (and so in ``status()``), and the loop goes on.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from types import MappingProxyType

from feed.book import SOURCE_HTTP, QuoteBook
from feed.continuity import Continuity
from feed.daystats import DayStats
from feed.events import EventLog
from feed.ingest import IngestQueue
from feed.messages import (
    AddSink,
    CodesInvalid,
    CodesRejected,
    DailyFetched,
    FeedNote,
    FetchDaily,
    Job,
    LinksChanged,
    LiveBars,
    NamesFetched,
    PathFetched,
    PricesFetched,
    Recovering,
    RemoveSink,
    Stop,
    WatchChanged,
)
from feed.model import ConnectionState, EventKind
from feed.protocol.codec import Tick
from feed.reference import ReferenceData
from feed.sinks import Batch
from feed.snapshot import EMPTY, Snapshot
from feed.store.messages import StoredPath
from feed.worker import Worker

__all__ = ["Processor"]

log = logging.getLogger("feed.processor")

RECOVERY_TIMEOUT = 10.0  # a gap fill that has not landed by then stops marking rows


class Processor(Worker):
    def __init__(
        self,
        ingest: IngestQueue,
        *,
        jobs: Callable[[Job], None],
        to_supervisor: Callable[[CodesInvalid], None],
        token: str,
        publish_interval: float = 0.002,
        bad_print_band: float | None = None,
        clock: Callable[[], float] = time.time,
        on_publish: Callable[[Snapshot], None] | None = None,
        to_store: Callable[[object], None] | None = None,
    ) -> None:
        self._ingest = ingest
        self._send_job = jobs
        self._outbox: list[Job] = []  # jobs go out after the publish that makes their codes watched
        self._to_supervisor = to_supervisor
        self._token = token
        self._interval = publish_interval
        self._clock = clock
        self._on_publish = on_publish
        super().__init__("feed-processor")
        self._book = QuoteBook(bad_print_band=bad_print_band)
        self._paths_kept = Continuity(self._book, to_store=to_store, clock=clock)  # restarts, lost links
        self._ref = ReferenceData()
        self._sinks: list = []
        self._events = EventLog(token)
        self._days = DayStats()
        self._errors: Counter[str] = Counter()
        self._watch = WatchChanged(0, (), EMPTY, EMPTY)
        self._links = EMPTY
        self._recovering: dict[str, tuple[float, set[str]]] = {}
        self._seeded: set[str] = set()
        self._paths: dict = {}
        self._path_versions: dict[str, int] = {}
        self._auth_error: str | None = None
        self._dirty = True  # reference maps changed: rebuild their published copies
        self._published_refs: tuple = ()
        self._version = 0
        self.snapshot = Snapshot()

    def submit(self, message: object) -> None:
        """From any thread: queue ``message`` and wake the loop (it waits on the ingest queue)."""
        self._inbox.put(message)
        self._ingest.wake()

    # --- the thread ------------------------------------------------------------------

    def _run(self) -> None:
        last_publish = last_second = 0.0
        while True:
            self._ingest.wait(0.25)
            now = time.monotonic()
            if not self._drain_inbox(now):
                break
            batch = self._apply_ticks(now)
            if batch is not None or self._dirty or now - last_publish >= 0.5:
                self._guard("publish", self._publish, now)
                last_publish = now
            if batch is not None and self._sinks:
                # After the publish: a sink's hand-over (the store packs its columns) is
                # not on the path from a tick to the snapshot that shows it.
                for sink in self._sinks:
                    self._guard("sink offer", sink.offer, batch)
            if self._outbox:
                jobs, self._outbox = self._outbox, []
                self._days.expect(c for job in jobs if isinstance(job, FetchDaily) for c in job.codes)
                for job in jobs:
                    self._send_job(job)
            if now - last_second >= 1.0:
                self._guard("timers", self._every_second, now)
                last_second = now
            if self._interval > 0:
                # Coalesce ticks between publishes without adding latency when idle.
                wait = last_publish + self._interval - time.monotonic()
                if wait > 0 and len(self._ingest) == 0:
                    time.sleep(min(wait, self._interval))

    def _guard(self, what: str, fn: Callable[..., object], *args: object) -> object:
        try:
            return fn(*args)
        except Exception:
            self._errors["processor"] += 1
            log.exception("processor: %s failed (counted; the feed carries on)", what)
            return None

    def _drain_inbox(self, now: float) -> bool:
        while True:
            try:
                msg = self._inbox.get_nowait()
            except queue.Empty:
                return True
            if isinstance(msg, Stop):
                return False
            self._guard(type(msg).__name__, self._handle, msg, now)

    def _apply_ticks(self, now: float) -> Batch | None:
        """The book takes the queued ticks; the accepted ones, for the sinks (None: none)."""
        ticks = self._ingest.drain()
        if not ticks:
            return None
        accepted = self._guard("tick batch", self._book.apply, ticks, now)
        self._after_ticks(accepted or [], now)
        return Batch(accepted, self._watch.markets) if accepted else None

    def _after_ticks(self, accepted: list[Tick], now: float) -> None:
        """Follow-ups of a batch: previous closes, paths, gap-fill state."""
        markets = self._watch.markets
        codes = self._book.take_touched()
        for code in codes:
            q = self._book.quotes.get(code)
            if q is None:
                continue
            changed, job = self._ref.refresh_prev(code, markets[code], q.time_ms)
            self._dirty |= changed
            if job is not None:
                self._outbox.append(job)
            self._refresh_path(code)
        if accepted:
            self._days.apply(accepted, markets)
        if self._recovering and accepted:
            self._end_recovery_for({t.code for t in accepted})

    def _refresh_path(self, code: str) -> None:
        series = self._book.history.get(code)
        if series is None:
            return
        if self._path_versions.get(code) != series.version:
            self._path_versions[code] = series.version
            self._paths[code] = self._book.path(code)
            self._dirty = True

    # --- messages ----------------------------------------------------------------------

    def _handle(self, msg: object, now: float) -> None:
        if isinstance(msg, WatchChanged):
            self._on_watch(msg)
        elif isinstance(msg, PricesFetched):
            self._on_prices(msg, now)
        elif isinstance(msg, DailyFetched):
            self._on_daily(msg)
        elif isinstance(msg, NamesFetched):
            self._dirty |= self._ref.on_names(msg.infos)
        elif isinstance(msg, PathFetched | StoredPath):  # minute bars: the K-line's, or the store's
            self._paths_kept.path(msg, self._watch.markets)
            self._refresh_path(msg.code)
        elif isinstance(msg, CodesRejected):
            self._on_rejected(msg)
        elif isinstance(msg, LinksChanged):
            self._on_links(msg)
        elif isinstance(msg, Recovering):
            self._recovering[msg.link] = (now, set(msg.codes))
            self._dirty = True
        elif isinstance(msg, FeedNote):
            self._note(msg)
        elif isinstance(msg, LiveBars):
            msg.reply.put(self._book.minute_bars(msg.code, msg.since))
        elif isinstance(msg, AddSink):
            self._sinks.append(msg.sink)
        elif isinstance(msg, RemoveSink):
            self._sinks = [s for s in self._sinks if s is not msg.sink]
        else:
            raise TypeError(f"processor: unknown message {msg!r}")

    def _on_watch(self, msg: WatchChanged) -> None:
        before = set(self._watch.watched)
        self._watch = msg
        self._book.watch(msg.watched)
        gone = before - set(msg.watched)
        self._days.forget(gone)
        for code in gone:
            self._seeded.discard(code)
            self._paths.pop(code, None)
            self._path_versions.pop(code, None)
        if self._ref.forget(gone, time.monotonic()):
            self._to_supervisor(CodesInvalid(MappingProxyType(dict(self._ref.invalid))))
        self._seed([c for c in msg.watched if c not in self._seeded])
        self._dirty = True

    def _seed(self, codes: list[str]) -> None:
        """What a new row needs: last trade, previous close, name, today's path."""
        if codes:
            self._seeded.update(codes)
            self._outbox += self._ref.seed_jobs(codes, self._watch.markets, self._now())
            self._outbox += self._paths_kept.seeding(codes, self._watch.markets)  # stored day, K-line

    def _on_daily(self, msg: DailyFetched) -> None:
        markets = self._watch.markets
        for code in self._ref.on_daily(msg, markets, self._now()):
            self._days.seed(code, markets[code], msg.bars[code], self._ref.daily_for[code], msg.asked_ms)
            q = self._book.quotes.get(code)
            if q is not None:
                self._ref.refresh_prev(code, markets[code], q.time_ms)
        for code in msg.for_date:
            self._days.settled(code)  # after seeding: a bar already replayed what was kept
        self._dirty = True

    def _on_prices(self, msg: PricesFetched, now: float) -> None:
        self._book.apply(msg.ticks, now, SOURCE_HTTP)
        self._after_ticks([], now)
        if msg.link is not None:  # a gap fill: the link is whole again
            self._recovering.pop(msg.link, None)
            self._note(
                FeedNote(
                    EventKind.RECOVERED,
                    msg.link,
                    f"{msg.link}: resubscribed {len(msg.codes)} codes and filled the gap",
                    msg.codes,
                )
            )
        self._dirty = True

    def _on_rejected(self, msg: CodesRejected) -> None:
        fresh = self._ref.reject(msg.rets, self._watch.watched, time.monotonic())
        if not fresh:
            return
        self._dirty = True
        codes = tuple(sorted(fresh))
        shown = ", ".join(f"{c} ({self._ref.invalid[c]})" for c in codes[:8])
        more = f" and {len(codes) - 8} more" if len(codes) > 8 else ""
        self._note(
            FeedNote(
                EventKind.INVALID_SYMBOL, "http", f"refused: {shown}{more}; the rest keep streaming", codes
            )
        )
        self._to_supervisor(CodesInvalid(MappingProxyType(dict(self._ref.invalid))))

    def _on_links(self, msg: LinksChanged) -> None:
        self._links = msg.by_market
        self._outbox.extend(self._paths_kept.links(msg.by_market, self._watch.markets))
        if any(v.state is ConnectionState.LIVE for v in msg.by_market.values()):
            self._auth_error = None
        self._dirty = True

    def _note(self, note: FeedNote) -> None:
        event = self._events.add(note)
        if note.kind is EventKind.AUTH_FAILED:
            self._auth_error = event.message
        self._dirty = True

    # --- timers and publishing -----------------------------------------------------------

    def _every_second(self, now: float) -> None:
        job = self._ref.due_rollover(self._watch.watched, self._watch.markets, self._now())
        if job is not None:
            log.info("trading date rolled for %d codes: refreshing previous closes", len(job.codes))
            self._outbox.append(job)
        for link, (since, _) in list(self._recovering.items()):
            if now - since > RECOVERY_TIMEOUT:
                del self._recovering[link]
                self._dirty = True

    def _end_recovery_for(self, codes: set[str]) -> None:
        """A push for a code after the resubscribe: that row is current again."""
        for link, (_, waiting) in list(self._recovering.items()):
            waiting -= codes
            if not waiting:
                del self._recovering[link]
            self._dirty = True

    def _publish(self, now: float) -> None:
        if self._dirty:
            ref = self._ref
            self._published_refs = (
                MappingProxyType(dict(ref.prev)),
                MappingProxyType(dict(ref.daily_for)),
                MappingProxyType(dict(ref.names)),
                MappingProxyType(dict(ref.invalid)),
                MappingProxyType(dict(self._paths)),
                self._events.recent(),
                frozenset().union(*(w for _, w in self._recovering.values()))
                if self._recovering
                else frozenset(),
            )
            self._dirty = False
        prev, daily_for, names, invalid, paths, events, recovering = self._published_refs
        drops = Counter({str(k): v for k, v in self._book.drops.items()})
        if self._ingest.coalesced:
            drops["coalesced"] = self._ingest.coalesced
        self._version += 1
        watch = self._watch
        self.snapshot = Snapshot(
            version=self._version,
            published=now,
            watch_version=watch.version,
            watched=watch.watched,
            markets=watch.markets,
            quotes=self._book.publish_quotes(),
            prev_closes=prev,
            days=self._days.published(),
            daily_for=daily_for,
            names=names,
            invalid=invalid,
            not_streamed=watch.not_streamed,
            links=self._links,
            recovering=recovering,
            paths=paths,
            events=events,
            drops=MappingProxyType(dict(drops)),
            errors=MappingProxyType(dict(self._errors)),
            ticks_applied=self._book.applied,
            auth_error=self._auth_error,
        )
        if self._on_publish is not None:
            self._on_publish(self.snapshot)

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self._clock(), dt.UTC)

    def final(self) -> Snapshot:
        """The last snapshot, marked stopped (read after :meth:`join`)."""
        return replace(self.snapshot, running=False, version=self.snapshot.version + 1)
