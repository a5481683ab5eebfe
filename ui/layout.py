"""Page scaffolding: config, the shared sidebar, title and banners, in one call.

Every page starts with :func:`setup_page`, so each has the same config (first
Streamlit call), sidebar, header and demo/auth banners, and gets the singleton
manager from ``feed.runtime`` and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from ui.sidebar import SidebarState, render_sidebar
from ui.watchlist import escape_markdown, shorten

__all__ = ["APP_NAME", "DEMO_BANNER", "Page", "setup_page"]

APP_NAME = "Cross-market quotes"
DEMO_BANNER = "**Demo mode:** simulated data — set `ALLTICK_TOKEN` to stream real quotes."


@dataclass(frozen=True, slots=True)
class Page:
    """What a page script works with after setup."""

    manager: Any
    state: SidebarState


def setup_page(title: str, icon: str, blurb: str) -> Page:
    """Configure the page, draw the sidebar and header, and return the manager and settings.

    Stops the page with an error when the feed cannot start (e.g. a bad ``ALLTICK_PLAN``).
    """
    st.set_page_config(
        page_title=f"{title} · {APP_NAME}",
        page_icon=icon,
        layout="wide",
        initial_sidebar_state="expanded",
    )
    try:
        from feed.runtime import get_manager, get_session_watch

        manager = get_manager()
        watch = get_session_watch()
    except ValueError as exc:  # configuration: unknown plan, bad QUOTES_SYMBOLS
        st.error(
            f"The feed could not start: {escape_markdown(shorten(str(exc), 300))}", icon=":material/error:"
        )
        st.stop()
    state = render_sidebar(manager, watch)
    st.title(f"{icon} {title}", anchor=False)
    st.caption(blurb)
    if manager.config.demo:
        st.info(DEMO_BANNER, icon=":material/science:")
    return Page(manager=manager, state=state)
