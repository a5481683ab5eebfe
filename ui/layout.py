"""Page scaffolding: config, language, the shared sidebar, title and banners, in one call.

Every page starts with :func:`setup_page`, so each has the same config (first
Streamlit call), language, sidebar, header and demo banner, and gets the singleton
manager from ``feed.runtime`` and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from ui.colors import theme_of
from ui.i18n import N_, Translator
from ui.lang import session_translator
from ui.phase import note_page
from ui.sidebar import SidebarState, render_sidebar
from ui.view import Shown, View
from ui.watchlist import escape_markdown, shorten

__all__ = ["APP_NAME", "Page", "setup_page"]

APP_NAME = N_("Cross-market quotes")
FROZEN = "view_frozen"  # the paused view's store
SHOWN = "view_shown"  # what the page last drew, for the CSV

# Layout fixes no Streamlit option covers, keyed by the containers' ``st-key-*`` classes.
# On a phone (Streamlit stacks columns below 640 px) the market cards form one row
# that scrolls sideways instead of five cards pushing the grid below the fold.
_CSS = """
<style>
/* Wide layout: less side padding, so the whole quotes grid fits beside the sidebar at 1280 px. */
@media (min-width: 641px) {
  [data-testid="stMainBlockContainer"] { padding-left: 2.5rem; padding-right: 2.5rem; }
}
@media (max-width: 640px) {
  .st-key-market_cards [data-testid="stHorizontalBlock"] {
    flex-wrap: nowrap !important; overflow-x: auto; gap: 0.5rem; padding-bottom: 0.25rem;
  }
  .st-key-market_cards [data-testid="stColumn"] { min-width: 12.5rem !important; flex: 0 0 auto !important; }
  .st-key-market_cards [data-testid="stMetricValue"] { font-size: 1.2rem; }
  h1 { font-size: 1.6rem !important; }
}
</style>
"""


@dataclass(frozen=True, slots=True)
class Page:
    """What a page script works with after setup."""

    manager: Any
    state: SidebarState
    tr: Translator
    theme: str
    view: View
    shown: Shown
    in_step: bool  # live fragments start on the wall clock's beat (replicas: ui/phase.py)


def _theme() -> str:
    try:
        return theme_of(st.context.theme.type)
    except Exception:  # no browser context
        return "dark"


def setup_page(title: str, icon: str, blurb: str) -> Page:
    """Configure the page, draw the sidebar and header, and return what the page draws from.

    ``title`` and ``blurb`` are msgids. Stops the page with an error when the feed
    cannot start (e.g. a bad ``ALLTICK_PLAN``).
    """
    tr = session_translator()
    st.set_page_config(
        page_title=f"{tr._(title)} · {tr._(APP_NAME)}",
        page_icon=icon,
        layout="wide",
        # "auto": expanded on a desktop, collapsed on a phone (it covered 75 % of one).
        initial_sidebar_state="auto",
    )
    st.html(_CSS)
    try:
        from feed.runtime import get_manager, get_session_watch

        manager = get_manager()
        watch = get_session_watch()
    except ValueError as exc:  # configuration: unknown plan, bad QUOTES_SYMBOLS
        st.error(
            tr._("The feed could not start: {error}", error=escape_markdown(shorten(str(exc), 300))),
            icon=":material/error:",
        )
        st.stop()
    state = render_sidebar(manager, watch, tr)
    st.title(f"{icon} {tr._(title)}", anchor=False)
    st.caption(tr._(blurb))
    if manager.config.demo:
        st.info(
            tr._("**Demo mode:** simulated data. Set `ALLTICK_TOKEN` to stream real quotes."),
            icon=":material/science:",
        )
    elif manager.config.redis_url and manager.status().demo:
        st.info(
            tr._("**Demo mode:** the quote service publishes simulated data."),
            icon=":material/science:",
        )
    view = View(manager, state.live, st.session_state.setdefault(FROZEN, {}))
    shown = st.session_state.setdefault(SHOWN, Shown())
    note_page(title)
    in_step = bool(manager.config.redis_url)
    return Page(manager=manager, state=state, tr=tr, theme=_theme(), view=view, shown=shown, in_step=in_step)
