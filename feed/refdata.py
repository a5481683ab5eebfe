"""The reference-data worker: everything the table needs from AllTick's HTTP API.

One thread (``feed-refdata``) owns the HTTP client and the retry schedule. It takes
typed jobs (:mod:`feed.messages`: seed prices, daily bars for previous closes, names,
minute paths, gap fills, probes of refused codes) from a queue, runs them in priority
order (prices first, then closes, names, paths) and hands typed results to the
processor. It never touches the quote book.

Work that failed is retried until it succeeds or is known to be impossible: a network
failure or server error is retried quickly (backoff from 0.5 s, capped at 2 s, so
reference data lands within seconds of the server coming back; a link that connects
also :meth:`nudge`\\s the worker to retry at once); a rate limit backs off longer; a
refused token is retried once a minute; a refused code is reported, never retried.
Each cause is reported once as an event naming the codes it holds up, not once per
attempt, and :attr:`RefData.status` says what is pending and why.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from feed.http import (
    AllTickHttp,
    AuthError,
    CodeInvalid,
    HttpError,
    PlanLimit,
    RateLimited,
    Stopped,
    Unreachable,
)
from feed.messages import (
    CodesRejected,
    DailyFetched,
    FeedNote,
    FetchBars,
    FetchDaily,
    FetchNames,
    FetchPath,
    FetchPrices,
    Job,
    NamesFetched,
    PathFetched,
    PricesFetched,
    ProbeCodes,
    Stop,
)
from feed.model import EventKind
from feed.protocol.records import KLINE_1M
from feed.symbols import Endpoint, InvalidSymbol, parse_symbol
from feed.worker import Worker

__all__ = ["RefData", "RefDataStatus"]

log = logging.getLogger("feed.refdata")

_PRIORITY = {FetchPrices: 0, ProbeCodes: 0, FetchDaily: 1, FetchNames: 2, FetchPath: 3}
_KIND = {FetchPrices: "prices", ProbeCodes: "probes", FetchDaily: "previous closes", FetchNames: "names"}
RETRY_BASE, RETRY_CAP = 0.5, 2.0
RATE_RETRY, RATE_CAP = 5.0, 60.0
AUTH_RETRY = 60.0
PATH_POINTS = 500


@dataclass(frozen=True, slots=True)
class RefDataStatus:
    """What the worker last published: pending jobs by kind and why they wait."""

    pending: dict[str, int] = field(default_factory=dict)
    cause: str | None = None  # e.g. "unreachable", "auth failed", "rate limited"
    detail: str | None = None  # the last failure in words
    requests: int = 0
    errors: int = 0  # bugs caught and counted


@dataclass
class _Entry:
    due: float
    priority: int
    seq: int
    job: Job
    attempt: int = 0


class _Nudge:
    pass


class RefData(Worker):
    def __init__(
        self,
        http: AllTickHttp,
        *,
        results: Callable[[object], None],
        watched: Callable[[], frozenset[str]],
        stop: threading.Event,
    ) -> None:
        self._http = http
        self._results = results
        self._watched = watched
        self._stop = stop
        super().__init__("feed-refdata")
        # Jobs that may run now, highest priority first, and retries waiting for their time.
        self._ready: list[tuple[int, int, _Entry]] = []
        self._waiting: list[tuple[float, int, _Entry]] = []
        self._seq = itertools.count()
        self._cause: str | None = None
        self._detail: str | None = None
        self._errors = 0
        self.status = RefDataStatus()

    def nudge(self) -> None:
        """The server answered on another channel: retry waiting work now."""
        self._inbox.put(_Nudge())

    # --- the thread ------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            self._promote(time.monotonic())
            if self._ready:
                wait = 0.0
            else:
                wait = max(0.0, self._waiting[0][0] - time.monotonic()) if self._waiting else 1.0
            try:
                item = self._inbox.get(timeout=min(wait, 1.0)) if wait > 0 else self._inbox.get_nowait()
            except queue.Empty:
                item = None
            if isinstance(item, Stop):
                break
            self._take(item)
            while True:  # everything else already queued
                try:
                    more = self._inbox.get_nowait()
                except queue.Empty:
                    break
                if isinstance(more, Stop):
                    return
                self._take(more)
            self._promote(time.monotonic())
            if self._ready:
                self._run_one(heapq.heappop(self._ready)[2])
            self._publish()

    def _promote(self, now: float) -> None:
        while self._waiting and self._waiting[0][0] <= now:
            _, _, entry = heapq.heappop(self._waiting)
            heapq.heappush(self._ready, (entry.priority, entry.seq, entry))

    def _take(self, item: object) -> None:
        if item is None:
            return
        if isinstance(item, FetchBars):
            self._answer_bars(item)  # a reader is waiting: before any queued background work
            return
        if isinstance(item, _Nudge):  # everything waiting for a retry may go now
            for _, _, entry in self._waiting:
                heapq.heappush(self._ready, (entry.priority, entry.seq, entry))
            self._waiting.clear()
            return
        entry = _Entry(time.monotonic(), _PRIORITY[type(item)], next(self._seq), item)
        heapq.heappush(self._ready, (entry.priority, entry.seq, entry))

    def _answer_bars(self, job: FetchBars) -> None:
        try:
            job.reply.put(self._http.kline(_endpoint(job.code), job.code, job.kline_type, job.count))
        except Exception as exc:  # the reader gets the error itself, named by its cause
            job.reply.put(exc)

    def _run_one(self, entry: _Entry) -> None:
        job = _only_watched(entry.job, self._watched())
        if job is None:
            return
        try:
            failed = self._execute(job)
        except Exception:
            self._errors += 1
            log.exception("reference-data job %s failed (counted, dropped)", type(job).__name__)
            return
        if failed is None:
            if self._cause is not None:
                log.info("HTTP API answering again")
            self._cause = self._detail = None
            return
        remaining, exc = failed
        self._retry(replace(entry, job=remaining, attempt=entry.attempt + 1), exc)

    def _retry(self, entry: _Entry, exc: HttpError) -> None:
        codes = _codes_of(entry.job)
        if isinstance(exc, AuthError):
            cause, delay, kind = "auth failed", AUTH_RETRY, EventKind.AUTH_FAILED
            how = f"ret {exc.ret}" if exc.ret else f"HTTP {exc.status or 401}"
            text = (
                f"AllTick's HTTP API rejected the token ({how} from {exc.endpoint}); retrying once a minute"
            )
        elif isinstance(exc, RateLimited):
            cause, kind = "rate limited", EventKind.RATE_LIMITED
            delay = min(RATE_CAP, RATE_RETRY * 2 ** (entry.attempt - 1))
            text = f"the HTTP API is rate limiting us ({exc}); retrying in {delay:.0f}s"
        elif isinstance(exc, Unreachable):
            cause, kind = "unreachable", EventKind.UNREACHABLE
            delay = min(RETRY_CAP, RETRY_BASE * 2 ** (entry.attempt - 1))
            text = f"the HTTP API is unreachable ({exc}); retrying"
        elif isinstance(exc, PlanLimit):
            cause, delay, kind = "plan limit", RATE_CAP, EventKind.PLAN_LIMIT
            text = f"the plan refuses this request ({exc})"
        else:
            cause, kind = "server error", EventKind.SERVER_ERROR
            delay = min(RETRY_CAP * 5, RETRY_BASE * 2 ** (entry.attempt - 1))
            text = f"the HTTP API answered an error ({exc}); retrying"
        if cause != self._cause:  # once per cause, not once per attempt
            shown = ", ".join(codes[:8]) + (f" and {len(codes) - 8} more" if len(codes) > 8 else "")
            what = _KIND.get(type(entry.job), "minute path")
            message = text if kind is EventKind.AUTH_FAILED else f"{what} for {shown} waiting: {text}"
            self._results(FeedNote(kind, "http", message, tuple(codes)))
        self._cause, self._detail = cause, str(exc)
        entry.due = time.monotonic() + delay
        heapq.heappush(self._waiting, (entry.due, entry.seq, entry))

    def _execute(self, job: Job) -> tuple[Job, HttpError] | None:
        """Run ``job`` per endpoint group; None when done, else what is left and why."""
        if isinstance(job, FetchPath):
            try:
                bars = self._http.kline(_endpoint(job.code), job.code, KLINE_1M, PATH_POINTS)
            except CodeInvalid as exc:
                self._results(CodesRejected({job.code: exc.ret or 600}))
                return None
            except HttpError as exc:
                return _unless_final(job, exc)
            points = tuple((b.time_s // 60, b.open, b.high, b.low, b.close, b.volume) for b in bars)
            self._results(PathFetched(job.code, points))
            return None
        left: list[str] = []
        error: HttpError | None = None
        for endpoint, codes in _by_endpoint(_codes_of(job)).items():
            try:
                self._fetch(job, endpoint, codes)
            except HttpError as exc:
                if _unless_final(job, exc) is not None:
                    left += codes
                    error = exc
        if error is None or not left:
            return None
        return _with_codes(job, tuple(left)), error

    def _fetch(self, job: Job, endpoint: Endpoint, codes: list[str]) -> None:
        http = self._http
        if isinstance(job, (FetchPrices, ProbeCodes)):
            ticks, bad = http.trade_ticks(endpoint, codes)
            if bad:
                self._results(CodesRejected(bad))
            link = job.link if isinstance(job, FetchPrices) else None
            self._results(PricesFetched(tuple(ticks), tuple(codes), link))
        elif isinstance(job, FetchDaily):
            asked_ms = int(time.time() * 1000)
            bars, bad = http.daily_bars(endpoint, codes)
            if bad:
                self._results(CodesRejected(bad))
            dates = {c: job.for_date[c] for c in bars if c in job.for_date}
            self._results(DailyFetched({c: tuple(b) for c, b in bars.items()}, dates, asked_ms))
        elif isinstance(job, FetchNames) and endpoint is Endpoint.STOCK:
            self._results(NamesFetched(http.static_info(codes)))

    def _publish(self) -> None:
        entries = [e for *_, e in self._ready] + [e for *_, e in self._waiting]
        pending: Counter[str] = Counter(_KIND.get(type(e.job), "minute paths") for e in entries)
        self.status = RefDataStatus(
            dict(pending), self._cause, self._detail, self._http.requests, self._errors
        )


def _unless_final(job: Job, exc: HttpError) -> tuple[Job, HttpError] | None:
    """Errors worth retrying come back; a stop does not."""
    if isinstance(exc, Stopped):
        return None
    return job, exc


def _endpoint(code: str) -> Endpoint:
    return parse_symbol(code).market.endpoint


def _by_endpoint(codes: list[str]) -> dict[Endpoint, list[str]]:
    out: dict[Endpoint, list[str]] = {}
    for c in codes:
        try:
            out.setdefault(_endpoint(c), []).append(c)
        except InvalidSymbol:
            log.warning("reference data: %r is not a code; skipped", c)
    return out


def _codes_of(job: Job) -> list[str]:
    return [job.code] if isinstance(job, FetchPath) else list(job.codes)


def _with_codes(job: Job, codes: tuple[str, ...]) -> Job:
    if isinstance(job, FetchDaily):
        return FetchDaily(codes, {c: d for c, d in job.for_date.items() if c in codes})
    return replace(job, codes=codes)  # type: ignore[arg-type]


def _only_watched(job: Job, watched: frozenset[str]) -> Job | None:
    """Drop codes nobody watches any more (a closed tab's seeds, a removed symbol's path)."""
    codes = _codes_of(job)
    keep = tuple(c for c in codes if c in watched)
    if not keep:
        return None
    if isinstance(job, FetchPath) or len(keep) == len(codes):
        return job
    return _with_codes(job, keep)
