"""The Streamlit glue: the only module of ``feed`` that imports Streamlit.

``get_manager`` is the process-wide singleton (one feed for every browser tab), keyed
by stable configuration only; ``get_session_watch`` is one handle per browser
session, released when the session ends, so the feed streams the union of what open
sessions watch and drops symbols nobody watches.

Thread ownership: runs in Streamlit's script threads; the cached manager's own threads are the feed's.
"""

from __future__ import annotations

import os

import streamlit as st

from feed.config import FeedConfig
from feed.manager import FeedManager, Watch

__all__ = ["get_manager", "get_session_premium_watch", "get_session_watch", "load_config"]

_KEYS = (
    "ALLTICK_TOKEN",
    "ALLTICK_PLAN",
    "ALLTICK_WS_BASE",
    "ALLTICK_HTTP_BASE",
    "QUOTES_SYMBOLS",
    "QUOTES_PAIRS_FILE",
    "QUOTES_DATA_DIR",
    "QUOTES_RETENTION_DAYS",
    "QUOTES_REDIS_URL",  # set: read the quote service (python -m feed serve), no token needed
    "QUOTES_REDIS_PREFIX",
)


def load_config() -> FeedConfig:
    """Environment, overridden by Streamlit secrets when a secrets file exists."""
    env = {k: v for k, v in os.environ.items() if k in _KEYS}
    try:
        for key in _KEYS:
            if key in st.secrets:
                env[key] = str(st.secrets[key])
    except FileNotFoundError:
        pass  # no secrets.toml: environment only (CI, demo mode)
    return FeedConfig.from_env(env)


@st.cache_resource(show_spinner="Starting the feed…", on_release=lambda m: m.stop())
def _manager(config: FeedConfig) -> FeedManager:
    return FeedManager(config).start()


def get_manager() -> FeedManager:
    return _manager(load_config())


@st.cache_resource(scope="session", show_spinner=False, on_release=lambda w: w.close())
def _session_watch(config: FeedConfig) -> Watch:
    return _manager(config).watch()


def get_session_watch() -> Watch:
    return _session_watch(load_config())


@st.cache_resource(scope="session", show_spinner=False, on_release=lambda w: w.close())
def _session_premium_watch(config: FeedConfig) -> Watch:
    return _manager(config).watch()


def get_session_premium_watch() -> Watch:
    """The Premium page's own watch: its legs and FX rates, released with the session."""
    return _session_premium_watch(load_config())
