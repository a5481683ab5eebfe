"""Tick-to-snapshot latency at steady loads (default 5,000 and 20,000 ticks/s).

The firehose (its own process) paces pre-encoded pushes and records ``perf_counter()``
just before each ``sendall``; the client's process reads the same clock
(CLOCK_MONOTONIC on Linux), so latencies need no clock sync. Per load:

* baseline: a bare websocket-client ``recv_data()`` loop receiving the same frames;
  latency = receive time - send time;
* pipeline: a FeedManager subscribed to every code, and a watcher thread polling
  ``manager.snapshot_state()`` every ``--poll`` seconds, noting when each version first
  shows; a tick's latency = the time its seq (or a later seq of its code, which
  supersedes it) first shows - its send time. Meanwhile a "dashboard" thread reads
  ``manager.snapshot()`` (the DataFrame) every ``--read-every`` seconds, as one open
  Quotes page does, so the frame builds a reader causes are inside the figures.

Prints p50 / p99 / max in ms and the ratio to the baseline. Target: p99 < 5 ms at
20,000 ticks/s. The watcher's poll period bounds the resolution (it adds up to one
period to every pipeline figure).

    python -m benchmarks.latency                    # ~40 s
    python -m benchmarks.latency --rates 5000 20000 50000 --seconds 3
"""

from __future__ import annotations

import argparse
import math
import threading
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from benchmarks.common import Row, percentile, print_table, raw_client, running_pipeline, wait_final
from benchmarks.firehose import Firehose
from feed.manager import FeedManager


@dataclass(frozen=True, slots=True)
class Latency:
    rate: float
    frames: int
    seen: int
    p50: float
    p99: float
    max: float

    @classmethod
    def of(cls, rate: float, frames: int, values: list[float]) -> Latency:
        v = sorted(values)
        ms = 1000.0
        top = v[-1] * ms if v else math.nan
        return cls(rate, frames, len(v), percentile(v, 50) * ms, percentile(v, 99) * ms, top)


def _index(n_codes: int, start: int, code_index: int, seq: int) -> int:
    """The blast-local frame index of (code, seq); frame g is code g % n, seq g // n + 1."""
    return (seq - 1) * n_codes + code_index - start


def raw_latency(fh: Firehose, rate: float, frames: int) -> Latency:
    ws = raw_client(fh, fh.codes, skip_utf8_validation=True)
    # Flat storage: no tuple per frame, so the loop does not set off the cyclic GC.
    times = array("d", bytes(8 * frames))
    datas: list[bytes] = []
    try:
        start = fh.cursor
        planned = fh.prepare(frames, rate=rate)
        recv = ws.recv_data
        perf = time.perf_counter
        append = datas.append
        fh.go()
        for k in range(planned):
            append(recv()[1])
            times[k] = perf()
        sent = fh.wait_done().send_times
    finally:
        ws.close()
    assert sent is not None
    index = {c: i for i, c in enumerate(fh.codes)}
    n = len(fh.codes)
    values = []
    for t, data in zip(times, datas, strict=False):
        d = orjson.loads(data)["data"]
        i = _index(n, start, index[d["code"]], int(d["seq"]))
        values.append(t - sent[i])
    return Latency.of(rate, planned, values)


class _Dashboard(threading.Thread):
    """Reads ``manager.snapshot()`` every ``period`` seconds, as one open Quotes page does."""

    def __init__(self, manager: FeedManager, period: float) -> None:
        super().__init__(name="bench-dashboard", daemon=True)
        self.manager = manager
        self.period = period
        self.stop = threading.Event()
        self.reads = 0

    def run(self) -> None:
        while not self.stop.wait(self.period):
            self.manager.snapshot()
            self.reads += 1


class _Watcher(threading.Thread):
    """Polls ``snapshot_state()``; notes when each (code, seq) first shows.

    Keeps flat arrays, never the snapshots themselves: holding thousands of snapshots
    would promote their quotes into the GC's old generation and set off the full
    collections (tens of ms) that this benchmark is trying to see in the pipeline.
    """

    def __init__(self, manager: FeedManager, codes: list[str], start: int, poll: float) -> None:
        super().__init__(name="bench-watcher", daemon=True)
        self.manager = manager
        self.index = {c: i for i, c in enumerate(codes)}
        n = len(codes)
        self.last_seen = [_seq_floor(start, n, i) for i in range(n)]
        self.poll = poll
        self.stop = threading.Event()
        self.codes = array("l")
        self.seqs = array("l")
        self.times = array("d")

    def run(self) -> None:
        perf = time.perf_counter
        state = self.manager.snapshot_state
        index, last_seen = self.index, self.last_seen
        codes, seqs, times = self.codes, self.seqs, self.times
        version = -1
        while not self.stop.is_set():
            snap = state()
            if snap.version == version:
                time.sleep(self.poll)
                continue
            t = perf()
            version = snap.version
            for code, q in snap.quotes.items():
                c = index.get(code)
                if c is not None and q.seq > last_seen[c]:
                    last_seen[c] = q.seq
                    codes.append(c)
                    seqs.append(q.seq)
                    times.append(t)


def pipeline_latency(
    fh: Firehose,
    rate: float,
    frames: int,
    poll: float,
    setup: Callable[[FeedManager], object] | None = None,
    on_done: Callable[[FeedManager], object] | None = None,
    read_every: float = 1.0,
    **overrides: object,
) -> Latency:
    """``setup(manager)`` runs before the ticks, ``on_done(manager)`` once every tick showed;
    ``read_every`` > 0: a dashboard reads the DataFrame that often meanwhile."""
    with running_pipeline(fh, **overrides) as manager:
        if setup is not None:
            setup(manager)
        start = fh.cursor
        planned = fh.prepare(frames, rate=rate)
        watcher = _Watcher(manager, fh.codes, start, poll)
        watcher.start()
        dashboard = _Dashboard(manager, read_every) if read_every > 0 else None
        if dashboard is not None:
            dashboard.start()
        try:
            fh.go()
            sent = fh.wait_done(timeout=frames / rate + 60).send_times
            # Every tick's way through the pipeline: until each code's final seq shows.
            if wait_final(manager, fh.expected(), timeout=60.0) is None:
                print("  warning: the pipeline did not show every final tick within 60 s")
            time.sleep(0.05)
            if on_done is not None:
                on_done(manager)
        finally:
            watcher.stop.set()
            watcher.join()
            if dashboard is not None:
                dashboard.stop.set()
                dashboard.join()
    assert sent is not None
    n = len(fh.codes)
    floor = [_seq_floor(start, n, i) for i in range(n)]
    visible = array("d", [math.nan]) * frames
    for c, seq, t in zip(watcher.codes, watcher.seqs, watcher.times, strict=True):
        # This seq shows, and with it every earlier seq of the code not seen before.
        low = floor[c]
        for s in range(low + 1, seq + 1):
            i = _index(n, start, c, s)
            if 0 <= i < frames:
                visible[i] = t
        floor[c] = seq
    values = [v - s for v, s in zip(visible, sent, strict=True) if not math.isnan(s) and not math.isnan(v)]
    lost = sum(1 for v, s in zip(visible, sent, strict=True) if not math.isnan(s) and math.isnan(v))
    if lost:
        print(f"  warning: {lost} sent ticks never showed in a snapshot")
    return Latency.of(rate, planned, values)


def _seq_floor(start: int, n: int, code_index: int) -> int:
    """The last seq of a code sent before global frame ``start`` (0: none)."""
    return (start - 1 - code_index) // n + 1 if code_index < start else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--symbols", type=int, default=200)
    ap.add_argument("--rates", type=float, nargs="+", default=[5_000.0, 20_000.0], help="ticks/s")
    ap.add_argument("--seconds", type=float, default=4.0, help="duration of each steady load")
    ap.add_argument("--poll", type=float, default=0.0002, help="watcher poll period, seconds")
    ap.add_argument(
        "--read-every", type=float, default=1.0, help="a dashboard reads snapshot() this often, s (0: none)"
    )
    args = ap.parse_args(argv)
    print(
        f"latency: {args.symbols} symbols, {args.seconds:g} s per load, watcher poll {args.poll * 1e3:g} ms,"
        f" snapshot() read every {args.read_every:g} s"
    )
    rows: list[Row] = []
    with Firehose(symbols=args.symbols) as fh:
        for rate in args.rates:
            frames = int(rate * args.seconds)
            base = raw_latency(fh, rate, frames)
            pipe = pipeline_latency(fh, rate, frames, args.poll, read_every=args.read_every)
            print(
                f"  {rate:,.0f}/s raw recv: p50 {base.p50:.3f} p99 {base.p99:.3f} max {base.max:.2f} ms"
                f" | pipeline: p50 {pipe.p50:.3f} p99 {pipe.p99:.3f} max {pipe.max:.2f} ms"
                f" ({pipe.seen:,}/{pipe.frames:,} ticks timed)",
                flush=True,
            )
            label = f"{rate:,.0f} ticks/s"
            target = 5.0 if rate >= 20_000 else None
            rows += [
                Row(f"{label} p50", pipe.p50, "ms", base.p50, "raw recv"),
                Row(
                    f"{label} p99",
                    pipe.p99,
                    "ms",
                    base.p99,
                    "raw recv",
                    "< 5 ms" if target else "",
                    (pipe.p99 < target) if target else None,
                ),
                Row(f"{label} max", pipe.max, "ms", base.max, "raw recv"),
            ]
    print_table(rows, f"Tick-to-snapshot latency, {args.symbols} symbols")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
