"""The translation layer: catalogs complete and current, every feed term covered, languages chosen right.

These fail when a msgid lacks a translation, when a catalog (``.pot``, ``.po`` or the
compiled ``.mo``) is out of date with the sources, when a translation drops or
invents a ``{field}``, or when the feed grows an enum value the UI has no term for.
"""

from __future__ import annotations

import re
import string

import pytest

from feed.calendars import Phase
from feed.model import ConnectionState, EventKind, Freshness
from feed.protocol.codec import DropReason
from feed.symbols import Market
from locales import build
from ui import vocab
from ui.i18n import CATALOG_DIRS, LANGS, lang_for_locale, normalize_lang, translator

CATALOGS = sorted(CATALOG_DIRS.values())


@pytest.fixture(scope="module")
def fresh() -> dict:
    """Every catalog file as ``python -m locales.build`` would write it now."""
    return build.build()


def test_the_committed_catalogs_are_what_the_sources_make(fresh: dict) -> None:
    stale = [
        str(p.relative_to(build.ROOT))
        for p, data in fresh.items()
        if not p.exists() or p.read_bytes() != data
    ]
    assert not stale, f"catalogs out of date, run `python -m locales.build`: {stale}"


def test_the_template_holds_every_msgid_of_the_sources() -> None:
    committed = {(m.context, m.id) for m in build.read(build.POT) if m.id}
    extracted = {(m.context, m.id) for m in build.extract() if m.id}
    assert committed == extracted


def _messages(folder: str) -> list:
    return [m for m in build.read(build.po_path(folder)) if m.id]


@pytest.mark.parametrize("folder", CATALOGS)
def test_every_message_is_translated_and_none_is_fuzzy(folder: str) -> None:
    template = {(m.context, m.id) for m in build.read(build.POT) if m.id}
    messages = _messages(folder)
    assert {(m.context, m.id) for m in messages} == template
    untranslated = [
        m.id for m in messages if not (all(m.string) if isinstance(m.string, tuple) else m.string)
    ]
    assert not untranslated, untranslated
    assert not [m.id for m in messages if m.fuzzy]


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("folder", CATALOGS)
def test_translations_keep_the_fields_of_their_msgid(folder: str) -> None:
    for m in _messages(folder):
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        wanted = set().union(*(_fields(i) for i in ids))
        for s in strings:
            assert _fields(s) == wanted, (m.id, s)
            # Markdown markers and code spans survive translation.
            assert s.count("`") == ids[0].count("`"), (m.id, s)
            assert s.count("**") == ids[0].count("**"), (m.id, s)


def test_bold_never_closes_on_cjk_punctuation() -> None:
    """``**演示模式：**模拟`` is not bold in CommonMark: the colon belongs outside."""
    for m in _messages("zh_Hans"):
        for s in m.string if isinstance(m.string, tuple) else (m.string,):
            assert not re.search(r"[：。，、）！？]\*\*[^\s*]", s), s


@pytest.mark.parametrize(
    ("table", "enum"),
    [
        (vocab.FRESHNESS, Freshness),
        (vocab.STATES, ConnectionState),
        (vocab.EVENT_KINDS, EventKind),
        (vocab.PHASES, Phase),
        (vocab.MARKET_LABELS, Market),
        (vocab.MARKET_SHORT, Market),
        (vocab.ZONES, Market),
        (vocab.DROPS, DropReason),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_every_feed_value_has_a_term(table: dict, enum: type) -> None:
    assert {str(v.value) for v in enum} <= {str(k) for k in table}


@pytest.mark.parametrize("lang", ["zh", "zh-Hant"])
def test_feed_terms_read_in_chinese(lang: str) -> None:
    tr = translator(lang)
    for value in Freshness:
        shown = vocab.freshness(tr, value)
        assert shown and not re.search("[A-Za-z]", shown), (value, shown)
    assert vocab.freshness(tr, "lunch break") == "午休"
    assert vocab.freshness(tr, "market closed") == "休市"
    assert vocab.connection_label(tr, "http") in ("HTTP 接口", "HTTP 接口".replace("接口", "介面"))
    assert vocab.connection_label(translator("en"), "http") == "HTTP API"


def test_plurals_in_english_and_chinese() -> None:
    en, zh = translator("en"), translator("zh")
    assert en.ngettext("{n} symbol", "{n} symbols", 1) == "1 symbol"
    assert en.ngettext("{n} symbol", "{n} symbols", 2) == "2 symbols"
    assert zh.ngettext("{n} symbol", "{n} symbols", 1) == "1 个代码"
    assert en.ngettext("{n} symbol", "{n} symbols", 1200) == "1,200 symbols"


def test_traditional_chinese_is_the_simplified_catalog_in_hong_kong_characters() -> None:
    hant = translator("zh-Hant")
    assert hant._("Feed health") == "數據源狀態"
    assert hant.pgettext("market", "Hong Kong stocks") == "港股"


@pytest.mark.parametrize(
    ("value", "lang"),
    [
        ("zh", "zh"),
        ("zh-CN", "zh"),
        ("zh_Hans", "zh"),
        ("ZH", "zh"),
        ("zh-Hant", "zh-Hant"),
        ("zh-HK", "zh-Hant"),
        ("zh-TW", "zh-Hant"),
        ("zh-Hant-HK", "zh-Hant"),
        ("en", "en"),
        ("en-GB", "en"),
        ("fr", None),
        ("", None),
        (None, None),
        ("<script>", None),
    ],
)
def test_language_tags(value: object, lang: str | None) -> None:
    assert normalize_lang(value) == lang


def test_a_browser_locale_picks_chinese_only_for_zh() -> None:
    assert lang_for_locale("zh-CN") == "zh"
    assert lang_for_locale("zh-HK") == "zh-Hant"
    assert lang_for_locale("en-US") == "en"
    assert lang_for_locale("fr-FR") == "en"
    assert lang_for_locale(None) == "en"
    assert set(LANGS) == {"en", "zh", "zh-Hant"}


def test_dates_follow_the_language() -> None:
    import datetime as dt

    day = dt.date(2026, 11, 26)
    assert translator("en").month_day(day) == "Nov 26"
    assert translator("zh").month_day(day) == "11月26日"
    assert translator("zh").weekday(day) == "周四"
    assert translator("zh-Hant").weekday(day) == "週四"


@pytest.mark.parametrize("lang", LANGS)
def test_a_metric_delta_starts_with_its_sign_in_every_language(lang: str) -> None:
    """``st.metric`` reads a text delta's direction from a leading "-": a translation that
    put a word first showed a falling average with a rising arrow in Chinese."""
    tr = translator(lang)
    assert tr._("{pct} avg", pct="-0.25%").startswith("-0.25%")
