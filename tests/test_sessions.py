"""Markets and sessions against the simulator: rollover and honest freshness."""

from __future__ import annotations

import datetime as dt

import pytest

from feed.model import Freshness
from feed.simulator import Simulator
from tests.support import TOKEN, fast_config, wait_until


class FakeClock:
    """Wall clock shared by the simulator and the manager, moved by the test."""

    def __init__(self, iso: str) -> None:
        self.t = dt.datetime.fromisoformat(iso).timestamp()

    def set(self, iso: str) -> None:
        self.t = dt.datetime.fromisoformat(iso).timestamp()

    def __call__(self) -> float:
        return self.t


def row(m, code):
    return m.snapshot([code]).iloc[0]


def test_each_market_refreshes_its_previous_close_at_its_own_rollover(make_manager):
    clock = FakeClock("2025-03-03T07:00:00+00:00")  # Mon 15:00 HKT, 02:00 ET
    with Simulator(seed=9, token=TOKEN, clock=clock, tick_interval=0.2, min_request_interval=0.2) as sim:
        m = make_manager(fast_config(sim), clock=clock)
        m.subscribe(["700.HK", "AAPL.US"])
        assert m.wait_ready(10)
        sim.pause()
        assert row(m, "700.HK")["prev_close_date"] == dt.date(2025, 2, 28)
        assert row(m, "AAPL.US")["prev_close_date"] == dt.date(2025, 2, 28)
        monday_close = float(sim.last_price("700.HK"))
        aapl_prev = row(m, "AAPL.US")["prev_close"]

        clock.set("2025-03-04T01:31:00+00:00")  # Tue 09:31 HKT; still Mon 20:31 in New York
        # Hong Kong's bars are refetched for its new trading date; New York's are not.
        assert wait_until(lambda: m.snapshot_state().daily_for.get("700.HK") == dt.date(2025, 3, 4), 5)
        assert m.snapshot_state().daily_for.get("AAPL.US") == dt.date(2025, 3, 3)

        sim.push_tick("700.HK", "420.2")  # the first trade of Tuesday's session
        assert wait_until(lambda: row(m, "700.HK")["last"] == 420.2, 5)
        hk = row(m, "700.HK")
        assert hk["prev_close"] == monday_close and hk["prev_close_date"] == dt.date(2025, 3, 3)
        assert hk["pct_change"] == pytest.approx((420.2 / monday_close - 1) * 100)
        us = row(m, "AAPL.US")
        assert us["prev_close"] == aapl_prev and us["prev_close_date"] == dt.date(2025, 2, 28)


@pytest.mark.parametrize(
    ("iso", "code", "expected"),
    [
        ("2025-03-05T04:30:00+00:00", "700.HK", Freshness.LUNCH),  # 12:30 HKT
        ("2025-01-29T03:00:00+00:00", "700.HK", Freshness.HOLIDAY),  # Lunar New Year
        ("2025-03-08T15:00:00+00:00", "AAPL.US", Freshness.CLOSED),  # Saturday
        ("2025-03-05T15:00:00+00:00", "700.HK", Freshness.CLOSED),  # 23:00 HKT
        ("2025-03-05T15:00:00+00:00", "AAPL.US", Freshness.LIVE),  # 10:00 ET
        ("2025-03-05T03:45:00+00:00", "600519.SH", Freshness.LUNCH),  # 11:45 CST
        ("2025-03-08T15:00:00+00:00", "BTCUSDT", Freshness.LIVE),  # crypto never closes
    ],
    ids=["hk-lunch", "hk-holiday", "us-weekend", "hk-night", "us-open", "cn-lunch", "crypto-weekend"],
)
def test_freshness_follows_the_market_calendar(sim, make_manager, iso, code, expected):
    clock = FakeClock(iso)
    m = make_manager(fast_config(sim), clock=clock)
    m.subscribe([code])
    assert m.wait_ready(10)
    assert wait_until(lambda: row(m, code)["freshness"] == expected, 5), row(m, code)["freshness"]


def test_freshness_tracks_stall_disconnect_and_recovery(sim, make_manager):
    clock = FakeClock("2025-03-05T15:00:00+00:00")  # New York open
    m = make_manager(fast_config(sim, dead_after=1.5, reconnect_floor=1.0), clock=clock)
    m.subscribe(["AAPL.US"])
    assert wait_until(lambda: row(m, "AAPL.US")["freshness"] == Freshness.LIVE, 10)
    sim.fail_upgrades(503)  # so the replacement link cannot come up at once
    sim.stall()
    # Half-open: detected and shown as down, not as a quiet live price.
    assert wait_until(lambda: row(m, "AAPL.US")["freshness"] == Freshness.DOWN, 6)
    # The row says why: first the dead link, then the refused reconnect.
    assert wait_until(lambda: "503" in row(m, "AAPL.US")["note"], 5), row(m, "AAPL.US")["note"]
    sim.accept_upgrades()
    sim.unstall()
    assert wait_until(lambda: row(m, "AAPL.US")["freshness"] == Freshness.LIVE, 10)


def test_a_quiet_symbol_in_an_open_market_is_not_called_live(make_manager):
    clock = FakeClock("2025-03-05T15:00:00+00:00")
    with Simulator(seed=1, token=TOKEN, tick_interval=3600, min_request_interval=0.2) as sim:
        # quiet_after leaves a loaded CI machine time to publish the live row
        # before it turns quiet (0.5 s was missed once on two busy cores).
        m = make_manager(fast_config(sim, quiet_after=2.0), clock=clock)
        m.subscribe(["AAPL.US"])
        assert m.wait_ready(10) and sim.wait_subscribed("AAPL.US", 10)
        sim.push_tick("AAPL.US", "190.5")
        seen = []

        def live() -> bool:
            seen.append(row(m, "AAPL.US"))
            return seen[-1]["freshness"] == Freshness.LIVE

        assert wait_until(live, 5), (
            seen[-1][["last", "freshness", "note", "age_s"]].to_dict(),
            m.status(),
        )
        assert wait_until(lambda: row(m, "AAPL.US")["freshness"] == Freshness.QUIET, 8)


def test_a_share_and_forex_stream_end_to_end_in_demo_mode(make_manager):
    from feed.config import FeedConfig

    m = make_manager(FeedConfig())
    m.subscribe(["600519.SH", "000001.SZ", "USDHKD", "GOLD", "BTCUSDT"])
    assert m.wait_ready(15)
    df = m.snapshot()
    assert set(df["market"]) == {"CN", "FX", "CRYPTO"}
    names = {c.name for c in m.status().connections}
    assert {"CN", "FX", "CRYPTO"} <= names  # each market on its own connection thread
