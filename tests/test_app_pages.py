"""Every page under AppTest in demo mode: renders, shows live numbers, edits the watchlist.

AppTest runs the scripts in-process, so the feed singleton is shared across the
AppTest instances of one test; the fixture clears ``st.cache_resource`` afterwards,
which stops the manager and its simulator before the thread-leak check runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from feed.config import DEFAULT_SYMBOLS
from tests.support import run_until
from ui.colors import GREEN, RED, Convention
from ui.format import MISSING

ROOT = Path(__file__).resolve().parents[1]
ENTRY = ROOT / "streamlit_app.py"
PAGES = [ENTRY, *sorted((ROOT / "pages").glob("*.py"))]
TIMEOUT = 30


@pytest.fixture(autouse=True)
def _demo_feed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Demo mode (no token), and a stopped feed after each test."""
    monkeypatch.delenv("ALLTICK_TOKEN", raising=False)
    monkeypatch.chdir(ROOT)
    yield
    st.cache_resource.clear()


def _app(path: Path = ENTRY, **query: str) -> AppTest:
    at = AppTest.from_file(str(path), default_timeout=TIMEOUT)
    for key, value in query.items():
        at.query_params[key] = value
    return at


def _priced(at: AppTest) -> bool:
    if at.exception or not at.dataframe:
        return False
    table = at.dataframe[0].value
    return len(table) > 0 and table["Last"].ne(MISSING).all()


def numbers(column: pd.Series) -> pd.Series:
    """A grid column of display text (``2,650.35``, ``▲ +1.23``, ``—``) back to floats."""
    text = column.astype(str).str.replace(r"^[▲▼] ", "", regex=True).str.replace(",", "")
    return pd.to_numeric(text.replace(MISSING, "nan"), errors="coerce")


def _link(at: AppTest) -> str:
    """The ``?symbols=`` value the page wrote back (AppTest may hold it as a list)."""
    value = at.query_params["symbols"]
    return value[-1] if isinstance(value, list) else value


def _watchlist(at: AppTest) -> list[str]:
    return list(at.session_state["watchlist"])


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_page_renders_in_demo_mode(page: Path) -> None:
    at = _app(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title and at.title[0].value.endswith(("Quotes", "Heatmap", "Compare", "Feed health", "Premium"))
    assert any("Demo mode" in i.value for i in at.info)
    assert at.sidebar.text_input(key="wl_add_text") is not None


def test_quotes_table_holds_the_watched_symbols_with_numbers() -> None:
    at = run_until(_app(), _priced)
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["Symbol"]) == list(DEFAULT_SYMBOLS)
    assert numbers(table["Last"]).gt(0).all()
    assert table["Time"].str.endswith((" ET", " HKT")).all()
    assert set(table["Market"]) == {"US", "HK"}
    labels = [m.label for m in at.metric]
    assert any(label.startswith("US stocks") for label in labels)
    assert any(label.startswith("Hong Kong stocks") for label in labels)


def test_quotes_prices_become_complete_rows_with_previous_close() -> None:
    at = run_until(_app(), lambda a: _priced(a) and a.dataframe[0].value["Prev close"].ne(MISSING).all())
    table = at.dataframe[0].value
    last, prev, change = (numbers(table[c]) for c in ("Last", "Prev close", "Change"))
    # The grid shows values rounded as displayed (cents, or thousandths under HK$10).
    assert (change - (last - prev)).abs().max() <= 0.0101
    pct = (last / prev - 1) * 100
    assert (table["% Chg"] - pct).abs().max() <= 0.01
    assert (table["% Chg"] == table["% Chg"].round(2)).all()


def test_market_filter_limits_the_grid_to_one_market() -> None:
    at = run_until(_app(), _priced)
    at.session_state["quotes_market"] = "HK"
    at.run()
    assert set(at.dataframe[0].value["Market"]) == {"HK"}


def test_heatmap_page_holds_one_chart_per_market() -> None:
    at = run_until(_app(ROOT / "pages" / "1_Heatmap.py"), lambda a: len(a.get("vega_lite_chart")) >= 3)
    assert not at.exception
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    tiles = [s for s in specs if "layer" in s]
    assert len(tiles) == 2  # US and HK
    color = tiles[0]["layer"][0]["encoding"]["color"]["scale"]
    assert color["domain"] == [-5.0, 5.0] and color["domainMid"] == 0


def test_red_up_convention_swaps_heatmap_colours() -> None:
    at = _app(ROOT / "pages" / "1_Heatmap.py")
    at.session_state["ui_convention"] = Convention.RED_UP
    at = run_until(at, lambda a: len(a.get("vega_lite_chart")) >= 3)
    tiles = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    ranges = [s["layer"][0]["encoding"]["color"]["scale"]["range"] for s in tiles if "layer" in s]
    assert ranges and all(r[0] == GREEN and r[-1] == RED for r in ranges)


def test_compare_page_holds_the_chart_and_table() -> None:
    at = run_until(_app(ROOT / "pages" / "2_Compare.py"), _priced)
    assert not at.exception
    (chart,) = at.get("vega_lite_chart")
    spec = json.loads(chart.proto.spec)
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["rule", "line", "circle", "text"]
    assert list(at.dataframe[0].value["Symbol"]) == list(DEFAULT_SYMBOLS[:4])


def test_compare_needs_two_symbols() -> None:
    at = _app(ROOT / "pages" / "2_Compare.py")
    at.session_state["compare_pick"] = ["AAPL.US"]
    at.run()
    assert not at.exception
    assert any("at least two" in i.value for i in at.info)
    assert not at.get("vega_lite_chart")


def test_feed_health_page_lists_connections_and_clocks() -> None:
    at = run_until(_app(ROOT / "pages" / "3_Feed_health.py"), lambda a: len(a.dataframe) >= 2)
    assert not at.exception
    tables = [d.value for d in at.dataframe]
    conns = next(t for t in tables if "Connection" in t.columns)
    assert set(conns["Markets"]) <= {"US", "HK"} and len(conns) >= 1
    clocks = next(t for t in tables if "Phase" in t.columns)
    assert set(clocks["Market"]) == {
        "US stocks",
        "Hong Kong stocks",
        "China A-shares",
        "Forex & metals",
        "Crypto",
    }
    assert {m.label for m in at.metric} >= {"Mode", "Plan", "Connections", "Codes per subscription"}


def _add(at: AppTest, text: str) -> AppTest:
    at.sidebar.text_input(key="wl_add_text").input(text)
    at.sidebar.button(key="wl_add_submit").click()
    return at.run()


def test_bad_symbol_shows_an_error_and_keeps_the_list() -> None:
    at = _app().run()
    before = _watchlist(at)
    _add(at, "FOO.BAR")
    assert not at.exception
    (error,) = at.sidebar.error
    assert "`FOO.BAR`" in error.value and "not a valid symbol" in error.value
    assert _watchlist(at) == before


def test_good_symbols_appear_and_bad_ones_are_named() -> None:
    at = _app().run()
    _add(at, "jd, 600519, not-a-code")
    assert _watchlist(at)[-2:] == ["JD.US", "600519.SH"]
    assert "`not-a-code`" in at.sidebar.error[0].value
    assert _link(at).endswith(",JD.US,600519.SH")
    at = run_until(at, lambda a: "JD.US" in set(a.dataframe[0].value["Symbol"]))
    table = at.dataframe[0].value.set_index("Symbol")
    assert table.loc["600519.SH", "Market"] == "CN"


def test_preset_and_remove_edit_the_list() -> None:
    at = _app().run()
    at.sidebar.selectbox(key="wl_preset").select("A-shares, FX & crypto").run()
    assert _watchlist(at)[-6:] == ["600519.SH", "000001.SZ", "USDHKD", "USDCNH", "GOLD", "BTCUSDT"]
    at.sidebar.multiselect(key="wl_current").unselect("AAPL.US").run()
    assert "AAPL.US" not in _watchlist(at)
    assert not at.exception


def test_link_seeds_the_watchlist_once_and_survives_page_switches() -> None:
    at = run_until(_app(symbols="aapl,0700.HK,USDCNH"), _priced)
    assert _watchlist(at) == ["AAPL.US", "700.HK", "USDCNH"]
    assert _link(at) == "AAPL.US,700.HK,USDCNH"  # canonical form written back
    _add(at, "GOLD")
    at.switch_page("pages/1_Heatmap.py").run()
    assert _watchlist(at) == ["AAPL.US", "700.HK", "USDCNH", "GOLD"]
    assert not at.exception


def test_strange_link_input_is_named_and_nothing_breaks() -> None:
    hostile = "<script>alert(1)</script>,[x](javascript:alert(1)),AAPL.US," + "\u202e" * 40
    at = _app(symbols=hostile).run()
    assert not at.exception
    assert _watchlist(at) == ["AAPL.US"]
    message = at.sidebar.error[0].value
    # Hostile entries appear only inside code spans, which markdown shows literally.
    outside = re.sub(r"(`+).*?\1", "", message)
    assert "<script>" not in outside and "](" not in outside
    assert "`<script>alert(1)</script>`" in message


def test_a_link_of_repeats_keeps_the_one_symbol_and_not_the_defaults() -> None:
    at = _app(symbols="A," * 5000).run()
    assert not at.exception
    assert _watchlist(at) == ["A.US"]


def test_empty_watchlist_is_a_guard_not_an_error() -> None:
    at = _app().run()
    at.button(key="wl_clear").click().run()
    assert _watchlist(at) == []
    assert not at.exception
    assert any("watchlist is empty" in i.value for i in at.info)
