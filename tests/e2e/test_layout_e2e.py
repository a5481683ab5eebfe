"""The dashboard at a phone's 400 px, at 1280x720 and 1400 px, in English and Chinese, dark and light.

Screenshots land in ``docs/screenshots/`` (look at them: nothing cut off, nothing
overlapping); the assertions measure what the issue reported: the sidebar covering
the phone, the grid pushed below the fold, columns and legends off the edge, the
Today column off a 1280 px screen, and the input and Back behaviours a browser shows.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.shots import shot as _shot
from ui.live import COLUMN_WIDTHS

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore::pytest.PytestRemovedIn10Warning")]

ROOT = Path(__file__).resolve().parents[2]
LOAD_MS = 30_000
PHONE = {"width": 400, "height": 860}
LAPTOP = {"width": 1280, "height": 720}
DESKTOP = {"width": 1400, "height": 900}
EIGHT = "AAPL.US,TSLA.US,700.HK,9988.HK,BABA.US,600519.SH,USDHKD,BTCUSDT"


def _context(
    browser: Browser, viewport: dict[str, int], locale: str = "en-US", scheme: str = "dark"
) -> BrowserContext:
    return browser.new_context(viewport=viewport, locale=locale, color_scheme=scheme, timezone_id="UTC")


@pytest.fixture
def open_page(browser: Browser, app_url: str) -> Iterator[Any]:
    contexts: list[BrowserContext] = []

    def open_(path: str, viewport: dict[str, int], locale: str = "en-US", scheme: str = "dark") -> Page:
        # One page at a time: an open tab keeps a session refreshing every second, and
        # a handful of them make the server (and this 2-core machine) crawl.
        while contexts:
            contexts.pop().close()
        ctx = _context(browser, viewport, locale, scheme)
        contexts.append(ctx)
        page = ctx.new_page()
        page.goto(f"{app_url}/{path}")
        _settle(page)
        return page

    yield open_
    for ctx in contexts:
        ctx.close()


def _settle(page: Page, wait_s: float = 0.0) -> None:
    page.wait_for_selector("[data-testid=stApp][data-test-connection-state=CONNECTED]", timeout=LOAD_MS)
    page.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=LOAD_MS)
    if wait_s:
        time.sleep(wait_s)
    assert page.locator("[data-testid=stException]").count() == 0


def _grid(page: Page) -> Any:
    grid = page.locator("[data-testid=stMain] [data-testid=stDataFrame]").first
    expect(grid).to_be_visible(timeout=LOAD_MS)
    return grid


def _sidebar_open(page: Page) -> bool:
    box = page.locator("[data-testid=stSidebar]").bounding_box()
    return box is not None and box["x"] + box["width"] > 100


def _no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


@pytest.mark.parametrize(("lang", "locale"), [("en", "en-US"), ("zh", "zh-CN")])
def test_3_phone_quotes_grid_near_the_top_with_its_numbers_and_no_sidebar(
    open_page: Any, lang: str, locale: str
) -> None:
    page = open_page("", PHONE, locale)
    grid = _grid(page)
    time.sleep(3)
    assert not _sidebar_open(page)  # it covered 75 % of the screen on first load
    box = grid.bounding_box()
    assert box is not None and box["y"] < 900, box  # five stacked cards put it below 1,300 px
    first_four = sum(COLUMN_WIDTHS[c] for c in ("Symbol", "Last", "Change", "% Chg"))
    assert box["width"] >= first_four + 2  # Last, Change and % are on screen
    _no_sideways_scroll(page)
    _shot(page, f"quotes-{lang}-400", full=True)


@pytest.mark.parametrize(("lang", "locale"), [("en", "en-US"), ("zh", "zh-CN")])
def test_3_phone_heatmap_and_compare_legends_fit(open_page: Any, lang: str, locale: str) -> None:
    page = open_page(f"Heatmap?symbols={EIGHT}", PHONE, locale)
    charts = page.locator("[data-testid=stMain] [data-testid=stVegaLiteChart]")
    expect(charts.nth(2)).to_be_visible(timeout=LOAD_MS)
    time.sleep(2)
    for i in range(charts.count()):
        box = charts.nth(i).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (i, box)
    _no_sideways_scroll(page)
    _shot(page, f"heatmap-{lang}-400", full=True)
    page = open_page(f"Compare?symbols={EIGHT}", PHONE, locale)
    chart = page.locator("[data-testid=stMain] [data-testid=stVegaLiteChart]").first
    expect(chart).to_be_visible(timeout=LOAD_MS)
    time.sleep(3)
    box = chart.bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE["width"]
    _no_sideways_scroll(page)
    _shot(page, f"compare-{lang}-400", full=True)


@pytest.mark.parametrize(("lang", "locale"), [("en", "en-US"), ("zh", "zh-CN")])
def test_3_at_1280x720_every_column_fits_beside_the_sidebar(open_page: Any, lang: str, locale: str) -> None:
    page = open_page("", LAPTOP, locale)
    grid = _grid(page)
    time.sleep(3)
    assert _sidebar_open(page)
    box = grid.bounding_box()
    assert box is not None and box["width"] >= sum(COLUMN_WIDTHS.values()) + 2, box  # Today was off the edge
    assert box["x"] + box["width"] <= LAPTOP["width"]
    _shot(page, f"quotes-{lang}-1280")


def test_chinese_pages_at_1400(open_page: Any) -> None:
    """Quotes and Premium in Chinese at 1400 px (English at 1400 px: test_dashboard_e2e; the
    other Chinese pages are shot at 400 and 1280 px)."""
    for path, name in (("", "quotes"), ("Premium", "premium")):
        page = open_page(f"{path}?symbols={EIGHT}", DESKTOP, "zh-CN")
        time.sleep(2.5)
        _shot(page, f"{name}-zh-1400", full=name != "quotes")


def test_7_compare_with_eight_picks(open_page: Any) -> None:
    for lang, locale in (("en", "en-US"),):
        page = open_page(f"Compare?symbols={EIGHT}", LAPTOP, locale)
        select = page.locator("[data-testid=stMain] [data-testid=stMultiSelect] input").first
        for code in EIGHT.split(",")[4:]:
            select.click()
            select.fill(code)
            select.press("Enter")
            time.sleep(0.5)
        page.keyboard.press("Escape")
        tags = page.locator("[data-testid=stMain] [data-testid=stMultiSelectTagsContainer]").first
        for code in EIGHT.split(","):
            expect(tags).to_contain_text(code, timeout=LOAD_MS)
        time.sleep(4)
        _shot(page, f"compare-{lang}-1280-eight", full=True)


def test_12_light_theme_follows_the_browser(open_page: Any) -> None:
    page = open_page("", LAPTOP, "en-US", scheme="light")
    _grid(page)
    time.sleep(3)
    background = page.evaluate(
        "getComputedStyle(document.querySelector('[data-testid=stApp]')).backgroundColor"
    )
    assert background == "rgb(255, 255, 255)", background
    _shot(page, "quotes-en-1280-light")
    dark = open_page("", LAPTOP, "en-US", scheme="dark")
    background = dark.evaluate(
        "getComputedStyle(document.querySelector('[data-testid=stApp]')).backgroundColor"
    )
    assert background == "rgb(15, 19, 24)", background


def _sidebar_input(page: Page) -> Any:
    return page.locator("[data-testid=stSidebar] [data-testid=stTextInput] input")


def test_1_a_long_paste_is_read_whole(open_page: Any) -> None:
    page = open_page("", DESKTOP)
    text = ", ".join(f"{n:04d}.HK" for n in range(1, 301))
    box = _sidebar_input(page)
    box.fill(text)
    assert len(box.input_value()) == len(text)  # it stayed empty at 0/2000 before
    box.press("Enter")
    expect(
        page.locator("[data-testid=stSidebar] [data-testid=stAlert]", has_text="Added 190 symbols")
    ).to_be_visible(timeout=LOAD_MS)


def test_8_a_double_hyphen_shows_as_typed(open_page: Any) -> None:
    page = open_page("", DESKTOP)
    box = _sidebar_input(page)
    box.fill("--")
    box.press("Enter")
    alert = page.locator("[data-testid=stSidebar] [data-testid=stAlert]", has_text="not a valid symbol")
    expect(alert).to_be_visible(timeout=LOAD_MS)
    text = alert.inner_text()
    assert "--" in text and "—" not in text and "–" not in text


def test_5_back_after_clear_brings_the_list_back(open_page: Any) -> None:
    page = open_page("?symbols=AAPL.US,700.HK", DESKTOP)
    page.locator("[data-testid=stSidebar]").get_by_role("button", name="Clear watchlist").click()
    page.locator("[data-testid=stPopoverBody]").get_by_role("button", name="Clear").click()
    _settle(page, 1)
    expect(page.locator("[data-testid=stSidebar]").get_by_role("button", name="Undo")).to_be_visible()
    assert "symbols=&" in page.url + "&" or page.url.endswith("symbols=")
    page.go_back()
    _settle(page, 1)
    expect(_grid(page)).to_be_visible()
    assert "AAPL.US" in page.url
    chips = page.locator("[data-testid=stSidebar] [data-testid=stMultiSelect]").first.inner_text()
    assert "AAPL.US" in chips and "700.HK" in chips
