"""ui.watchlist: adding, removing, presets, the URL form, and untrusted text."""

from __future__ import annotations

import re

import pytest

from feed.symbols import Market, parse_symbol
from ui.watchlist import (
    MAX_INPUT_CHARS,
    MAX_WATCHLIST,
    PRESETS,
    add_symbols,
    escape_markdown,
    from_query,
    market_of,
    remove_symbols,
    shorten,
    to_query,
)


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_code_is_canonical(name: str) -> None:
    for code in PRESETS[name]:
        assert parse_symbol(code).code == code


def test_presets_include_the_issue_lists() -> None:
    assert PRESETS["Article's four"] == ("AAPL.US", "TSLA.US", "700.HK", "9988.HK")
    pairs = PRESETS["Dual-listed pairs"]
    for us, hk in (
        ("BABA.US", "9988.HK"),
        ("JD.US", "9618.HK"),
        ("BIDU.US", "9888.HK"),
        ("NTES.US", "9999.HK"),
    ):
        assert pairs.index(hk) == pairs.index(us) + 1
    other = {"600519.SH", "000001.SZ", "USDHKD", "USDCNH", "GOLD", "BTCUSDT"}
    assert set(PRESETS["A-shares, FX & crypto"]) == other


def test_add_accepts_any_parser_form_several_at_once() -> None:
    change = add_symbols(["AAPL.US"], "tsla, 0700.HK 600519;usdcnh,btcusdt")
    assert change.watchlist == ["AAPL.US", "TSLA.US", "700.HK", "600519.SH", "USDCNH", "BTCUSDT"]
    assert change.added == ["TSLA.US", "700.HK", "600519.SH", "USDCNH", "BTCUSDT"]
    assert not change.messages()


def test_bad_entries_are_named_and_good_ones_still_added() -> None:
    change = add_symbols(["AAPL.US"], "MSFT, FOO.BAR, 1234567, 9988")
    assert change.watchlist == ["AAPL.US", "MSFT.US", "9988.HK"]
    text = "\n".join(change.messages())
    assert "`FOO.BAR`" in text and "`1234567`" in text
    assert len(change.messages()) == 2


def test_duplicates_are_reported_not_added_twice() -> None:
    change = add_symbols(["AAPL.US", "700.HK"], "aapl, 00700")
    assert change.watchlist == ["AAPL.US", "700.HK"]
    assert change.already == ["AAPL.US", "700.HK"] and not change.added


def test_the_cap_refuses_extra_symbols_by_name() -> None:
    full = [f"{n}.HK" for n in range(1, MAX_WATCHLIST + 1)]
    change = add_symbols(full, "AAPL, MSFT")
    assert change.watchlist == full
    assert change.over_cap == ["AAPL.US", "MSFT.US"]
    assert any(f"at most {MAX_WATCHLIST}" in m and "AAPL\\.US" in m for m in change.messages())


def test_overlong_input_is_refused_whole_with_a_clear_message() -> None:
    change = add_symbols(["AAPL.US"], "A," * MAX_INPUT_CHARS)
    assert change.watchlist == ["AAPL.US"]
    assert change.too_long == 2 * MAX_INPUT_CHARS
    assert "characters" in change.messages()[0]


def test_many_bad_entries_are_summarised() -> None:
    change = add_symbols([], ",".join(f"bad!{i}" for i in range(30)))
    assert len(change.messages()) == 9 and "22 more" in change.messages()[-1]


@pytest.mark.parametrize(
    "hostile",
    [
        pytest.param("[click](https://evil.example)", id="markdown-link"),
        pytest.param("<img src=x onerror=alert(1)>", id="html"),
        pytest.param(":material/warning: :red[boom]", id="streamlit-directives"),
        pytest.param("$\\frac{1}{0}$", id="latex"),
        pytest.param("**bold**_it_`code`", id="emphasis"),
    ],
)
def test_messages_repeat_hostile_input_only_as_literal_text(hostile: str) -> None:
    """Entries are quoted as code spans (markdown shows them literally, links inert)."""
    for message in add_symbols([], [hostile]).messages():
        spans = re.findall(r"(`+)(.*?)\1", message)
        assert spans, message
        # Outside the code spans, nothing of the hostile text survives.
        outside = re.sub(r"(`+).*?\1", "", message)
        for ch in "[]<>$*":
            assert ch not in outside, (ch, message)


def test_shorten_drops_control_and_bidi_characters() -> None:
    assert shorten("AAPL\u202e\x00LPAA") == "AAPLLPAA"
    assert shorten("x" * 50, 10) == "x" * 10 + "…"
    assert escape_markdown("a.b") == "a\\.b"


def test_remove_keeps_order() -> None:
    assert remove_symbols(["A.US", "B.US", "C.US"], ["B.US"]) == ["A.US", "C.US"]


def test_query_round_trip_and_repeated_keys() -> None:
    codes = ["AAPL.US", "700.HK", "GOLD"]
    assert from_query(to_query(codes)).watchlist == codes
    assert from_query(["AAPL.US,700.HK", "gold"]).watchlist == codes
    assert from_query(None).watchlist == []


def test_query_with_garbage_keeps_the_good_codes() -> None:
    change = from_query("AAPL.US,<script>,700.HK," + "Z" * 5000)
    assert change.watchlist == ["AAPL.US", "700.HK"]  # the long entry is named, not fatal
    change = from_query("AAPL.US,<script>,700.HK")
    assert change.watchlist == ["AAPL.US", "700.HK"] and len(change.messages()) == 1


def test_market_of_canonical_codes() -> None:
    assert market_of("700.HK") is Market.HK
    assert market_of("Silver") is Market.FX
    assert market_of("BTCUSDT") is Market.CRYPTO
    assert market_of("not a code") is None
