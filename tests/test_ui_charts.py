"""ui.charts: heatmap and comparison specs, read through ``chart.to_dict()``."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from tests.test_ui_support import snapshot_frame
from ui.charts import (
    DIMMED_OPACITY,
    heatmap,
    heatmap_frame,
    heatmap_parts,
    heatmap_spec,
    scale_legend,
)
from ui.colors import GREEN, RED, TILE_NEUTRAL, Convention
from ui.compare_chart import compare_chart, compare_frame, compare_spec, pct_since


def _layers(chart: Any) -> list[dict[str, Any]]:
    return chart.to_dict()["layer"]


def _data(chart: Any) -> pd.DataFrame:
    (rows,) = chart.to_dict()["datasets"].values()
    return pd.DataFrame(rows)


def _tile_color(chart: Any) -> dict[str, Any]:
    (rect,) = [layer for layer in _layers(chart) if layer["mark"]["type"] == "rect"]
    return rect["encoding"]["color"]


@pytest.mark.parametrize("domain", [2.0, 5.0, 10.0])
def test_heatmap_scale_is_fixed_symmetric_and_centred_on_zero(domain: float) -> None:
    scale = _tile_color(heatmap(snapshot_frame(), Convention.GREEN_UP, domain=domain))["scale"]
    assert scale["domain"] == [-domain, domain]
    assert scale["domainMid"] == 0
    assert scale["clamp"] is True


def test_heatmap_scale_does_not_follow_the_data() -> None:
    calm = snapshot_frame()
    wild = calm.assign(pct_change=calm["pct_change"] * 20)
    assert _tile_color(heatmap(calm, Convention.GREEN_UP)) == _tile_color(heatmap(wild, Convention.GREEN_UP))


def test_heatmap_colours_swap_under_red_up() -> None:
    green_up = _tile_color(heatmap(snapshot_frame(), Convention.GREEN_UP))["scale"]["range"]
    red_up = _tile_color(heatmap(snapshot_frame(), Convention.RED_UP))["scale"]["range"]
    assert green_up == [RED, TILE_NEUTRAL, GREEN]  # low end down, high end up
    assert red_up == [GREEN, TILE_NEUTRAL, RED]


def test_heatmap_tiles_carry_symbol_and_pct_text() -> None:
    chart = heatmap(snapshot_frame(), Convention.GREEN_UP)
    texts = [lay["encoding"]["text"]["field"] for lay in _layers(chart) if lay["mark"]["type"] == "text"]
    assert texts == ["symbol", "pct_label"]
    data = _data(chart).set_index("symbol")
    assert data.loc["AAPL.US", "pct_label"] == "+1.54%"
    assert data.loc["TSLA.US", "pct_label"] == "-1.48%"
    assert data.loc["600519.SH", "pct_label"] == "—"
    assert data.loc["600519.SH", "pct_color"] == 0.0  # no move yet: the neutral midpoint


def test_heatmap_tooltip_has_name_last_prev_close_and_pct() -> None:
    chart = heatmap(snapshot_frame(), Convention.GREEN_UP)
    (rect,) = [layer for layer in _layers(chart) if layer["mark"]["type"] == "rect"]
    titles = [t["title"] for t in rect["encoding"]["tooltip"]]
    assert titles == ["Symbol", "Name", "Last", "Prev close", "% change", "Status"]
    data = _data(chart).set_index("symbol")
    assert data.loc["1810.HK", "last_label"] == "8.234"
    assert data.loc["1810.HK", "prev_label"] == "8.100"
    assert data.loc["AAPL.US", "name"] == "Apple Inc."


def test_heatmap_dims_tiles_that_are_not_trading() -> None:
    chart = heatmap(snapshot_frame(), Convention.GREEN_UP)
    (rect,) = [layer for layer in _layers(chart) if layer["mark"]["type"] == "rect"]
    opacity = rect["encoding"]["opacity"]
    (dim,) = opacity["condition"]
    assert dim["test"] == "datum.dimmed" and dim["value"] == DIMMED_OPACITY
    assert opacity["value"] == 1.0
    dimmed = _data(chart).set_index("symbol")["dimmed"]
    assert not dimmed["AAPL.US"] and not dimmed["TSLA.US"]  # live, quiet
    assert dimmed["700.HK"] and dimmed["600519.SH"]  # market closed, waiting


def test_heatmap_grid_keeps_watchlist_order_and_a_fixed_width() -> None:
    chart = heatmap(snapshot_frame(), Convention.GREEN_UP, columns=4)
    data = _data(chart)
    assert list(data["symbol"].head(3)) == ["AAPL.US", "TSLA.US", "700.HK"]
    assert list(zip(data["col"], data["row"], strict=True))[:5] == [(0, 0), (1, 0), (2, 0), (3, 0), (0, 1)]
    (rect,) = [layer for layer in _layers(chart) if layer["mark"]["type"] == "rect"]
    assert rect["encoding"]["x"]["scale"]["domain"] == [0, 1, 2, 3]


def test_scale_legend_matches_the_tiles() -> None:
    spec = scale_legend(Convention.RED_UP, 5.0).to_dict()
    assert spec["encoding"]["color"]["scale"]["domain"] == [-5.0, 5.0]
    assert spec["encoding"]["color"]["scale"]["range"] == [GREEN, TILE_NEUTRAL, RED]


def test_pct_since_previous_close() -> None:
    assert pct_since(101.5, 100.0) == pytest.approx(1.5)
    assert pct_since(98.0, 100.0) == pytest.approx(-2.0)


def _history(prices: list[float], start: str = "2026-11-25 14:30") -> pd.DataFrame:
    return pd.DataFrame(
        {"ts": pd.date_range(start, periods=len(prices), freq="min", tz="UTC"), "price": prices}
    )


def test_compare_frame_computes_pct_since_previous_close() -> None:
    frame = compare_frame(
        {"AAPL.US": _history([100.0, 101.5]), "700.HK": _history([400.0, 396.0])},
        {"AAPL.US": 100.0, "700.HK": 400.0},
    )
    got = frame.groupby("symbol")["pct"].last()
    assert got["AAPL.US"] == pytest.approx(1.5)
    assert got["700.HK"] == pytest.approx(-1.0)
    assert list(frame.columns) == ["symbol", "time", "clock", "price", "pct", "label_pct"]
    # Only each line's last point carries an end label.
    assert frame["label_pct"].notna().sum() == 2


def test_compare_frame_shows_wall_clock_in_the_viewer_zone() -> None:
    hist = {"700.HK": _history([400.0], start="2026-11-25 01:30")}
    frame = compare_frame(hist, {"700.HK": 400.0}, tz="Asia/Hong_Kong")
    assert frame.loc[0, "time"] == pd.Timestamp("2026-11-25 09:30")
    assert frame.loc[0, "clock"] == "09:30:00"


def test_compare_frame_skips_symbols_without_a_base_and_thins_long_paths() -> None:
    frame = compare_frame(
        {"A.US": _history([1.0] * 1000), "B.US": _history([1.0]), "C.US": _history([])},
        {"A.US": 1.0, "B.US": float("nan"), "C.US": 1.0},
        max_points=100,
    )
    assert set(frame["symbol"]) == {"A.US"}
    assert len(frame) == 100
    empty = compare_frame({}, {})
    assert empty.empty and list(empty.columns) == ["symbol", "time", "clock", "price", "pct", "label_pct"]


def test_compare_chart_lines_colours_and_tooltips() -> None:
    frame = compare_frame(
        {"AAPL.US": _history([100.0, 101.5]), "700.HK": _history([400.0, 396.0])},
        {"AAPL.US": 100.0, "700.HK": 400.0},
    )
    chart = compare_chart(frame, Convention.RED_UP, symbols=["AAPL.US", "700.HK"], tz_label="Asia/Hong_Kong")
    spec = chart.to_dict()
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks == ["rule", "line", "circle", "text"]
    line = spec["layer"][1]["encoding"]
    assert line["y"]["field"] == "pct" and line["x"]["field"] == "time"
    assert line["x"]["title"] == "Time (Asia/Hong_Kong)"
    assert line["color"]["scale"]["domain"] == ["AAPL.US", "700.HK"]
    assert {t["field"] for t in line["tooltip"]} == {"symbol", "clock", "price", "pct"}
    labels = spec["layer"][3]["encoding"]["color"]["scale"]
    assert labels["domain"] == ["up", "down", "flat"] and labels["range"][:2] == [RED, GREEN]


def test_compare_chart_accepts_an_empty_frame() -> None:
    spec = compare_chart(compare_frame({}, {}), Convention.GREEN_UP, symbols=["A.US", "B.US"]).to_dict()
    assert spec["layer"][1]["mark"]["type"] == "line"


def test_heatmap_spec_is_the_altair_spec_without_data() -> None:
    snap = snapshot_frame()
    data, spec = heatmap_parts(snap, Convention.RED_UP, domain=2.0, columns=4)
    full = heatmap(snap, Convention.RED_UP, domain=2.0, columns=4).to_dict()
    assert spec["layer"] == [{k: v for k, v in layer.items() if k != "data"} for layer in full["layer"]]
    assert all("data" not in layer for layer in spec["layer"]) and "datasets" not in spec
    assert spec["height"] == full["height"] and spec["width"] == "container"
    pd.testing.assert_frame_equal(data, heatmap_frame(snap, 4))
    spec["layer"].clear()  # callers get their own copy: Streamlit edits the spec it is given
    assert heatmap_spec(Convention.RED_UP, 2.0, 4, spec["height"] // 80)["layer"]


def test_compare_spec_reads_top_level_data_and_keeps_the_zero_rule() -> None:
    frame = compare_frame({}, {})
    spec = compare_spec(frame, Convention.GREEN_UP, symbols=["A.US", "B.US"])
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["rule", "line", "circle", "text"]
    assert spec["layer"][0]["data"] == {"values": [{"pct": 0.0}]}
    assert all("data" not in layer for layer in spec["layer"][1:])
    assert spec["layer"][1]["encoding"]["color"]["scale"]["domain"] == ["A.US", "B.US"]
