"""Heatmap: today's % change per market as tiles on one fixed, symmetric colour scale."""

from __future__ import annotations

import streamlit as st

from ui.charts import heatmap_parts, scale_legend
from ui.colors import Convention
from ui.format import format_pct
from ui.layout import setup_page
from ui.live import feed_alerts, notify_events
from ui.sidebar import markets_in
from ui.tables import complete_snapshot, market_summary

SCALES = (2.0, 5.0, 10.0)
TILES_PER_ROW = 6

page = setup_page(
    "Heatmap",
    ":material/grid_view:",
    "Each tile is one symbol's move since its previous close. The scale is fixed, so a colour means "
    "the same move in every market and on every refresh; faded tiles are not trading right now.",
)
manager, state = page.manager, page.state

if not state.watchlist:
    st.info("The watchlist is empty. Add symbols or a preset in the sidebar.", icon=":material/playlist_add:")
    st.stop()

scale_col, legend_col = st.columns([1, 3], vertical_alignment="bottom")
domain = scale_col.segmented_control(
    "Colour scale",
    SCALES,
    default=5.0,
    required=True,
    key="heat_scale",
    persist_state="session",
    format_func=lambda d: f"±{d:g}%",
    help="Moves beyond the scale take its end colour (clamped).",
)
domain = float(domain or 5.0)
legend_col.altair_chart(scale_legend(state.convention, domain), key="heat_legend", width="content")
markets = markets_in(state.watchlist)
codes = list(state.watchlist)
up, down = ("red", "green") if state.convention is Convention.RED_UP else ("green", "red")
st.caption(
    f"Gains :{up}[{up}], losses :{down}[{down}], flat grey · scale ±{domain:g}% centred on 0 · "
    "hover a tile for name, last and previous close."
)


def live_heatmap() -> None:
    """Per market: a one-line summary and the tile grid, refreshed in place."""
    snap = complete_snapshot(manager.snapshot(codes), codes)
    status = manager.status()
    notify_events(status)
    feed_alerts(snap, status)
    summary = market_summary(snap).set_index("market")
    for market in markets:
        rows = snap[snap["market"] == market.value]
        if rows.empty:
            continue
        s = summary.loc[market.value]
        with st.container(border=True, key=f"heat_box_{market.value}"):
            moves = (
                f"▲ {s['gainers']} ▼ {s['losers']} · average {format_pct(s['avg_pct'])}"
                if s["priced"]
                else "waiting for prices…"
            )
            st.markdown(f"**{market.label}** · {s['symbols']} symbols · {moves}")
            # The spec is built and validated once per layout; each refresh sends only the data.
            data, spec = heatmap_parts(rows, state.convention, domain=domain, columns=TILES_PER_ROW)
            st.vega_lite_chart(data, spec, key=f"heat_{market.value}", width="stretch")


st.fragment(live_heatmap, run_every=state.run_every)()
