"""Every page under AppTest in English, Simplified and Traditional Chinese, and how a language is chosen.

A Chinese page must not leak English: every label, caption, message, button and
column header is gathered from the page and checked for English words (codes,
numbers and product names aside). Instrument names come from AllTick's Chinese
names; market names, phases and statuses are translated.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app_text import english_words, page_texts
from tests.support import run_until
from tests.test_app_pages import ENTRY, PAGES, ROOT, _demo_feed, _priced  # noqa: F401 - fixture
from ui.i18n import translator
from ui.vocab import freshness_map

TIMEOUT = 30
LINK = "AAPL.US,700.HK,600519.SH,USDHKD,GOLD,BTCUSDT"
TITLES = {
    "en": ("Quotes", "Heatmap", "Compare", "Feed health", "Premium"),
    "zh": ("行情", "热力图", "对比", "数据源状态", "溢价"),
    "zh-Hant": ("行情", "熱力圖", "對比", "數據源狀態", "溢價"),
}


def _app(page: Path = ENTRY, lang: str | None = None, locale: str | None = None, **query: str) -> AppTest:
    at = AppTest.from_file(str(page), default_timeout=TIMEOUT)
    if lang:
        at.query_params["lang"] = lang
    for key, value in query.items():
        at.query_params[key] = value
    if locale:
        at.context = {"locale": locale}
    return at


def _ready(at: AppTest) -> bool:
    if at.exception:
        return True
    if at.dataframe:
        return _priced(at) if "Last" in at.dataframe[0].value else True
    return len(at.get("vega_lite_chart")) >= 2


@pytest.mark.parametrize("lang", ["en", "zh", "zh-Hant"])
@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_every_page_speaks_the_chosen_language(page: Path, lang: str) -> None:
    at = run_until(_app(page, lang, symbols=LINK), _ready)
    assert not at.exception, [e.value for e in at.exception]
    index = PAGES.index(page)
    assert at.title[0].value.endswith(TITLES[lang][index])
    texts = page_texts(at)
    assert len(texts) > 20
    if lang == "en":
        assert any("Demo mode" in t for t in texts)
        return
    assert any("演示模式" in t for t in texts)
    leaks = english_words(texts)
    assert not leaks, f"English left on the {lang} page: {sorted(leaks)}"
    # The check itself can fail: the English page is full of words it would flag.
    english = run_until(_app(page, "en", symbols=LINK), _ready)
    assert len(english_words(page_texts(english))) > 20


def test_chinese_quotes_grid_has_chinese_names_markets_statuses_and_headers() -> None:
    def named(a: AppTest) -> bool:
        return _priced(a) and (a.dataframe[0].value["Name"] != "").all()

    at = run_until(_app(lang="zh", symbols=LINK), named)
    table = at.dataframe[0].value.set_index("Symbol")
    assert table.loc["AAPL.US", "Name"] == "苹果"  # AllTick's Chinese name (static info)
    assert table.loc["700.HK", "Name"] == "腾讯控股"
    assert table.loc["GOLD", "Name"] == "黄金"  # no static info for metals: our own term
    assert table.loc["AAPL.US", "Market"] == "美股" and table.loc["600519.SH", "Market"] == "A股"
    assert set(table["Status"]) <= set(freshness_map(translator("zh")).values())
    assert table.loc["AAPL.US", "Time"].endswith(" 美东")
    labels = {c["label"] for c in json.loads(at.dataframe[0].proto.columns).values() if "label" in c}
    assert {"代码", "最新价", "涨跌额", "涨跌幅", "昨收", "状态", "今日走势"} <= labels
    metric_labels = [m.label for m in at.metric]
    assert any(label.startswith("美股 · 1 个代码") for label in metric_labels)


def test_chinese_charts_have_chinese_axes_and_tooltips() -> None:
    at = run_until(
        _app(ROOT / "pages" / "2_Compare.py", "zh", symbols=LINK),
        lambda a: len(a.get("vega_lite_chart")) >= 1,
    )
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    line = spec["layer"][1]["encoding"]
    assert line["y"]["title"] == "较昨收涨跌幅 (%)" and line["x"]["title"].startswith("时间")
    assert {t["title"] for t in line["tooltip"]} >= {"代码", "价格"}
    at = run_until(
        _app(ROOT / "pages" / "1_Heatmap.py", "zh", symbols=LINK),
        lambda a: len(a.get("vega_lite_chart")) >= 3,
    )
    tiles = [
        json.loads(c.proto.spec) for c in at.get("vega_lite_chart") if "layer" in json.loads(c.proto.spec)
    ]
    titles = {t["title"] for t in tiles[0]["layer"][0]["encoding"]["tooltip"]}
    assert titles == {"代码", "名称", "最新价", "昨收", "涨跌幅", "状态"}


@pytest.mark.parametrize(
    ("locale", "query", "title"),
    [
        ("zh-CN", None, "行情"),  # the browser decides by default
        ("zh-HK", None, "行情"),
        ("en-US", None, "Quotes"),
        ("zh-CN", "en", "Quotes"),  # ?lang= overrides it
        ("en-US", "zh", "行情"),
        ("fr-FR", None, "Quotes"),
    ],
)
def test_the_browser_locale_decides_and_the_link_overrides(
    locale: str, query: str | None, title: str
) -> None:
    at = _app(lang=query, locale=locale).run()
    assert not at.exception
    assert at.title[0].value.endswith(title)


def test_traditional_for_a_hong_kong_browser() -> None:
    at = _app(locale="zh-HK").run()
    assert any("數據源" in t for t in page_texts(at))


def test_the_switch_sets_the_language_in_the_address_and_the_page_links_keep_it() -> None:
    at = _app(locale="en-US").run()
    assert at.title[0].value.endswith("Quotes")
    at.sidebar.button_group(key="ui_lang").set_value("zh").run()
    assert at.query_params["lang"] in ("zh", ["zh"])
    assert at.title[0].value.endswith("行情")
    # A page switch keeps it (the page links carry ?lang= and the session keeps the query).
    at.switch_page("pages/1_Heatmap.py").run()
    assert at.title[0].value.endswith("热力图")


def test_the_colour_convention_follows_the_browser_not_the_page_language() -> None:
    """A Hong Kong browser on the English page still gets red-up; an English one reading Chinese, green-up."""
    at = _app(lang="en", locale="zh-HK").run()
    assert str(at.session_state["ui_convention"]) == "Red up"
    at = _app(lang="zh", locale="en-US").run()
    assert str(at.session_state["ui_convention"]) == "Green up"


def test_the_page_links_carry_the_language_and_the_watchlist() -> None:
    at = _app(lang="zh", symbols="AAPL.US,700.HK").run()
    links = at.sidebar.get("page_link")
    assert [link.proto.label for link in links] == ["行情", "热力图", "对比", "数据源状态", "溢价"]
    for link in links:
        assert "lang=zh" in link.proto.query_string
        assert "symbols=AAPL.US%2C700.HK" in link.proto.query_string
