"""The supervisor: watchlists, the connection layout, plan caps and the links' lifecycle.

One thread (``feed-supervisor``) owns the watch registry, the layout (which markets
share a link) and the set of pumps. Readers send it :class:`~feed.messages.SetWatch`;
pumps send it their notices; the processor tells it which codes are invalid. It starts
and stops pumps (a stop is a signal, never a join under anyone's lock: stopped pumps
are reaped later), forwards events to the processor's event log, asks the
reference-data worker for gap fills and probes, and restarts a pump whose thread died.

Layout: one link per market when the plan allows enough connections per endpoint
group, else one shared link per group. If the server keeps closing accepted upgrades
(the session's *plan cap*), the group falls back to one shared link; once that link
has stayed up for a while, the supervisor tries one link per market again (with a
growing hold-off, so a real cap does not make it flap).
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable
from types import MappingProxyType

from feed.config import FeedConfig
from feed.connection import LinkStats, Pump, TokenPacer
from feed.ingest import IngestQueue
from feed.messages import (
    CodesInvalid,
    FeedNote,
    FetchPrices,
    LinkNotice,
    LinksChanged,
    LinkView,
    ProbeCodes,
    Recovering,
    SetWatch,
    Stop,
    WatchChanged,
)
from feed.model import ConnectionState, EventKind
from feed.protocol.plans import Plan
from feed.session import SessionTiming
from feed.symbols import Endpoint, Market
from feed.watches import WatchRegistry
from feed.worker import Worker

__all__ = ["MARKETS_OF", "Supervisor", "groups_for"]

log = logging.getLogger("feed.supervisor")

MARKETS_OF = {
    Endpoint.STOCK: (Market.US, Market.HK, Market.CN),
    Endpoint.FOREX: (Market.FX, Market.CRYPTO),
}
TICK = 0.25


def groups_for(
    markets: set[Market], shared: dict[Endpoint, bool]
) -> dict[str, tuple[Endpoint, tuple[Market, ...]]]:
    """Link name -> (endpoint, markets): per market unless the group is shared."""
    out: dict[str, tuple[Endpoint, tuple[Market, ...]]] = {}
    for endpoint, group in MARKETS_OF.items():
        present = tuple(m for m in group if m in markets)
        if not present:
            continue
        if shared[endpoint]:
            out[endpoint.value] = (endpoint, group)
        else:
            for m in present:
                out[m.value] = (endpoint, (m,))
    return out


class Supervisor(Worker):
    def __init__(
        self,
        config: FeedConfig,
        plan: Plan,
        *,
        registry: WatchRegistry,
        ws_base: str,
        token: str,
        ingest: IngestQueue,
        to_processor: Callable[[object], None],
        to_refdata: Callable[[object], None],
        nudge_refdata: Callable[[], None],
    ) -> None:
        self._config = config
        self._plan = plan
        self.registry = registry
        self._ws_base = ws_base
        self._token = token
        self._ingest = ingest
        self._to_processor = to_processor
        self._to_refdata = to_refdata
        self._nudge = nudge_refdata
        self._timing = SessionTiming(
            heartbeat_interval=config.heartbeat_interval,
            reply_timeout=config.reply_timeout,
            dead_after=config.dead_after,
            request_interval=config.request_interval,
            reconnect_floor=config.reconnect_spacing,
            backoff_cap=config.backoff_cap,
            auth_retry=config.auth_retry,
        )
        self._pacer = TokenPacer(config.token_request_interval)
        super().__init__("feed-supervisor")
        self._pumps: dict[str, Pump] = {}
        self._stopping: list[Pump] = []
        self._default_shared = {e: plan.max_connections < len(ms) for e, ms in MARKETS_OF.items()}
        self._shared = dict(self._default_shared)
        self._capped: dict[Endpoint, tuple[float, float]] = {}  # endpoint -> (retry after, hold-off)
        self._links: dict[str, tuple[ConnectionState, str, float]] = {}  # name -> state, detail, since
        self._acked: dict[str, tuple[str, ...]] = {}  # link -> the list its server last acknowledged
        self._invalid: frozenset[str] = frozenset()
        self._errors = 0
        self.watched: tuple[str, ...] = ()
        self.not_streamed: dict[str, str] = {}
        self.pumps: tuple[Pump, ...] = ()  # published: the live pumps, for status()

    @property
    def errors(self) -> int:
        return self._errors

    # --- the thread ------------------------------------------------------------------

    def _run(self) -> None:
        self._watch_changed()
        while True:
            try:
                msg = self._inbox.get(timeout=TICK)
            except queue.Empty:
                msg = None
            if isinstance(msg, Stop):
                break
            try:
                if msg is not None:
                    self._handle(msg)
                self._timers(time.monotonic())
            except Exception:
                self._errors += 1
                log.exception("supervisor: handling %r failed (counted; the feed carries on)", msg)
        self._shutdown()

    def _handle(self, msg: object) -> None:
        if isinstance(msg, SetWatch):
            if msg.codes is None:
                changed = self.registry.close(msg.watch_id, time.monotonic(), self._config.release_grace)
            else:
                changed = self.registry.set(msg.watch_id, msg.codes)
            if changed:
                self._watch_changed()
            if msg.reply is not None:
                msg.reply.put(self.registry.version)
        elif isinstance(msg, LinkNotice):
            self._on_notice(msg)
        elif isinstance(msg, CodesInvalid):
            self._invalid = frozenset(msg.reasons)
            self._layout()
        else:
            raise TypeError(f"supervisor: unknown message {msg!r}")

    def _timers(self, now: float) -> None:
        if self.registry.expire(now):
            self._watch_changed()
        self._stopping = [p for p in self._stopping if p.alive]
        for name, pump in list(self._pumps.items()):
            if not pump.alive:
                self._errors += 1
                self._note(EventKind.ERROR, name, f"{name}: the link's thread died; restarted")
                del self._pumps[name]
                self._layout()
        for endpoint, (retry_after, _) in list(self._capped.items()):
            link = self._links.get(endpoint.value)
            stable = link is not None and link[0] is ConnectionState.LIVE and now - link[2] >= retry_after
            if self._shared[endpoint] and stable and not self._default_shared[endpoint]:
                self._shared[endpoint] = False
                self._note(
                    EventKind.CONNECTED, endpoint.value, f"{endpoint.value}: trying one link per market again"
                )
                self._layout()

    # --- watchlists and layout ---------------------------------------------------------

    def _watch_changed(self) -> None:
        self.watched = self.registry.union
        self._layout()

    def _layout(self) -> None:
        markets = {self.registry.markets[c] for c in self.watched}
        groups = groups_for(markets, self._shared)
        for name in [n for n in self._pumps if n not in groups]:
            pump = self._pumps.pop(name)
            pump.stop()
            self._stopping.append(pump)
            self._links.pop(name, None)
            self._acked.pop(name, None)
        not_streamed: dict[str, str] = {}
        cap = self._plan.max_codes
        for name, (endpoint, group) in groups.items():
            codes = [c for c in self.watched if self.registry.markets[c] in group and c not in self._invalid]
            for c in codes[cap:]:
                not_streamed[c] = f"over the {self._plan.name} plan's {cap}-code cap"
            pump = self._pumps.get(name)
            if pump is None:
                pump = self._new_pump(name, endpoint, group)
            pump.set_codes(tuple(codes[:cap]))
        self.pumps = tuple(self._pumps.values())
        over = [c for c in self.watched if c in not_streamed]
        if over and set(over) != set(self.not_streamed):
            self._note(
                EventKind.PLAN_LIMIT,
                "feed",
                f"plan '{self._plan.name}' streams {cap} codes per connection; not streamed: "
                f"{', '.join(over[:10])}{' …' if len(over) > 10 else ''}",
                tuple(over),
            )
        self.not_streamed = not_streamed
        self._to_processor(
            WatchChanged(
                self.registry.version,
                self.watched,
                MappingProxyType({c: self.registry.markets[c] for c in self.watched}),
                MappingProxyType(dict(not_streamed)),
            )
        )
        self._send_links()

    def _new_pump(self, name: str, endpoint: Endpoint, group: tuple[Market, ...]) -> Pump:
        pump = Pump(
            name,
            endpoint,
            tuple(m.value for m in group),
            ws_base=self._ws_base,
            token=self._token,
            timing=self._timing,
            pacer=self._pacer,
            ingest=self._ingest,
            notify=self.submit,
        )
        self._pumps[name] = pump
        self._links[name] = (ConnectionState.CONNECTING, "", time.monotonic())
        pump.start()
        return pump

    # --- link notices ------------------------------------------------------------------

    def _on_notice(self, msg: LinkNotice) -> None:
        pump = self._pumps.get(msg.link)
        if pump is None:
            return  # a pump being stopped: its news is old
        n = msg.notice
        if n.kind is not None:
            self._note(n.kind, msg.link, n.message)
            if n.kind is EventKind.CONNECTED:
                self._nudge()  # the server is up: reference data waiting on it can go now
        if n.subscribed is not None:
            before = self._acked.get(msg.link, ())
            self._acked[msg.link] = n.subscribed
            if n.after_reconnect and n.subscribed:
                self._to_processor(Recovering(msg.link, n.subscribed))
                self._to_refdata(FetchPrices(n.subscribed, link=msg.link))
            elif fresh := tuple(c for c in n.subscribed if c not in before):
                # Trades between a code's HTTP seed and its subscription were pushed to
                # nobody: fetch the latest once more, now that pushes will follow it.
                self._to_refdata(FetchPrices(fresh))
            if n.refused:
                self._to_refdata(ProbeCodes(n.refused))
        if n.state is not None:
            detail = "" if n.state is ConnectionState.LIVE else n.message
            held = self._links.get(msg.link)
            if held is not None and held[:2] == (n.state, detail):
                return
            since = held[2] if held is not None and held[0] is n.state else time.monotonic()
            self._links[msg.link] = (n.state, detail, since)
            if n.state is ConnectionState.PLAN_CAP:
                self._fall_back(pump.endpoint)
            self._send_links()

    def _fall_back(self, endpoint: Endpoint) -> None:
        if self._shared[endpoint]:
            return
        _, hold = self._capped.get(endpoint, (0.0, self._config.reexpand_after / 2))
        hold = min(hold * 2, 1800.0)
        self._capped[endpoint] = (hold, hold)
        self._shared[endpoint] = True
        self._note(
            EventKind.PLAN_LIMIT,
            endpoint.value,
            f"{endpoint.value}: the server refuses one link per market; markets now share one link "
            f"(one link per market is tried again after {hold:.0f}s up)",
        )
        self._layout()

    def _send_links(self) -> None:
        by_market: dict[str, LinkView] = {}
        for name, pump in self._pumps.items():
            state, detail, _ = self._links.get(name, (ConnectionState.CONNECTING, "", 0.0))
            for m in pump.markets:
                by_market[m] = LinkView(name, state, detail)
        self._to_processor(LinksChanged(MappingProxyType(by_market)))

    def _note(self, kind: EventKind, connection: str, message: str, codes: tuple[str, ...] = ()) -> None:
        self._to_processor(FeedNote(kind, connection, message, codes))

    def _shutdown(self) -> None:
        pumps = [*self._pumps.values(), *self._stopping]
        for p in pumps:
            p.stop()
        deadline = time.monotonic() + 1.0
        for p in pumps:
            p.join(max(0.05, deadline - time.monotonic()))
        self._pumps.clear()
        self._stopping.clear()
        self.pumps = ()

    def link_stats(self) -> tuple[LinkStats, ...]:
        """The published stats of the live pumps (any thread)."""
        return tuple(p.stats for p in self.pumps)
