"""FeedManager: the one process-wide owner of connections, quote book and snapshot.

Shape (the seed article's recipe): one WebSocket thread per market group; those
threads only decode and enqueue; one processor thread applies ticks to the book and
publishes an immutable, versioned :class:`Snapshot`; one HTTP worker seeds prices,
previous closes, names and minute paths, and fills gaps after a reconnect. Readers
(Streamlit pages, quant scripts) call :meth:`snapshot`, :meth:`status` and
:meth:`history`, which never block ingest.

Events (in ``status().events``, newest last): ``connected``, ``disconnected``,
``recovered`` (reconnected, resubscribed and gap-filled), ``plan limit``,
``auth failed``, ``invalid symbol``, ``rate limited``, ``error``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import math
import queue
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd

from feed import calendars
from feed.book import SOURCE_HTTP, QuoteBook, Snapshot
from feed.protocol.codec import Rejected, Tick
from feed.config import FeedConfig, redact
from feed.connection import Connection, TokenPacer
from feed.http import KLINE_1M, AllTickHttp, AuthError, Bar, HttpError, StaticInfo
from feed.ingest import IngestQueue
from feed.model import (
    SNAPSHOT_COLUMNS,
    ConnectionState,
    ConnectionStatus,
    EventKind,
    FeedEvent,
    FeedStatus,
    Freshness,
    PrevClose,
)
from feed.prevclose import prev_close
from feed.symbols import Endpoint, InvalidSymbol, Market, parse_symbol, parse_watchlist

__all__ = ["FeedManager", "Watch"]

log = logging.getLogger("feed.manager")

_STOCK_MARKETS = (Market.US, Market.HK, Market.CN)
_FOREX_MARKETS = (Market.FX, Market.CRYPTO)
_MARKETS_OF = {Endpoint.STOCK: _STOCK_MARKETS, Endpoint.FOREX: _FOREX_MARKETS}
_PHASE_FRESHNESS = {
    calendars.Phase.CLOSED: Freshness.CLOSED,
    calendars.Phase.PRE_OPEN: Freshness.CLOSED,
    calendars.Phase.HOLIDAY: Freshness.HOLIDAY,
    calendars.Phase.LUNCH: Freshness.LUNCH,
}
# HTTP job priorities: prices first, then closes, names, minute paths.
_P_PRICES, _P_CLOSES, _P_NAMES, _P_PATHS = 0, 1, 2, 3
FRAME_INTERVAL = 0.2  # seconds between rebuilds of the DataFrame view, at most
_EMPTY = pd.DataFrame({c: pd.Series(dtype=object) for c in SNAPSHOT_COLUMNS})


class Watch:
    """One reader's watchlist (a browser session, a script). Close it to release codes."""

    _ids = itertools.count(1)

    def __init__(self, manager: FeedManager) -> None:
        self.id = next(self._ids)
        self._manager = manager

    def set(self, codes: Iterable[str]) -> None:
        self._manager._set_watch(self.id, tuple(codes))

    def close(self) -> None:
        self._manager._set_watch(self.id, None)

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FeedManager:
    """Runs the whole feed. ``start()``, ``subscribe()``, read, ``stop()``.

    A new manager watches nothing until ``subscribe()`` (or a :class:`Watch`) says so.
    With no token in the config it starts the built-in simulator on loopback and
    connects to it through the same client code (demo mode).
    """

    def __init__(self, config: FeedConfig | None = None, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config or FeedConfig.from_env()
        self._clock = clock
        self._plan = self.config.plan_limits
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._started = False
        self.simulator: Any = None
        self._token = self.config.token or ""
        self._ws_base = self.config.ws_base
        self._http_base = self.config.http_base
        # Watchlists: the manager's own (subscribe/unsubscribe) is watch 0.
        self._watches: dict[int, tuple[str, ...]] = {}
        self._releasing: dict[int, tuple[float, tuple[str, ...]]] = {}
        self._watched: tuple[str, ...] = ()
        self._market_of: dict[str, Market] = {}
        self._watch_dirty = True
        # Ingest and the book (the book belongs to the processor thread).
        self._queue = IngestQueue(self.config.queue_capacity)
        self._book = QuoteBook(bad_print_band=self.config.bad_print_band)
        # Work for the book from other threads (HTTP results), run by the processor, the
        # book's only writer; each returns whether the book changed.
        self._book_jobs: deque[Callable[[QuoteBook, float], bool]] = deque()
        self._decode_drops: Counter[str] = Counter()
        self._version = 0
        self._snap = Snapshot(0, 0.0)
        self._frame_cache: tuple[int, float, pd.DataFrame, dict[str, int]] | None = None
        self._frame_lock = threading.Lock()
        # Reference data from HTTP (written by the HTTP worker, read by builders).
        self._daily: dict[str, list[Bar]] = {}
        self._daily_for: dict[str, dt.date] = {}
        self._daily_requested: dict[str, dt.date] = {}
        self._prev_cache: dict[str, tuple[int, int, PrevClose | None]] = {}
        self._info: dict[str, StaticInfo] = {}
        self._seeded: set[str] = set()
        self._paths_requested: set[str] = set()
        self._invalid: dict[str, str] = {}
        self._recovering: dict[str, set[str]] = {}
        # Connections.
        self._connections: dict[str, Connection] = {}
        self._shared: dict[Endpoint, bool] = {
            e: self._plan.max_connections < len(_MARKETS_OF[e]) for e in Endpoint
        }
        self._pacer = TokenPacer(self.config.token_request_interval)
        self._rates: dict[str, tuple[float, int, float]] = {}
        # Events and HTTP jobs.
        self._events: deque[FeedEvent] = deque(maxlen=200)
        self._event_seq = itertools.count(1)
        self._jobs: queue.PriorityQueue[tuple[int, int, Callable[[], None]]] = queue.PriorityQueue()
        self._job_seq = itertools.count()
        self._auth_error: str | None = None
        self._http: AllTickHttp | None = None
        self._threads: list[threading.Thread] = []
        self._clocks_cache: tuple[float, dict[str, calendars.MarketClock]] | None = None

    def __repr__(self) -> str:
        mode = "demo" if self.config.demo else f"plan={self.config.plan}"
        return f"FeedManager({mode}, watched={len(self._watched)}, connections={len(self._connections)})"

    def __enter__(self) -> FeedManager:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- lifecycle --------------------------------------------------------------------

    def start(self) -> FeedManager:
        with self._lock:
            if self._started:
                return self
            self._started = True
            if self.config.demo:
                self._start_simulator()
            self._http = AllTickHttp(self._http_base, self._token, self._plan, stop=self._stop)
            loops = (
                ("feed-processor", self._process_loop),
                ("feed-http", self._http_loop),
                ("feed-frames", self._frames_loop),
            )
            for name, target in loops:
                t = threading.Thread(target=target, name=name, daemon=True)
                t.start()
                self._threads.append(t)
            self._sync_connections()
        log.info("feed started (%s)", "demo mode" if self.config.demo else f"plan {self._plan.name}")
        return self

    def _start_simulator(self) -> None:
        from feed.simulator import Simulator  # demo mode only

        self._token = "demo-" + secrets.token_hex(8)
        self.simulator = Simulator(
            seed=self.config.simulator_seed,
            token=self._token,
            plan="professional",
            sessions=self.config.demo_sessions,
        ).start()
        self._ws_base = self.simulator.ws_base
        self._http_base = self.simulator.http_base

    def stop(self) -> None:
        """Stop every thread (and the simulator); safe to call twice."""
        self._stop.set()
        with self._lock:
            conns = list(self._connections.values())
        for c in conns:
            c.stop()
        self._jobs.put((-1, -1, lambda: None))
        for t in self._threads:
            t.join(3.0)
        if self.simulator is not None:
            self.simulator.stop()
            self.simulator = None
        log.info("feed stopped")

    # --- watchlists --------------------------------------------------------------------

    def watch(self) -> Watch:
        """A new, empty watchlist handle; the feed streams the union of all handles."""
        return Watch(self)

    def subscribe(self, symbols: Iterable[str] | str) -> list[str]:
        """Add symbols to the manager's own list; returns their canonical codes.

        Valid symbols are added even when some are bad; the bad ones then raise
        :class:`InvalidSymbol` naming each of them.
        """
        parsed, errors = parse_watchlist(list(symbols) if not isinstance(symbols, str) else symbols)
        codes = [s.code for s in parsed]
        with self._lock:
            current = self._watches.get(0, ())
            self._set_watch(0, current + tuple(c for c in codes if c not in current))
        if errors:
            raise InvalidSymbol("; ".join(e.text for e in errors), "; ".join(str(e) for e in errors))
        return codes

    def unsubscribe(self, symbols: Iterable[str] | str) -> None:
        parsed, _ = parse_watchlist(list(symbols) if not isinstance(symbols, str) else symbols)
        drop = {s.code for s in parsed}
        with self._lock:
            self._set_watch(0, tuple(c for c in self._watches.get(0, ()) if c not in drop))

    def watched(self) -> tuple[str, ...]:
        return self._watched

    def _set_watch(self, watch_id: int, codes: tuple[str, ...] | None) -> None:
        with self._lock:
            if codes is None:
                released = self._watches.pop(watch_id, None)
                if released and self.config.release_grace > 0:
                    # A page reload ends one session and starts the next: keep the codes a
                    # little while so the reloaded tab finds them still streaming.
                    self._releasing[watch_id] = (time.monotonic() + self.config.release_grace, released)
                    return
                self._releasing.pop(watch_id, None)
            else:
                valid: list[str] = []
                for c in codes:
                    try:
                        sym = parse_symbol(c)
                    except InvalidSymbol:
                        continue
                    self._market_of[sym.code] = sym.market
                    valid.append(sym.code)
                if self._watches.get(watch_id) == tuple(valid):
                    return
                self._watches[watch_id] = tuple(valid)
            lists = [*self._watches.values(), *(codes for _, codes in self._releasing.values())]
            union = tuple(dict.fromkeys(c for w in lists for c in w))[: self.config.max_watch]
            if union == self._watched:
                return
            added = [c for c in union if c not in self._watched]
            for gone in set(self._watched) - set(union):
                # The book forgets unwatched rows; a later re-add must be seeded afresh.
                self._seeded.discard(gone)
                self._paths_requested.discard(gone)
            self._watched = union
            self._watch_dirty = True
            self._frame_cache = None  # the next reader sees the new rows at once
            self._queue.put_many([])  # wake the processor
            if self._started:
                self._sync_connections()
                if added:
                    self._job(_P_PRICES, lambda: self._seed(added))

    # --- connections -------------------------------------------------------------------

    def _groups(self) -> dict[str, tuple[Endpoint, tuple[Market, ...]]]:
        """Market groups, one connection each: per market when the plan allows, else shared."""
        watched_markets = {self._market_of[c] for c in self._watched}
        groups: dict[str, tuple[Endpoint, tuple[Market, ...]]] = {}
        for endpoint, markets in _MARKETS_OF.items():
            present = tuple(m for m in markets if m in watched_markets)
            if not present:
                continue
            if self._shared[endpoint]:
                groups[endpoint.value] = (endpoint, markets)
            else:
                for m in present:
                    groups[m.value] = (endpoint, (m,))
        return groups

    def _sync_connections(self) -> None:
        if self._stop.is_set():
            return
        with self._lock:
            groups = self._groups()
            for name, conn in list(self._connections.items()):
                if name not in groups:
                    conn.stop(timeout=0.5)
                    del self._connections[name]
            for name, (endpoint, markets) in groups.items():
                conn = self._connections.get(name)
                if conn is None:
                    conn = Connection(
                        name,
                        endpoint,
                        tuple(m.value for m in markets),
                        config=self.config,
                        token=self._token,
                        ws_base=self._ws_base,
                        desired=lambda n=name: self._desired(n),
                        queue=self._queue,
                        pacer=self._pacer,
                        listener=self,
                        rejected=self._count_rejected,
                    )
                    self._connections[name] = conn
                    conn.start()

    def _codes_for(self, markets: Iterable[str]) -> list[str]:
        ms = set(markets)
        return [c for c in self._watched if self._market_of[c].value in ms and c not in self._invalid]

    def _desired(self, name: str) -> tuple[str, ...]:
        conn = self._connections.get(name)
        if conn is None:
            return ()
        return tuple(self._codes_for(conn.markets)[: self._plan.max_codes])

    def _not_streamed(self, markets: Iterable[str]) -> list[str]:
        return self._codes_for(markets)[self._plan.max_codes :]

    # ConnectionListener -------------------------------------------------------------------

    def on_event(self, conn: Connection, kind: EventKind, message: str) -> None:
        if kind == EventKind.AUTH_FAILED:
            self._auth_error = message
        self._event(kind, conn.name, message)

    def on_subscribed(self, conn: Connection, codes: tuple[str, ...], after_reconnect: bool) -> None:
        over = self._not_streamed(conn.markets)
        if over:
            self._event(
                EventKind.PLAN_LIMIT,
                conn.name,
                f"plan '{self._plan.name}' streams {self._plan.max_codes} codes per connection; "
                f"not streamed: {', '.join(over[:10])}{' …' if len(over) > 10 else ''}",
            )
        if after_reconnect and codes:
            # Gap fill: prices that moved while the link was down, at once.
            with self._lock:
                self._recovering[conn.name] = set(codes)
            self._job(_P_PRICES, lambda: self._gap_fill(conn.name, list(codes)))

    def on_code_invalid(self, conn: Connection, codes: tuple[str, ...]) -> None:
        self._job(_P_PRICES, lambda: self._probe_invalid(list(codes)))

    def on_over_cap(self, conn: Connection) -> None:
        endpoint = conn.endpoint
        if self._shared[endpoint]:
            self._event(
                EventKind.PLAN_LIMIT, conn.name, "the server keeps closing the connection right after open"
            )
            return
        self._shared[endpoint] = True
        self._event(
            EventKind.PLAN_LIMIT,
            conn.name,
            "connection closed right after open: over the plan's connection cap; "
            "markets now share one connection",
        )
        threading.Thread(target=self._sync_connections, name="feed-regroup", daemon=True).start()

    def _count_rejected(self, event: Rejected) -> None:
        self._decode_drops[event.reason.value] += 1

    def _event(self, kind: EventKind, connection: str, message: str) -> None:
        message = redact(message, self._token)
        ev = FeedEvent(next(self._event_seq), dt.datetime.now(dt.UTC), kind, connection, message)
        self._events.append(ev)
        level = logging.INFO if kind in (EventKind.CONNECTED, EventKind.RECOVERED) else logging.WARNING
        log.log(level, "[%s] %s: %s", connection, kind.value, message)

    # --- HTTP worker ---------------------------------------------------------------------

    def _job(self, priority: int, fn: Callable[[], None]) -> None:
        self._jobs.put((priority, next(self._job_seq), fn))

    def _http_loop(self) -> None:
        while not self._stop.is_set():
            _, _, fn = self._jobs.get()
            if self._stop.is_set():
                break
            try:
                fn()
            except AuthError as exc:
                self._auth_error = "HTTP API rejected the token (401): check ALLTICK_TOKEN"
                self._event(EventKind.AUTH_FAILED, "http", f"{self._auth_error} ({exc.endpoint})")
            except HttpError as exc:
                if not self._stop.is_set():
                    self._event(EventKind.ERROR, "http", str(exc))
            except Exception:
                log.exception("HTTP job failed")

    def _by_endpoint(self, codes: Iterable[str]) -> dict[Endpoint, list[str]]:
        out: dict[Endpoint, list[str]] = {}
        for c in codes:
            m = self._market_of.get(c)
            if m is not None and c not in self._invalid:
                out.setdefault(m.endpoint, []).append(c)
        return out

    def _seed(self, codes: list[str]) -> None:
        """Start-up for new codes: last trade, previous close, then names."""
        codes = [c for c in codes if c in self._watched and c not in self._seeded]
        if not codes:
            return
        assert self._http is not None
        for endpoint, group in self._by_endpoint(codes).items():
            ticks, bad = self._http.trade_ticks(endpoint, group)
            self._mark_invalid(bad)
            self._apply_http_ticks(ticks)
            self._seeded.update(group)
        self._job(_P_CLOSES, lambda: self._fetch_daily(codes))
        stock = [c for c in codes if self._market_of[c].endpoint == Endpoint.STOCK and c not in self._info]
        if stock:
            self._job(_P_NAMES, lambda: self._fetch_info(stock))

    def _fetch_daily(self, codes: list[str], for_date: dict[str, dt.date] | None = None) -> None:
        assert self._http is not None
        for endpoint, group in self._by_endpoint(codes).items():
            bars, bad = self._http.daily_bars(endpoint, group)
            self._mark_invalid(bad)
            for code, b in bars.items():
                self._daily[code] = b
                self._daily_for[code] = (for_date or {}).get(code) or calendars.trading_date(
                    self._market_of[code], dt.datetime.fromtimestamp(self._clock(), dt.UTC)
                )
                self._prev_cache.pop(code, None)

    def _fetch_info(self, codes: list[str]) -> None:
        assert self._http is not None
        self._info.update(self._http.static_info(codes))

    def _fetch_path(self, code: str) -> None:
        assert self._http is not None
        m = self._market_of.get(code)
        if m is None or code not in self._watched:
            return
        bars = self._http.kline(m.endpoint, code, KLINE_1M, 500)
        points = [(b.time_s // 60, b.close) for b in bars]

        def seed(book: QuoteBook, now: float) -> bool:
            book.seed_history(code, points)
            return True

        self._to_book(seed)

    def _apply_http_ticks(self, ticks: list[Tick]) -> None:
        self._to_book(lambda book, now: bool(book.apply(ticks, now, SOURCE_HTTP)))

    def _to_book(self, job: Callable[[QuoteBook, float], bool]) -> None:
        self._book_jobs.append(job)
        self._queue.put_many([])  # wake the processor

    def _gap_fill(self, name: str, codes: list[str]) -> None:
        assert self._http is not None
        try:
            for endpoint, group in self._by_endpoint(codes).items():
                ticks, bad = self._http.trade_ticks(endpoint, group)
                self._mark_invalid(bad)
                self._apply_http_ticks(ticks)
        finally:
            with self._lock:
                self._recovering.pop(name, None)
        self._event(EventKind.RECOVERED, name, f"resubscribed {len(codes)} codes and filled the gap")

    def _probe_invalid(self, codes: list[str]) -> None:
        assert self._http is not None
        for endpoint, group in self._by_endpoint(codes).items():
            _, bad = self._http.trade_ticks(endpoint, group)
            self._mark_invalid(bad)

    def _mark_invalid(self, bad: dict[str, int]) -> None:
        fresh = {c: ret for c, ret in bad.items() if c not in self._invalid}
        if not fresh:
            return
        for c, ret in fresh.items():
            if ret == 604:
                reason = "the plan does not include this code (ret 604)"
            else:
                reason = "the server does not know this code (ret 600)"
            self._invalid[c] = reason
            self._event(EventKind.INVALID_SYMBOL, "http", f"{c}: {reason}; the rest keep streaming")

    # --- processor -----------------------------------------------------------------------

    def _process_loop(self) -> None:
        q = self._queue
        book = self._book
        interval = self.config.publish_interval
        last_publish = 0.0
        last_rates = time.monotonic()
        while not self._stop.is_set():
            q.wait(0.25)
            if self._watch_dirty:
                self._watch_dirty = False
                book.watch(self._watched)
            now = time.monotonic()
            ticks = q.drain()  # drain also clears the wake-up flag, even when empty
            changed = bool(book.apply(ticks, now)) if ticks else False
            while self._book_jobs:
                changed |= self._book_jobs.popleft()(book, now)
            if changed or now - last_publish >= 0.5:
                self._version += 1
                self._snap = book.publish(self._version, now)
                last_publish = now
            if now - last_rates >= 1.0:
                self._update_rates(now)
                self._check_rollover()
                self._expire_releases(now)
                last_rates = now
            if interval > 0:
                # Coalesce ticks between publishes without adding latency when idle.
                wait = last_publish + interval - time.monotonic()
                if wait > 0 and len(q) == 0:
                    time.sleep(min(wait, interval))

    def _expire_releases(self, now: float) -> None:
        expired = [wid for wid, (until, _) in list(self._releasing.items()) if until <= now]
        if expired:
            with self._lock:
                for wid in expired:
                    self._releasing.pop(wid, None)
                self._set_watch(-1, None)  # recompute the union without them

    def _check_rollover(self) -> None:
        """Refresh previous closes at each market's own session boundary.

        Hong Kong rolls to a new trading date hours before New York; a code's daily
        bars are refetched once its market's calendar has moved past the trading date
        they were fetched for, not on a global timer.
        """
        now = dt.datetime.fromtimestamp(self._clock(), dt.UTC)
        today: dict[Market, dt.date] = {}
        due: list[str] = []
        for code in self._watched:
            fetched = self._daily_for.get(code)
            if fetched is None:
                continue
            market = self._market_of[code]
            if market not in today:
                today[market] = calendars.trading_date(market, now)
            if today[market] > fetched and self._daily_requested.get(code) != today[market]:
                self._daily_requested[code] = today[market]
                due.append(code)
        if due:
            log.info("trading date rolled for %d codes: refreshing previous closes", len(due))
            self._job(_P_CLOSES, lambda: self._fetch_daily(due))

    def _update_rates(self, now: float) -> None:
        for name, conn in list(self._connections.items()):
            prev_t, prev_n, _ = self._rates.get(name, (now, conn.stats.messages, 0.0))
            span = now - prev_t
            rate = (conn.stats.messages - prev_n) / span if span > 0 else 0.0
            self._rates[name] = (now, conn.stats.messages, rate)

    # --- readers ---------------------------------------------------------------------------

    def snapshot_state(self) -> Snapshot:
        """The latest published book state (immutable); cheap, never blocks ingest."""
        return self._snap

    def snapshot(self, symbols: Iterable[str] | None = None) -> pd.DataFrame:
        """One row per watched symbol (or per ``symbols``, in that order).

        The frame is built by the ``feed-frames`` thread a few times a second, once per
        published version, and handed out as copy-on-write views: many readers cost one
        build, and a read never waits for one. It trails the book by at most
        ``FRAME_INTERVAL``; :meth:`snapshot_state` is the exact, cheaper view.
        """
        frame, index = self._frame()
        if symbols is None:
            return frame.copy(deep=False)
        wanted = [index[c] for c in dict.fromkeys(symbols) if c in index]
        if not wanted:
            return _EMPTY.copy()
        return frame.take(wanted).reset_index(drop=True)

    def _frame(self) -> tuple[pd.DataFrame, dict[str, int]]:
        cached = self._frame_cache
        if cached is not None:
            return cached[2], cached[3]
        return self._rebuild_frame()

    def _rebuild_frame(self) -> tuple[pd.DataFrame, dict[str, int]]:
        with self._frame_lock:
            snap = self._snap
            now = time.monotonic()
            frame, index = self._build_frame(snap, now)
            self._frame_cache = (snap.version, now, frame, index)
            return frame, index

    def _frames_loop(self) -> None:
        """Keep the DataFrame view current: on each new version, and each second for ages."""
        while not self._stop.wait(FRAME_INTERVAL):
            cached = self._frame_cache
            if cached is None or cached[0] != self._snap.version or time.monotonic() - cached[1] >= 1.0:
                try:
                    self._rebuild_frame()
                except Exception:  # the view must never take the feed down
                    log.exception("building the snapshot frame failed")

    def _build_frame(self, snap: Snapshot, now: float) -> tuple[pd.DataFrame, dict[str, int]]:
        codes = self._watched
        if not codes:
            return _EMPTY.copy(), {}
        wall = self._clock()
        phases = self._phases(wall)
        conn_state: dict[str, Connection] = {}
        for conn in list(self._connections.values()):
            for m in conn.markets:
                conn_state[m] = conn
        recovering = set().union(*self._recovering.values()) if self._recovering else set()
        not_streamed: set[str] = set()
        for conn in conn_state.values():
            not_streamed.update(self._not_streamed(conn.markets))
        quotes = snap.quotes
        n = len(codes)
        cols: dict[str, list[Any]] = {c: [None] * n for c in SNAPSHOT_COLUMNS}
        nan = math.nan
        for i, code in enumerate(codes):
            market = self._market_of[code]
            q = quotes.get(code)
            info = self._info.get(code)
            cols["symbol"][i] = code
            cols["name"][i] = info.name if info else _fallback_name(code)
            cols["name_zh"][i] = info.name_zh if info else ""
            cols["market"][i] = market.value
            cols["currency"][i] = info.currency if info and info.currency else _currency(code, market)
            note = ""
            if q is None:
                last = nan
                ts = None
                age = nan
                pc = None
            else:
                last = q.price
                ts = q.time_ms
                age = now - q.received
                pc = self._prev_close(code, market, q.time_ms)
            prev = pc.price if pc else nan
            cols["last"][i] = last
            cols["prev_close"][i] = prev
            change = round(last - prev, 8) if pc and q else nan
            cols["change"][i] = change
            cols["pct_change"][i] = change / prev * 100.0 if pc and q else nan
            cols["ts"][i] = ts
            cols["age_s"][i] = age
            cols["prev_close_date"][i] = pc.trade_date if pc else None
            conn = conn_state.get(market.value)
            if code in self._invalid:
                fresh, note = Freshness.NOT_STREAMED, self._invalid[code]
            elif code in not_streamed:
                fresh = Freshness.NOT_STREAMED
                note = f"over the {self._plan.name} plan's {self._plan.max_codes}-code cap"
            elif conn is None or conn.state not in (ConnectionState.LIVE, ConnectionState.SUBSCRIBING):
                fresh = Freshness.DOWN if q is not None else Freshness.WAITING
            elif q is None:
                fresh = Freshness.WAITING
            elif code in recovering:
                fresh = Freshness.RECOVERING
            elif market.value in phases:
                fresh = phases[market.value]
            elif q.source != SOURCE_HTTP and age < self.config.quiet_after:
                fresh = Freshness.LIVE
            else:
                fresh = Freshness.QUIET
            cols["freshness"][i] = fresh.value
            cols["streamed"][i] = fresh is not Freshness.NOT_STREAMED
            cols["note"][i] = note
        frame = pd.DataFrame(cols, columns=list(SNAPSHOT_COLUMNS))
        for c in ("last", "prev_close", "change", "pct_change", "age_s"):
            frame[c] = frame[c].astype("float64")
        frame["ts"] = pd.to_datetime(frame["ts"].astype("Float64"), unit="ms", utc=True)
        frame["streamed"] = frame["streamed"].astype(bool)
        return frame, {c: i for i, c in enumerate(codes)}

    def _prev_close(self, code: str, market: Market, time_ms: int) -> PrevClose | None:
        """The close of the latest daily bar dated strictly before the last price's trade date."""
        cached = self._prev_cache.get(code)
        if cached is not None and cached[0] <= time_ms < cached[1]:
            return cached[2]
        trade_date = calendars.trade_date_of(market, time_ms)
        bars = self._daily.get(code)
        fetched_for = self._daily_for.get(code)
        stale = bars is not None and fetched_for is not None and trade_date > fetched_for
        if stale and self._daily_requested.get(code) != trade_date:
            # A new session since the bars were fetched: refresh once for this date.
            self._daily_requested[code] = trade_date
            self._job(_P_CLOSES, lambda: self._fetch_daily([code], {code: trade_date}))
        result = prev_close(bars, market, time_ms) if bars else None
        tz = market.tz
        start = dt.datetime.combine(trade_date, dt.time(), tz)
        lo = int(start.timestamp() * 1000)
        hi = int((start + dt.timedelta(days=1)).timestamp() * 1000)
        if bars is not None:
            self._prev_cache[code] = (lo, hi, result)
        return result

    def _phases(self, wall: float) -> dict[str, Freshness]:
        """Markets whose calendar says no trading now, mapped to the freshness shown."""
        if self.config.demo and self.config.demo_sessions == "always":
            return {}
        out: dict[str, Freshness] = {}
        for market, clock in self.market_clocks(wall).items():
            fresh = _PHASE_FRESHNESS.get(clock.phase)
            if fresh is not None:
                out[market] = fresh
        return out

    def market_clocks(self, wall: float | None = None) -> dict[str, calendars.MarketClock]:
        """Each market's session state now; cached for a second (calendars are not per tick)."""
        wall = self._clock() if wall is None else wall
        cached = self._clocks_cache
        if cached is not None and abs(wall - cached[0]) < 1.0:
            return cached[1]
        now = dt.datetime.fromtimestamp(wall, dt.UTC)
        clocks = {m.value: calendars.market_clock(m, now) for m in Market}
        self._clocks_cache = (wall, clocks)
        return clocks

    def _want_path(self, code: str) -> None:
        if code in self._watched and code not in self._paths_requested:
            self._paths_requested.add(code)
            self._job(_P_PATHS, lambda: self._fetch_path(code))

    def sparklines(self, symbols: Iterable[str], points: int = 120) -> dict[str, list[float]]:
        """Today's path per symbol thinned to ``points`` minute closes, ending on the newest.

        A page refreshing every second asks this for every row; building a DataFrame
        per symbol there would cost more than the whole snapshot.
        """
        out: dict[str, list[float]] = {}
        history = self._book.history
        for code in symbols:
            self._want_path(code)
            series = history.get(code)
            closes = series.closes.tolist() if series is not None else []
            n = len(closes)
            if n > points > 1:
                step = (n - 1) / (points - 1)
                closes = [closes[round(i * step)] for i in range(points)]
            out[code] = closes
        return out

    def history(self, symbol: str) -> pd.DataFrame:
        """Today's recent price path (minute closes, then the latest price); bounded."""
        code = parse_symbol(symbol).code
        self._want_path(code)
        series = self._book.history.get(code)
        points = series.points() if series is not None else []
        q = self._snap.quotes.get(code)
        ts = [m * 60_000 for m, _ in points]
        prices = [p for _, p in points]
        if q is not None and (not ts or q.time_ms > ts[-1]):
            ts.append(q.time_ms)
            prices.append(q.price)
        return pd.DataFrame(
            {"ts": pd.to_datetime(pd.Series(ts, dtype="int64"), unit="ms", utc=True), "price": prices}
        )

    def status(self) -> FeedStatus:
        with self._lock:
            conns = list(self._connections.values())
        rows = []
        for c in conns:
            st = c.stats
            rows.append(
                ConnectionStatus(
                    name=c.name,
                    endpoint=c.endpoint.value,
                    state=c.state,
                    markets=c.markets,
                    symbols=tuple(c.subscribed),
                    not_streamed=tuple(self._not_streamed(c.markets)),
                    messages=st.messages,
                    msgs_per_s=self._rates.get(c.name, (0, 0, 0.0))[2],
                    reconnects=st.reconnects,
                    last_error=st.last_error,
                    connected_since=_wall(st.connected_since),
                    last_message_at=_wall(st.last_message_at),
                )
            )
        drops = Counter(self._decode_drops)
        drops.update({str(k): v for k, v in self._book.drops.items()})
        if self._queue.coalesced:
            drops["coalesced"] = self._queue.coalesced
        return FeedStatus(
            demo=self.config.demo,
            plan=self._plan.name,
            max_connections=self._plan.max_connections,
            max_codes=self._plan.max_codes,
            connections=tuple(rows),
            drops=dict(drops),
            events=tuple(self._events),
            invalid_symbols=dict(self._invalid),
            snapshot_version=self._snap.version,
            ticks_applied=self._book.applied,
            auth_error=self._auth_error,
        )

    def wait_ready(self, timeout: float = 10.0, *, need_prev_close: bool = True) -> bool:
        """Block until every watched, valid symbol has a price (and a previous close)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            df = self.snapshot()
            ok = df[df["freshness"] != Freshness.NOT_STREAMED.value]
            if (
                len(ok)
                and ok["last"].notna().all()
                and (not need_prev_close or ok["prev_close"].notna().all())
            ):
                return True
            time.sleep(0.05)
        return False


_CURRENCY = {Market.US: "USD", Market.HK: "HKD", Market.CN: "CNY", Market.FX: "USD", Market.CRYPTO: "USDT"}


def _currency(code: str, market: Market) -> str:
    """Static info covers stocks only; a forex pair is quoted in its second currency."""
    if market is Market.FX and len(code) == 6 and code.isupper() and code.isalpha():
        return code[3:]
    return _CURRENCY[market]


_METALS = {"GOLD": "Gold", "Silver": "Silver", "Platinum": "Platinum", "Palladium": "Palladium"}


def _fallback_name(code: str) -> str:
    """Forex and crypto have no static info endpoint; spell the pair out instead."""
    if code in _METALS:
        return _METALS[code]
    if len(code) == 6 and code.isalpha() and code.isupper():
        return f"{code[:3]}/{code[3:]}"
    if code.endswith("USDT") and len(code) > 4:
        return f"{code[:-4]}/USDT"
    return ""


def _wall(mono: float | None) -> dt.datetime | None:
    if mono is None:
        return None
    return dt.datetime.now(dt.UTC) - dt.timedelta(seconds=time.monotonic() - mono)
