"""Ticks pushed to strategies: once each, in order, matching what the server sent."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from feed.dispatch import TradeTick
from feed.simulator import Simulator
from tests.support import TOKEN, fast_config, wait_until

CODES = ["AAPL.US", "700.HK"]


def check_against_server(sim: Simulator, got: list[TradeTick]) -> None:
    """Strictly increasing seq per symbol; every push the server recorded, once; nothing else."""
    for code in CODES:
        mine = [t for t in got if t.symbol == code]
        seqs = [t.seq for t in mine]
        assert seqs == sorted(set(seqs)), f"{code}: not strictly increasing"
        assert mine, f"{code}: nothing delivered"
        sent = dict(sim.sent_ticks(code))
        pushed = {t.seq: t.price for t in mine}
        assert all(sent.get(seq) is not None and float(sent[seq]) == p for seq, p in pushed.items())
        start = mine[0].seq
        expected = {seq for seq in sent if seq > start}
        delivered = {t.seq for t in mine}
        missed = sorted(expected - delivered)
        assert not missed, (
            f"{code}: missed {missed[:5]} of {len(expected)}; last sent {max(sent)}, last got {seqs[-1]}"
        )
        assert all(t.market == code.rsplit(".", 1)[1] and t.ts.tzinfo is not None for t in mine)


def test_on_tick_ticks_and_aticks_deliver_every_valid_push_once_in_order(make_manager):
    with Simulator(seed=21, token=TOKEN, tick_interval=0.02, min_request_interval=0.2) as sim:
        m = make_manager(fast_config(sim))
        by_callback: list[TradeTick] = []
        by_iterator: list[TradeTick] = []
        by_async: list[TradeTick] = []
        handle = m.on_tick(by_callback.append)
        stream = m.ticks(timeout=2.0)
        reader = threading.Thread(target=lambda: by_iterator.extend(stream), daemon=True)
        reader.start()

        async def consume() -> None:
            async for tick in m.aticks(timeout=2.0):
                by_async.append(tick)

        loop_thread = threading.Thread(target=lambda: asyncio.run(consume()), daemon=True)
        loop_thread.start()
        time.sleep(0.2)  # all three subscribed before the first tick
        sim.set_faults(garbage_rate=0.1, duplicate_rate=0.2, out_of_order_rate=0.2)
        m.subscribe(CODES)
        assert all(sim.wait_subscribed(c, 10) for c in CODES)
        time.sleep(4.0)
        sim.pause()
        sim.set_faults()
        time.sleep(0.5)
        assert {"duplicate", "out_of_order", "malformed"} <= set(m.status().drops)
        sinks = m.status().sinks
        assert len(sinks) == 3 and all(v["dropped"] == 0 and v["errors"] == 0 for v in sinks.values())
        reader.join(5)
        loop_thread.join(5)
        handle.close()
        assert len(by_callback) > 100
        check_against_server(sim, by_callback)
        assert by_iterator == by_callback and by_async == by_callback


def test_a_failing_callback_is_counted_and_delivery_goes_on(sim, make_manager):
    m = make_manager(fast_config(sim))
    seen: list[int] = []

    def flaky(tick: TradeTick) -> None:
        seen.append(tick.seq)
        if len(seen) % 2:
            raise ValueError("strategy bug")

    handle = m.on_tick(flaky)
    m.subscribe(["AAPL.US"])
    assert wait_until(lambda: len(seen) >= 10, 10)
    assert handle.errors >= 5
    handle.close()


def test_a_slow_consumer_drops_and_counts_what_it_missed_without_stalling_ingest(sim, make_manager):
    m = make_manager(fast_config(sim))
    slow = m.on_tick(lambda tick: time.sleep(0.5), buffer=3)
    m.subscribe(["AAPL.US", "TSLA.US", "700.HK", "9988.HK"])
    assert m.wait_ready(10) and sim.wait_subscribed("AAPL.US", 10)
    sim.pause()
    for i in range(20):
        sim.push_tick("AAPL.US", f"{300 + i}.5")
    assert wait_until(lambda: m.snapshot(["AAPL.US"])["last"].iloc[0] == 319.5, 5)  # ingest kept up
    assert wait_until(lambda: any(v["dropped"] > 0 for v in m.status().sinks.values()), 5)
    slow.close()


@pytest.mark.parametrize("bad", [[123], ["AAPL.US", None]], ids=["int", "none"])
def test_subscribe_with_a_non_string_is_a_type_error_naming_it(sim, make_manager, bad):
    m = make_manager(fast_config(sim))
    with pytest.raises(TypeError, match=repr(bad[-1])):
        m.subscribe(bad)
    assert m.watched() == ()
