"""How many tabs hold a steady 1 s refresh: one Streamlit process, then two replicas on one feed.

The setup of the README's "Scale out": redis-server, one publisher (``python -m feed
serve``, demo mode) and one or two replicas (``streamlit run streamlit_app.py`` with
``QUOTES_REDIS_URL``), each on its own port. N tabs open the Quotes page with 60 US/HK
symbols, spread evenly over the replicas. A tab here is a headless session
(:mod:`benchmarks.sessions`) that speaks the frontend's protocol and asks for a fragment
rerun every second as the browser's timer does: dozens of Chromium tabs would take the
machine's two cores from the servers being measured (``benchmarks/tabs.py`` measures
real Chromium tabs; compare its per-tab server CPU with the per-session figure here).

A tab *holds* the 1 s refresh when the server finished at least ``--steady`` (90 %) of
the reruns it asked for in the window, with a median latency (request to run finished)
of at most ``--latency`` (0.5 s); the worst tab decides. The run:

1. one replica, N = ``--start``, ``--start + --step``, … until some tab stops holding:
   capacity C is the last N every tab held;
2. two replicas from 2C tabs (C each) up, while every tab holds.

Each step prints the replicas' server CPU (core-seconds per second). One Streamlit
process runs its scripts under one GIL, so it tops out near one core; two replicas
have two. The machine's cores are shared with the publisher, redis-server and the
sessions themselves (and anything else running).

    python -m benchmarks.replicas                   # ~5 min
    python -m benchmarks.replicas --start 2 --step 2 --max 16 --seconds 12
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Iterator

from benchmarks.common import Row, print_table
from benchmarks.servers import SYMBOLS, cpu_seconds, publisher, redis_server, streamlit_server
from benchmarks.sessions import Session


@contextlib.contextmanager
def replicas(url: str, n: int) -> Iterator[list]:
    with contextlib.ExitStack() as stack:
        yield [
            stack.enter_context(streamlit_server("streamlit_app.py", QUOTES_REDIS_URL=url)) for _ in range(n)
        ]


def step(servers: list, tabs: int, seconds: float, warmup: float) -> tuple[float, float, list[float]]:
    """(worst session's share of reruns finished, its median latency, each replica's CPU)."""
    sessions = [Session(servers[i % len(servers)].url, f"symbols={SYMBOLS}").start() for i in range(tabs)]
    try:
        if not all(s.wait_ready(90) for s in sessions):
            return 0.0, float("inf"), [0.0] * len(servers)
        time.sleep(warmup)
        for s in sessions:
            s.reset()
        cpu0, t0 = [cpu_seconds(r.pid) for r in servers], time.monotonic()
        time.sleep(seconds)
        elapsed = time.monotonic() - t0
        cpu = [(cpu_seconds(r.pid) - c) / elapsed for r, c in zip(servers, cpu0, strict=True)]
        stats = [s.stats() for s in sessions]
        share = min(st.finished / max(1, st.requested) for st in stats)
        return share, max(st.latency_p50 for st in stats), cpu
    finally:
        for s in sessions:
            s.stop()
        time.sleep(2.0)


CPU: dict[tuple[int, int], float] = {}  # (replicas, tabs) -> the servers' CPU measured


def climb(servers: list, start: int, stride: int, top: int, args: argparse.Namespace, rows: list) -> int:
    """The most tabs (from ``start`` by ``stride``) every one of which held the refresh."""
    held, n = 0, start
    while n <= top:
        share, latency, cpu = step(servers, n, args.seconds, args.warmup)
        ok = share >= args.steady and latency <= args.latency
        cpus = " + ".join(f"{c:.2f}" for c in cpu)
        rows.append(Row(f"{len(servers)} replica(s), {n} tabs: worst tab's reruns done", share * 100, "%"))
        rows[-1].target, rows[-1].ok = f"≥ {args.steady:.0%}, p50 ≤ {args.latency:g}s", ok
        rows.append(Row(f"  worst p50 rerun latency; server CPU {cpus}", latency, "s"))
        CPU[(len(servers), n)] = sum(cpu)
        print(
            f"{len(servers)} replica(s) {n} tabs: worst {share:.0%} done, p50 {latency:.2f}s, servers {cpus}",
            flush=True,
        )
        if not ok:
            break
        held, n = n, n + stride
    return held


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", type=int, default=4)
    parser.add_argument("--step", type=int, default=2)
    parser.add_argument("--max", type=int, default=24)
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--warmup", type=float, default=6.0)
    parser.add_argument("--steady", type=float, default=0.9, help="share of reruns a tab must get")
    parser.add_argument("--latency", type=float, default=0.5, help="median rerun latency a tab may see")
    args = parser.parse_args(argv)
    rows: list[Row] = []
    with redis_server() as url, publisher(url):
        with replicas(url, 1) as one:
            single = climb(one, args.start, args.step, args.max, args, rows)
        with replicas(url, 2) as two:
            double = climb(two, max(2, 2 * single), 2 * args.step, 2 * args.max, args, rows)
    rows.append(Row("tabs one process holds", single, "tabs"))
    if single:
        rows.append(Row("  server CPU per session there", CPU[(1, single)] / single, "core"))
    rows.append(Row("tabs two replicas hold", double, "tabs", single or None, "one process"))
    rows[-1].target, rows[-1].ok = "2x", bool(single) and double >= 2 * single
    print_table(
        rows, "Tabs at a steady 1 s refresh: one Streamlit process vs two replicas on one quote service"
    )
    return rows


if __name__ == "__main__":
    main()
