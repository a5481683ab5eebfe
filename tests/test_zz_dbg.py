from tests.test_manager import *  # noqa
from tests.support import fast_config, wait_until


def test_dbg(sim, make_manager):
    test_garbage_duplicates_and_out_of_order_are_dropped_and_counted.__wrapped__ if False else None
    m = make_manager(fast_config(sim))
    m.subscribe(["AAPL.US"])
    assert m.wait_ready(10)
    m.history("AAPL.US")
    assert wait_until(lambda: len(m.history("AAPL.US")) > 30, 10)
    sim.pause()
    seq = sim.push_tick("AAPL.US", "201.01")
    ok = wait_until(lambda: prices(m, ["AAPL.US"]) == {"AAPL.US": 201.01}, 5)
    print("ok", ok, seq, sim.last_price("AAPL.US"), prices(m, ["AAPL.US"]), m.status().drops)
    print(m._book.quotes.get("AAPL.US"))
    assert ok


def test_dbg2(sim, make_manager):
    import sys, traceback, threading, time as _t
    m = make_manager(fast_config(sim))
    m.subscribe(["AAPL.US"])
    assert m.wait_ready(10)
    _t.sleep(2)
    q = sim._quotes["AAPL.US"]
    print("\nDBG seq", q.seq, "due-in", q.next_due - _t.monotonic(), "paused", sim._paused, "subs", sim.subscriptions())
    for t in sim._threads:
        print("DBG", t.name, t.is_alive())
        fr = sys._current_frames().get(t.ident)
        if fr is not None:
            print("".join(traceback.format_stack(fr)[-4:]))
