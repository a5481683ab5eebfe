"""Compare: today's paths of 2 to 8 symbols, across markets, as % since previous close."""

from __future__ import annotations

import streamlit as st

from ui.compare_chart import compare_frame, compare_spec
from ui.i18n import N_
from ui.layout import setup_page
from ui.live import feed_alerts, notify_events, render_quotes, viewer_tz
from ui.phase import live_fragment
from ui.tables import grid_frame, quotes_table
from ui.watchlist import escape_markdown

PICK = "compare_pick"
MAX_PICK = 8

page = setup_page(
    N_("Compare"),
    ":material/stacked_line_chart:",
    N_(
        "Today's path of each symbol as % since its own previous close, so a US ADR, its Hong Kong line "
        "and an A-share read on one scale whatever their currency."
    ),
)
manager, state, tr, view = page.manager, page.state, page.tr, page.view
watchlist = list(state.watchlist)

# Keep the pick inside the current watchlist; first visit: the first four symbols.
picked = st.session_state.get(PICK)
wanted = watchlist[:4] if picked is None else [c for c in picked if c in watchlist][:MAX_PICK]
if picked != wanted:
    st.session_state[PICK] = wanted
picks = st.multiselect(
    tr._("Symbols to compare (2 to {max})", max=MAX_PICK),
    options=watchlist,
    key=PICK,
    max_selections=MAX_PICK,
    persist_state="session",
    placeholder=tr._("Pick symbols from your watchlist"),
)
if len(picks) < 2:
    st.info(
        tr._("Pick at least two symbols to compare.")
        if len(watchlist) >= 2
        else tr._("Pick at least two symbols to compare: add more to the watchlist in the sidebar first."),
        icon=":material/touch_app:",
    )
    st.stop()

_, tz_name = viewer_tz()


def live_compare() -> None:
    """The chart and the side-by-side table, from one snapshot read."""
    status = view.status()
    snap = view.snapshot(picks, status)
    notify_events(status, tr)
    feed_alerts(snap, status, tr, key="compare_alerts")
    prev = dict(zip(snap["symbol"], snap["prev_close"], strict=True))
    history = {c: view.history(c) for c in picks}
    frame = compare_frame(history, prev, tz=tz_name)
    with st.container(border=True, key="compare_box"):
        if frame.empty:
            st.caption(tr._("Waiting for prices and previous closes…"))
        # The spec is built and validated once per pick and zone; each refresh sends only the data.
        spec = compare_spec(frame, state.convention, symbols=picks, tz_label=tz_name, tr=tr, theme=page.theme)
        st.vega_lite_chart(frame, spec, key="compare_chart", width="stretch")
    missing = [c for c in picks if c not in set(frame["symbol"])]
    if missing and not frame.empty:
        st.caption(
            tr._(
                "No line yet for {codes}: waiting for a price or a previous close.",
                codes=escape_markdown(tr.join(missing)),
            )
        )
    table = grid_frame(quotes_table(snap, history, tr=tr))
    render_quotes(table, state.convention, key="compare_grid", tr=tr)


live_fragment(live_compare, state.run_every, in_step=page.in_step)
