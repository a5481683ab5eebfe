"""Premiums against the simulator: the page, the library and the CLI agree, to the last digit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from feed.manager import FeedManager
from feed.premium import load_pairs, ratio_on
from feed.simulator import Simulator
from tests.support import TOKEN, fast_config, run_until, wait_until

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "pages" / "4_Premium.py"
PAIRS = {p.symbol: p for p in load_pairs()[0]}


def formula(snap, symbol: str) -> float:
    """The README's formulas on the snapshot's prices, written out again here."""
    pair = PAIRS[symbol]
    last = dict(zip(snap["symbol"], snap["last"], strict=True))
    ts = dict(zip(snap["symbol"], snap["ts"], strict=True))
    s, h, hkd = last[pair.symbol], last[pair.peer], last["USDHKD"]
    if pair.kind.value == "ADR":
        return (s * hkd / (ratio_on(pair, ts[pair.symbol]) * h) - 1) * 100
    return (s * hkd / (h * last["USDCNH"]) - 1) * 100


@pytest.fixture
def frozen(make_manager):
    """A manager whose premium legs all have a price, then a simulator that stops moving."""
    with Simulator(seed=31, token=TOKEN, tick_interval=0.2, min_request_interval=0.2) as sim:
        m: FeedManager = make_manager(fast_config(sim))
        m.premiums(wait=10)
        assert wait_until(lambda: m.snapshot(m.premium_codes())["last"].notna().all(), 15)
        sim.pause()

        def stale() -> dict:
            snap = m.snapshot(m.premium_codes())
            return {c: (p, sim.last_price(c)) for c, p in zip(snap["symbol"], snap["last"], strict=True)
                    if p != float(sim.last_price(c))}  # fmt: skip

        # The last pushes land, and a leg subscribed just before the pause gets its newest
        # trade from the fetch that follows its subscription (seconds on a loaded machine:
        # one CI run still had a dozen seeds' older prices 1.5 s after the pause).
        assert wait_until(lambda: not stale(), 15), stale()
        yield sim, m


def test_the_library_table_is_the_formula_on_the_snapshot_exactly(frozen):
    _, m = frozen
    table = m.premiums().set_index("symbol")
    snap = m.snapshot(m.premium_codes())
    for symbol in ("BABA.US", "601318.SH", "NIO.US", "TCOM.US"):
        assert table.loc[symbol, "premium_pct"] == formula(snap, symbol), symbol
    assert list(table["premium_pct"].dropna()) == sorted(table["premium_pct"].dropna(), reverse=True)
    fx = {c.name: c.symbols for c in m.status().connections}
    assert "USDHKD" in fx.get("FX", ()) and "USDCNH" in fx.get("FX", ())  # streaming, on Feed health


def test_the_cli_prints_the_same_premiums(frozen):
    sim, m = frozen
    table = m.premiums(["BABA.US", "601318.SH"]).set_index("symbol")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ALLTICK_", "QUOTES_"))}
    env = {**clean, "ALLTICK_TOKEN": TOKEN, "ALLTICK_PLAN": "professional"}
    env |= {"ALLTICK_WS_BASE": sim.ws_base, "ALLTICK_HTTP_BASE": sim.http_base}
    out = subprocess.run(
        [sys.executable, "-m", "feed", "premium", "--pairs", "BABA.US:9988.HK,601318.SH:2318.HK",
         "--wait", "10", "--format", "json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    rows = {r["symbol"]: r for r in json.loads(out.stdout)}
    for symbol in ("BABA.US", "601318.SH"):
        row = rows[symbol]
        assert row["premium_pct"] == table.loc[symbol, "premium_pct"]
        assert {"peer", "kind", "ratio", "fx", "implied_peer_price", "symbol_price", "peer_price"} <= set(row)
        assert row["symbol_time"] and row["peer_time"]


def test_a_leg_without_a_price_leaves_the_premium_empty(sim, make_manager):
    sim.pause()  # nothing trades: only the HTTP seeds can price a leg
    m = make_manager(fast_config(sim))
    table = m.premiums(["BABA.US"]).set_index("symbol")  # asked before anything is priced
    assert str(table.loc["BABA.US", "premium_pct"]) == "nan"


@pytest.fixture
def demo_app(monkeypatch: pytest.MonkeyPatch):
    """Demo mode for the page, and the cached feed stopped after the test."""
    import streamlit as st

    monkeypatch.delenv("ALLTICK_TOKEN", raising=False)
    monkeypatch.chdir(ROOT)
    yield
    st.cache_resource.clear()


def _page(**query: str) -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    for k, v in query.items():
        at.query_params[k] = v
    return at


def test_the_page_shows_every_pair_with_its_legs_fx_and_ratio(demo_app):
    at = run_until(_page(), lambda a: a.dataframe and a.dataframe[0].value["Premium %"].notna().sum() >= 20)
    assert not at.exception, [e.value for e in at.exception]
    grid = at.dataframe[0].value
    assert len(grid) == len(PAIRS)
    assert {"9988.HK", "2318.HK", "939.HK"} <= {p.split(" / ")[1] for p in grid["Pair"]}
    assert set(grid["Kind"]) == {"ADR", "A/H"}
    assert (grid.dropna(subset=["Premium %"])["Sessions"] != "").all()
    labels = [m.label for m in at.metric]
    assert any("equal-weighted" in label for label in labels)
    assert any("Not the Hang Seng AH Premium Index" in (m.help or "") for m in at.metric)
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert specs, "the bar chart"


def test_the_page_works_with_an_empty_watchlist_and_in_chinese(demo_app):
    at = run_until(_page(symbols="", lang="zh"), lambda a: bool(a.dataframe))
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value.endswith("溢价")
    assert "配对" in at.dataframe[0].value.columns or "Pair" in at.dataframe[0].value.columns


def test_a_pair_with_a_leg_the_server_does_not_know_stays_empty(demo_app, tmp_path, monkeypatch):
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("symbol,peer,kind,ratio,valid_from,source\nZZZQ.US,8888.HK,ADR,1,,test\n")
    monkeypatch.setenv("QUOTES_PAIRS_FILE", str(pairs))
    at = run_until(_page(), lambda a: a.dataframe and a.dataframe[0].value["Premium %"].notna().sum() >= 20)
    assert not at.exception, [e.value for e in at.exception]
    grid = at.dataframe[0].value.set_index("Pair")
    row = grid.loc["ZZZQ.US / 8888.HK"]
    assert str(row["Premium %"]) == "nan" and row["Sessions"] == ""  # empty, never zero
    assert grid.index[-1] == "ZZZQ.US / 8888.HK"  # sorted last
    assert "USDHKD" not in at.session_state["watchlist"]  # the rates are not the user's symbols
