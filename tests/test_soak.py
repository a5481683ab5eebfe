"""Soak (issue #4): a few hundred thousand ticks through the real client, with faults.

A loopback firehose (``benchmarks/firehose.py``, in its own process) streams pushes for
200 US and HK symbols to a FeedManager at a steady 20,000 ticks/s, resets both
connections mid-stream every round (RST with frames in flight, about every 3 s) and
mixes one bad frame into every 500 good ones. Once the links are back and a last clean
round has gone out, every symbol must show its final seq and price, and the process's
RSS must have grown by less than ``RSS_BOUND_MB`` since the warm-up.

Accelerated and bounded: about 30 s on a quiet 2-core machine (60 s at most). It asserts
outcomes only, never speed (throughput is measured by ``benchmarks/``, not by tests).
"""

from __future__ import annotations

import gc
import os

import psutil
import pytest

from benchmarks.firehose import Firehose
from feed.model import Freshness
from tests.support import fast_config, wait_until

SYMBOLS = 200
RATE = 20_000.0  # ticks/s during a round
ROUND_FRAMES = 50_000  # 2.5 s a round; the links are reset after 80 % of it
DROP_AT = 0.8
GARBAGE_EVERY = 500
TARGET_TICKS = 250_000  # rounds go on until this many ticks reached the book...
MAX_ROUNDS = 14  # ...or this many rounds (~3.2 s each) went by
MIN_TICKS = 200_000  # and at least this many must have
RSS_BOUND_MB = 50.0
NOT_CONNECTED = {Freshness.DOWN.value, Freshness.WAITING.value, Freshness.NOT_STREAMED.value}


def _rss_mb() -> float:
    gc.collect()
    return psutil.Process(os.getpid()).memory_info().rss / 2**20


def _all_final(manager, expected: dict[str, tuple[int, float]]) -> bool:
    quotes = manager.snapshot_state().quotes
    return all((q := quotes.get(c)) is not None and q.seq >= seq for c, (seq, _) in expected.items())


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_soak_with_resets_and_garbage_ends_fresh_with_flat_memory(make_manager):
    with Firehose(symbols=SYMBOLS) as fh:
        m = make_manager(fast_config(fh, max_watch=SYMBOLS, request_interval=0.05))
        m.subscribe(fh.codes)
        assert fh.wait_subscribed(SYMBOLS, clients=2, timeout=20), fh.clients()
        assert m.wait_ready(20)

        # Warm-up: one clean round so buffers, caches and minute paths reach working size.
        fh.blast(20_000, rate=RATE)
        assert wait_until(lambda: _all_final(m, fh.expected()), 20)
        rss_start = _rss_mb()
        applied_start = m.status().ticks_applied

        rounds = 0
        while m.status().ticks_applied - applied_start < TARGET_TICKS and rounds < MAX_ROUNDS:
            fh.blast(ROUND_FRAMES, rate=RATE, garbage_every=GARBAGE_EVERY, drop_at=DROP_AT)
            rounds += 1
            # Both links come back and resubscribe the full list on their own.
            assert fh.wait_subscribed(SYMBOLS, clients=2, timeout=15), f"not back after reset {rounds}"

        # A last clean round: every symbol's final tick goes out on live links.
        fh.blast(5 * SYMBOLS, rate=RATE)
        expected = fh.expected()
        assert wait_until(lambda: _all_final(m, expected), 20)

        status = m.status()
        applied = status.ticks_applied - applied_start
        assert applied >= MIN_TICKS, f"only {applied:,} ticks applied in {rounds} rounds"
        assert all(c.reconnects >= rounds for c in status.connections), [
            (c.name, c.reconnects) for c in status.connections
        ]
        # Every kind of bad frame was counted and none reached the book.
        assert {"malformed", "non_finite", "non_positive"} <= set(status.drops), status.drops

        # Every symbol fresh: its final seq and price, in the state and in the table.
        quotes = m.snapshot_state().quotes
        for code, (seq, price) in expected.items():
            assert (quotes[code].seq, quotes[code].price) == (seq, price), code
        assert wait_until(
            lambda: not (set(m.snapshot()["freshness"]) & (NOT_CONNECTED | {Freshness.RECOVERING.value})), 10
        ), m.snapshot()["freshness"].value_counts().to_dict()
        # The DataFrame view trails the book by at most one rebuild (feed.viewer.INTERVAL).
        want = {c: p for c, (_, p) in expected.items()}

        def table_prices() -> dict[str, float]:
            df = m.snapshot().set_index("symbol")
            return {c: float(df.loc[c, "last"]) for c in expected}

        assert wait_until(lambda: table_prices() == want, 5), table_prices()

        growth = _rss_mb() - rss_start
        assert growth < RSS_BOUND_MB, f"RSS grew {growth:.1f} MB over {applied:,} ticks"
