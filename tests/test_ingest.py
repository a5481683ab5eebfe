from feed.ingest import IngestQueue
from feed.protocol.codec import Tick


def test_queue_coalesces_to_latest_tick_per_symbol_when_full():
    q = IngestQueue(capacity=10)
    for i in range(30):
        q.put_many([Tick(f"S{i % 3}", i, 1000 + i, float(i + 1), 1.0)])
    assert len(q) <= 10
    drained = q.drain()
    latest = {t.code: t for t in drained}
    # Every symbol survives with its newest tick; nothing newer was lost.
    assert {c: t.seq for c, t in latest.items()} == {"S0": 27, "S1": 28, "S2": 29}
    assert q.coalesced > 0


def test_coalescing_prefers_the_highest_sequence_not_the_last_arrival():
    q = IngestQueue(capacity=2)
    q.put_many([Tick("A", 10, 1010, 1.0, 1.0), Tick("A", 9, 1009, 2.0, 1.0)])  # out of order
    q.put_many([Tick("B", 1, 1000, 3.0, 1.0)])
    drained = {t.code: t for t in q.drain()}
    assert drained["A"].seq == 10


def test_drain_returns_in_arrival_order_and_empties():
    q = IngestQueue()
    ticks = [Tick("A", i, i, 1.0, 1.0) for i in range(5)]
    q.put_many(ticks)
    assert q.drain() == ticks and q.drain() == []
