"""Command line: ``python -m feed snapshot|watch``.

    python -m feed snapshot --symbols AAPL.US,700.HK --wait 5 --format json
    python -m feed watch --symbols AAPL.US,700.HK

Without ALLTICK_TOKEN both run against the built-in simulator (demo mode).

Thread ownership: runs on the main thread; the feed's own threads are the manager's.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time

import pandas as pd

from feed.config import FeedConfig
from feed.manager import FeedManager
from feed.symbols import parse_watchlist

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m feed", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    snap = sub.add_parser("snapshot", help="print the normalized snapshot once")
    snap.add_argument("--symbols", help="comma-separated; default QUOTES_SYMBOLS or a US + HK list")
    snap.add_argument("--wait", type=float, default=5.0, help="seconds to wait for prices (default 5)")
    snap.add_argument("--format", choices=("json", "csv", "table"), default="table")
    watch = sub.add_parser("watch", help="a live table in the terminal (Ctrl-C to quit)")
    watch.add_argument("--symbols")
    watch.add_argument("--interval", type=float, default=1.0)
    watch.add_argument("--count", type=int, default=0, help="stop after N refreshes (0: run until Ctrl-C)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log feed activity to stderr")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr)

    try:
        config = FeedConfig.from_env()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    symbols = list(config.default_symbols)
    if args.symbols:
        parsed, errors = parse_watchlist(args.symbols)
        for e in errors:
            print(f"error: {e}", file=sys.stderr)
        if errors and not parsed:
            return 2
        symbols = [s.code for s in parsed]

    with FeedManager(config) as manager:
        manager.subscribe(symbols)
        if config.demo:
            print("demo mode: simulated quotes (set ALLTICK_TOKEN for real data)", file=sys.stderr)
        if args.command == "snapshot":
            ready = manager.wait_ready(args.wait)
            df = manager.snapshot(symbols)
            if not ready:
                missing = df.loc[df["last"].isna() | df["prev_close"].isna(), "symbol"].tolist()
                print(f"warning: no complete data yet for {', '.join(missing)}", file=sys.stderr)
            print(render(df, args.format))
            return 0
        manager.wait_ready(5.0)
        shown = 0
        try:
            while True:
                df = manager.snapshot(symbols)
                stamp = time.strftime("%H:%M:%S")
                body = render(df, "table")
                if sys.stdout.isatty():
                    sys.stdout.write("\x1b[2J\x1b[H")
                sys.stdout.write(f"{stamp}  {len(df)} symbols  (Ctrl-C to quit)\n{body}\n\n")
                sys.stdout.flush()
                shown += 1
                if args.count and shown >= args.count:
                    return 0
                time.sleep(args.interval)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
