"""``python -m feed export``: stored ticks or minute bars of some symbols and days, to one file.

    python -m feed export --symbols AAPL.US,700.HK --from 2026-03-02 --to 2026-03-06 \\
        --kind 1m --format parquet --out week.parquet
    python -m feed export --out today.csv          # every stored symbol, today, ticks

Reads the tick store under ``QUOTES_DATA_DIR`` (default ``./data``) without starting a
feed; while the app writes it, the app lends it for the moment of the read. The rows are
exactly what ``FeedManager.history(symbol, start, end, kind)`` returns for each symbol's
days (market time), with a ``symbol`` column; the Quotes page's download buttons write
the same. Exit codes: 0 rows written, 1 nothing to write (nothing stored, the store off
or busy), 2 bad usage (a bad symbol or date, ``--from`` after ``--to``).

Thread ownership: runs on the main thread; it starts no feed threads.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

from feed.config import FeedConfig
from feed.export import FORMATS, write_file
from feed.history import DiskSource, export_frame
from feed.store.failures import StoreError
from feed.symbols import parse_watchlist


def add_parser(sub: argparse._SubParsersAction) -> list[str]:
    p = sub.add_parser("export", help="write stored ticks or minute bars to a CSV or Parquet file")
    p.add_argument("--symbols", help="comma-separated; default every symbol stored over the days")
    p.add_argument("--from", dest="first", metavar="DATE", help="first day, YYYY-MM-DD (default today)")
    p.add_argument("--to", dest="last", metavar="DATE", help="last day, YYYY-MM-DD (default today)")
    p.add_argument(
        "--kind", choices=("ticks", "1m"), default="ticks", help="ticks (default) or 1-minute bars"
    )
    p.add_argument(
        "--format", choices=FORMATS, help="csv or parquet (default: from --out's suffix, else csv)"
    )
    p.add_argument("--out", required=True, metavar="PATH", help="the file to write")
    return ["export"]


def _date(text: str | None, flag: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{flag} {text!r} is not a date: use YYYY-MM-DD, e.g. 2026-03-05") from None


def _usage(args: argparse.Namespace) -> tuple[list[str] | None, dt.date | None, dt.date | None, str]:
    """Symbols, days and format from the arguments; ValueError naming what is wrong."""
    codes = None
    if args.symbols is not None:
        parsed, errors = parse_watchlist(args.symbols)
        if errors:
            raise ValueError("; ".join(str(e) for e in errors))
        if not parsed:
            raise ValueError("--symbols is empty: give at least one symbol, or leave it out for all")
        codes = [s.code for s in parsed]
    first, last = _date(args.first, "--from"), _date(args.last, "--to")
    if first and last and first > last:
        raise ValueError(f"--from {first} is after --to {last}")
    fmt = args.format or ("parquet" if Path(args.out).suffix.lower() in (".parquet", ".pq") else "csv")
    return codes, first, last, fmt


def run(args: argparse.Namespace, config: FeedConfig) -> int:
    from feed.cli import EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE

    try:
        codes, first, last, fmt = _usage(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if config.data_dir is None:
        print("nothing to export: the tick store is off (QUOTES_DATA_DIR=off)", file=sys.stderr)
        return EXIT_INCOMPLETE
    if not (Path(config.data_dir) / "ticks.duckdb").exists():
        print(f"nothing to export: no tick store in {Path(config.data_dir).absolute()}", file=sys.stderr)
        return EXIT_INCOMPLETE
    try:
        frame = export_frame(DiskSource(config.data_dir, time.time), codes, first, last, args.kind)
    except StoreError as exc:
        print(f"incomplete: {exc}", file=sys.stderr)
        return EXIT_INCOMPLETE
    if frame.empty:
        which = ", ".join(codes) if codes else "any symbol"
        print(f"nothing to export: no {args.kind} stored for {which} on those days", file=sys.stderr)
        return EXIT_INCOMPLETE
    path = write_file(frame, fmt, args.out)
    n = frame["symbol"].nunique()
    print(f"wrote {len(frame):,} rows ({args.kind}, {n} symbol{'s' if n != 1 else ''}) to {path}")
    return EXIT_OK
