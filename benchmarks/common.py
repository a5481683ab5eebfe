"""Shared pieces of the benchmark scripts: the pipeline under test, raw clients, the figures table."""

from __future__ import annotations

import contextlib
import logging
import math
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import psutil
import websocket

from benchmarks.firehose import Firehose
from feed.config import FeedConfig
from feed.manager import FeedManager
from feed.protocol.codec import encode_subscribe

__all__ = [
    "BENCH_TOKEN",
    "Row",
    "bench_config",
    "percentile",
    "print_table",
    "raw_client",
    "rss_mb",
    "running_pipeline",
    "wait_final",
]

BENCH_TOKEN = "bench-token-0000"

log = logging.getLogger("benchmarks")


def bench_config(fh: Firehose, **overrides: object) -> FeedConfig:
    """The brief's pipeline config: professional plan, no token pacing, fast subscribes."""
    values: dict[str, object] = {
        "token": BENCH_TOKEN,
        "ws_base": fh.ws_base,
        "http_base": fh.http_base,
        "plan": "professional",
        "token_request_interval": 0.0,
        "request_interval": 0.05,
        "default_symbols": (),
        "max_watch": max(500, len(fh.codes)),
        # The tick store is measured by benchmarks/store.py (on against off); the others
        # measure the feed itself and write nothing to disk unless asked.
        "data_dir": None,
    }
    values.update(overrides)
    return FeedConfig(**values)  # type: ignore[arg-type]


@contextlib.contextmanager
def running_pipeline(
    fh: Firehose, codes: list[str] | None = None, timeout: float = 60.0, **overrides: object
) -> Iterator[FeedManager]:
    """A started FeedManager subscribed to ``codes``, seeded and subscribed, with HTTP gone quiet."""
    codes = list(fh.codes if codes is None else codes)
    manager = FeedManager(bench_config(fh, **overrides)).start()
    try:
        manager.subscribe(codes)
        markets = {c.rsplit(".", 1)[-1] for c in codes}
        if not fh.wait_subscribed(len(codes), timeout=timeout, clients=len(markets)):
            raise RuntimeError(f"the pipeline did not subscribe {len(codes)} codes in {timeout}s")
        if not manager.wait_ready(timeout=min(timeout, 15.0)):
            # Seeding is HTTP's job and not what is measured: carry on without it.
            log.warning("the pipeline was not fully seeded (prices, previous closes); carrying on")
        # Seeding ends with names; wait until the HTTP stub has heard nothing for a while.
        last, quiet_since = fh.http_requests(), time.monotonic()
        while time.monotonic() - quiet_since < 0.5:
            time.sleep(0.1)
            n = fh.http_requests()
            if n != last:
                last, quiet_since = n, time.monotonic()
        yield manager
    finally:
        manager.stop()


def wait_final(
    manager: FeedManager, expected: dict[str, tuple[int, float]], timeout: float, poll: float = 0.001
) -> float | None:
    """``perf_counter()`` when every code's final seq shows in ``snapshot_state()``; None on timeout.

    Cheap while waiting: one code (the last one sent) is looked at until it is final,
    then all of them, so the poll barely competes with the pipeline for the GIL.
    """
    items = [(c, s) for c, (s, _) in expected.items()]
    # The codes sent last (global order is seq, then code index; codes alternate markets).
    sentinels = [kv for _, kv in sorted(((s, i), (c, s)) for i, (c, s) in enumerate(items))[-2:]]
    deadline = time.perf_counter() + timeout
    while True:
        now = time.perf_counter()
        quotes = manager.snapshot_state().quotes
        if all((q := quotes.get(c)) is not None and q.seq >= s for c, s in sentinels) and all(
            (q := quotes.get(c)) is not None and q.seq >= s for c, s in items
        ):
            return now
        if now > deadline:
            return None
        time.sleep(poll)


def raw_client(fh: Firehose, codes: Iterable[str], **options: object) -> websocket.WebSocket:
    """A bare websocket-client connection subscribed to ``codes`` (the ack already read)."""
    codes = list(codes)
    ws = websocket.create_connection(f"{fh.ws_base}/quote-stock-b-ws-api?token={BENCH_TOKEN}", **options)
    ws.send(encode_subscribe(codes, 1, "bench"))
    ws.recv()  # 22005
    if not fh.wait_subscribed(len(codes), clients=1):
        raise RuntimeError("raw client not subscribed")
    return ws


def rss_mb() -> float:
    return psutil.Process(os.getpid()).memory_info().rss / 2**20


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return math.nan
    k = min(len(sorted_values) - 1, max(0, math.ceil(p / 100 * len(sorted_values)) - 1))
    return sorted_values[k]


@dataclass(slots=True)
class Row:
    """One line of the figures table: ``ratio = value / baseline``, checked against ``target``."""

    metric: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""
    ok: bool | None = None

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or not self.baseline or math.isnan(self.baseline):
            return None
        return self.value / self.baseline


def _fmt(v: float | None, unit: str = "") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if abs(v) >= 1000:
        s = f"{v:,.0f}"
    elif abs(v) >= 10:
        s = f"{v:.1f}"
    elif abs(v) >= 0.1:
        s = f"{v:.2f}"
    else:
        s = f"{v:.3f}"
    return f"{s} {unit}".rstrip()


def print_table(rows: list[Row], title: str = "") -> None:
    """A Markdown table: metric | figure | baseline | ratio | target | result."""
    if title:
        print(f"\n## {title}\n")
    print("| metric | figure | baseline | ratio | target | result |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        base = f"{_fmt(r.baseline, r.unit)} ({r.baseline_name})" if r.baseline is not None else "-"
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else "-"
        result = "-" if r.ok is None else ("pass" if r.ok else "MISS")
        print(f"| {r.metric} | {_fmt(r.value, r.unit)} | {base} | {ratio} | {r.target or '-'} | {result} |")
    print(flush=True)
