"""The one translation layer: gettext catalogs under ``locales/``, English msgids.

Every user-visible string goes through a :class:`Translator`: ``tr._("Watchlist")``,
``tr.ngettext("{n} symbol", "{n} symbols", n)``, ``tr.pgettext("freshness", "live")``.
Messages take ``str.format`` fields filled *after* translation, so the catalogs hold
whole sentences and untrusted text never becomes a template. Babel extracts the
msgids (``python -m locales.build``); the compiled ``.mo`` catalogs are committed,
since Streamlit Community Cloud runs the repository as it is.

Nothing here imports Streamlit: builders in ``ui/`` take a translator argument and
stay unit-testable; ``ui.lang`` picks the language for a browser session.
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = [
    "BABEL_LOCALES",
    "CATALOG_DIRS",
    "DEFAULT_LANG",
    "EN",
    "LANGS",
    "LANG_NAMES",
    "LOCALES_DIR",
    "NP_",
    "N_",
    "Translator",
    "lang_for_locale",
    "normalize_lang",
    "translator",
]

LOCALES_DIR = Path(__file__).resolve().parents[1] / "locales"
DOMAIN = "messages"
DEFAULT_LANG = "en"
LANGS: tuple[str, ...] = ("en", "zh", "zh-Hant")
# Each language named in itself, so a reader finds theirs whatever is showing.
LANG_NAMES = {"en": "English", "zh": "简体", "zh-Hant": "繁體"}
# Catalog folder (gettext locale name) per language; English is the msgids themselves.
CATALOG_DIRS = {"zh": "zh_Hans", "zh-Hant": "zh_Hant"}
BABEL_LOCALES = {"en": "en_US", "zh": "zh_Hans_CN", "zh-Hant": "zh_Hant_HK"}
_HANT_REGIONS = ("hk", "tw", "mo")


def N_(message: str) -> str:
    """Mark a msgid for extraction without translating it (translated where shown)."""
    return message


def NP_(context: str, message: str) -> tuple[str, str]:
    """Mark a msgid with a context (``pgettext``) for extraction."""
    return context, message


def normalize_lang(value: object) -> str | None:
    """A ``?lang=`` value or language tag as one of :data:`LANGS`, ``None`` if unknown.

    ``zh``, ``zh-CN``, ``zh-Hans``, ``cn`` are Simplified; ``zh-Hant``, ``zh-HK``,
    ``zh-TW``, ``hk`` are Traditional; ``en`` and any ``en-*`` are English.
    """
    if not isinstance(value, str):
        return None
    tag = value.strip().replace("_", "-").lower()
    if not tag or len(tag) > 20:
        return None
    parts = tag.split("-")
    if parts[0] in ("en", "eng"):
        return "en"
    if parts[0] in ("hk", "tw", "hant") or tag == "zh-hant":
        return "zh-Hant"
    if parts[0] in ("zh", "cn", "chs", "cht"):
        if parts[0] == "cht" or "hant" in parts[1:] or any(p in _HANT_REGIONS for p in parts[1:]):
            return "zh-Hant"
        return "zh"
    return None


def lang_for_locale(locale: object) -> str:
    """The language a browser locale (``navigator.language``) gets: any ``zh-*`` is Chinese."""
    lang = normalize_lang(locale)
    return lang if lang in ("zh", "zh-Hant") else DEFAULT_LANG


class Translator:
    """One language's lookups: gettext messages plus dates and lists in its own form."""

    def __init__(self, lang: str, catalog: gettext.NullTranslations) -> None:
        self.lang = lang
        self._catalog = catalog
        self.babel_locale = BABEL_LOCALES[lang]
        self.is_zh = lang != "en"

    def __repr__(self) -> str:
        return f"Translator({self.lang!r})"

    # --- messages -------------------------------------------------------------------------

    def _(self, message: str, /, **params: Any) -> str:
        text = self._catalog.gettext(message)
        return text.format_map(params) if params else text

    def ngettext(self, singular: str, plural: str, n: int, /, **params: Any) -> str:
        """Plural forms; ``{n}`` is filled with ``n`` (thousands separated) unless given."""
        text = self._catalog.ngettext(singular, plural, n)
        params.setdefault("n", f"{n:,}")
        return text.format_map(params)

    def pgettext(self, context: str, message: str, /, **params: Any) -> str:
        text = self._catalog.pgettext(context, message)
        return text.format_map(params) if params else text

    def term(self, entry: tuple[str, str]) -> str:
        """An :func:`NP_` entry, translated."""
        return self._catalog.pgettext(*entry)

    # --- lists, dates ---------------------------------------------------------------------

    def join(self, items: Iterable[object]) -> str:
        """A list as the language writes it: ``a, b, c`` or ``a、b、c``."""
        return ("、" if self.is_zh else ", ").join(str(i) for i in items)

    @functools.cached_property
    def _weekdays(self) -> tuple[str, ...]:
        from babel.dates import get_day_names

        names = get_day_names("abbreviated", locale=self.babel_locale)
        return tuple(names[i] for i in range(7))

    def weekday(self, day: dt.date) -> str:
        """``Thu`` / ``周四``."""
        return self._weekdays[day.weekday()]

    def month_day(self, day: dt.date) -> str:
        """``Nov 26`` / ``11月26日``."""
        if not self.is_zh:
            return f"{day.strftime('%b')} {day.day}"
        from babel.dates import format_skeleton

        return format_skeleton("MMMd", day, locale=self.babel_locale)

    def day_month(self, day: dt.date) -> str:
        """``26 Nov`` / ``11月26日``: the date in the market clocks table."""
        if not self.is_zh:
            return f"{day.day:02d} {day.strftime('%b')}"
        return self.month_day(day)


@functools.lru_cache(maxsize=len(LANGS))
def translator(lang: str | None = None) -> Translator:
    """The process-wide translator of a language (catalog read once); English if unknown."""
    code = normalize_lang(lang) or DEFAULT_LANG
    if code == "en":
        return Translator("en", gettext.NullTranslations())
    path = LOCALES_DIR / CATALOG_DIRS[code] / "LC_MESSAGES" / f"{DOMAIN}.mo"
    with path.open("rb") as fh:
        catalog = gettext.GNUTranslations(fh)
    return Translator(code, catalog)


EN = translator("en")
