"""Which language a browser session sees, and the sidebar switch that changes it.

Precedence: ``?lang=`` in the URL (a shared link, a page link, the switch), then the
browser's locale (``st.context.locale``: any ``zh-*`` is Chinese, ``zh-HK``/``zh-TW``
Traditional), then English. The switch writes ``?lang=``, so the choice is kept in
page links and in any address a viewer copies.
"""

from __future__ import annotations

import streamlit as st

from ui.i18n import LANG_NAMES, LANGS, Translator, lang_for_locale, normalize_lang, translator

__all__ = ["LANG_KEY", "QUERY", "browser_lang", "current_lang", "language_switch", "session_translator"]

QUERY = "lang"
LANG_KEY = "ui_lang"  # the switch's widget key


def browser_lang() -> str:
    try:
        locale = st.context.locale
    except Exception:  # no browser context (bare mode)
        locale = None
    return lang_for_locale(locale)


def current_lang() -> str:
    """The language for this run: the URL's ``?lang=`` if valid, else the browser's."""
    return normalize_lang(st.query_params.get(QUERY)) or browser_lang()


def session_translator() -> Translator:
    return translator(current_lang())


def _on_switch() -> None:
    choice = st.session_state.get(LANG_KEY)
    if choice in LANGS:
        st.query_params[QUERY] = choice


def language_switch(tr: Translator) -> None:
    """English / 简体中文 / 繁體中文, each in its own script; sets ``?lang=``."""
    st.session_state[LANG_KEY] = tr.lang
    st.segmented_control(
        tr._("Language"),
        options=list(LANGS),
        key=LANG_KEY,
        required=True,
        format_func=lambda code: LANG_NAMES[code],
        on_change=_on_switch,
        label_visibility="collapsed",
        width="stretch",
    )
