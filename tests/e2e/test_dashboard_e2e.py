"""The dashboard in a real browser: every page renders, the grid moves on its own, links work.

Grid cells are drawn on a canvas (their DOM text is raw numbers), so liveness is
checked on the keyed "Updated …" caption and on pixels of the grid, not on cell text.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.shots import shot

pytestmark = [
    pytest.mark.e2e,
    # pytest-playwright 0.10's base_url fixture under pytest 9; harmless (streamlit-notes §3.2).
    pytest.mark.filterwarnings("ignore::pytest.PytestRemovedIn10Warning"),
]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
LOAD_MS = 30_000
SHOT_NAMES = {"Heatmap": "heatmap", "Compare": "compare", "Feed health": "health", "Premium": "premium"}
PAGES = [
    ("Heatmap", "stVegaLiteChart"),
    ("Compare", "stVegaLiteChart"),
    ("Feed health", "stDataFrame"),
    ("Premium", "stDataFrame"),
]


def _wait_for_run(page: Page) -> None:
    """Connected and the script idle: the page has drawn at least once."""
    page.wait_for_selector("[data-testid=stApp][data-test-connection-state=CONNECTED]", timeout=LOAD_MS)
    page.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=LOAD_MS)


def _no_exception(page: Page) -> None:
    errors = page.locator("[data-testid=stException]")
    assert errors.count() == 0, errors.first.inner_text()


def _grid(page: Page) -> Locator:
    return page.locator("[data-testid=stMain] [data-testid=stDataFrame]").first


def _open_quotes(page: Page, url: str) -> None:
    page.goto(url)
    _wait_for_run(page)
    expect(_grid(page)).to_be_visible(timeout=LOAD_MS)
    # First prices and minute paths arrive over HTTP a moment after start.
    expect(page.locator(".st-key-quotes_stamp")).to_contain_text("Updated", timeout=LOAD_MS)


def test_every_page_renders_and_is_screenshotted(page: Page, app_url: str) -> None:
    """Quotes first, then each page through the sidebar's own links, as a user would; each
    shot at 1400 px for ``docs/screenshots`` (the Chinese ones: test_layout_e2e)."""
    page.set_viewport_size({"width": 1400, "height": 900})
    _open_quotes(page, app_url)
    time.sleep(3)  # let sparklines and summary cards fill in
    _no_exception(page)
    quotes_png = ARTIFACTS / "quotes.png"
    page.screenshot(path=str(quotes_png))
    shot(page, "quotes-en-1400")
    (ROOT / "docs").mkdir(exist_ok=True)
    if os.environ.get("UPDATE_SCREENSHOT"):  # refresh the README's picture on request only
        shutil.copyfile(quotes_png, ROOT / "docs" / "screenshot.png")

    for label, testid in PAGES:
        page.locator("[data-testid=stSidebar] a", has_text=label).first.click()
        _wait_for_run(page)
        expect(page.locator(f"[data-testid=stMain] [data-testid={testid}]").first).to_be_visible(
            timeout=LOAD_MS
        )
        expect(page.locator("h1", has_text=label)).to_be_visible()
        time.sleep(2)
        _no_exception(page)
        assert "symbols=" in page.url  # the shareable watchlist follows the user
        shot(page, f"{SHOT_NAMES[label]}-en-1400", full=True)


def test_quotes_grid_updates_by_itself(page: Page, app_url: str) -> None:
    _open_quotes(page, app_url)
    stamp = page.locator(".st-key-quotes_stamp")
    first = stamp.inner_text()
    expect(stamp).not_to_have_text(first, timeout=5_000)

    grid = _grid(page)
    before = grid.screenshot()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        time.sleep(1)
        if grid.screenshot() != before:
            break
    else:
        pytest.fail("the quotes grid did not change within 15 s")
    _no_exception(page)


def test_sidebar_add_names_bad_symbols_and_adds_good_ones(page: Page, app_url: str) -> None:
    _open_quotes(page, app_url)
    box = page.locator("[data-testid=stSidebar] [data-testid=stTextInput] input")
    box.fill("jd, FOO.BAR")
    box.press("Enter")
    alert = page.locator("[data-testid=stSidebar] [data-testid=stAlert]", has_text="FOO.BAR")
    expect(alert).to_be_visible(timeout=LOAD_MS)
    deadline = time.monotonic() + 10
    while "JD.US" not in page.url and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "JD.US" in page.url
    _no_exception(page)


def test_deep_link_opens_a_page_with_the_shared_symbols(page: Page, app_url: str) -> None:
    page.goto(f"{app_url}/Heatmap?symbols=AAPL.US,700.HK,%3Cscript%3E")
    _wait_for_run(page)
    charts = page.locator("[data-testid=stMain] [data-testid=stVegaLiteChart]")
    expect(charts).to_have_count(3, timeout=LOAD_MS)  # the scale strip plus US and HK tiles
    expect(
        page.locator("[data-testid=stSidebar] [data-testid=stAlert]", has_text="not a valid symbol")
    ).to_be_visible()
    assert page.locator("[role=dialog]", has_text="Page not found").count() == 0
    _no_exception(page)


def test_csv_download_holds_the_current_snapshot(page: Page, app_url: str) -> None:
    _open_quotes(page, f"{app_url}/?symbols=AAPL.US,1810.HK,USDCNH")
    with page.expect_download() as download:
        page.get_by_role("button", name="CSV").first.click()
    assert download.value.suggested_filename == "quotes.csv"
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    # English column names whatever the page language, so scripts read either.
    for column in ("symbol", "name", "name_zh", "market", "last", "prev_close", "change", "pct_change", "ts"):
        assert column in header, column
    assert header.index("local_time") == header.index("ts") + 1
    assert [line.split(",")[0] for line in lines[1:]] == ["AAPL.US", "1810.HK", "USDCNH"]
