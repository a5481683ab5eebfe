"""Premium: US ADRs and A shares against their Hong Kong lines, live, with FX and ratios."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from feed.premium import kind_averages, premium_table
from ui.i18n import N_
from ui.layout import setup_page
from ui.live import notify_events, viewer_tz
from ui.phase import live_fragment
from ui.premium import COLUMNS, WIDTHS, averages_lines, premium_bars, premium_line, premium_rows
from ui.watchlist import escape_markdown

page = setup_page(
    N_("Premium"),
    ":material/currency_exchange:",
    N_(
        "Each US ADR and A share against its Hong Kong line: ADR premium % = "
        "(US × USDHKD / (ratio × HK) − 1) × 100, A/H premium % = (A × USDHKD / (H × USDCNH) − 1) × 100, "
        "with the ratio in force on the US trade date. US and Hong Kong never trade at the same time, so a "
        "row says when its legs come from different sessions."
    ),
)
manager, state, tr, view = page.manager, page.state, page.tr, page.view
pairs, pair_errors = manager.premium_pairs()
for err in pair_errors:
    st.warning(tr._("Pair file: {error}", error=escape_markdown(str(err))), icon=":material/warning:")

from feed.runtime import get_session_premium_watch  # noqa: E402  (after set_page_config)

manager.show_premiums(watch=get_session_premium_watch())  # legs and FX stream while this page is open
codes = manager.premium_codes()
kinds = {"all": tr._("All pairs"), "ADR": tr._("ADR"), "AH": tr._("A/H")}
left, right = st.columns([2, 3], vertical_alignment="bottom")
kind = left.segmented_control(
    tr._("Pairs"), list(kinds), default="all", required=True, key="premium_kind", format_func=kinds.get,
    label_visibility="collapsed",
)  # fmt: skip
names = {f"{p.symbol} / {p.peer}": p for p in pairs}
chosen = right.selectbox(tr._("Intraday premium of"), list(names), key="premium_pair")
_, tz_name = viewer_tz()


def live_premium() -> None:
    """The table, the averages, the bars and the chosen pair's day, from one snapshot read."""
    status = view.status()
    notify_events(status, tr)
    snap = view.snapshot(codes, status)
    shown = [p for p in pairs if kind in (None, "all") or p.kind.value == kind]
    table = premium_table(shown, snap, snap, dt.datetime.now(dt.UTC))
    cols = st.columns(2)
    for col, (label, mean, note) in zip(cols, averages_lines(kind_averages(table), tr), strict=False):
        value = "—" if pd.isna(mean) else f"{mean:+.2f}%"
        col.metric(label, value, border=True, help=note)
    rows = premium_rows(table, tr)
    st.dataframe(
        rows,
        key="premium_table",
        hide_index=True,
        width="stretch",
        height=min(700, 35 * (len(rows) + 1) + 3),
        column_config={
            **{k: st.column_config.TextColumn(tr._(v), width=WIDTHS[k]) for k, v in COLUMNS.items()},
            **{
                k: st.column_config.NumberColumn(tr._(COLUMNS[k]), format=f, width=WIDTHS[k])
                for k, f in (("Price", "%.3f"), ("HK price", "%.3f"), ("Ratio", "%g"), ("Implied HK", "%.3f"))
            },
            "Premium %": st.column_config.NumberColumn(
                tr._(COLUMNS["Premium %"]), format="%+.2f%%", width=82
            ),
            "Pair": st.column_config.TextColumn(tr._(COLUMNS["Pair"]), width=WIDTHS["Pair"], pinned=True),
        },
    )
    st.caption(tr._("As of {time} UTC", time=dt.datetime.now(dt.UTC).strftime("%H:%M:%S")))
    waiting = table["premium_pct"].isna().sum()
    if waiting:
        st.caption(tr.ngettext("{n} pair waits for a price.", "{n} pairs wait for prices.", int(waiting)))
    with st.container(border=True, key="premium_bars_box"):
        st.altair_chart(premium_bars(table, state.convention, tr), key="premium_bars", width="stretch")
    with st.container(border=True, key="premium_line_box"):
        st.markdown(f"**{chosen}**")  # two canonical codes: nothing markdown would read
        path = manager.premium_path(names[chosen])
        if path["premium_pct"].notna().any():
            st.altair_chart(premium_line(path, tz_name, tr), key="premium_line", width="stretch")
        else:
            st.caption(tr._("No premium yet today: a leg has no minute path or no price."))


live_fragment(live_premium, state.run_every, in_step=page.in_step)
