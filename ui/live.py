"""Streamlit rendering pieces shared by the pages' live fragments.

Everything here runs in the script thread (a page run or a fragment rerun). Feed
threads never call into this module; pages read the manager and draw. Every text
goes through the page's translator.
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
from ui.health import clock_line, invalid_reason, new_events, not_streamed, toast_for
from ui.i18n import EN, Translator
from ui.store import render_store_banner
from ui.tables import COLUMN_LABELS
from ui.vocab import market_short
from ui.watchlist import escape_markdown, shorten, summarise

__all__ = [
    "COLUMN_WIDTHS",
    "DISPLAY_ORDER",
    "feed_alerts",
    "notify_events",
    "quotes_column_config",
    "render_clocks",
    "render_quotes",
    "render_summary",
    "service_banner",
    "stream_notice",
    "viewer_tz",
]

LAST_SEQ = "feed_last_event_seq"
WATCHLIST = "watchlist"  # ui.sidebar's key (imported there from here would be circular)
ROW_PX = 35
# Column widths in px. Summed they fit the main column beside an open sidebar at
# 1280 px (tests/e2e measure it); the first four fit a 400 px phone.
COLUMN_WIDTHS = {
    "Symbol": 82,
    "Last": 82,
    "Change": 70,
    "% Chg": 66,
    "Today": 86,
    "Name": 122,
    "Market": 56,
    "Prev close": 82,
    "Time": 104,
    "Status": 88,
}
# The numbers right after the pinned symbol: on a 400 px phone they are what shows.
DISPLAY_ORDER = (
    "Symbol",
    "Last",
    "Change",
    "% Chg",
    "Today",
    "Name",
    "Market",
    "Prev close",
    "Time",
    "Status",
)


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


def notify_events(status: FeedStatus, tr: Translator = EN) -> None:
    """One toast for the feed events this session has not seen yet (drops, recoveries, failures).

    Never more than one per run: stacked toasts covered the page's controls. Several
    new events become one toast naming the newest and pointing to Feed health.
    """
    last = st.session_state.get(LAST_SEQ)
    fresh = new_events(status.events, last)
    if fresh:
        text, icon = toast_for(fresh[-1], tr)
        if len(fresh) > 1:
            text = tr.ngettext(
                "{latest} (and {n} more feed event: see Feed health)",
                "{latest} (and {n} more feed events: see Feed health)",
                len(fresh) - 1,
                latest=text,
            )
        st.toast(escape_markdown(text), icon=icon, duration="short")
    top = max((e.seq for e in status.events), default=0)
    st.session_state[LAST_SEQ] = max(top, last or 0)


def auth_banner(status: FeedStatus, tr: Translator = EN) -> None:
    """The refused token, said once: the feed's cause, and advice only if the cause lacks it."""
    if not status.auth_error:
        return
    cause = shorten(status.auth_error, 200).strip().rstrip(".")
    text = tr._("AllTick refused the token: {cause}.", cause=escape_markdown(cause))
    if "ALLTICK_TOKEN" not in cause:
        text += " " + tr._("Check `ALLTICK_TOKEN` (and `ALLTICK_PLAN`).")
    st.error(text, icon=":material/key_off:")


def service_banner(status: FeedStatus, tr: Translator = EN) -> None:
    """A reader of the quote service that cannot read it says why: Redis, or its publisher.

    The reader reconnects by itself; the banner goes when the service is readable again.
    """
    error = status.service_error
    if not error:
        return
    if error.startswith("Redis"):
        st.error(
            tr._(
                "**Redis is unreachable** at {where}: prices are not updating. Reconnecting automatically…",
                where=escape_markdown(status.service or "Redis"),
            ),
            icon=":material/cloud_off:",
        )
    else:
        st.warning(
            tr._(
                "**The quote service's publisher is silent:** no heartbeat from `python -m feed serve` "
                "for a few seconds. The prices shown are the last received, not live."
            ),
            icon=":material/sensors_off:",
        )


def feed_alerts(snapshot: pd.DataFrame, status: FeedStatus, tr: Translator = EN, key: str = "alerts") -> None:
    """The quote service's state, a refused token, the tick store's troubles, the codes AllTick
    refused, those over the plan's cap."""
    service_banner(status, tr)
    auth_banner(status, tr)
    render_store_banner(status.store, tr)
    stream_notice(snapshot, status, tr, key=key)


def _invalid(snapshot: pd.DataFrame | None, status: FeedStatus | None) -> dict[str, str]:
    if snapshot is None or snapshot.empty or status is None:
        return {}
    return {c: status.invalid_symbols[c] for c in snapshot["symbol"] if c in status.invalid_symbols}


def _remove_codes(codes: list[str]) -> None:
    drop = set(codes)
    st.session_state[WATCHLIST] = [c for c in st.session_state.get(WATCHLIST, []) if c not in drop]


def stream_notice(
    snapshot: pd.DataFrame, status: FeedStatus | None, tr: Translator = EN, key: str = "alerts"
) -> None:
    """Name every watched symbol that is not streaming, each under its own cause.

    Codes AllTick refused (unknown, not in the plan) are not a plan-cap matter: they
    get their own message and a button that removes them.
    """
    missing = not_streamed(status, snapshot)
    watched = set(snapshot["symbol"]) if snapshot is not None and not snapshot.empty else set()
    missing = {c: n for c, n in missing.items() if c in watched}
    invalid = _invalid(snapshot, status)
    if invalid:
        by_reason: dict[str, list[str]] = {}
        for code, reason in invalid.items():
            by_reason.setdefault(invalid_reason(tr, reason), []).append(code)
        lines = [
            tr.ngettext(
                "**AllTick refused {n} watched code.**",
                "**AllTick refused {n} watched codes.**",
                len(invalid),
            )
        ]
        for reason, codes in by_reason.items():
            lines.append(
                tr._(
                    "{reason}: {codes}",
                    reason=escape_markdown(reason[:1].upper() + reason[1:]),
                    codes=escape_markdown(summarise(tr, codes, 20)),
                )
            )
        box = st.container(key=f"{key}_invalid")
        box.warning("  \n".join(lines), icon=":material/block:")
        if box.button(
            tr.ngettext("Remove it from the watchlist", "Remove them from the watchlist", len(invalid)),
            key=f"{key}_remove_invalid",
            icon=":material/playlist_remove:",
        ):
            _remove_codes(list(invalid))
            st.rerun()
    over = [c for c in missing if c not in invalid]
    if over:
        head = tr.ngettext(
            "**{n} watched symbol not streamed:** over the plan's code cap.",
            "**{n} watched symbols not streamed:** over the plan's code cap.",
            len(over),
        )
        if status is not None:
            head += " " + tr._(
                "The {plan} plan streams {codes} codes per subscription.",
                plan=escape_markdown(status.plan),
                codes=f"{status.max_codes:,}",
            )
        st.warning("  \n".join([head, escape_markdown(summarise(tr, over, 20))]), icon=":material/block:")


def quotes_column_config(
    convention: Convention, with_spark: bool = True, tr: Translator = EN
) -> dict[str, Any]:
    """Column setup for the quotes grid (``ui.tables.grid_frame``): prices arrive as text in
    their row's precision, ``% Chg`` as a number this formats; no Styler."""
    cc = st.column_config
    label = {k: tr._(v) for k, v in COLUMN_LABELS.items()}
    config: dict[str, Any] = {
        "Symbol": cc.TextColumn(label["Symbol"], width=COLUMN_WIDTHS["Symbol"], pinned=True),
        "Name": cc.TextColumn(label["Name"], width=COLUMN_WIDTHS["Name"]),
        "Market": cc.TextColumn(
            label["Market"],
            width=COLUMN_WIDTHS["Market"],
            help=tr._("US, HK, CN (A-shares), FX (forex & metals), CRYPTO"),
        ),
        "Last": cc.TextColumn(
            label["Last"],
            width=COLUMN_WIDTHS["Last"],
            alignment="right",
            help=tr._("Last traded price, in the quote currency"),
        ),
        "Prev close": cc.TextColumn(
            label["Prev close"],
            width=COLUMN_WIDTHS["Prev close"],
            alignment="right",
            help=tr._("Close of the previous session"),
        ),
        "Change": cc.TextColumn(label["Change"], width=COLUMN_WIDTHS["Change"], alignment="right"),
        "% Chg": cc.NumberColumn(label["% Chg"], width=COLUMN_WIDTHS["% Chg"], format="%+.2f%%"),
        "Time": cc.TextColumn(
            label["Time"], width=COLUMN_WIDTHS["Time"], help=tr._("Exchange-local time of the last price")
        ),
        "Status": cc.TextColumn(
            label["Status"],
            width=COLUMN_WIDTHS["Status"],
            help=tr._("live · quiet · market closed · waiting · feed down …"),
        ),
    }
    if with_spark:
        config["Today"] = cc.LineChartColumn(
            label["Today"],
            width=COLUMN_WIDTHS["Today"],
            color=convention.sparkline_color,
            help=tr._("Today's path, as % since the previous close"),
        )
    return config


def render_quotes(
    table: pd.DataFrame,
    convention: Convention,
    key: str,
    max_rows: int = 30,
    tr: Translator = EN,
) -> None:
    """The quotes grid (a :func:`ui.tables.grid_frame`) with a height that fits its rows."""
    rows = max(1, min(len(table), max_rows))
    st.dataframe(
        table,
        key=key,
        hide_index=True,
        width="stretch",
        height=(rows + 1) * ROW_PX + 3,
        column_config=quotes_column_config(convention, with_spark="Today" in table, tr=tr),
        column_order=[c for c in DISPLAY_ORDER if c in table],
        placeholder="—",
        alt=tr.ngettext("Quotes of {n} symbol", "Quotes of {n} symbols", len(table)),
    )


def render_summary(
    summary: pd.DataFrame, convention: Convention, tr: Translator = EN, min_cols: int = 3
) -> None:
    """One bordered card per market (a :func:`ui.tables.market_summary` row): gainers vs
    losers, the average move, best and worst.

    On a phone the cards form one row that scrolls sideways (CSS in ``ui.layout``)
    instead of stacking five cards above the grid.
    """
    if summary.empty:
        return
    with st.container(key="market_cards"):
        cols = st.columns(max(min_cols, len(summary)))
        for col, row in zip(cols, summary.itertuples(index=False), strict=False):
            with col, st.container(border=True):
                avg = row.avg_pct
                has_avg = not pd.isna(avg)
                st.metric(
                    label=tr.ngettext(
                        "{market} · {n} symbol", "{market} · {n} symbols", row.symbols, market=row.label
                    ),
                    value=f"▲ {row.gainers}   ▼ {row.losers}",
                    delta=tr._("{pct} avg", pct=format_pct(avg)) if has_avg else None,
                    delta_color=convention.delta_color if has_avg and avg != 0 else "off",
                    delta_arrow="auto" if has_avg and avg != 0 else "off",
                    help=tr._(
                        "Symbols up ▲ and down ▼ since the previous close; the average move of those priced."
                    ),
                )
                if row.priced == 1:
                    st.caption(
                        tr._(
                            "Only **{code}** priced: {pct}",
                            code=row.best,
                            pct=_tinted(row.best_pct, convention),
                        )
                    )
                elif row.priced:
                    st.caption(
                        tr._(
                            "Best **{best}** {best_pct} · Worst **{worst}** {worst_pct}",
                            best=row.best,
                            best_pct=_tinted(row.best_pct, convention),
                            worst=row.worst,
                            worst_pct=_tinted(row.worst_pct, convention),
                        )
                    )
                else:
                    st.caption(tr._("Waiting for prices…"))


def _tinted(pct: float, convention: Convention) -> str:
    """A % move as markdown in its direction colour (the theme's green/red, both themes)."""
    text = format_pct(pct)
    if pd.isna(pct) or pct == 0:
        return text
    up = "red" if convention is Convention.RED_UP else "green"
    down = "green" if up == "red" else "red"
    return f":{up if pct > 0 else down}[{text}]"


def render_clocks(
    manager: Any, markets: Iterable[Market], run_every: float | None, tr: Translator = EN
) -> None:
    """Sidebar market clocks: phase and time to the next open or close, ticking on their own."""
    wanted = [m.value for m in markets] or [m.value for m in Market]

    def clocks() -> None:
        now = dt.datetime.now(dt.UTC)
        try:
            all_clocks = manager.market_clocks()
        except Exception as exc:  # a calendar gap must not take the page down
            st.caption(
                tr._("Market clocks unavailable: {error}", error=escape_markdown(shorten(str(exc), 80)))
            )
            return
        lines = []
        for code in wanted:
            clock = all_clocks.get(code)
            if clock is None:
                continue
            icon, phase, when = clock_line(clock, now, tr)
            tint = "blue" if clock.is_open else "gray"
            tail = f" · {when}" if when else ""
            lines.append(f"{icon} **{escape_markdown(market_short(tr, code))}** :{tint}[{phase}]{tail}")
        st.markdown("  \n".join(lines) or tr._("No market clocks."))
        if getattr(manager.config, "demo", False):
            st.caption(tr._("Real exchange hours; the demo simulator trades around the clock."))

    st.fragment(clocks, run_every=run_every)()
