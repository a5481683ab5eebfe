"""``python -m feed premium``: the cross-listed premium table once (see :mod:`feed.premium`).

    python -m feed premium --pairs BABA.US:9988.HK,601318.SH:2318.HK --wait 10 --format json

JSON rows carry at least ``symbol`` (the US or A leg), ``peer`` (the HK leg), ``kind``,
``ratio``, ``fx``, ``premium_pct``, ``implied_peer_price`` and each leg's price and time.
Exit 1 (with a line naming them) when a leg or rate has no price yet.

Thread ownership: runs on the main thread; the feed's own threads are the manager's.
"""

from __future__ import annotations

import argparse
import math
import sys

import orjson
import pandas as pd

from feed.config import FeedConfig
from feed.manager import FeedManager

__all__ = ["add_parser", "render", "run"]

_TABLE = ["symbol", "peer", "kind", "ratio", "symbol_price", "peer_price", "fx", "premium_pct"]


def add_parser(sub: argparse._SubParsersAction) -> list[str]:
    p = sub.add_parser(
        "premium", help="US ADRs and A shares against their Hong Kong lines, with FX and ratios"
    )
    p.add_argument("--pairs", help="comma-separated US:HK or A:H pairs, or one leg each (default: all)")
    p.add_argument(
        "--wait", type=float, default=10.0, help="seconds to wait for every leg and rate (default 10)"
    )
    p.add_argument("--format", choices=("json", "csv", "table"), default="table")
    return ["premium"]


def render(table: pd.DataFrame, fmt: str) -> str:
    out = table.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype) or out[col].dtype == object:
            out[col] = out[col].map(lambda v: v.isoformat() if isinstance(v, pd.Timestamp) else v)
    if fmt == "json":  # orjson: every float as Python's shortest exact repr, NaN as null
        return orjson.dumps(out.to_dict("records"), option=orjson.OPT_INDENT_2).decode()
    if fmt == "csv":
        return out.to_csv(index=False).rstrip("\n")
    rows = [["SYMBOL", "PEER", "KIND", "RATIO", "PRICE", "PEER PRICE", "FX", "PREMIUM"]]
    for r in table[_TABLE].itertuples(index=False):
        premium = "" if math.isnan(r.premium_pct) else f"{r.premium_pct:+.2f}%"
        prices = [_num(r.symbol_price), _num(r.peer_price), _num(r.fx, 5)]
        rows.append([r.symbol, r.peer, r.kind, f"{r.ratio:g}", *prices, premium])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows)


def _num(v: float, places: int = 4) -> str:
    return "—" if v is None or math.isnan(v) else f"{v:,.{places}f}".rstrip("0").rstrip(".")


def run(args: argparse.Namespace, config: FeedConfig) -> int:
    from feed.cli import EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE

    manager = FeedManager(config)
    try:
        _, errors = manager.premium_pairs()
        for e in errors:
            print(f"warning: {e}", file=sys.stderr)
        try:
            manager.premium_codes(args.pairs)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        manager.start()
        table = manager.premiums(args.pairs, wait=args.wait)
        print(render(table, args.format))
        snap = manager.snapshot(manager.premium_codes(args.pairs))
        unpriced = snap.loc[snap["last"].isna(), "symbol"].tolist()
        if unpriced:
            print(f"incomplete: no price yet: {', '.join(unpriced)}", file=sys.stderr)
        return EXIT_INCOMPLETE if unpriced else EXIT_OK
    finally:
        manager.stop()
