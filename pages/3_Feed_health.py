"""Feed health: connections, plan limits, drops, events and market clocks of the shared feed."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from ui.health import clocks_frame, connections_frame, drops_frame, events_frame
from ui.layout import setup_page
from ui.live import feed_alerts, notify_events, viewer_tz
from ui.tables import complete_snapshot
from ui.watchlist import escape_markdown

page = setup_page(
    "Feed health",
    ":material/monitor_heart:",
    "One feed serves every open tab: its WebSocket connections, the plan limits it obeys, what it "
    "dropped and why, and each market's session clock.",
)
manager, state = page.manager, page.state
tz, tz_name = viewer_tz()
codes = list(state.watchlist)


def _table(df: pd.DataFrame, key: str, empty: str, **kwargs: object) -> None:
    if df.empty:
        st.caption(empty)
    else:
        st.dataframe(df, key=key, hide_index=True, width="stretch", **kwargs)


def live_health() -> None:
    """Status read once per run; every section below draws from that one value."""
    status = manager.status()
    now = dt.datetime.now(dt.UTC)
    notify_events(status)
    snap = complete_snapshot(manager.snapshot(codes), codes) if codes else None
    if snap is not None:
        feed_alerts(snap, status)
    elif status.auth_error:
        st.error(
            f"AllTick refused the token: {escape_markdown(status.auth_error)}", icon=":material/key_off:"
        )

    live_conns = sum(1 for c in status.connections if str(c.state) == "live")
    cols = st.columns(5)
    cols[0].metric(
        "Mode", "Demo" if status.demo else "Live", border=True, help="Demo runs a built-in simulator."
    )
    cols[1].metric("Plan", status.plan.title(), border=True, help="Limits below are this plan's.")
    cols[2].metric(
        "Connections",
        f"{live_conns} / {len(status.connections)} live",
        border=True,
        help=f"The plan allows {status.max_connections} per endpoint group (stock, forex).",
    )
    cols[3].metric("Codes per subscription", f"{status.max_codes:,}", border=True)
    cols[4].metric(
        "Ticks applied",
        f"{status.ticks_applied:,}",
        border=True,
        help=f"Snapshot version {status.snapshot_version:,}; symbols watched across all open tabs: "
        f"{len(manager.watched())}",
    )

    st.subheader("Connections", anchor=False)
    _table(
        connections_frame(status, now),
        "health_conns",
        "No connection open: nothing is watched.",
        column_config={"Msgs/s": st.column_config.NumberColumn(format="%.1f")},
    )

    left, right = st.columns(2)
    with left:
        st.subheader("Drops by reason", anchor=False)
        _table(drops_frame(status), "health_drops", "Nothing dropped.")
    with right:
        st.subheader("Invalid symbols", anchor=False)
        invalid = pd.DataFrame(sorted(status.invalid_symbols.items()), columns=["Symbol", "Reason"])
        _table(invalid, "health_invalid", "The server accepted every code.")

    st.subheader("Market clocks", anchor=False)
    try:
        clocks = clocks_frame(manager.market_clocks(), now)
    except Exception as exc:  # a calendar gap must not hide the rest of the page
        st.warning(f"Market clocks unavailable: {escape_markdown(str(exc)[:200])}")
    else:
        _table(clocks, "health_clocks", "No market clocks.")

    st.subheader("Recent events", anchor=False)
    _table(
        events_frame(status.events, tz),
        "health_events",
        "No events yet.",
        column_config={"Time": st.column_config.TextColumn(f"Time ({tz_name})")},
        height=min(420, 35 * (len(status.events) + 1) + 3),
    )
    st.caption(f"Updated {now.astimezone(tz).strftime('%H:%M:%S')} {tz_name}")


st.fragment(live_health, run_every=max(2.0, state.refresh_s) if state.live else None)()
