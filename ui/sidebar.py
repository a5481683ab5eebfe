"""The one sidebar every page renders: language, navigation, watchlist, display, clocks.

Pages come from Streamlit's ``pages/`` discovery, so nothing in the sidebar survives a
page switch by itself. The watchlist lives in ``st.session_state`` under a plain key
(never a widget key); the display widgets use ``persist_state="session"``.

The address is the watchlist's second home: ``?symbols=`` seeds a new session, is
rewritten whenever the list changes (Streamlit pushes a history entry), and when it
changes under the session (Back, Forward, an edited address) the list follows it,
so Back undoes a change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st
from streamlit.errors import StreamlitAPIException

from feed.service import redacted_url
from feed.symbols import Market
from ui.colors import Convention
from ui.i18n import N_, Translator
from ui.lang import QUERY, language_switch
from ui.live import render_clocks
from ui.watchlist import (
    MAX_WATCHLIST,
    PRESETS,
    add_symbols,
    escape_markdown,
    from_query,
    market_of,
    remove_symbols,
    to_query,
)

__all__ = ["PAGES", "REFRESH_CHOICES", "SidebarState", "markets_in", "render_sidebar", "service_where"]

# (script path relative to the repo root, label msgid, material icon): the custom navigation.
PAGES: tuple[tuple[str, str, str], ...] = (
    ("streamlit_app.py", N_("Quotes"), ":material/table_chart:"),
    ("pages/1_Heatmap.py", N_("Heatmap"), ":material/grid_view:"),
    ("pages/2_Compare.py", N_("Compare"), ":material/stacked_line_chart:"),
    ("pages/3_Feed_health.py", N_("Feed health"), ":material/monitor_heart:"),
    ("pages/4_Premium.py", N_("Premium"), ":material/currency_exchange:"),
)
REFRESH_CHOICES: tuple[float, ...] = (0.5, 1.0, 2.0, 5.0, 10.0)
# Market clocks count down in minutes; refreshing them every 10 s is plenty.
CLOCK_REFRESH_S = 10.0

# Session-state keys. WATCHLIST, URL_SEEN, SYNCED and UNDO are plain state, the others widget keys.
WATCHLIST = "watchlist"
URL_SEEN = "wl_url_seen"  # the ?symbols= value the session last wrote or adopted
SYNCED = "wl_synced"  # the list that value stands for; None: write the address
UNDO = "wl_undo"  # the list before "Clear watchlist"
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


def _url_symbols() -> str | None:
    if "symbols" not in st.query_params:
        return None
    return ",".join(st.query_params.get_all("symbols"))


def _from_link(value: str, tr: Translator) -> list[str]:
    """A link's list: its first valid codes up to the cap, and a message naming what was dropped."""
    change = from_query(value)
    problems = change.messages(tr, source="link")
    if problems:
        if change.watchlist:
            head = tr.ngettext(
                "From the link: kept {n} symbol.",
                "From the link: kept {n} symbols.",
                len(change.watchlist),
            )
        else:
            head = tr._("None of the link's entries is a symbol, so the watchlist is empty.")
        _feedback("error", [head, *problems])
    return change.watchlist


def _sync_from_url(defaults: tuple[str, ...], tr: Translator) -> None:
    """Seed a new session from the link, and follow the address when it changes under us."""
    url = _url_symbols()
    state = st.session_state
    if WATCHLIST not in state:
        state[WATCHLIST] = list(defaults) if url is None else _from_link(url, tr)
        state[URL_SEEN] = url
        # Write the canonical form back, except for a link with nothing valid: keep it
        # as sent until the viewer changes the list, so what was wrong stays visible.
        state[SYNCED] = None if url is None or state[WATCHLIST] else ()
    elif url is not None and url != state.get(URL_SEEN):
        state[WATCHLIST] = _from_link(url, tr)
        state[URL_SEEN] = url
        state[SYNCED] = tuple(state[WATCHLIST]) if not state[WATCHLIST] else None


def _sync_to_url() -> None:
    wl = st.session_state[WATCHLIST]
    if tuple(wl) != st.session_state.get(SYNCED):
        value = to_query(wl)
        st.query_params["symbols"] = value
        st.session_state[URL_SEEN] = value
        st.session_state[SYNCED] = tuple(wl)


def _on_add(tr: Translator) -> None:
    text = st.session_state.get(ADD_TEXT, "") or ""
    if not text.strip():
        return
    change = add_symbols(st.session_state[WATCHLIST], text)
    st.session_state[WATCHLIST] = change.watchlist
    _feedback("error", change.messages(tr))
    if (ok := change.success(tr)) is not None:
        _feedback("success", [ok])
    elif (note := change.note(tr)) is not None:
        _feedback("info", [note])


def _on_preset(tr: Translator) -> None:
    name = st.session_state.get(PRESET)
    if name in PRESETS:
        change = add_symbols(st.session_state[WATCHLIST], list(PRESETS[name]))
        st.session_state[WATCHLIST] = change.watchlist
        _feedback("error", change.messages(tr))
        if change.added:
            _feedback(
                "success",
                [
                    tr.ngettext(
                        "Added {n} symbol from “{preset}”.",
                        "Added {n} symbols from “{preset}”.",
                        len(change.added),
                        preset=tr._(name),
                    )
                ],
            )
        elif change.already:
            _feedback("info", [tr._("Every symbol of “{preset}” is already watched.", preset=tr._(name))])
    st.session_state[PRESET] = None


def _on_remove() -> None:
    keep = set(st.session_state.get(CURRENT) or [])
    current = st.session_state[WATCHLIST]
    st.session_state[WATCHLIST] = remove_symbols(current, [c for c in current if c not in keep])


def _on_clear() -> None:
    st.session_state[UNDO] = list(st.session_state[WATCHLIST])
    st.session_state[WATCHLIST] = []


def _on_undo() -> None:
    previous = st.session_state.pop(UNDO, None)
    if previous:
        st.session_state[WATCHLIST] = list(previous)


def _chip(code: str) -> str:
    """Codes with a market suffix say their market; forex, metals and crypto get a tag."""
    if "." in code:
        return code
    market = market_of(code)
    return f"{code} · {market.value}" if market is not None else code


def _default_convention() -> Convention:
    """Red-up for viewers whose browser is set to Chinese (mainland, HK, Taiwan), else green-up.

    From the browser's locale, never from the page language: a Hong Kong trader reading
    the English page still expects gains in red.
    """
    try:
        locale = (st.context.locale or "").lower()
    except Exception:  # no browser context (bare mode, tests)
        locale = ""
    return Convention.RED_UP if locale.startswith("zh") else Convention.GREEN_UP


def _render_nav(watchlist: list[str], tr: Translator) -> None:
    """Links to every page, carrying the watchlist and language so the address stays shareable."""
    params = {"symbols": to_query(watchlist)}
    if QUERY in st.query_params:
        params[QUERY] = tr.lang
    for path, label, icon in PAGES:
        try:
            st.page_link(path, label=tr._(label), icon=icon, query_params=params, width="stretch")
        except StreamlitAPIException:
            # A page run on its own (``streamlit run pages/x.py``, AppTest) knows no other pages.
            return


def _render_clear(wl: list[str], tr: Translator) -> None:
    """Clear asks first (a popover), and Undo brings the list back afterwards."""
    if wl:
        with st.popover(
            tr._("Clear watchlist"), icon=":material/delete:", type="tertiary", key="wl_clear_menu"
        ):
            st.markdown(
                tr.ngettext("Remove the {n} watched symbol?", "Remove all {n} watched symbols?", len(wl))
            )
            st.button(
                tr._("Clear"), key="wl_clear", on_click=_on_clear, type="primary", icon=":material/delete:"
            )
    elif st.session_state.get(UNDO):
        previous = st.session_state[UNDO]
        st.caption(tr.ngettext("Cleared {n} symbol.", "Cleared {n} symbols.", len(previous)))
        st.button(
            tr._("Undo"), key="wl_undo_button", on_click=_on_undo, icon=":material/undo:", type="secondary"
        )


def _render_watchlist(tr: Translator) -> None:
    wl: list[str] = st.session_state[WATCHLIST]
    st.markdown(tr._("**Watchlist** · {count} of {cap}", count=f"{len(wl):,}", cap=f"{MAX_WATCHLIST:,}"))
    with st.form("wl_add_form", clear_on_submit=True, border=False, enter_to_submit=True):
        # No max_chars: the browser would drop a long paste silently; the length rules
        # live in ui.watchlist and say what they refused.
        st.text_input(
            tr._("Add symbols"),
            key=ADD_TEXT,
            placeholder="AAPL, 0700.HK, 600519, USDCNH",
            help=tr._(
                "Several at once, separated by commas, spaces or new lines (full-width commas "
                "too). US tickers (AAPL, AAPL.US, BRK.B), HK numbers (700, 0700.HK, HK00700), "
                "A-shares (600519, 000001.SZ), forex pairs (USDCNH), metals (GOLD) and crypto "
                "(BTCUSDT). Up to {cap} symbols in all.",
                cap=MAX_WATCHLIST,
            ),
        )
        st.form_submit_button(
            tr._("Add"),
            key="wl_add_submit",
            on_click=_on_add,
            args=(tr,),
            icon=":material/add:",
            width="stretch",
        )
    for kind, lines in st.session_state.pop(FEEDBACK, []):
        {"error": st.error, "success": st.success, "info": st.info}[kind]("  \n".join(lines))
    st.selectbox(
        tr._("Presets"),
        options=list(PRESETS),
        index=None,
        key=PRESET,
        placeholder=tr._("Add a preset list…"),
        format_func=tr._,
        on_change=_on_preset,
        args=(tr,),
        label_visibility="collapsed",
    )
    st.session_state[CURRENT] = list(wl)
    st.multiselect(
        tr._("Watching (click × to remove)"),
        options=list(wl),
        key=CURRENT,
        format_func=_chip,
        on_change=_on_remove,
        placeholder=tr._("Nothing watched yet"),
    )
    _render_clear(wl, tr)


def _render_display(tr: Translator) -> tuple[Convention, bool, float]:
    st.markdown(tr._("**Display**"))
    convention = st.segmented_control(
        tr._("Colours"),
        options=list(Convention),
        default=_default_convention(),
        required=True,
        key=CONVENTION,
        persist_state="session",
        format_func=lambda c: c.label(tr),
        help=tr._("Green up is the US convention; mainland China and Hong Kong paint gains red."),
        width="stretch",
    )
    live = st.toggle(
        tr._("Live updates"),
        value=True,
        key=LIVE,
        persist_state="session",
        help=tr._("Off: the pages hold what they show, and the CSV export holds the same prices."),
    )
    refresh = st.select_slider(
        tr._("Refresh every"),
        options=list(REFRESH_CHOICES),
        value=1.0,
        key=REFRESH,
        persist_state="session",
        format_func=lambda s: tr._("{seconds} s", seconds=f"{s:g}"),
        disabled=not live,
    )
    return Convention(convention or Convention.GREEN_UP), bool(live), float(refresh)


def render_sidebar(manager: Any, watch: Any, tr: Translator) -> SidebarState:
    """Draw the shared sidebar and declare this session's watchlist to the feed.

    ``watch`` is the session-scoped handle from ``feed.runtime.get_session_watch()``;
    it is told the current codes on every run, so the feed drops what nobody watches.
    """
    _sync_from_url(tuple(manager.config.default_symbols), tr)
    _sync_to_url()
    wl: list[str] = st.session_state[WATCHLIST]
    with st.sidebar:
        st.markdown(tr._("### :material/candlestick_chart: Cross-market quotes"))
        language_switch(tr)
        _render_nav(wl, tr)
        st.divider()
        clocks_box = st.container()
        st.divider()
        _render_watchlist(tr)
        st.divider()
        convention, live, refresh = _render_display(tr)
        st.caption(_feed_line(manager, tr))
    wl = st.session_state[WATCHLIST]
    watch.set(list(wl))
    with clocks_box:
        render_clocks(manager, markets_in(wl), CLOCK_REFRESH_S if live else None, tr)
    return SidebarState(watchlist=tuple(wl), convention=convention, live=live, refresh_s=refresh)


def service_where(manager: Any) -> str:
    """Where a reader of the quote service reads from (no password), or "" for a local feed."""
    url = getattr(manager.config, "redis_url", None)
    return redacted_url(url) if url else ""


def _feed_line(manager: Any, tr: Translator) -> str:
    where = service_where(manager)
    if where:
        return tr._("Feed: via quote service ({where})", where=escape_markdown(where))
    if manager.config.demo:
        return tr._("Feed: built-in simulator (demo mode)")
    return tr._("Feed: AllTick, {plan} plan", plan=escape_markdown(str(manager.config.plan)))


def markets_in(codes: tuple[str, ...] | list[str]) -> list[Market]:
    """The markets of a watchlist, in first-seen order."""
    seen: dict[Market, None] = {}
    for code in codes:
        m = market_of(code)
        if m is not None:
            seen.setdefault(m, None)
    return list(seen)
