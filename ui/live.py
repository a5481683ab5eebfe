"""Streamlit rendering pieces shared by the pages' live fragments.

Everything here runs in the script thread (a page run or a fragment rerun). Feed
threads never call into this module; pages read the manager and draw.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import streamlit as st

from feed.model import FeedStatus
from feed.symbols import Market
from ui.colors import Convention
from ui.format import format_pct
from ui.health import clock_line, new_events, not_streamed, toast_for
from ui.tables import market_summary, style_quotes
from ui.watchlist import escape_markdown, shorten

__all__ = [
    "feed_alerts",
    "notify_events",
    "quotes_column_config",
    "render_clocks",
    "render_quotes",
    "render_summary",
    "stream_notice",
    "viewer_tz",
]

LAST_SEQ = "feed_last_event_seq"
ROW_PX = 35
MAX_TOASTS = 3


def viewer_tz() -> tuple[dt.tzinfo, str]:
    """The browser's time zone (``st.context.timezone``), UTC when unknown or bogus."""
    name = None
    try:
        name = st.context.timezone
    except Exception:  # bare mode / AppTest without a browser
        name = None
    if name:
        try:
            return ZoneInfo(name), name
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return dt.UTC, "UTC"


def notify_events(status: FeedStatus) -> None:
    """Toast feed events this session has not seen yet (connect, drop, recover, limits, auth)."""
    last = st.session_state.get(LAST_SEQ)
    fresh = new_events(status.events, last)
    for event in fresh[-MAX_TOASTS:]:
        text, icon = toast_for(event)
        st.toast(escape_markdown(text), icon=icon, duration="long")
    if len(fresh) > MAX_TOASTS:
        st.toast(f"{len(fresh) - MAX_TOASTS} more feed events: see Feed health.", icon=":material/info:")
    top = max((e.seq for e in status.events), default=0)
    st.session_state[LAST_SEQ] = max(top, last or 0)


def feed_alerts(snapshot: pd.DataFrame, status: FeedStatus) -> None:
    """A refused token, then any watched symbol that is not streaming."""
    if status.auth_error:
        st.error(
            f"AllTick refused the token: {escape_markdown(shorten(status.auth_error, 200))}. "
            "Check `ALLTICK_TOKEN` and `ALLTICK_PLAN`.",
            icon=":material/key_off:",
        )
    stream_notice(snapshot, status)


def stream_notice(snapshot: pd.DataFrame, status: FeedStatus | None) -> None:
    """Name every watched symbol that is not streaming, grouped by reason."""
    missing = not_streamed(status, snapshot)
    if snapshot is not None and not snapshot.empty:
        watched = set(snapshot["symbol"])
        missing = {c: n for c, n in missing.items() if c in watched}
    if not missing:
        return
    by_reason: dict[str, list[str]] = {}
    for code, note in missing.items():
        by_reason.setdefault(note or "over the plan's code cap", []).append(code)
    lines = []
    for reason, codes in by_reason.items():
        shown = ", ".join(codes[:20]) + (f" and {len(codes) - 20} more" if len(codes) > 20 else "")
        lines.append(f"{escape_markdown(shorten(reason, 120)).capitalize()}: {escape_markdown(shown)}")
    head = f"**{len(missing)} watched symbol{'s' if len(missing) != 1 else ''} not streamed.**"
    if status is not None:
        head += (
            f" The {escape_markdown(status.plan)} plan streams {status.max_codes:,} codes per subscription."
        )
    st.warning("  \n".join([head, *lines]), icon=":material/block:")


def quotes_column_config(convention: Convention, with_spark: bool = True) -> dict[str, Any]:
    """Column setup for the quotes grid; number formats come from the Styler, per row."""
    cc = st.column_config
    config: dict[str, Any] = {
        "Symbol": cc.TextColumn("Symbol", width=88),
        "Name": cc.TextColumn("Name", width=175),
        "Market": cc.TextColumn("Mkt", width=52, help="US, HK, CN (A-shares), FX (forex & metals), CRYPTO"),
        "Last": cc.NumberColumn("Last", width=88, help="Last traded price, in the quote currency"),
        "Prev close": cc.NumberColumn("Prev close", width=88, help="Close of the previous session"),
        "Change": cc.NumberColumn("Change", width=74),
        "% Chg": cc.NumberColumn("% Chg", width=74),
        "Time": cc.TextColumn("Last trade", width=118, help="Exchange-local time of the last price"),
        "Status": cc.TextColumn(
            "Status", width=100, help="live · quiet · market closed · waiting · feed down …"
        ),
    }
    if with_spark:
        config["Today"] = cc.LineChartColumn(
            "Today", width=110, color=convention.sparkline_color, help="Today's price path"
        )
    return config


def render_quotes(table: pd.DataFrame, convention: Convention, key: str, max_rows: int = 30) -> None:
    """The styled quotes grid with a height that fits its rows (up to ``max_rows``)."""
    rows = max(1, min(len(table), max_rows))
    st.dataframe(
        style_quotes(table, convention),
        key=key,
        hide_index=True,
        width="stretch",
        height=(rows + 1) * ROW_PX + 3,
        column_config=quotes_column_config(convention, with_spark="Today" in table),
        column_order=list(table.columns),
        placeholder="—",
    )


def render_summary(snapshot: pd.DataFrame, convention: Convention, min_cols: int = 3) -> None:
    """One bordered card per market: gainers vs losers, the average move, best and worst."""
    summary = market_summary(snapshot)
    if summary.empty:
        return
    cols = st.columns(max(min_cols, len(summary)))
    for col, row in zip(cols, summary.itertuples(index=False), strict=False):
        with col, st.container(border=True):
            avg = row.avg_pct
            has_avg = not pd.isna(avg)
            st.metric(
                label=f"{row.label} · {row.symbols} symbol{'s' if row.symbols != 1 else ''}",
                value=f"▲ {row.gainers}   ▼ {row.losers}",
                delta=f"{format_pct(avg)} avg" if has_avg else None,
                delta_color=convention.delta_color if has_avg and avg != 0 else "off",
                delta_arrow="auto" if has_avg and avg != 0 else "off",
                help="Symbols up ▲ and down ▼ since the previous close; the average move of those priced.",
            )
            if row.priced == 1:
                st.caption(f"Only **{row.best}** priced: {_tinted(row.best_pct, convention)}")
            elif row.priced:
                st.caption(
                    f"Best **{row.best}** {_tinted(row.best_pct, convention)} · "
                    f"Worst **{row.worst}** {_tinted(row.worst_pct, convention)}"
                )
            else:
                st.caption("Waiting for prices…")


def _tinted(pct: float, convention: Convention) -> str:
    """A % move as markdown in its direction colour (theme green/red match ui.colors)."""
    text = format_pct(pct)
    if pd.isna(pct) or pct == 0:
        return text
    up = "red" if convention is Convention.RED_UP else "green"
    down = "green" if up == "red" else "red"
    return f":{up if pct > 0 else down}[{text}]"


def render_clocks(manager: Any, markets: Iterable[Market], run_every: float | None) -> None:
    """Sidebar market clocks: phase and time to the next open or close, ticking on their own."""
    wanted = [m.value for m in markets] or [m.value for m in Market]

    def clocks() -> None:
        now = dt.datetime.now(dt.UTC)
        try:
            all_clocks = manager.market_clocks()
        except Exception as exc:  # a calendar gap must not take the page down
            st.caption(f"Market clocks unavailable: {escape_markdown(shorten(str(exc), 80))}")
            return
        lines = []
        for code in wanted:
            clock = all_clocks.get(code)
            if clock is None:
                continue
            icon, phase, when = clock_line(clock, now)
            tint = "blue" if clock.is_open else "gray"
            tail = f" · {when}" if when else ""
            lines.append(f"{icon} **{code}** :{tint}[{phase}]{tail}")
        st.markdown("  \n".join(lines) or "No market clocks.")
        if getattr(manager.config, "demo", False):
            st.caption("Real exchange hours; the demo simulator trades around the clock.")

    st.fragment(clocks, run_every=run_every)()
