"""The Quotes page's shared board: what no viewer changes, built once for every session.

Every open tab reruns its live fragment each second. What the page shows from the feed
(the rows, the grid's display columns with their sparklines, the market cards) depends
only on the snapshot, the watchlist and the language, so it is built once per snapshot
version and handed to every session that asks for the same list in the same language;
what is the viewer's own (the market filter, the colour convention, the layout) is a
cheap step on top (:meth:`Board.only`, the column config).

Versions change several times a second under load while tabs rerun at their own phase,
so a board younger than ``coalesce`` seconds is served even when a newer version exists:
a viewer sees prices at most that much older than the feed's, and a server with N tabs
builds at most ``1/coalesce`` boards a second instead of N. The window is also at most
half the viewer's refresh period: a board from this beat is shared, one from the last
beat is not (at a 0.5 s refresh a 0.5 s window served the previous beat's board whenever
the rerun came a few ms early, and the page showed each price one period late).

Thread ownership: the board cache is shared by Streamlit's script threads; one lock
guards its dict, and a board, once built, is immutable.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from feed.model import FeedStatus
from ui.format import prices_decimals
from ui.i18n import Translator
from ui.tables import (
    SPARK_POINTS,
    complete_snapshot,
    grid_frame,
    mark_auth_failed,
    market_summary,
    quotes_table,
)

__all__ = ["BOARDS", "COALESCE", "Board", "Boards", "build_board"]

COALESCE = 0.5  # seconds a board is served to every session before a newer version replaces it
MAX_BOARDS = 32  # distinct (watchlist, language) pairs kept


@dataclass(frozen=True, slots=True)
class Board:
    """One build: the feed rows, the grid's display frame and the market cards, all aligned."""

    version: int
    made_at: float
    snapshot: pd.DataFrame  # feed columns (SNAPSHOT_COLUMNS), one row per code, in order
    grid: pd.DataFrame  # display columns (QUOTE_COLUMNS), text prices, sparklines
    summary: pd.DataFrame  # SUMMARY_COLUMNS, one row per market

    def only(self, market: str | None) -> Board:
        """The rows of one market (None or "All": every row); a cheap view, built per viewer."""
        if market in (None, "All"):
            return self
        mask = (self.snapshot["market"] == market).to_numpy()
        return Board(
            self.version,
            self.made_at,
            self.snapshot[mask].reset_index(drop=True),
            self.grid[mask].reset_index(drop=True),
            self.summary[self.summary["market"] == market].reset_index(drop=True),
        )


def build_board(
    manager: Any, codes: tuple[str, ...], tr: Translator, status: FeedStatus | None, version: int = 0
) -> Board:
    """Everything the Quotes page draws for ``codes`` in ``tr``'s language, from one read."""
    codes_list = list(codes)
    snap = mark_auth_failed(complete_snapshot(manager.snapshot(codes_list), codes_list), status)
    sparks = manager.sparklines(codes_list, points=SPARK_POINTS)
    table = quotes_table(snap, sparks, tr=tr)
    last = snap["last"].to_numpy(dtype=float)
    prev = snap["prev_close"].to_numpy(dtype=float)
    decimals = prices_decimals(snap["market"].tolist(), np.where(np.isnan(last), prev, last))
    return Board(version, time.monotonic(), snap, grid_frame(table, decimals), market_summary(snap, tr))


class Boards:
    """The process-wide cache: ``get`` returns a shared board, building it at most once per turn."""

    def __init__(self, coalesce: float = COALESCE, max_boards: int = MAX_BOARDS) -> None:
        self.coalesce = coalesce
        self._max = max_boards
        self._boards: OrderedDict[tuple, Board] = OrderedDict()
        self._lock = threading.Lock()  # held for the build too: a second session waits, then shares
        self.builds = 0

    def get(
        self,
        manager: Any,
        codes: tuple[str, ...],
        tr: Translator,
        status: FeedStatus | None,
        period: float | None = None,
    ) -> Board:
        """The shared board for ``codes`` in ``tr``'s language, for a viewer who redraws every
        ``period`` seconds (None: paused or unknown, the plain coalescing window)."""
        window = min(self.coalesce, period / 2) if period else self.coalesce
        key = (id(manager), codes, tr.lang, bool(status is not None and status.auth_error))
        version = manager.snapshot_state().version
        with self._lock:
            held = self._boards.get(key)
            now = time.monotonic()
            age = now - held.made_at if held is not None else None
            # Young enough, or the feed has nothing newer; ages and phases move once a second.
            if (
                held is not None
                and age is not None
                and (age < window or held.version == version)
                and age < 1.0
            ):
                self._boards.move_to_end(key)
                return held
            board = build_board(manager, codes, tr, status, version)
            self.builds += 1
            self._boards[key] = board
            self._boards.move_to_end(key)
            while len(self._boards) > self._max:
                self._boards.popitem(last=False)
            return board


BOARDS = Boards()
