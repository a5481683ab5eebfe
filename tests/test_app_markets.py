"""An A-share and a forex symbol stream in demo mode and appear on every page."""

from __future__ import annotations

import json

from tests.support import run_until
from tests.test_app_pages import ROOT, _app, _demo_feed, _priced  # noqa: F401 - fixture

LINK = "600519.SH,USDHKD,BTCUSDT,700.HK"


def test_quotes_page_shows_a_share_forex_and_crypto_rows_with_prices():
    def complete(a):
        return _priced(a) and a.dataframe[0].value["Prev close"].ne("—").all()

    at = run_until(_app(symbols=LINK), complete)
    table = at.dataframe[0].value.set_index("Symbol")
    assert list(table.index) == LINK.split(",")
    assert list(table["Market"]) == ["CN", "FX", "CRYPTO", "HK"]
    assert table["Last"].ne("—").all() and table["Prev close"].ne("—").all()


def test_heatmap_page_has_a_chart_for_each_new_market():
    at = run_until(
        _app(ROOT / "pages" / "1_Heatmap.py", symbols=LINK), lambda a: len(a.get("vega_lite_chart")) >= 5
    )
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    tiles = [s for s in specs if "layer" in s]
    assert len(tiles) == 4  # CN, FX, crypto, HK
    # Tiles go out as st.vega_lite_chart(data, spec): their rows travel in proto.data.
    datasets = " ".join(str(c.proto.datasets) + str(c.proto.data) for c in at.get("vega_lite_chart"))
    assert "600519.SH" in datasets and "USDHKD" in datasets


def test_compare_page_lines_up_a_share_and_forex():
    at = run_until(_app(ROOT / "pages" / "2_Compare.py", symbols=LINK), _priced)
    assert set(at.dataframe[0].value["Symbol"]) >= {"600519.SH", "USDHKD"}


def test_feed_health_lists_their_connections():
    def ready(a):
        tables = [d.value for d in a.dataframe]
        conns = next((t for t in tables if "Connection" in t.columns), None)
        return conns is not None and {"CN", "FX"} <= set(conns["Markets"])

    at = run_until(_app(ROOT / "pages" / "3_Feed_health.py", symbols=LINK), ready)
    assert ready(at)
