"""Memory under a long feed: RSS after each million ticks over 1,000 symbols.

A real FeedManager (connections to the firehose, seeded by its HTTP stub) watches
``--symbols`` codes. Ticks reach it one of two ways (``--via``):

* ``queue`` (default): ``feed.protocol.codec.Tick`` batches straight into the pipeline's ingest,
  the ingest queue's ``put_many``, kept under the queue's capacity so nothing is coalesced;
  the processor applies them to the book, publishes snapshots and extends each symbol's
  minute path. Tick times step ``--spacing`` seconds per symbol inside one trading day,
  so the minute paths grow as they would over a session. Skips the socket and decode
  (their buffers do not grow with the tick count).
* ``firehose``: the same counts as pushes through the real client (slower: ~1 min).

Readers take ``snapshot()`` and a few ``history()`` calls every 100,000 ticks, as pages do.
RSS (psutil, after ``gc.collect()``) is printed at start and after each phase.
Targets: growth < 100 MB after the first million; flat (< 10 MB) after that.

    python -m benchmarks.memory                     # ~30 s
    python -m benchmarks.memory --via firehose --ticks 500000
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import time

from benchmarks.common import Row, print_table, rss_mb, running_pipeline, wait_final
from benchmarks.firehose import Firehose, price_of
from feed.manager import FeedManager
from feed.protocol.codec import Tick

BATCH = 10_000
READ_EVERY = 100_000


def _session_window_start() -> int:
    """Epoch ms of a recent 05:30 UTC at least 11 h ago: 10 h later both NY and HK keep one date."""
    now = dt.datetime.now(dt.UTC)
    day = now.replace(hour=5, minute=30, second=0, microsecond=0)
    while day + dt.timedelta(hours=11) > now or day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return int(day.timestamp() * 1000)


def _read(manager: FeedManager, codes: list[str]) -> None:
    manager.snapshot()
    for code in codes[:5]:
        manager.history(code)


def feed_queue(
    manager: FeedManager, codes: list[str], ticks: int, seq: int, spacing_ms: int, base_ms: int
) -> int:
    """Push ``ticks`` ticks (whole rounds over ``codes``) into the feed's ingest queue.

    Returns the next seq. The harness reaches past the sockets on purpose: it measures
    what the book, the paths and the snapshots hold, not the network.
    """
    q = manager._holder.run.ingest  # the running generation's queue (benchmark harness only)
    batch: list[Tick] = []
    sent = 0
    next_read = READ_EVERY

    def flush() -> None:
        q.put_many(batch)
        batch.clear()
        while len(q) > q.capacity // 2:  # stay under capacity: nothing coalesced
            time.sleep(0.001)

    for _ in range(ticks // len(codes)):
        t_ms = base_ms + seq * spacing_ms
        for c, code in enumerate(codes):
            batch.append(Tick(code, seq, t_ms + c, float(price_of(c, seq)), 100.0))
            if len(batch) >= BATCH:
                sent += len(batch)
                flush()
                if sent >= next_read:
                    _read(manager, codes)
                    next_read += READ_EVERY
        seq += 1
    if batch:
        flush()
    # Until the processor has applied the last batch: every code shows its last seq.
    final = {code: (seq - 1, float(price_of(c, seq - 1))) for c, code in enumerate(codes)}
    if wait_final(manager, final, timeout=60.0) is None:
        print("  warning: the processor did not apply every tick within 60 s")
    return seq


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--symbols", type=int, default=1_000)
    ap.add_argument("--ticks", type=int, default=1_000_000, help="ticks per phase")
    ap.add_argument("--phases", type=int, default=3, help="phases of --ticks each (report after each)")
    ap.add_argument("--via", choices=("queue", "firehose"), default="queue")
    ap.add_argument(
        "--spacing", type=float, default=10.0, help="seconds between a symbol's ticks (queue mode)"
    )
    args = ap.parse_args(argv)
    if args.ticks % args.symbols:
        ap.error("--ticks must be a multiple of --symbols (whole rounds)")
    base_ms = _session_window_start()
    rows: list[Row] = []
    with Firehose(symbols=args.symbols, base_ms=base_ms) as fh:
        codes = fh.codes
        with running_pipeline(fh, max_watch=args.symbols, queue_capacity=100_000) as manager:
            _read(manager, codes)
            gc.collect()
            start = rss_mb()
            print(f"memory: {args.symbols} symbols, {args.ticks:,} ticks x {args.phases} via {args.via}")
            print(f"  start: RSS {start:,.1f} MB", flush=True)
            seq = 1
            prev = start
            http0 = fh.http_requests()
            for phase in range(1, args.phases + 1):
                t0 = time.perf_counter()
                if args.via == "queue":
                    seq = feed_queue(manager, codes, args.ticks, seq, int(args.spacing * 1000), base_ms)
                else:
                    fh.prepare(args.ticks)
                    fh.go()
                    fh.wait_done(timeout=600)
                    if wait_final(manager, fh.expected(), timeout=120) is None:
                        print("  warning: not every final tick showed")
                    _read(manager, codes)
                elapsed = time.perf_counter() - t0
                gc.collect()
                now = rss_mb()
                st = manager.status()
                print(
                    f"  after {phase * args.ticks:,} ticks: RSS {now:,.1f} MB "
                    f"(+{now - start:,.1f} since start, +{now - prev:,.1f} this phase) in {elapsed:.1f} s; "
                    f"applied {st.ticks_applied:,}, "
                    f"drops {st.drops}, HTTP calls {fh.http_requests() - http0}",
                    flush=True,
                )
                if phase == 1:
                    rows.append(
                        Row(
                            f"RSS after {args.ticks:,} ticks",
                            now,
                            "MB",
                            start,
                            "RSS at start",
                            "< +100 MB",
                            now - start < 100,
                        )
                    )
                else:
                    rows.append(
                        Row(
                            f"RSS after {phase * args.ticks:,} ticks",
                            now,
                            "MB",
                            prev,
                            "previous phase",
                            "flat (< +10 MB)",
                            now - prev < 10,
                        )
                    )
                prev = now
    print_table(rows, f"Memory, {args.symbols} symbols, via {args.via}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
