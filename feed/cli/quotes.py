"""``python -m feed snapshot|watch``: the normalized table once, or live in the terminal.

    python -m feed snapshot --symbols AAPL.US,700.HK --wait 5 --format json
    python -m feed watch --symbols AAPL.US,700.HK

Without ALLTICK_TOKEN both run against the built-in simulator (demo mode).

Thread ownership: runs on the main thread; the feed's own threads are the manager's.
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import pandas as pd

from feed.config import FeedConfig
from feed.manager import FeedManager
from feed.model import Readiness
from feed.symbols import parse_watchlist

DEMO_LINE = "demo mode: simulated quotes (set ALLTICK_TOKEN for real data)"

# Rounding for output: prices to 6 places (AllTick's precision), percent to 4.
_ROUND = {"last": 6, "prev_close": 6, "change": 6, "pct_change": 4, "age_s": 3}


def _frame_for_output(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col, places in _ROUND.items():
        out[col] = out[col].round(places)
    out["ts"] = out["ts"].map(lambda t: t.isoformat() if isinstance(t, pd.Timestamp) else None)
    out["prev_close_date"] = out["prev_close_date"].map(lambda d: d.isoformat() if d else None)
    return out


def render(df: pd.DataFrame, fmt: str) -> str:
    """The snapshot as JSON (array of row objects), CSV, or an aligned table."""
    out = _frame_for_output(df)
    if fmt == "json":
        return out.to_json(orient="records", indent=2, force_ascii=False)
    if fmt == "csv":
        return out.to_csv(index=False).rstrip("\n")
    return _table(out)


def _table(df: pd.DataFrame) -> str:
    cols = ["symbol", "market", "name", "last", "prev_close", "change", "pct_change", "freshness"]
    rows = [["SYMBOL", "MKT", "NAME", "LAST", "PREV CLOSE", "CHANGE", "% CHG", "STATE"]]
    for r in df[cols].itertuples(index=False):
        rows.append(
            [
                r.symbol,
                r.market,
                (r.name or "")[:22],
                _num(r.last),
                _num(r.prev_close),
                _num(r.change, signed=True),
                "" if _nan(r.pct_change) else f"{r.pct_change:+.2f}%",
                r.freshness,
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    right = {3, 4, 5, 6}
    lines = []
    for row in rows:
        cells = [
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _nan(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _num(v: float, signed: bool = False) -> str:
    if _nan(v):
        return "—"
    text = f"{v:+,.4f}" if signed else f"{v:,.4f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def add_parser(sub: argparse._SubParsersAction) -> list[str]:
    snap = sub.add_parser("snapshot", help="print the normalized snapshot once")
    snap.add_argument("--symbols", help="comma-separated; default QUOTES_SYMBOLS or a US + HK list")
    snap.add_argument("--wait", type=float, default=5.0, help="seconds to wait for complete data (default 5)")
    snap.add_argument("--format", choices=("json", "csv", "table"), default="table")
    watch = sub.add_parser("watch", help="a live table in the terminal (Ctrl-C to quit)")
    watch.add_argument("--symbols")
    watch.add_argument("--interval", type=float, default=1.0)
    watch.add_argument("--count", type=int, default=0, help="stop after N refreshes (0: run until Ctrl-C)")
    return ["snapshot", "watch"]


def symbols_arg(text: str | None, config: FeedConfig) -> list[str] | None:
    """The ``--symbols`` list, or None after printing why it is unusable (exit 2)."""
    if text is None:
        return list(config.default_symbols)
    parsed, errors = parse_watchlist(text)
    for e in errors:
        print(f"error: {e}", file=sys.stderr)
    if not parsed and not errors:
        print(
            "error: --symbols is empty: give at least one symbol, e.g. --symbols AAPL.US,700.HK",
            file=sys.stderr,
        )
    return None if errors or not parsed else [s.code for s in parsed]


def problems(readiness: Readiness) -> list[str]:
    """One line per cause, naming its symbols: what the exit code 1 explains."""
    by_cause: dict[str, list[str]] = {}
    for code, why in readiness.missing.items():
        by_cause.setdefault(why, []).append(code)
    return [f"{why}: {', '.join(codes)}" for why, codes in by_cause.items()]


def run(args: argparse.Namespace, config: FeedConfig) -> int:
    from feed.cli import EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE

    symbols = symbols_arg(args.symbols, config)
    if symbols is None:
        return EXIT_USAGE
    manager = FeedManager(config)
    try:
        manager.start()
        manager.subscribe(symbols)
        if config.demo:
            print(DEMO_LINE, file=sys.stderr)
        if args.command == "snapshot":
            ready = manager.wait_ready(args.wait)
            print(render(manager.snapshot(symbols), args.format))
            for line in problems(ready):
                print(f"incomplete: {line}", file=sys.stderr)
            return EXIT_OK if ready else EXIT_INCOMPLETE
        return _watch(manager, symbols, args, config)
    finally:
        manager.stop()


def _watch(manager: FeedManager, symbols: list[str], args: argparse.Namespace, config: FeedConfig) -> int:
    manager.wait_ready(5.0)
    shown = 0
    while True:
        df = manager.snapshot(symbols)
        stamp = time.strftime("%H:%M:%S")
        head = f"{stamp}  {len(df)} symbol{'s' if len(df) != 1 else ''}  (Ctrl-C to quit)"
        if config.demo:
            head += f"\n{DEMO_LINE}"
        if sys.stdout.isatty():
            sys.stdout.write("\x1b[2J\x1b[H")
        sys.stdout.write(f"{head}\n{render(df, 'table')}\n\n")
        sys.stdout.flush()
        shown += 1
        if args.count and shown >= args.count:
            return 0
        time.sleep(args.interval)
