"""Ingest throughput: our whole pipeline against the raw receive ceiling and the seed handler.

In one run, against one firehose process (benchmarks/firehose.py) on loopback:

1. raw ceiling: websocket-client ``create_connection(..., skip_utf8_validation=True)``
   looping ``recv_data()`` until every frame arrived; then the same with default options;
2. the seed article's handler per message: ``json.loads`` then ``pd.DataFrame(data)`` on
   the message dict (as the article wrote it; ``df.head()`` is taken but not printed), on
   a subset of the frames because it is slow;
3. our pipeline: a FeedManager (two connections, US and HK, the processor thread, the
   book) subscribed to every symbol, timed from the blast's start until
   ``snapshot_state()`` shows every symbol's final seq.

The raw ceiling and the pipeline run ``--repeats`` times (3), alternating, and the
medians are compared (one raw run moves by 20-30 % on a shared 2-core machine); a last
raw run checks for drift. Prints msgs/s for each and the ratios pipeline / raw ceiling
(target >= 1.5x, the feed-rebuild issue's) and pipeline / seed handler (target >= 50x).
``--profile FILE`` then runs the pipeline once more under py-spy (sampled from outside,
``--gil``: whichever thread holds the GIL) and prints the hot spots.

    python -m benchmarks.ingest                     # ~1.5 min (3 alternating rounds)
    python -m benchmarks.ingest --frames 100000 --symbols 100
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass

import pandas as pd

from benchmarks.common import Row, print_table, raw_client, running_pipeline, wait_final
from benchmarks.firehose import Firehose


@dataclass(frozen=True, slots=True)
class Run:
    frames: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.frames / self.seconds


def raw_recv(fh: Firehose, frames: int, *, skip_utf8: bool) -> Run:
    """The receive ceiling: nothing but ``recv_data()`` in a loop."""
    options = {"skip_utf8_validation": True} if skip_utf8 else {}
    ws = raw_client(fh, fh.codes, **options)
    try:
        planned = fh.prepare(frames)
        recv = ws.recv_data
        t0 = fh.go()
        for _ in range(planned):
            recv()
        t1 = time.perf_counter()
        fh.wait_done()
    finally:
        ws.close()
    return Run(planned, t1 - t0)


def seed_handler(fh: Firehose, frames: int) -> Run:
    """The seed article's ``handle_message`` per frame (``print`` left out: it would time the terminal)."""
    ws = raw_client(fh, fh.codes)
    try:
        planned = fh.prepare(frames)
        recv = ws.recv
        t0 = fh.go()
        for _ in range(planned):
            message = recv()
            data = json.loads(message)
            df = pd.DataFrame(data)
            df.head()
        t1 = time.perf_counter()
        fh.wait_done()
    finally:
        ws.close()
    return Run(planned, t1 - t0)


@dataclass(frozen=True, slots=True)
class PipelineRun(Run):
    messages: int
    applied: int
    coalesced: int
    publishes: int


def pipeline(fh: Firehose, frames: int, timeout: float, profile: str | None = None) -> PipelineRun:
    """Our client end to end: frames in, every symbol's final tick visible in the snapshot."""
    with running_pipeline(fh) as manager:
        before = manager.status()
        msgs0 = sum(c.messages for c in before.connections)
        version0 = manager.snapshot_state().version
        planned = fh.prepare(frames)
        expected = fh.expected()
        spy = _start_py_spy(profile) if profile else None
        t0 = fh.go()
        t1 = wait_final(manager, expected, timeout)
        if spy is not None:
            _stop_py_spy(spy)
        fh.wait_done()
        if t1 is None:
            raise RuntimeError(f"the pipeline did not show every final tick within {timeout}s")
        after = manager.status()
        return PipelineRun(
            planned,
            t1 - t0,
            sum(c.messages for c in after.connections) - msgs0,
            after.ticks_applied - before.ticks_applied,
            after.drops.get("coalesced", 0) - before.drops.get("coalesced", 0),
            manager.snapshot_state().version - version0,
        )


# --- py-spy --------------------------------------------------------------------------------


# Sample only the thread holding the GIL: the pipeline is GIL-bound, so this is where its
# one effective core goes (sleeping or blocked threads would otherwise count as busy).
PY_SPY_EXTRA: list[str] = ["--gil"]


def _start_py_spy(path: str) -> subprocess.Popen[bytes]:
    exe = shutil.which("py-spy")
    if exe is None:
        raise SystemExit("--profile needs py-spy: pip install py-spy")
    cmd = [exe, "record", "--pid", str(os.getpid()), "--rate", "250", "--format", "raw", *PY_SPY_EXTRA]
    proc = subprocess.Popen([*cmd, "-o", path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # let it attach before the clock starts
    return proc


def _stop_py_spy(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()


def _frame_key(frame: str) -> str:
    """``recv_data (websocket/_core.py:456)`` -> ``websocket/_core.py:recv_data``."""
    name, _, where = frame.rpartition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{path}:{name}"


def summarize_profile(path: str, top: int = 15) -> None:
    """Self and inclusive sample shares per file:function from py-spy's collapsed stacks."""
    own: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    total = 0
    with open(path) as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not stack:
                continue
            n = int(count)
            frames = [_frame_key(fr) for fr in stack.split(";")]
            total += n
            own[frames[-1]] += n
            for key in set(frames):
                incl[key] += n
            # The outermost frame that is ours names the thread's job.
            job = next((fr for fr in frames if fr.startswith("feed/")), frames[0])
            threads[job] += n
    if not total:
        print("(no samples)")
        return
    print(f"\n## Profile: {total:,} samples of the GIL holder\n")
    print("| self % | file:function |\n|---|---|")
    for key, n in own.most_common(top):
        print(f"| {100 * n / total:.1f} | {key} |")
    print("\n| inclusive % | file:function |\n|---|---|")
    for key, n in incl.most_common(top + 10):
        if key.startswith(("<", "threading.py", "runpy")):
            continue
        print(f"| {100 * n / total:.1f} | {key} |")
    print("\n| share % | thread entry |\n|---|---|")
    for key, n in threads.most_common(6):
        print(f"| {100 * n / total:.1f} | {key} |")
    print(flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--symbols", type=int, default=200, help="codes, half US and half HK (default 200)")
    ap.add_argument("--frames", type=int, default=300_000, help="frames per raw and pipeline blast")
    ap.add_argument("--default-frames", type=int, default=50_000, help="frames for the default-options recv")
    ap.add_argument("--seed-frames", type=int, default=3_000, help="frames for the seed article's handler")
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--repeats", type=int, default=3, help="alternating raw/pipeline rounds (medians)")
    ap.add_argument("--profile", metavar="FILE", help="also run the pipeline under py-spy; write stacks here")
    args = ap.parse_args(argv)

    print(f"ingest: {args.symbols} symbols (US + HK), {args.frames:,} frames, loopback, pid {os.getpid()}")
    with Firehose(symbols=args.symbols) as fh:
        print(f"firehose {fh.ws_base} (own process); python {sys.version.split()[0]}", flush=True)
        raws, pipes = [], []
        for k in range(args.repeats):  # alternating, so drift in the machine hits both alike
            raws.append(raw_recv(fh, args.frames, skip_utf8=True))
            print(f"  [{k + 1}] raw recv_data, skip_utf8_validation: {raws[-1].rate:,.0f} msg/s", flush=True)
            if k == 0:
                raw_default = raw_recv(fh, args.default_frames, skip_utf8=False)
                print(f"      raw recv_data, default options:      {raw_default.rate:,.0f} msg/s", flush=True)
                seed = seed_handler(fh, args.seed_frames)
                print(f"      seed handler (json.loads + DataFrame): {seed.rate:,.0f} msg/s", flush=True)
            pipes.append(pipeline(fh, args.frames, args.timeout))
            p = pipes[-1]
            print(
                f"  [{k + 1}] pipeline: {p.rate:,.0f} msg/s ({p.messages:,} frames received, "
                f"{p.applied:,} ticks applied, {p.coalesced:,} coalesced; "
                f"{p.publishes:,} snapshots published, "
                f"{p.applied / max(1, p.publishes):,.0f} ticks each)",
                flush=True,
            )
        raws.append(raw_recv(fh, args.frames, skip_utf8=True))
        print(f"  raw recv_data again (drift check):   {raws[-1].rate:,.0f} msg/s", flush=True)
        ceiling = statistics.median(r.rate for r in raws)
        pipe = sorted(pipes, key=lambda r: r.rate)[len(pipes) // 2]  # the median run
        rows = [
            Row(f"raw recv ceiling (skip_utf8), median of {len(raws)}", ceiling, "msg/s"),
            Row("raw recv, default options", raw_default.rate, "msg/s", ceiling, "ceiling"),
            Row("seed handler (json.loads + pd.DataFrame)", seed.rate, "msg/s", ceiling, "ceiling"),
            Row(
                f"pipeline vs raw ceiling, median of {len(pipes)}",
                pipe.rate,
                "msg/s",
                ceiling,
                "ceiling",
                ">= 1.5x",
                None,
            ),
            Row("pipeline vs seed handler", pipe.rate, "msg/s", seed.rate, "seed", ">= 50x", None),
        ]
        rows[3].ok = pipe.rate / ceiling >= 1.5
        rows[4].ok = pipe.rate / seed.rate >= 50
        print_table(rows, f"Ingest, {args.symbols} symbols, {args.frames:,} frames")
        if args.profile:
            prof = pipeline(fh, args.frames, args.timeout, profile=args.profile)
            print(f"profiled pipeline run: {prof.rate:,.0f} msg/s (py-spy attached, --gil)")
            summarize_profile(args.profile)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
