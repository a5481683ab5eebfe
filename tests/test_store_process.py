"""The tick store in its own process: the frames, and what happens when either side dies.

The frames are tested as the pure layer they are; the rest against the simulator, with
real processes killed with SIGKILL (no goodbye, as a crash or an out-of-memory kill).
"""

from __future__ import annotations

import io
import os
import signal
import time

import psutil
import pytest

from feed.manager import FeedManager
from feed.protocol.codec import Tick
from feed.store import pipe
from tests.support import fast_config, wait_until
from tests.test_store import child_factory, sent, stored  # noqa: F401  (a fixture)


@pytest.fixture(autouse=True)
def _store_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUOTES_STORE_PROCESS", "1")


def test_frames_round_trip_ticks_and_messages_and_end_cleanly():
    ticks = [tuple.__new__(Tick, ("AAPL.US", i, 1_700_000_000_000 + i, 230.5 + i, 100.0)) for i in range(3)]
    buf = io.BytesIO()
    batches = [(1.5, pipe.packed(ticks)), (2.5, pipe.packed([("700.HK", 9, 5, 1.5, 0.0)]))]
    pipe.write(buf, pipe.TICKS, pipe.ticks(batches))
    pipe.write(buf, pipe.REQUEST, pipe.dumps((7, {"a": 1})))
    pipe.write(buf, pipe.STOP)
    buf.seek(0)
    kind, payload = pipe.read(buf)  # type: ignore[misc]
    assert kind == pipe.TICKS
    assert pipe.batches(payload) == [
        (1.5, tuple(list(c) for c in zip(*ticks, strict=True))),
        (2.5, (["700.HK"], [9], [5], [1.5], [0.0])),
    ]
    kind, payload = pipe.read(buf)  # type: ignore[misc]
    assert kind == pipe.REQUEST and pipe.loads(payload) == (7, {"a": 1})
    assert pipe.read(buf) == (pipe.STOP, b"")
    assert pipe.read(buf) is None  # the other side has gone


def test_a_frame_cut_short_is_the_end_and_a_garbled_length_is_an_error():
    whole = io.BytesIO()
    pipe.write(whole, pipe.NOTE, b"hello")
    assert pipe.read(io.BytesIO(whole.getvalue()[:-2])) is None
    with pytest.raises(ValueError, match="out of step"):
        pipe.read(io.BytesIO(b"\xff\xff\xff\xff" + pipe.NOTE))


def _store_children() -> list[psutil.Process]:
    return [c for c in psutil.Process().children() if "feed.store.child" in " ".join(c.cmdline())]


def test_a_store_process_that_dies_is_named_and_replaced_and_the_feed_streams_on(sim, tmp_path):
    m = FeedManager(fast_config(sim, data_dir=str(tmp_path))).start()
    try:
        m.subscribe(["AAPL.US"])
        assert m.wait_ready(10)
        assert wait_until(lambda: m.status().store.mode == "writing", 20), m.status().store
        (child,) = _store_children()
        child.send_signal(signal.SIGKILL)
        assert wait_until(lambda: m.status().store.mode == "failed", 5), m.status().store
        assert "ended unexpectedly" in m.status().store.message
        applied = m.status().ticks_applied
        assert wait_until(lambda: m.status().ticks_applied > applied + 3, 5)  # the live feed goes on
        assert wait_until(lambda: m.status().store.mode == "writing", 30), m.status().store
        (again,) = _store_children()
        assert again.pid != child.pid
        since = time.time()
        time.sleep(1.5)
        sim.pause()
        time.sleep(1.0)
        # What arrived after the new process was up is stored, seq and price as sent, to the last.
        got, want = stored(m, "AAPL.US", since), sent(sim, "AAPL.US")
        assert len(got) >= 3 and got[0] in want, (got[:3], want[-20:])
        start = want.index(got[0])
        assert got == want[start:], (got[-3:], want[-3:])
    finally:
        m.stop()
    assert wait_until(lambda: not _store_children(), 10), "a store process outlived stop()"


def test_a_feed_killed_outright_loses_nothing_its_store_process_was_handed(sim, tmp_path, child_factory):  # noqa: F811
    since = time.time() - 1
    feed = child_factory(sim, tmp_path, ["AAPL.US"])
    assert feed.mode == "writing"
    time.sleep(2.0)
    sim.pause()
    time.sleep(0.5)  # the feed has accepted and handed over every tick sent
    (store,) = psutil.Process(feed.pid).children()
    os.kill(feed.pid, signal.SIGKILL)  # no stop(): the store process sees its input end
    feed.proc.wait(10)
    store.wait(15)  # it writes what it held, closes the database and leaves (else TimeoutExpired)
    m = FeedManager(fast_config(sim, data_dir=str(tmp_path))).start()
    try:  # in-process ticks were written before the kill's flush could: every one is there
        got, want = stored(m, "AAPL.US", since), sent(sim, "AAPL.US")
        assert len(got) > 5 and got == want, (len(got), len(want), got[-3:], want[-3:])
    finally:
        m.stop()


def test_the_store_process_counts_a_bad_frame_and_writes_the_rest(tmp_path):
    from feed.store.child import serve

    now = time.time()
    ticks = [("AAPL.US", i, int(now * 1000) + i, 230.0 + i / 100, 10.0) for i in range(1, 6)]
    stdin, stdout = io.BytesIO(), io.BytesIO()
    pipe.write(stdin, pipe.REQUEST, b"not a pickle")
    wrong_type = pipe.packed([("AAPL.US", "x", 1, 2.0, 3.0)])  # a seq that is not an integer
    pipe.write(stdin, pipe.TICKS, pipe.ticks([(time.monotonic(), wrong_type)]))
    pipe.write(stdin, pipe.TICKS, b"\xc1 not MessagePack")
    pipe.write(stdin, pipe.TICKS, pipe.ticks([(time.monotonic(), pipe.packed(ticks))]))
    pipe.write(stdin, pipe.STOP)
    stdin.seek(0)
    settings = {"directory": str(tmp_path), "retention_days": 30, "capacity": 1000, "flush_every": 0.1}
    assert serve(settings, stdin, stdout) == 0
    stdout.seek(0)
    statuses = []
    while (frame := pipe.read(stdout)) is not None:
        if frame[0] == pipe.STATUS:
            statuses.append(pipe.loads(frame[1]))
    status, stats = statuses[-1]
    assert status.errors == 3 and stats.errors == 3  # the garbled request and tick frames, counted
    assert status.written == 5 and stats.delivered == 5  # and every tick written after it


def test_what_does_not_fit_the_feeds_buffer_is_dropped_counted_and_logged_once(tmp_path, caplog):
    from feed.sinks import Batch
    from feed.store.process import StoreProcess

    store = StoreProcess(tmp_path, capacity=5)  # not started: nothing drains the buffer
    batch = Batch([("AAPL.US", i, 1_700_000_000_000 + i, 230.0, 1.0) for i in range(3)], {})
    with caplog.at_level("WARNING", logger="feed.store"):
        for _ in range(3):
            store.offer(batch)
    assert (store.stats.buffered, store.stats.dropped) == (3, 6)
    assert (store.status.buffered, store.status.dropped) == (3, 6)
    assert [r.getMessage() for r in caplog.records] == [
        "tick store: 5 ticks wait for the store process; dropping new ones"
    ]


def test_ticks_past_64_bits_are_dropped_and_counted_at_the_hand_over_and_the_rest_kept(tmp_path, caplog):
    from feed.sinks import Batch
    from feed.store.process import StoreProcess

    store = StoreProcess(tmp_path, capacity=100)  # not started: the buffer keeps what it takes
    good = Batch([("AAPL.US", 1, 1_700_000_000_000, 230.0, 1.0)], {})
    huge_seq = Batch([("AAPL.US", 2**70, 1_700_000_000_001, 230.0, 1.0), ("AAPL.US", 3, 5, 1.0, 1.0)], {})
    with caplog.at_level("WARNING", logger="feed.store"):
        store.offer(huge_seq)
        store.offer(huge_seq)
        store.offer(good)
    assert (store.stats.buffered, store.stats.dropped, store.stats.errors) == (3, 2, 0)
    sent = [pipe.batches(pipe.ticks([(0.0, b[2])]))[0][1] for b in store._batches]
    assert [c[1] for c in sent] == [[3], [3], [1]]  # each batch's seq column: the huge one is gone
    assert sum("past 64 bits" in r.getMessage() for r in caplog.records) == 1
