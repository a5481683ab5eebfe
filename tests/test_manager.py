"""FeedManager against the simulator: the feed core's acceptance behaviours."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from feed.config import FeedConfig
from feed.model import ConnectionState, EventKind, Freshness
from feed.simulator import Simulator
from feed.symbols import InvalidSymbol
from tests.support import TOKEN, fast_config, wait_until

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = {  # the seed article's four rows: (prev close, last)
    "AAPL.US": ("172.5", "175.2"),
    "TSLA.US": ("202.0", "205.6"),
    "700.HK": ("408.0", "410.5"),
    "9988.HK": ("228.5", "230.0"),
}
ARTICLE_PCT = {"AAPL.US": 1.5652, "TSLA.US": 1.7822, "700.HK": 0.6127, "9988.HK": 0.6565}


def pin_article(sim: Simulator) -> None:
    for code, (prev, last) in ARTICLE.items():
        sim.set_quote(code, last=last, prev_close=prev)


def prices(manager, codes):
    df = manager.snapshot(codes)
    return dict(zip(df["symbol"], df["last"], strict=True))


def test_a_new_manager_watches_nothing(sim, make_manager):
    m = make_manager(fast_config(sim))
    assert m.watched() == () and m.snapshot().empty


def test_article_rows_give_exact_percent_changes(sim, make_manager):
    pin_article(sim)
    m = make_manager(fast_config(sim))
    m.subscribe(list(ARTICLE))
    assert m.wait_ready(10)
    df = m.snapshot(list(ARTICLE)).set_index("symbol")
    for code, (prev, last) in ARTICLE.items():
        assert df.loc[code, "prev_close"] == float(prev)
        assert df.loc[code, "last"] == float(last)
        assert df.loc[code, "change"] == pytest.approx(float(last) - float(prev), abs=1e-9)
        assert round(df.loc[code, "pct_change"], 4) == ARTICLE_PCT[code]
    assert str(df["ts"].dtype) == "datetime64[ms, UTC]" or "UTC" in str(df["ts"].dtype)
    assert set(df["market"]) == {"US", "HK"}


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m feed ARGS`` in a clean environment (no developer token), plus ``env``."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ALLTICK_", "QUOTES_")) or k == "QUOTES_DATA_DIR"  # the test's own store
    }
    return subprocess.run(
        [sys.executable, "-m", "feed", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def test_cli_prints_the_article_percent_changes(sim):
    pin_article(sim)
    out = run_cli(
        "snapshot",
        "--symbols",
        ",".join(ARTICLE),
        "--wait",
        "10",
        "--format",
        "json",
        ALLTICK_TOKEN=TOKEN,
        ALLTICK_PLAN="professional",
        ALLTICK_WS_BASE=sim.ws_base,
        ALLTICK_HTTP_BASE=sim.http_base,
    )
    rows = {r["symbol"]: r for r in json.loads(out.stdout)}
    assert {c: rows[c]["pct_change"] for c in ARTICLE} == ARTICLE_PCT
    assert TOKEN not in out.stdout + out.stderr


def test_cli_demo_mode_works_without_a_token():
    out = run_cli("snapshot", "--symbols", "AAPL.US,700.HK", "--wait", "10", "--format", "table")
    assert "AAPL.US" in out.stdout and "700.HK" in out.stdout and "demo mode" in out.stderr


def test_adding_a_symbol_at_runtime_keeps_the_others_streaming(sim, make_manager):
    m = make_manager(fast_config(sim))
    m.subscribe(["AAPL.US", "MSFT.US"])
    assert sim.wait_subscribed("MSFT.US", 10)
    m.subscribe(["NVDA.US"])  # the second subscribe must carry the FULL list
    assert sim.wait_subscribed("NVDA.US", 10)
    subs = [set(codes) for codes in sim.subscriptions().values()]
    assert {"AAPL.US", "MSFT.US", "NVDA.US"} in subs
    seq_before = sim.last_seq("AAPL.US")
    assert wait_until(lambda: sim.last_seq("AAPL.US") > seq_before + 2, 10)
    sim.pause()  # so the random walk cannot overwrite the pinned prices
    sim.push_tick("AAPL.US", "199.99")
    sim.push_tick("NVDA.US", "88.88")
    assert wait_until(lambda: prices(m, ["AAPL.US", "NVDA.US"]) == {"AAPL.US": 199.99, "NVDA.US": 88.88}, 5)


def test_unsubscribe_releases_the_symbol(sim, make_manager):
    m = make_manager(fast_config(sim))
    m.subscribe(["AAPL.US", "MSFT.US"])
    assert sim.wait_subscribed("MSFT.US", 10)
    m.unsubscribe(["MSFT.US"])
    assert wait_until(lambda: all("MSFT.US" not in c for c in sim.subscriptions().values()), 5)
    assert list(m.snapshot()["symbol"]) == ["AAPL.US"]


def test_watches_subscribe_the_union_and_release_on_close(sim, make_manager):
    m = make_manager(fast_config(sim, release_grace=0))
    a, b = m.watch(), m.watch()
    a.set(["AAPL.US", "700.HK"])
    b.set(["700.HK", "9988.HK"])
    assert m.watched() == ("AAPL.US", "700.HK", "9988.HK")
    a.close()
    assert m.watched() == ("700.HK", "9988.HK")


def test_released_codes_stay_a_grace_period_for_page_reloads(sim, make_manager):
    m = make_manager(fast_config(sim, release_grace=1.5))
    a = m.watch()
    a.set(["AAPL.US", "700.HK"])
    a.close()  # the tab reloads...
    assert m.watched() == ("AAPL.US", "700.HK")
    b = m.watch()
    b.set(["700.HK"])  # ...and the new session watches one of them
    assert wait_until(lambda: m.watched() == ("700.HK",), 5)


def test_heartbeats_keep_a_connection_past_the_server_timeout(make_manager):
    with Simulator(
        seed=1, token=TOKEN, heartbeat_timeout=1.5, min_request_interval=0.2, tick_interval=60
    ) as s:
        m = make_manager(fast_config(s, heartbeat_interval=0.5, dead_after=30))
        m.subscribe(["AAPL.US"])
        assert s.wait_subscribed("AAPL.US", 10)
        time.sleep(4.5)  # three server timeouts
        (conn,) = m.status().connections
        assert conn.reconnects == 0 and conn.state == ConnectionState.LIVE


def test_without_heartbeats_the_server_drops_the_link(make_manager):
    """The control for the test above: it can fail."""
    with Simulator(
        seed=1, token=TOKEN, heartbeat_timeout=1.5, min_request_interval=0.2, tick_interval=60
    ) as s:
        m = make_manager(fast_config(s, heartbeat_interval=100, dead_after=30))
        m.subscribe(["AAPL.US"])
        assert s.wait_subscribed("AAPL.US", 10)
        assert wait_until(lambda: m.status().connections[0].reconnects >= 1, 6)


def test_reconnect_resubscribes_the_current_list(sim, make_manager):
    m = make_manager(fast_config(sim))
    m.subscribe(["AAPL.US"])
    assert sim.wait_subscribed("AAPL.US", 10)
    m.subscribe(["TSLA.US"])  # added at runtime, must survive the reconnect
    assert sim.wait_subscribed("TSLA.US", 10)
    sim.drop_connections()
    assert wait_until(lambda: m.status().connections[0].reconnects >= 1, 10)
    assert wait_until(lambda: {"AAPL.US", "TSLA.US"} in [set(c) for c in sim.subscriptions().values()], 10)
    assert wait_until(lambda: EventKind.DISCONNECTED in [e.kind for e in m.status().events], 5)
    assert wait_until(lambda: EventKind.RECOVERED in [e.kind for e in m.status().events], 10)


def test_unknown_code_is_marked_invalid_and_the_rest_keep_streaming(sim, make_manager):
    m = make_manager(fast_config(sim))
    m.subscribe(["AAPL.US", "ZZZZ.US"])
    assert wait_until(lambda: "ZZZZ.US" in m.status().invalid_symbols, 10)
    assert wait_until(
        lambda: (
            sim.wait_subscribed("AAPL.US", 0.1)
            and all("ZZZZ.US" not in c for c in sim.subscriptions().values())
        ),
        10,
    )
    row = m.snapshot(["ZZZZ.US"]).iloc[0]
    assert row["freshness"] == Freshness.NOT_STREAMED and "ret 600" in row["note"]
    sim.pause()
    sim.push_tick("AAPL.US", "123.45")
    assert wait_until(lambda: prices(m, ["AAPL.US"]) == {"AAPL.US": 123.45}, 5)


def test_subscribe_reports_bad_input_but_keeps_the_good(sim, make_manager):
    m = make_manager(fast_config(sim))
    with pytest.raises(InvalidSymbol, match="BAD!"):
        m.subscribe(["AAPL.US", "BAD!", "700.HK"])
    assert m.watched() == ("AAPL.US", "700.HK")


def test_symbols_over_the_plan_cap_are_reported_not_streamed(make_manager):
    with Simulator(seed=2, token=TOKEN, plan="free", min_request_interval=0.2) as s:
        m = make_manager(fast_config(s, plan="free"))
        codes = ["AAPL.US", "MSFT.US", "NVDA.US", "AMZN.US", "TSLA.US", "META.US", "GOOGL.US"]
        m.subscribe(codes)
        assert wait_until(lambda: len(m.status().connections) == 1 and m.status().connections[0].symbols, 10)
        df = m.snapshot(codes).set_index("symbol")
        over = df[df["freshness"] == Freshness.NOT_STREAMED]
        assert list(over.index) == ["META.US", "GOOGL.US"]
        assert all("5-code cap" in n for n in over["note"])
        assert bool(df.loc["AAPL.US", "streamed"])  # the first five do stream
        assert any(e.kind == EventKind.PLAN_LIMIT for e in m.status().events)


def test_a_bad_token_stops_retrying_and_says_so(sim, make_manager, caplog):
    m = make_manager(fast_config(sim, token="wrong-token-XYZ"))
    m.subscribe(["AAPL.US"])
    assert wait_until(lambda: m.status().auth_error is not None, 10)
    assert "401" in m.status().auth_error and "token" in m.status().auth_error
    assert wait_until(lambda: m.status().connections[0].state == ConnectionState.AUTH_FAILED, 5)
    attempts = sim.upgrade_attempts()
    assert attempts >= 1
    time.sleep(1.5)
    assert sim.upgrade_attempts() == attempts  # no hammering: the next try is tens of seconds away
    assert "wrong-token-XYZ" not in caplog.text


def test_the_token_never_appears_in_logs_or_output(sim, make_manager, caplog):
    caplog.set_level(logging.DEBUG)
    m = make_manager(fast_config(sim))
    m.subscribe(["AAPL.US", "700.HK", "NOPE.US"])
    assert wait_until(lambda: set(m.wait_ready(0).missing) == {"NOPE.US"}, 10)
    sim.drop_connections()
    sim.fail_http("429", 1)
    assert wait_until(lambda: m.status().connections and m.status().connections[0].reconnects >= 1, 10)
    text = caplog.text + repr(m) + repr(m.config) + str(m.status()) + m.snapshot().to_csv()
    assert TOKEN not in text
    assert "token=***" in caplog.text  # URLs are logged, redacted


def test_garbage_duplicates_and_out_of_order_are_dropped_and_counted(sim, make_manager):
    m = make_manager(fast_config(sim))
    m.subscribe(["AAPL.US", "700.HK"])
    assert m.wait_ready(10)
    sim.set_faults(garbage_rate=0.3, duplicate_rate=0.3, out_of_order_rate=0.3)
    assert wait_until(lambda: {"malformed", "duplicate", "out_of_order"} <= set(m.status().drops), 10)
    sim.set_faults()
    df = m.snapshot()
    assert (df["last"] > 0).all()


def test_history_holds_a_bounded_path_seeded_from_minute_bars(sim, make_manager):
    m = make_manager(fast_config(sim))
    m.subscribe(["AAPL.US"])
    assert m.wait_ready(10)
    m.history("AAPL.US")  # asks for the 1-minute K-line
    assert wait_until(lambda: len(m.history("AAPL.US")) > 30, 10)
    assert sim.wait_subscribed("AAPL.US", 10)
    sim.pause()
    sim.push_tick("AAPL.US", "201.01")
    assert wait_until(lambda: prices(m, ["AAPL.US"]) == {"AAPL.US": 201.01}, 5)
    h = m.history("AAPL.US")
    assert list(h.columns) == ["ts", "price"] and h["ts"].is_monotonic_increasing
    assert h["price"].iloc[-1] == 201.01


def test_demo_mode_starts_its_own_simulator(make_manager):
    m = make_manager(FeedConfig())
    assert m.config.demo and m.simulator is not None
    m.subscribe(["AAPL.US", "BTCUSDT"])
    assert m.wait_ready(10)
    assert m.status().demo and m.status().plan == "professional"


def test_subscribes_are_paced_across_the_tokens_connections(sim, make_manager):
    m = make_manager(fast_config(sim, token_request_interval=1.5))
    m.subscribe(["AAPL.US", "700.HK"])  # two markets, two connections, one token
    seen: dict[str, float] = {}
    deadline = time.monotonic() + 10
    while len(seen) < 2 and time.monotonic() < deadline:
        for codes in sim.subscriptions().values():
            for c in codes:
                seen.setdefault(c, time.monotonic())
        time.sleep(0.01)
    assert set(seen) == {"AAPL.US", "700.HK"}
    # The second connection waited for the token's request spacing.
    assert abs(seen["AAPL.US"] - seen["700.HK"]) >= 1.4


def test_token_pacer_spaces_requests():
    from feed.connection import TokenPacer

    now = [0.0]
    pacer = TokenPacer(3.0, clock=lambda: now[0])
    assert pacer.try_acquire() == 0.0
    now[0] = 1.0
    assert pacer.try_acquire() == pytest.approx(2.0)
    now[0] = 3.0
    assert pacer.try_acquire() == 0.0


def test_a_symbol_removed_and_added_again_is_seeded_again(sim, make_manager):
    m = make_manager(fast_config(sim))
    m.subscribe(["AAPL.US", "700.HK"])
    assert m.wait_ready(10)
    m.unsubscribe(["700.HK"])
    assert wait_until(lambda: list(m.snapshot()["symbol"]) == ["AAPL.US"], 5)
    sim.pause()  # no pushes: only a fresh HTTP seed can fill the row
    m.subscribe(["700.HK"])
    assert m.wait_ready(10)


def test_sparklines_thin_the_days_path_and_end_on_the_newest(sim, make_manager):
    m = make_manager(fast_config(sim))
    m.subscribe(["AAPL.US"])
    assert m.wait_ready(10)
    assert wait_until(lambda: len(m.sparklines(["AAPL.US"], points=500)["AAPL.US"]) > 30, 10)
    sim.pause()
    sim.push_tick("AAPL.US", "222.22")
    assert wait_until(lambda: prices(m, ["AAPL.US"]) == {"AAPL.US": 222.22}, 5)
    full = m.history("AAPL.US")["price"].tolist()
    thin = m.sparklines(["AAPL.US"], points=20)["AAPL.US"]
    assert len(thin) == 20 and thin[0] == full[0] and thin[-1] == full[-1] == 222.22


def test_rows_asked_for_right_after_subscribing_wait_for_a_slow_processor(sim, make_manager, monkeypatch):
    # One CI run: `python -m feed premium` subscribed, read the snapshot and got "not
    # watched" because its still-starting process took over the 2 s then allowed.
    from feed.processor import Processor

    on_watch = Processor._on_watch

    def slow(self, msg):
        time.sleep(5.0)  # a processor busy for 5 s (a loaded machine, a process starting)
        on_watch(self, msg)

    m = make_manager(fast_config(sim))
    monkeypatch.setattr(Processor, "_on_watch", slow)
    m.subscribe(["AAPL.US"])
    assert m.snapshot(["AAPL.US"])["symbol"].tolist() == ["AAPL.US"]
