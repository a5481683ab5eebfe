"""Reader-side costs: snapshots, the UI builders and whole page runs.

For 100, 500 and 1,000 symbols, a real FeedManager is subscribed to the firehose's
codes, seeded by its HTTP stub (prices, previous closes, names) and given one push per
symbol; then, with the feed idle, it times (median of ``--repeat`` calls):

* ``manager.snapshot()`` as readers pay it (the frame is rebuilt by the manager's
  ``feed-frames`` thread once per version, never by a reader), and the cost of that
  background rebuild (forced by dropping the cache), against ``pd.DataFrame``
  construction of the same columns and rows;
* ``manager.snapshot_state()`` against ``dict(quotes)``, the copy each publish makes;
* ``ui.tables.quotes_table`` against ``pd.DataFrame`` construction, and
  the heatmap as the page draws it (``ui.charts.heatmap_parts``: a spec built and
  validated once, then only the data marshalled as Arrow each refresh) and, for
  reference, the same chart through ``st.altair_chart``'s converter (which validates
  on every call), against a one-layer Altair chart serialised that way; skipped with a
  note when those builders are missing.

Then one AppTest run of ``streamlit_app.py`` and of each ``pages/*.py`` at
``--apptest-symbols`` (500) symbols through ``QUOTES_SYMBOLS``, against an AppTest run
of a one-line script: the first run starts the feed and is reported apart; the figure
is the median of the warm runs that follow.

Targets: snapshot() < 1 ms at 1,000 symbols; heatmap < 50 ms at 500; each page < 300 ms at 500.

    python -m benchmarks.snapshot                   # ~1 min
    python -m benchmarks.snapshot --sizes 100 500 --no-apptest
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib
import logging
import os
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks.common import BENCH_TOKEN, Row, print_table, running_pipeline, wait_final
from benchmarks.firehose import Firehose
from feed.manager import FeedManager
from feed.view import frame as build_frame

ROOT = Path(__file__).resolve().parents[1]


def median_time(fn: Callable[[], object], repeat: int, setup: Callable[[], object] | None = None) -> float:
    """Median seconds of ``repeat`` calls (``setup`` runs before each, untimed)."""
    times = []
    perf = time.perf_counter
    for _ in range(repeat):
        if setup is not None:
            setup()
        t0 = perf()
        fn()
        times.append(perf() - t0)
    return statistics.median(times)


def _builder(module: str, name: str) -> Callable[..., Any] | None:
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        print(f"  note: {module}.{name} unavailable ({exc}); skipped")
        return None


def size_rows(fh: Firehose, n: int, repeat: int) -> list[Row]:
    codes = fh.codes[:n]
    rows: list[Row] = []
    with running_pipeline(fh, codes) as manager:
        fh.blast(2 * len(fh.codes))  # one push per symbol (and then some)
        expected = {c: v for c, v in fh.expected().items() if c in set(codes)}
        if wait_final(manager, expected, timeout=30) is None:
            print(f"  warning: not every symbol got its push at {n}")
        rows += _snapshot_rows(manager, n, repeat)
        rows += _ui_rows(manager, n, repeat)
    return rows


def _snapshot_rows(manager: FeedManager, n: int, repeat: int) -> list[Row]:
    frame = manager.snapshot()
    assert len(frame) == n, (len(frame), n)
    cols = {c: frame[c].tolist() for c in frame.columns}

    snap = manager.snapshot_state()
    # What the first reader of a version pays.
    rebuilt = median_time(lambda: build_frame(snap, {}, time.monotonic()), repeat)
    manager.snapshot()
    cached = median_time(manager.snapshot, repeat * 10)
    df_build = median_time(lambda: pd.DataFrame(cols), repeat)
    quotes = dict(manager.snapshot_state().quotes)
    state = median_time(manager.snapshot_state, repeat * 10)
    copy = median_time(lambda: dict(quotes), repeat * 10)
    ms, us = 1e3, 1e6
    return [
        Row(f"frame rebuild (background), {n}", rebuilt * ms, "ms", df_build * ms, "pd.DataFrame"),
        Row(f"snapshot() read, {n}", cached * ms, "ms", df_build * ms, "pd.DataFrame", *_target(n, cached)),
        Row(f"snapshot_state(), {n}", state * us, "µs", copy * us, "dict(quotes)"),
    ]


def _target(n: int, seconds: float) -> tuple[str, bool | None]:
    return ("< 1 ms", seconds < 1e-3) if n >= 1000 else ("", None)


def _ui_rows(manager: FeedManager, n: int, repeat: int) -> list[Row]:
    rows: list[Row] = []
    snap = manager.snapshot()
    cols = {c: snap[c].tolist() for c in snap.columns}
    df_build = median_time(lambda: pd.DataFrame(cols), repeat)
    quotes_table = _builder("ui.tables", "quotes_table")
    if quotes_table is not None:
        now = dt.datetime.now(dt.UTC)
        t = median_time(lambda: quotes_table(snap, now=now), repeat)
        rows.append(Row(f"quotes_table, {n}", t * 1e3, "ms", df_build * 1e3, "pd.DataFrame"))
    heatmap = _builder("ui.charts", "heatmap")
    convention = _builder("ui.colors", "Convention")
    if heatmap is not None and convention is not None:
        import altair as alt

        conv = next(iter(convention))
        plain = pd.DataFrame({"col": [i % 8 for i in range(n)], "row": [i // 8 for i in range(n)]})
        plain["pct"] = snap["pct_change"].to_numpy()

        serialise = _chart_serialiser()

        def baseline() -> object:
            return serialise(alt.Chart(plain).mark_rect().encode(x="col:O", y="row:O", color="pct:Q"))

        t_base = median_time(baseline, max(3, repeat // 4))
        t_full = median_time(lambda: serialise(heatmap(snap, conv, columns=8)), max(3, repeat // 4))
        rows.append(
            Row(
                f"heatmap via st.altair_chart (validates every call), {n}",
                t_full * 1e3,
                "ms",
                t_base * 1e3,
                "1-layer chart, serialised",
            )
        )
        parts = _builder("ui.charts", "heatmap_parts")
        if parts is not None:
            drawn = _drawn_heatmap(parts, snap, conv)
            t_drawn = median_time(drawn, max(3, repeat // 4))
            target = ("< 50 ms", t_drawn < 0.05) if n == 500 else ("", None)
            rows.append(
                Row(
                    f"heatmap as the page draws it (cached spec + data as Arrow), {n}",
                    t_drawn * 1e3,
                    "ms",
                    t_base * 1e3,
                    "1-layer chart, serialised",
                    *target,
                )
            )
    return rows


def _drawn_heatmap(parts: Callable[..., Any], snap: pd.DataFrame, conv: Any) -> Callable[[], object]:
    """What pages/1_Heatmap.py does each refresh: build data + cached spec, marshal both
    the way ``st.vega_lite_chart`` does (data to Arrow, spec to JSON)."""
    import json

    from streamlit.elements.vega_charts import _marshall_chart_data
    from streamlit.proto.VegaLiteChart_pb2 import VegaLiteChart

    def run() -> object:
        data, spec = parts(snap, conv, columns=8)
        proto = VegaLiteChart()
        _marshall_chart_data(proto, spec, data)
        return json.dumps(spec)

    return run


def _chart_serialiser() -> Callable[[Any], object]:
    """What ``st.altair_chart`` does to a chart (spec with validation, data as Arrow), else ``to_dict``."""
    try:
        from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec

        return _convert_altair_to_vega_lite_spec
    except ImportError:
        print("  note: Streamlit's chart converter not found; timing chart.to_dict() instead")
        return lambda chart: chart.to_dict()


# --- AppTest ---------------------------------------------------------------------------------


@contextlib.contextmanager
def _env(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def apptest_rows(fh: Firehose, n: int, runs: int) -> list[Row]:
    try:
        import streamlit as st
        from streamlit.testing.v1 import AppTest
    except ImportError as exc:
        print(f"  note: AppTest unavailable ({exc}); skipped")
        return []
    scripts = [ROOT / "streamlit_app.py", *sorted((ROOT / "pages").glob("*.py"))]
    scripts = [p for p in scripts if p.exists()]
    if not scripts:
        print("  note: no streamlit_app.py or pages/*.py; AppTest skipped")
        return []
    # Streamlit warns about every call outside a script run ("bare mode"); keep the output readable.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").disabled = True
    base = _apptest_median(AppTest.from_string("import streamlit as st\nst.write('hello')"), runs)
    codes = fh.codes[:n]
    env = {
        "ALLTICK_TOKEN": BENCH_TOKEN,
        "ALLTICK_PLAN": "professional",
        "ALLTICK_WS_BASE": fh.ws_base,
        "ALLTICK_HTTP_BASE": fh.http_base,
        "QUOTES_SYMBOLS": ",".join(codes),
    }
    rows: list[Row] = []
    with _env(env):
        try:
            # The first run starts the feed (cache_resource); wait for it to be seeded and live.
            first = AppTest.from_file(str(scripts[0]), default_timeout=120)
            t0 = time.perf_counter()
            first.run()
            cold = time.perf_counter() - t0
            if first.exception:
                print(f"  {scripts[0].name}: exception on first run: {first.exception[0].message}")
            ready = fh.wait_subscribed(n, timeout=60)
            time.sleep(1.0)
            print(f"  first AppTest run (starts the feed): {cold * 1e3:,.0f} ms; feed subscribed: {ready}")
            for path in scripts:
                at = AppTest.from_file(str(path), default_timeout=60)
                at.run()  # session warm-up: widgets' first render, session watch
                if at.exception:
                    print(f"  {path.name}: exception: {at.exception[0].message}")
                    continue
                t = _apptest_median(at, runs)
                name = str(path.relative_to(ROOT))
                rows.append(
                    Row(
                        f"AppTest {name}, {n}",
                        t * 1e3,
                        "ms",
                        base * 1e3,
                        "1-line script",
                        "< 300 ms",
                        t < 0.3,
                    )
                )
        finally:
            st.cache_resource.clear()  # stops the feed (on_release)
    return rows


def _apptest_median(at: Any, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 500, 1000])
    ap.add_argument("--repeat", type=int, default=40, help="calls per timed figure (median)")
    ap.add_argument("--apptest-symbols", type=int, default=500)
    ap.add_argument("--apptest-runs", type=int, default=5, help="warm runs per page (median)")
    ap.add_argument("--no-apptest", action="store_true")
    args = ap.parse_args(argv)
    total = max([*args.sizes, 0 if args.no_apptest else args.apptest_symbols])
    rows: list[Row] = []
    with Firehose(symbols=total) as fh:
        for n in args.sizes:
            print(f"  {n} symbols…", flush=True)
            rows += size_rows(fh, n, args.repeat)
        if not args.no_apptest:
            print(f"  AppTest at {args.apptest_symbols} symbols…", flush=True)
            rows += apptest_rows(fh, args.apptest_symbols, args.apptest_runs)
    print_table(rows, "Snapshot, UI builders and page runs (medians)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
