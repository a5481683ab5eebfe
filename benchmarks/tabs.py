"""Server CPU per open tab: the Quotes page against a minimal Streamlit app, in the same run.

For 1, 4 and 8 tabs (each its own browser session, Debian's Chromium through
Playwright), the Streamlit server's CPU (user + system, all threads, psutil) is
measured over ``--seconds`` after a warm-up, as core-seconds per second:

* minimal: ``benchmarks/minimal_app.py``, one fragment redrawing a 60-row
  ``st.dataframe`` every second: Streamlit's floor for a live table;
* quotes: ``streamlit_app.py`` at 1 s refresh with 60 US/HK symbols (``?symbols=``),
  the feed in demo mode inside the server (simulator included) or, with
  ``--source redis``, read from a quote service (``python -m feed serve`` and
  redis-server in their own processes, whose CPU is not the server's).

Also measured: each server's CPU with no tab open (the feed's own cost, not per
viewer). Target: quotes ≤ 1.3x minimal at 4 tabs.

    python -m benchmarks.tabs                       # ~4 min
    python -m benchmarks.tabs --tabs 4 --seconds 15 --source redis
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Iterator

from benchmarks.common import Row, print_table
from benchmarks.servers import (
    SYMBOLS,
    browser,
    cpu_seconds,
    open_tabs,
    publisher,
    redis_server,
    streamlit_server,
)


def measure(pid: int, seconds: float) -> float:
    """Core-seconds per second the process used over the next ``seconds``."""
    before, t0 = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(pid) - before) / (time.monotonic() - t0)


def run_app(
    b: object, url: str, pid: int, tabs: list[int], seconds: float, warmup: float
) -> dict[int, float]:
    """CPU at each tab count, then with no tab (key 0): what the server spends on its own
    (for the dashboard in demo mode: the feed and its simulator, started by the first tab)."""
    out = {}
    for n in tabs:
        with open_tabs(b, url, n):
            time.sleep(warmup)
            out[n] = measure(pid, seconds)
        time.sleep(2.0)  # sessions end
    out[0] = measure(pid, min(seconds, 8.0))
    return out


@contextlib.contextmanager
def quotes_server(source: str) -> Iterator[object]:
    if source == "demo":
        with streamlit_server("streamlit_app.py") as s:
            yield s
        return
    with (
        redis_server() as url,
        publisher(url),
        streamlit_server("streamlit_app.py", QUOTES_REDIS_URL=url) as s,
    ):
        yield s


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tabs", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=8.0)
    parser.add_argument("--source", choices=("demo", "redis"), default="demo")
    args = parser.parse_args(argv)
    results: dict[str, dict[int, float]] = {}
    with browser() as b:
        with streamlit_server("benchmarks/minimal_app.py") as s:
            results["minimal"] = run_app(b, s.url, s.pid, args.tabs, args.seconds, args.warmup)
        with quotes_server(args.source) as s:
            url = f"{s.url}/?symbols={SYMBOLS}"  # type: ignore[attr-defined]
            results["quotes"] = run_app(b, url, s.pid, args.tabs, args.seconds, args.warmup)  # type: ignore[attr-defined]
    rows = []
    for n in [0, *args.tabs]:
        base, ours = results["minimal"][n], results["quotes"][n]
        what = f"{n} tab{'s' if n != 1 else ''}" if n else "no tab, after"
        row = Row(f"server CPU, {what} ({args.source})", ours, "core", base, "minimal")
        if n == 4:
            row.target, row.ok = "≤ 1.3x minimal", ours <= 1.3 * base
        rows.append(row)
        if n:
            rows.append(Row(f"  per tab, {n} tabs", ours / n, "core", base / n, "minimal"))
    print_table(
        rows, f"Server CPU per tab (core-seconds per second), Quotes page vs minimal app, {args.source}"
    )
    return rows


if __name__ == "__main__":
    main()
