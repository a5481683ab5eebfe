"""Heatmap: today's % change per market as tiles on one fixed, symmetric colour scale."""

from __future__ import annotations

import streamlit as st

from ui.charts import heatmap_parts, scale_legend
from ui.colors import Convention
from ui.format import format_pct
from ui.i18n import N_
from ui.layout import setup_page
from ui.live import feed_alerts, notify_events
from ui.phase import live_fragment
from ui.sidebar import markets_in
from ui.tables import market_summary

SCALES = (2.0, 5.0, 10.0)
TILES_PER_ROW = 6

page = setup_page(
    N_("Heatmap"),
    ":material/grid_view:",
    N_(
        "Each tile is one symbol's move since its previous close. The scale is fixed, so a colour means "
        "the same move in every market and on every refresh; faded tiles are not trading right now."
    ),
)
manager, state, tr, view = page.manager, page.state, page.tr, page.view

if not state.watchlist:
    st.info(
        tr._("The watchlist is empty. Add symbols or a preset in the sidebar."),
        icon=":material/playlist_add:",
    )
    st.stop()

scale_col, legend_col = st.columns([1, 3], vertical_alignment="bottom")
domain = scale_col.segmented_control(
    tr._("Colour scale"),
    SCALES,
    default=5.0,
    required=True,
    key="heat_scale",
    persist_state="session",
    format_func=lambda d: f"±{d:g}%",
    help=tr._("Moves beyond the scale take its end colour (clamped)."),
)
domain = float(domain or 5.0)
legend_col.altair_chart(scale_legend(state.convention, domain), key="heat_legend", width="stretch")
markets = markets_in(state.watchlist)
codes = list(state.watchlist)
gains, losses = (
    (tr._("red"), tr._("green")) if state.convention is Convention.RED_UP else (tr._("green"), tr._("red"))
)
up, down = ("red", "green") if state.convention is Convention.RED_UP else ("green", "red")
st.caption(
    tr._(
        "Gains {gains}, losses {losses}, flat grey · scale ±{domain}% centred on 0 · "
        "hover a tile for name, last and previous close.",
        gains=f":{up}[{gains}]",
        losses=f":{down}[{losses}]",
        domain=f"{domain:g}",
    )
)


def live_heatmap() -> None:
    """Per market: a one-line summary and the tile grid, refreshed in place."""
    status = view.status()
    snap = view.snapshot(codes, status)
    notify_events(status, tr)
    feed_alerts(snap, status, tr, key="heat_alerts")
    summary = market_summary(snap, tr).set_index("market")
    for market in markets:
        rows = snap[snap["market"] == market.value]
        if rows.empty:
            continue
        s = summary.loc[market.value]
        with st.container(border=True, key=f"heat_box_{market.value}"):
            moves = (
                tr._(
                    "▲ {gainers} ▼ {losers} · average {pct}",
                    gainers=s["gainers"],
                    losers=s["losers"],
                    pct=format_pct(s["avg_pct"]),
                )
                if s["priced"]
                else tr._("waiting for prices…")
            )
            count = tr.ngettext("{n} symbol", "{n} symbols", int(s["symbols"]))
            st.markdown(f"**{s['label']}** · {count} · {moves}")
            # The spec is built and validated once per layout; each refresh sends only the data.
            data, spec = heatmap_parts(rows, state.convention, domain=domain, columns=TILES_PER_ROW, tr=tr)
            st.vega_lite_chart(data, spec, key=f"heat_{market.value}", width="stretch")
    if view.paused_at is not None:
        st.caption(
            tr._(
                "Paused at {time}: the tiles hold the prices of that moment.",
                time=view.paused_at.strftime("%H:%M:%S UTC"),
            )
        )


live_fragment(live_heatmap, state.run_every, in_step=page.in_step)
