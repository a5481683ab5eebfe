"""Quotes: the entry page. One live grid of every watched symbol, grouped by market.

Run with ``streamlit run streamlit_app.py``; the other pages live in ``pages/``.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from feed.symbols import Market
from ui.layout import setup_page
from ui.live import feed_alerts, notify_events, render_quotes, render_summary
from ui.sidebar import markets_in
from ui.tables import SPARK_POINTS, complete_snapshot, quotes_table, snapshot_csv
from ui.watchlist import market_of

page = setup_page(
    "Quotes",
    ":material/table_chart:",
    "Live last prices across US, Hong Kong, A-share, forex and crypto markets, each stamped in its "
    "exchange's local time and measured against that market's previous close.",
)
manager, state = page.manager, page.state

if not state.watchlist:
    st.info("The watchlist is empty. Add symbols or a preset in the sidebar.", icon=":material/playlist_add:")
    st.stop()

# Static controls, outside the live fragment: the market filter and the CSV export.
markets = markets_in(state.watchlist)
options = ["All", *(m.value for m in markets)]
if st.session_state.get("quotes_market") not in options:
    st.session_state["quotes_market"] = "All"
left, right = st.columns([5, 1], vertical_alignment="bottom")
with left:
    choice = st.segmented_control(
        "Market",
        options,
        required=True,
        key="quotes_market",
        persist_state="session",
        format_func=lambda o: "All markets" if o == "All" else Market(o).label,
        label_visibility="collapsed",
    )
if choice in (None, "All"):
    codes = list(state.watchlist)
else:
    codes = [c for c in state.watchlist if (m := market_of(c)) is not None and m.value == choice]
with right:
    st.download_button(
        "CSV",
        data=lambda: snapshot_csv(complete_snapshot(manager.snapshot(codes), codes)),
        file_name="quotes.csv",
        mime="text/csv",
        key="quotes_csv",
        on_click="ignore",
        icon=":material/download:",
        help="Download the current snapshot of these symbols (raw numbers, ISO-8601 UTC times).",
        width="stretch",
    )


def live_quotes() -> None:
    """Cheap per-second body: read the snapshot, draw cards, alerts and the grid."""
    snap = complete_snapshot(manager.snapshot(codes), codes)
    status = manager.status()
    notify_events(status)
    render_summary(snap, state.convention)
    feed_alerts(snap, status)
    sparks = manager.sparklines(codes, points=SPARK_POINTS)
    render_quotes(quotes_table(snap, sparks), state.convention, key="quotes_grid")
    stamp = dt.datetime.now(dt.UTC).strftime("%H:%M:%S UTC")
    live = f"every {state.refresh_s:g} s" if state.live else "paused"
    st.container(key="quotes_stamp").caption(f"Updated {stamp} · {len(codes)} symbols · refresh {live}")


st.fragment(live_quotes, run_every=state.run_every)()
