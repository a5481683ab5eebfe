"""A restart's minute path from what the store holds: pure, no state.

The store answers a seed with its bars for the code's day (complete ones, K-line fills,
and minutes rebuilt from ticks), each with the run that wrote it. Between two bars of
one run with no lost link in between, the code was streamed and did not trade: those
minutes come back as flat ``QUIET`` bars, so the path stays continuous. Between runs
(the app was down) nothing is claimed: the minutes are left out and the minute series
shows them as a gap until the K-line fills them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from feed.minutes import QUIET

__all__ = ["path_of", "seed_points"]

MAX_QUIET = 1440  # a longer hole inside one run is not filled (a day without trades is no path)


def seed_points(rows: Sequence[tuple], breaks: Iterable[tuple[int, int]] = ()) -> tuple[tuple, ...]:
    """``rows``: ``(minute, o, h, l, c, v, rank, run)`` of one code, by minute.

    ``breaks``: ``(minute, run)`` where the code's link was lost. Returns
    ``(minute, o, h, l, c, v, rank)`` with quiet minutes filled in.
    """
    lost: dict[int, list[int]] = {}
    for minute, run in breaks:
        lost.setdefault(run, []).append(minute)
    out: list[tuple] = []
    prev: tuple | None = None
    for row in rows:
        minute, o, h, lo, c, v, rank, run = row
        same_run = prev is not None and 1 < minute - prev[0] <= MAX_QUIET and run == prev[7]
        if same_run and not any(prev[0] <= m < minute for m in lost.get(run, ())):
            pc = prev[4]
            out.extend((m, pc, pc, pc, pc, 0.0, QUIET) for m in range(prev[0] + 1, minute))
        out.append((minute, o, h, lo, c, v, rank))
        prev = row
    return tuple(out)


def path_of(frame: Any, lost: Sequence[tuple], code: str, since_ms: int = 0) -> tuple[tuple, ...]:
    """:func:`seed_points` of one code from a ``queries.bars`` frame and ``queries.breaks`` rows."""
    rows = frame[(frame["symbol"] == code) & (frame["minute"].astype("int64") * 60_000 >= since_ms)]
    cols = ("minute", "open", "high", "low", "close", "volume", "rank", "run")
    items = list(zip(*(rows[c].tolist() for c in cols), strict=True))
    return seed_points(items, [(m, r) for c, m, r in lost if c == code])
