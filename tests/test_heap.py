"""feed.heap: the first start freezes the long-lived heap once; the switch turns it off."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from feed.config import FeedConfig


def _run(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120, check=True
    )
    return out.stdout.strip()


def test_the_first_start_freezes_the_heap_once_and_a_full_collection_then_skips_it() -> None:
    # A fresh interpreter: freezing is once per process, so the test must own one.
    out = _run(
        """
        import gc, time
        from feed import FeedManager, FeedConfig, heap
        assert gc.get_freeze_count() == 0
        before = len(gc.get_objects())
        with FeedManager(FeedConfig(data_dir=None)) as m:
            deadline = time.monotonic() + 30
            while not heap.frozen() and time.monotonic() < deadline:
                time.sleep(0.05)  # after the warm-up, on the clocks thread
            frozen = gc.get_freeze_count()
            after = len(gc.get_objects())
            m.stop(); m.start()  # a restart does not freeze again
            print(frozen > 50_000, after < before // 4, gc.get_freeze_count() <= frozen)  # freed, never added
        """
    )
    assert out == "True True True", out


def test_freezing_can_be_turned_off() -> None:
    out = _run(
        """
        import gc
        from feed import FeedManager, FeedConfig
        import time
        with FeedManager(FeedConfig(data_dir=None, freeze_gc=False)) as m:
            m.wait_ready(10)
            time.sleep(1.5)  # past the warm-up
            print(gc.get_freeze_count())
        """
    )
    assert out == "0", out


@pytest.mark.parametrize(("raw", "want"), [("", True), ("0", False), ("off", False), ("yes", True)])
def test_the_switch_reads_QUOTES_GC_FREEZE(raw: str, want: bool) -> None:
    assert FeedConfig.from_env({"QUOTES_GC_FREEZE": raw}).freeze_gc is want


def test_a_bad_switch_value_names_the_variable() -> None:
    with pytest.raises(ValueError, match="QUOTES_GC_FREEZE"):
        FeedConfig.from_env({"QUOTES_GC_FREEZE": "maybe"})


def test_buffered_ticks_are_plain_tuples_the_collector_stops_tracking() -> None:
    import gc

    from feed.protocol.codec import Tick
    from feed.sinks import as_ticks, untracked

    ticks = [Tick("AAPL.US", i, 1_700_000_000_000 + i, 190.5, 100.0) for i in range(3)]
    plain = untracked(ticks)
    gc.collect()
    assert all(gc.is_tracked(t) for t in ticks)  # a NamedTuple stays tracked
    assert not any(gc.is_tracked(t) for t in plain)  # each tick: looked at once, then skipped
    gc.collect()
    assert not gc.is_tracked(plain)  # and the batch's own tuple on the next pass
    back = as_ticks(plain)
    assert back == ticks and all(type(t) is Tick for t in back) and back[1].seq == 1
