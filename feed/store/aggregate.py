"""Completed 1-minute bars from the ticks the store receives: the store thread's own state.

Each flush, Arrow groups the batch by code and minute (``schema.minute_groups``); this folds those
groups into each code's open minute and says which bars are now complete: a minute is
complete when a later minute's trade of the same code arrives (the book hands trades
over in sequence order per code), or when the clock is ``grace_ms`` past its end. A
trade that arrives after its minute was closed by the clock reopens it, and the bar is
written again.

A minute the store did not watch from its start (a code's first minute in a run, the
first after a lost link) is *partial*: some of its trades were missed, so it is never
written as a bar. Its ticks are stored all the same, and readers rebuild it from them
marked incomplete, until a K-line supplies the whole minute.

Thread ownership: the store thread. :meth:`plan` does not change anything; the plan's
state replaces the old one only once its batch is committed (:meth:`commit`), so a
batch that failed on a full disk is planned again from the same state.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

__all__ = ["BarPlan", "MinuteAggregator", "Open"]

GRACE_MS = 5_000


class Open(NamedTuple):
    """A code's newest minute: its bar so far and whether it was written or is partial."""

    minute: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    trades: int
    written: bool  # closed by the clock and written; a late trade writes it again
    partial: bool  # some of its trades happened before the store watched this code


class BarPlan(NamedTuple):
    bars: list[tuple]  # (code, minute, open, high, low, close, volume, trades)
    replace: list[tuple[str, int]]  # (code, minute) of bars written before, to write again
    state: dict[str, Open]
    mended: frozenset[str]  # broken codes whose first minute after the break this plan opened


def _bar(code: str, b: Open) -> tuple:
    return (code, b.minute, b.open, b.high, b.low, b.close, b.volume, b.trades)


class MinuteAggregator:
    def __init__(self, grace_ms: int = GRACE_MS) -> None:
        self.grace_ms = grace_ms
        self.state: dict[str, Open] = {}
        self._broken: set[str] = set()  # codes whose link was lost: their next minute is partial

    def plan(self, groups: Iterable[tuple], now_ms: int) -> BarPlan:
        """``groups``: ``(code, minute, o, h, l, c, v, n)`` sorted by code and minute."""
        state = dict(self.state)
        bars: list[tuple] = []
        replace: list[tuple[str, int]] = []
        mended: set[str] = set()
        for code, minute, o, h, lo, c, v, n in groups:
            cur = state.get(code)
            if cur is not None and minute == cur.minute:
                if cur.written and not cur.partial:
                    replace.append((code, minute))
                state[code] = Open(
                    minute, cur.open, max(cur.high, h), min(cur.low, lo), c, cur.volume + v, cur.trades + n,
                    False, cur.partial,
                )  # fmt: skip
                continue
            if cur is not None and minute < cur.minute:
                continue  # cannot happen: the book only accepts trades moving forward
            if cur is not None and not cur.written and not cur.partial:
                bars.append(_bar(code, cur))
            partial = cur is None or (code in self._broken and code not in mended)
            if code in self._broken:
                mended.add(code)
            state[code] = Open(minute, o, h, lo, c, v, n, False, partial)
        self._close_by_clock(state, now_ms, bars)
        return BarPlan(bars, replace, state, frozenset(mended))

    def _close_by_clock(self, state: dict[str, Open], now_ms: int, bars: list[tuple]) -> None:
        due = now_ms - self.grace_ms
        for code, cur in list(state.items()):
            if not cur.written and (cur.minute + 1) * 60_000 <= due:
                if not cur.partial:
                    bars.append(_bar(code, cur))
                state[code] = cur._replace(written=True)

    def due(self, now_ms: int) -> bool:
        """Some open minute has ended (plus the grace) and waits to be written."""
        cutoff = now_ms - self.grace_ms
        return any(not b.written and (b.minute + 1) * 60_000 <= cutoff for b in self.state.values())

    def commit(self, plan: BarPlan) -> None:
        self.state = plan.state
        self._broken.difference_update(plan.mended)

    def broken(self, codes: Iterable[str], at_ms: int) -> None:
        """The link of these codes was lost at ``at_ms``: the minute under way and the next are partial."""
        for code in codes:
            self._broken.add(code)
            cur = self.state.get(code)
            if cur is not None and not cur.written and at_ms < (cur.minute + 1) * 60_000:
                self.state[code] = cur._replace(partial=True)
