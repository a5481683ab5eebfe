"""Status and readiness, as pure functions of what the feed's threads published.

``FeedManager.status()`` and ``wait_ready()`` call these from the reader's thread with
the latest Snapshot, the pumps' frozen :class:`~feed.connection.LinkStats` and the
reference-data worker's status; nothing here reads a live object or takes a lock.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from feed import calendars
from feed.config import FeedConfig
from feed.connection import LinkStats
from feed.model import ConnectionStatus, FeedStatus, Freshness, Readiness
from feed.protocol.plans import Plan
from feed.refdata import RefDataStatus
from feed.snapshot import Snapshot
from feed.store.status import StoreStatus

__all__ = ["build_status", "readiness", "status_of"]


def build_status(
    snap: Snapshot,
    links: Sequence[LinkStats],
    *,
    demo: bool,
    plan: Plan,
    refdata: RefDataStatus,
    errors: Mapping[str, int],
    notices: tuple[str, ...] = (),
    sinks: Mapping[str, Mapping[str, int]] | None = None,
    store: StoreStatus | None = None,
) -> FeedStatus:
    drops: Counter[str] = Counter(snap.drops)
    rows = _connection_rows(snap, links, drops)
    all_errors = Counter({k: v for k, v in errors.items() if v})
    all_errors.update(snap.errors)
    if refdata.errors:
        all_errors["refdata"] += refdata.errors
    for s in links:
        if s.errors:
            all_errors[f"link {s.name}"] += s.errors
    return FeedStatus(
        demo=demo,
        plan=plan.name,
        max_connections=plan.max_connections,
        max_codes=plan.max_codes,
        connections=tuple(rows),
        drops=dict(drops),
        events=snap.events,
        invalid_symbols={c: r for c, r in snap.invalid.items() if c in snap.markets},
        snapshot_version=snap.version,
        ticks_applied=snap.ticks_applied,
        auth_error=snap.auth_error,
        running=snap.running,
        errors=dict(all_errors),
        pending=dict(refdata.pending),
        pending_cause=refdata.cause,
        notices=notices,
        sinks={k: dict(v) for k, v in (sinks or {}).items()},
        store=store or StoreStatus(),
    )


def _connection_rows(
    snap: Snapshot, links: Sequence[LinkStats], drops: Counter[str]
) -> list[ConnectionStatus]:
    """One row per link; each link's rejected frames are added to ``drops``."""
    rows = []
    for s in links:
        drops.update(s.rejected)
        rows.append(
            ConnectionStatus(
                name=s.name,
                endpoint=s.endpoint,
                state=s.state,
                markets=s.markets,
                symbols=s.symbols,
                not_streamed=tuple(
                    c for c in snap.watched if c in snap.not_streamed and _in(snap, c, s.markets)
                ),
                messages=s.messages,
                msgs_per_s=s.msgs_per_s,
                reconnects=s.reconnects,
                last_error=s.last_error,
                connected_since=s.connected_since,
                last_message_at=s.last_message_at,
            )
        )
    return rows


def status_of(run: Any, snap: Snapshot, config: FeedConfig, sinks: Sequence[Any] = ()) -> FeedStatus:
    """The manager's ``status()``: a running feed's parts, or a stopped one's last state."""
    sink_stats = {s.name: _sink_row(s.stats) for s in sinks}
    if run is None:
        plan = config.plan_limits
        return build_status(
            snap, (), demo=config.demo, plan=plan, refdata=RefDataStatus(), errors={}, sinks=sink_stats
        )
    errors = {"supervisor": run.supervisor.errors, "view": run.view.errors}
    store = run.store.status if run.store is not None else StoreStatus()
    errors.update({f"{name} thread died": 1 for name, part in run.parts.items() if not part.alive})
    return build_status(
        snap,
        run.supervisor.link_stats(),
        demo=config.demo,
        plan=config.plan_limits,
        refdata=run.refdata.status,
        errors=errors,
        notices=calendars.horizon_notices(snap.markets.values()),
        sinks=sink_stats,
        store=store,
    )


def _sink_row(stats: Any) -> dict[str, int]:
    return {
        "delivered": stats.delivered,
        "dropped": stats.dropped,
        "errors": stats.errors,
        "buffered": stats.buffered,
    }


def _in(snap: Snapshot, code: str, markets: tuple[str, ...]) -> bool:
    m = snap.markets.get(code)
    return m is not None and m.value in markets


def readiness(frame: pd.DataFrame, status: FeedStatus, *, need_prev_close: bool = True) -> Readiness:
    """Which watched symbols lack a price (or a previous close), and the cause for each."""
    missing: dict[str, str] = {}
    waiting_on = f" ({status.pending_cause})" if status.pending_cause else ""
    for row in frame.itertuples(index=False):
        fresh = row.freshness
        if fresh == Freshness.NOT_STREAMED:
            missing[row.symbol] = f"{'invalid' if 'ret 60' in row.note else 'not streamed'}: {row.note}"
        elif fresh == Freshness.AUTH_FAILED:
            missing[row.symbol] = f"auth failed: {row.note or status.auth_error or 'token rejected'}"
        elif _nan(row.last):
            if fresh == Freshness.UNREACHABLE:
                missing[row.symbol] = f"unreachable: {row.note}"
            else:
                missing[row.symbol] = f"waiting for a price{waiting_on}"
        elif need_prev_close and _nan(row.prev_close):
            missing[row.symbol] = f"waiting for reference data (previous close){waiting_on}"
    if not status.running:
        missing = {c: "the feed is stopped" for c in frame["symbol"]} or missing
    return Readiness(missing, len(frame))


def _nan(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))
