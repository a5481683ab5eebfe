"""Quotes: the entry page. One live grid of every watched symbol, grouped by market.

Run with ``streamlit run streamlit_app.py``; the other pages live in ``pages/``.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from ui.board import BOARDS, Board, build_board
from ui.i18n import N_
from ui.layout import setup_page
from ui.live import feed_alerts, notify_events, render_quotes, render_summary, viewer_tz
from ui.phase import live_fragment
from ui.sidebar import markets_in
from ui.store import render_export
from ui.tables import snapshot_csv
from ui.vocab import market_label
from ui.watchlist import market_of

page = setup_page(
    N_("Quotes"),
    ":material/table_chart:",
    N_(
        "Live last prices across US, Hong Kong, A-share, forex and crypto markets, each stamped in its "
        "exchange's local time and measured against that market's previous close."
    ),
)
manager, state, tr, view = page.manager, page.state, page.tr, page.view

if not state.watchlist:
    st.info(
        tr._("The watchlist is empty. Add symbols or a preset in the sidebar."),
        icon=":material/playlist_add:",
    )
    if st.button(tr._("Load the default list"), key="wl_defaults", icon=":material/restart_alt:"):
        st.session_state["watchlist"] = list(manager.config.default_symbols)
        st.rerun()
    st.stop()

# Static controls, outside the live fragment: the market filter and the CSV export.
markets = markets_in(state.watchlist)
options = ["All", *(m.value for m in markets)]
if st.session_state.get("quotes_market") not in options:
    st.session_state["quotes_market"] = "All"
left, right = st.columns([5, 1], vertical_alignment="bottom")
with left:
    choice = st.segmented_control(
        tr._("Market"),
        options,
        required=True,
        key="quotes_market",
        persist_state="session",
        format_func=lambda o: tr._("All markets") if o == "All" else market_label(tr, o),
        label_visibility="collapsed",
    )
if choice in (None, "All"):
    codes = list(state.watchlist)
else:
    codes = [c for c in state.watchlist if (m := market_of(c)) is not None and m.value == choice]
shown = page.shown


def _csv() -> bytes:
    """Exactly the rows the grid drew last (frozen ones while paused); English columns."""
    frame = shown.frame if shown.frame is not None else view.snapshot(codes)
    return snapshot_csv(frame)


with right:
    st.download_button(
        "CSV",
        data=_csv,
        file_name="quotes.csv",
        mime="text/csv",
        key="quotes_csv",
        on_click="ignore",
        icon=":material/download:",
        help=tr._(
            "The rows on screen as a CSV file: raw numbers, ISO-8601 UTC times and English "
            "column names, whatever the page language."
        ),
        width="stretch",
    )


def _board(status: object) -> Board:
    """Live: the board every session shares (built once per snapshot version), this viewer's
    market on top. Paused: this session's frozen rows, built here."""
    if view.live:
        return BOARDS.get(manager, state.watchlist, tr, status, state.run_every).only(choice)  # type: ignore[arg-type]
    return build_board(view, tuple(codes), tr, status)  # type: ignore[arg-type]


def live_quotes() -> None:
    """Cheap per-second body: the shared board's cards, alerts and grid, drawn for this viewer."""
    status = view.status()
    board = _board(status)
    notify_events(status, tr)
    feed_alerts(board.snapshot, status, tr, key="quotes_alerts")
    render_summary(board.summary, state.convention, tr)
    render_quotes(board.grid, state.convention, key="quotes_grid", tr=tr)
    shown.set(board.snapshot)
    count = tr.ngettext("{n} symbol", "{n} symbols", len(codes))
    if view.paused_at is not None:
        stamp = view.paused_at.strftime("%H:%M:%S UTC")
        text = tr._(
            "Paused at {time} · {count} · the grid and the CSV hold the prices of that moment",
            time=stamp,
            count=count,
        )
    else:
        stamp = dt.datetime.now(dt.UTC).strftime("%H:%M:%S UTC")
        text = tr._(
            "Updated {time} · {count} · refresh every {seconds} s",
            time=stamp,
            count=count,
            seconds=f"{state.refresh_s:g}",
        )
    st.container(key="quotes_stamp").caption(text)


live_fragment(live_quotes, state.run_every, in_step=page.in_step)
render_export(manager, state.watchlist, manager.status().store, dt.datetime.now(viewer_tz()[0]).date(), tr)
