"""The one sidebar every page renders: navigation, watchlist, display options, clocks.

Pages come from Streamlit's ``pages/`` discovery, so nothing in the sidebar survives a
page switch by itself. The watchlist lives in ``st.session_state`` under a plain key
(never a widget key), the display widgets use ``persist_state="session"``, and the
URL's ``?symbols=`` seeds the list once per session and is rewritten on every change,
so a view can be shared as a link.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st
from streamlit.errors import StreamlitAPIException

from feed.symbols import Market
from ui.colors import Convention
from ui.live import render_clocks
from ui.watchlist import (
    MAX_INPUT_CHARS,
    MAX_WATCHLIST,
    PRESETS,
    add_symbols,
    escape_markdown,
    from_query,
    market_of,
    remove_symbols,
    to_query,
)

__all__ = ["PAGES", "REFRESH_CHOICES", "SidebarState", "render_sidebar"]

# (script path relative to the repo root, label, material icon): the custom navigation.
PAGES: tuple[tuple[str, str, str], ...] = (
    ("streamlit_app.py", "Quotes", ":material/table_chart:"),
    ("pages/1_Heatmap.py", "Heatmap", ":material/grid_view:"),
    ("pages/2_Compare.py", "Compare", ":material/stacked_line_chart:"),
    ("pages/3_Feed_health.py", "Feed health", ":material/monitor_heart:"),
)
REFRESH_CHOICES: tuple[float, ...] = (0.5, 1.0, 2.0, 5.0, 10.0)
# Market clocks count down in minutes; refreshing them every 10 s is plenty.
CLOCK_REFRESH_S = 10.0

# Session-state keys. WATCHLIST is plain state, the others are widget keys.
WATCHLIST = "watchlist"
FEEDBACK = "watchlist_feedback"
ADD_TEXT = "wl_add_text"
PRESET = "wl_preset"
CURRENT = "wl_current"
CONVENTION = "ui_convention"
LIVE = "ui_live"
REFRESH = "ui_refresh"


@dataclass(frozen=True, slots=True)
class SidebarState:
    """What the page needs from the sidebar for this run."""

    watchlist: tuple[str, ...]
    convention: Convention
    live: bool
    refresh_s: float

    @property
    def run_every(self) -> float | None:
        """The fragments' ``run_every``: ``None`` while paused."""
        return self.refresh_s if self.live else None


def _feedback(kind: str, lines: list[str]) -> None:
    """Queue a message for the next sidebar render (callbacks run before the script)."""
    if lines:
        st.session_state.setdefault(FEEDBACK, []).append((kind, lines))


def _seed_watchlist(defaults: tuple[str, ...]) -> None:
    """First run of a session: the link's ``?symbols=`` if any, else the configured defaults."""
    if WATCHLIST in st.session_state:
        return
    if "symbols" in st.query_params:
        change = from_query(st.query_params.get_all("symbols"))
        st.session_state[WATCHLIST] = change.watchlist
        if change.messages:
            _feedback("error", ["The link's symbol list had problems:", *change.messages])
        if not change.watchlist and change.messages:
            st.session_state[WATCHLIST] = list(defaults)
        return
    st.session_state[WATCHLIST] = list(defaults)


def _on_add() -> None:
    text = st.session_state.get(ADD_TEXT, "") or ""
    if not text.strip():
        return
    change = add_symbols(st.session_state[WATCHLIST], text)
    st.session_state[WATCHLIST] = change.watchlist
    _feedback("error", change.messages)
    if change.added:
        _feedback("success", [f"Added {', '.join(change.added)}."])
    elif change.already and not change.messages:
        _feedback("info", [f"Already watching {', '.join(change.already)}."])


def _on_preset() -> None:
    name = st.session_state.get(PRESET)
    if name in PRESETS:
        change = add_symbols(st.session_state[WATCHLIST], list(PRESETS[name]))
        st.session_state[WATCHLIST] = change.watchlist
        _feedback("error", change.messages)
        if change.added:
            _feedback("success", [f"Added {len(change.added)} symbols from “{name}”."])
    st.session_state[PRESET] = None


def _on_remove() -> None:
    keep = set(st.session_state.get(CURRENT) or [])
    current = st.session_state[WATCHLIST]
    st.session_state[WATCHLIST] = remove_symbols(current, [c for c in current if c not in keep])


def _on_clear() -> None:
    st.session_state[WATCHLIST] = []


def _chip(code: str) -> str:
    """Codes with a market suffix say their market; forex, metals and crypto get a tag."""
    if "." in code:
        return code
    market = market_of(code)
    return f"{code} · {market.value}" if market is not None else code


def _default_convention() -> Convention:
    """Red-up for viewers whose browser speaks Chinese (mainland, HK, Taiwan), else green-up."""
    try:
        locale = (st.context.locale or "").lower()
    except Exception:  # no browser context (bare mode, tests)
        locale = ""
    return Convention.RED_UP if locale.startswith("zh") else Convention.GREEN_UP


def _render_nav(watchlist: list[str]) -> None:
    """Links to every page, carrying the watchlist in the URL so the address stays shareable."""
    params = {"symbols": to_query(watchlist)}
    for path, label, icon in PAGES:
        try:
            st.page_link(path, label=label, icon=icon, query_params=params, width="stretch")
        except StreamlitAPIException:
            # A page run on its own (``streamlit run pages/x.py``, AppTest) knows no other pages.
            return


def _render_watchlist() -> None:
    wl: list[str] = st.session_state[WATCHLIST]
    st.markdown(f"**Watchlist** · {len(wl)} of {MAX_WATCHLIST}")
    with st.form("wl_add_form", clear_on_submit=True, border=False, enter_to_submit=True):
        st.text_input(
            "Add symbols",
            key=ADD_TEXT,
            max_chars=MAX_INPUT_CHARS,
            placeholder="AAPL, 0700.HK, 600519, USDCNH",
            help=(
                "Several at once, separated by commas or spaces. US tickers (AAPL or AAPL.US), "
                "HK numbers (700, 0700.HK, HK00700), A-shares (600519, 000001.SZ), forex pairs "
                "(USDCNH), metals (GOLD) and crypto (BTCUSDT)."
            ),
        )
        st.form_submit_button(
            "Add", key="wl_add_submit", on_click=_on_add, icon=":material/add:", width="stretch"
        )
    for kind, lines in st.session_state.pop(FEEDBACK, []):
        {"error": st.error, "success": st.success, "info": st.info}[kind]("  \n".join(lines))
    st.selectbox(
        "Presets",
        options=list(PRESETS),
        index=None,
        key=PRESET,
        placeholder="Add a preset list…",
        on_change=_on_preset,
        label_visibility="collapsed",
    )
    st.session_state[CURRENT] = list(wl)
    st.multiselect(
        "Watching (click × to remove)",
        options=list(wl),
        key=CURRENT,
        format_func=_chip,
        on_change=_on_remove,
        placeholder="Nothing watched yet",
    )
    if wl:
        st.button(
            "Clear watchlist", key="wl_clear", on_click=_on_clear, type="tertiary", icon=":material/delete:"
        )


def _render_display() -> tuple[Convention, bool, float]:
    st.markdown("**Display**")
    convention = st.segmented_control(
        "Colours",
        options=list(Convention),
        default=_default_convention(),
        required=True,
        key=CONVENTION,
        persist_state="session",
        format_func=lambda c: f"{c.value} ({'US' if c is Convention.GREEN_UP else 'CN/HK'})",
        help="Green up is the US convention; mainland China and Hong Kong paint gains red.",
        width="stretch",
    )
    live = st.toggle("Live updates", value=True, key=LIVE, persist_state="session")
    refresh = st.select_slider(
        "Refresh every",
        options=list(REFRESH_CHOICES),
        value=1.0,
        key=REFRESH,
        persist_state="session",
        format_func=lambda s: f"{s:g} s",
        disabled=not live,
    )
    return Convention(convention or Convention.GREEN_UP), bool(live), float(refresh)


def render_sidebar(manager: Any, watch: Any) -> SidebarState:
    """Draw the shared sidebar and declare this session's watchlist to the feed.

    ``watch`` is the session-scoped handle from ``feed.runtime.get_session_watch()``;
    it is told the current codes on every run, so the feed drops what nobody watches.
    """
    _seed_watchlist(tuple(manager.config.default_symbols))
    wl: list[str] = st.session_state[WATCHLIST]
    with st.sidebar:
        st.markdown("### :material/candlestick_chart: Cross-market quotes")
        _render_nav(wl)
        st.divider()
        clocks_box = st.container()
        st.divider()
        _render_watchlist()
        st.divider()
        convention, live, refresh = _render_display()
        st.caption(
            "Feed: built-in simulator (demo mode)"
            if manager.config.demo
            else f"Feed: AllTick, {escape_markdown(str(manager.config.plan))} plan"
        )
    wl = st.session_state[WATCHLIST]
    watch.set(list(wl))
    if st.query_params.get("symbols") != to_query(wl):
        st.query_params["symbols"] = to_query(wl)
    with clocks_box:
        render_clocks(manager, markets_in(wl), CLOCK_REFRESH_S if live else None)
    return SidebarState(watchlist=tuple(wl), convention=convention, live=live, refresh_s=refresh)


def markets_in(codes: tuple[str, ...] | list[str]) -> list[Market]:
    """The markets of a watchlist, in first-seen order."""
    seen: dict[Market, None] = {}
    for code in codes:
        m = market_of(code)
        if m is not None:
            seen.setdefault(m, None)
    return list(seen)
