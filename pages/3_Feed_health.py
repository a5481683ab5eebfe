"""Feed health: connections, plan limits, drops, events and market clocks of the shared feed."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from ui.health import HEADERS, clocks_frame, connections_frame, drops_frame, events_frame, invalid_frame
from ui.i18n import N_
from ui.layout import setup_page
from ui.live import auth_banner, feed_alerts, notify_events, service_banner, viewer_tz
from ui.phase import live_fragment
from ui.store import render_store_banner, store_figures
from ui.watchlist import escape_markdown

page = setup_page(
    N_("Feed health"),
    ":material/monitor_heart:",
    N_(
        "One feed serves every open tab: its WebSocket connections, the plan limits it obeys, what it "
        "dropped and why, and each market's session clock."
    ),
)
manager, state, tr, view = page.manager, page.state, page.tr, page.view
tz, tz_name = viewer_tz()
codes = list(state.watchlist)


def _table(df: pd.DataFrame, key: str, empty: str, **kwargs: object) -> None:
    """A health table with translated headers; the frame keeps its English keys."""
    if df.empty:
        st.caption(empty)
        return
    config = {c: st.column_config.Column(tr._(HEADERS[c])) for c in df.columns if c in HEADERS}
    config.update(kwargs.pop("column_config", {}) or {})  # type: ignore[arg-type]
    st.dataframe(df, key=key, hide_index=True, width="stretch", column_config=config, **kwargs)


def live_health() -> None:
    """Status read once per run; every section below draws from that one value."""
    status = manager.status()
    now = dt.datetime.now(dt.UTC)
    notify_events(status, tr)
    if codes:
        feed_alerts(view.snapshot(codes, status), status, tr, key="health_alerts")
    else:
        service_banner(status, tr)
        auth_banner(status, tr)
        render_store_banner(status.store, tr)

    live_conns = sum(1 for c in status.connections if str(c.state) == "live")
    cols = st.columns(5)
    cols[0].metric(
        tr._("Mode"),
        tr._("Quote service") if status.source == "redis" else tr._("Demo") if status.demo else tr._("Live"),
        border=True,
        help=tr._("Demo runs a built-in simulator."),
    )
    cols[1].metric(tr._("Plan"), status.plan.title(), border=True, help=tr._("Limits below are this plan's."))
    cols[2].metric(
        tr._("Connections"),
        tr._("{live} / {total} live", live=live_conns, total=len(status.connections)),
        border=True,
        help=tr._("The plan allows {n} per endpoint group (stock, forex).", n=status.max_connections),
    )
    cols[3].metric(tr._("Codes per subscription"), f"{status.max_codes:,}", border=True)
    cols[4].metric(
        tr._("Ticks applied"),
        f"{status.ticks_applied:,}",
        border=True,
        help=tr._(
            "Snapshot version {version}; symbols watched across all open tabs: {count}",
            version=f"{status.snapshot_version:,}",
            count=f"{len(manager.watched()):,}",
        ),
    )

    if status.source == "redis":
        st.caption(
            tr._(
                "Via quote service: read from Redis at {where}; the publisher (`python -m feed serve`) "
                "holds the AllTick connections below and serves every replica.",
                where=escape_markdown(status.service),
            )
            + (" " + tr._("It publishes simulated data (demo mode).") if status.demo else "")
        )
    st.subheader(tr._("Connections"), anchor=False)
    _table(
        connections_frame(status, now, tr),
        "health_conns",
        tr._("No connection open: nothing is watched."),
        column_config={"Msgs/s": st.column_config.NumberColumn(tr._(HEADERS["Msgs/s"]), format="%.1f")},
    )

    left, right = st.columns(2)
    with left:
        st.subheader(tr._("Drops by reason"), anchor=False)
        _table(drops_frame(status, tr), "health_drops", tr._("Nothing dropped."))
    with right:
        st.subheader(tr._("Invalid symbols"), anchor=False)
        _table(
            invalid_frame(status, codes, tr),
            "health_invalid",
            tr._("AllTick accepted every code of this watchlist."),
        )

    st.subheader(tr._("Market clocks"), anchor=False)
    try:
        clocks = clocks_frame(manager.market_clocks(), now, tr)
    except Exception as exc:  # a calendar gap must not hide the rest of the page
        st.warning(tr._("Market clocks unavailable: {error}", error=escape_markdown(str(exc)[:200])))
    else:
        _table(clocks, "health_clocks", tr._("No market clocks."))

    st.subheader(tr._("Tick store"), anchor=False)
    for col, (label, value, hint) in zip(st.columns(5), store_figures(status.store, tr), strict=True):
        col.metric(label, value, border=True, help=hint or None)
    if status.store.message:
        st.caption(escape_markdown(status.store.message))

    st.subheader(tr._("Recent events"), anchor=False)
    _table(
        events_frame(status.events, tz, tr=tr),
        "health_events",
        tr._("No events yet."),
        column_config={"Time": st.column_config.TextColumn(tr._("Time ({zone})", zone=tz_name))},
        height=min(420, 35 * (len(status.events) + 1) + 3),
    )
    st.caption(tr._("Updated {time} {zone}", time=now.astimezone(tz).strftime("%H:%M:%S"), zone=tz_name))


# Not on the replicas' beat (ui/phase.py): nothing here is compared across replicas, and
# its 2 s period would hold the page's first draw up to 2 s.
live_fragment(live_health, max(2.0, state.refresh_s) if state.live else None, in_step=False)
