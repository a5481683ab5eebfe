"""Issue 14's defects at the builder level: colours, end labels, input forms, feed-health filters."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pandas as pd
import pytest

from feed.model import EventKind, FeedEvent, FeedStatus
from tests.test_ui_support import NOW, snapshot_frame
from ui.colors import BACKGROUNDS, FRESHNESS_COLORS, GREEN, RED, Convention, contrast
from ui.compare_chart import _PLOT_PX, COMPARE_COLORS, LABEL_GAP_PX, compare_frame, dodge
from ui.health import events_frame, invalid_frame
from ui.i18n import translator
from ui.symbol_input import split_input, visible
from ui.tables import freeze, quotes_table
from ui.watchlist import add_symbols, inline_code


def _lab(hex_color: str) -> tuple[float, float, float]:
    rgb = [int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    x = (0.4124 * lin[0] + 0.3576 * lin[1] + 0.1805 * lin[2]) / 0.95047
    y = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    z = (0.0193 * lin[0] + 0.1192 * lin[1] + 0.9505 * lin[2]) / 1.08883

    def f(v: float) -> float:
        return v ** (1 / 3) if v > 0.008856 else 7.787 * v + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def _distance(a: str, b: str) -> float:
    return float(np.linalg.norm(np.subtract(_lab(a), _lab(b))))


# 7. Compare: eight distinct colours, labels that do not overlap --------------------------------


def test_7_eight_compare_colours_are_far_apart_and_none_reads_as_direction() -> None:
    assert len(COMPARE_COLORS) == 8
    closest = min(_distance(a, b) for a, b in itertools.combinations(COMPARE_COLORS, 2))
    assert closest >= 25, closest  # the old palette's two oranges were 13.7 apart
    for direction in (GREEN, RED):
        assert min(_distance(direction, c) for c in COMPARE_COLORS) >= 35


def test_7_end_labels_of_eight_close_lines_stay_a_label_apart() -> None:
    hist = {
        f"S{i}.US": pd.DataFrame(
            {
                "ts": pd.date_range("2026-11-25 14:30", periods=3, freq="min", tz="UTC"),
                "price": [100, 100.5, 101 + i * 0.001],
            }
        )
        for i in range(8)
    }
    frame = compare_frame(hist, {c: 100.0 for c in hist})
    labels = frame["label_pct"].dropna().sort_values().to_numpy()
    assert len(labels) == 8
    span = max(frame["pct"].max(), 0) - min(frame["pct"].min(), 0)
    gaps_px = np.diff(labels) / span * _PLOT_PX
    assert gaps_px.min() >= LABEL_GAP_PX - 1e-6


def test_7_dodge_keeps_order_and_leaves_spaced_labels_alone() -> None:
    assert dodge([1.0, -1.0, 0.0], -1.0, 1.0).tolist() == [1.0, -1.0, 0.0]
    placed = dodge([0.5, 0.5, 0.5], 0.0, 1.0)
    assert placed.max() <= 1.0 and np.all(np.diff(np.sort(placed)) > 0)


# 8. Input forms ---------------------------------------------------------------------------------


def test_8_full_width_and_invisible_characters() -> None:
    assert [t.text for t in split_input("600519，000001；ＡＡＰＬ、7\u200b00")] == [
        "600519",
        "000001",
        "AAPL",
        "700",
    ]
    assert visible("A\u200bB") == "A<U+200B>B"
    assert inline_code("--") == "`--`" and inline_code("a`b") == "``a`b``"


def test_8_brk_b_is_a_class_share_and_unknown_suffixes_still_say_so() -> None:
    change = add_symbols([], "BRK.B, BF.A, FOO.BAR")
    assert change.watchlist == ["BRK.B.US", "BF.A.US"]
    (message,) = change.messages()
    assert "unknown market suffix `.BAR`" in message


# 9. Text is not a symbol list; invalid codes and events name this watchlist's codes ----------------


def test_9_bare_words_in_text_are_held_but_coded_symbols_still_added() -> None:
    change = add_symbols([], "SELECT * FROM quotes WHERE code = '700.HK' OR 1=1; AAPL.US")
    assert change.watchlist == ["AAPL.US"]
    assert {"FROM", "WHERE", "code"} <= set(change.held)  # SELECT (6 letters) is no ticker at all
    plain = add_symbols([], "jd, msft")  # a plain list: bare tickers are fine
    assert plain.watchlist == ["JD.US", "MSFT.US"]


def test_9_invalid_symbols_are_those_of_this_watchlist_only() -> None:
    status = FeedStatus(
        demo=True,
        plan="p",
        max_connections=1,
        max_codes=5,
        connections=(),
        invalid_symbols={
            "DROP.US": "the server does not know this code (ret 600)",
            "XYZ.US": "the plan does not include this code (ret 604)",
        },
    )
    frame = invalid_frame(status, ["AAPL.US", "XYZ.US"])
    assert frame.to_dict("records") == [
        {"Symbol": "XYZ.US", "Reason": "the plan does not include this code (ret 604)"}
    ]
    zh = invalid_frame(status, ["DROP.US"], translator("zh"))
    assert zh.loc[0, "Reason"] == "AllTick 不认识此代码（ret 600）"


def test_9_events_name_their_codes_and_the_http_api() -> None:
    t0 = dt.datetime(2026, 11, 25, 15, 0, tzinfo=dt.UTC)
    event = FeedEvent(1, t0, EventKind.INVALID_SYMBOL, "http", "2 codes unknown", codes=("A.US", "B.US"))
    row = events_frame([event]).iloc[0]
    assert row["Symbols"] == "A.US, B.US" and row["Connection"] == "HTTP API"
    many = FeedEvent(2, t0, EventKind.INVALID_SYMBOL, "http", "x", codes=tuple(f"{n}.HK" for n in range(20)))
    assert events_frame([many]).iloc[0]["Symbols"].endswith("+12")


# 11. Paused rows, accessible numbers ----------------------------------------------------------------


def test_11_a_frozen_view_says_paused_for_rows_it_no_longer_vouches_for() -> None:
    frozen = freeze(snapshot_frame())
    assert frozen["freshness"].tolist()[:3] == ["paused", "paused", "market closed"]


def test_11_sparklines_are_short_rounded_percent_paths() -> None:
    hist = pd.DataFrame(
        {
            "ts": pd.date_range("2026-11-25 14:30", periods=300, freq="min", tz="UTC"),
            "price": np.linspace(228, 231.505, 300),
        }
    )
    spark = quotes_table(snapshot_frame(), {"AAPL.US": hist}, now=NOW).loc[0, "Today"]
    assert len(spark) == 24 and spark[0] == 0.0 and spark[-1] == round((231.505 / 228 - 1) * 100, 2)


# 12. Readable direction and status colours on both themes ---------------------------------------------


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_12_text_colours_read_on_their_theme(theme: str) -> None:
    background = BACKGROUNDS[theme]
    for convention in Convention:
        palette = convention.text_palette(theme)
        for color in (palette.up, palette.down, palette.neutral):
            assert contrast(color, background) >= 4.5, (theme, convention, color)
    for status, colors in FRESHNESS_COLORS.items():
        assert contrast(colors[theme], background) >= 4.5, (theme, status)
