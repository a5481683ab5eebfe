"""What a page shows: the live feed, or, with live updates off, what was on screen.

Pausing must freeze the numbers, not just the timer: any rerun (a click, a page
switch) would otherwise draw newer prices under a "paused" switch, and the CSV
would hold prices the grid never showed. A :class:`View` wraps the manager; while
paused it answers from a store kept in session state, filled the first time each
code is read after pausing and dropped when updates resume. Plain Python: the store
is handed in, so tests drive it without Streamlit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, MutableMapping
from typing import Any

import pandas as pd

from feed.model import FeedStatus
from feed.view import history_frame
from ui.tables import complete_snapshot, freeze, mark_auth_failed

__all__ = ["Shown", "View"]


class Shown:
    """The rows a page last drew, for an export of exactly what is on screen.

    A plain holder (not session state) so the download button's deferred callable,
    which runs outside the script, can read it.
    """

    def __init__(self) -> None:
        self.frame: pd.DataFrame | None = None
        self.at: dt.datetime | None = None

    def set(self, frame: pd.DataFrame) -> None:
        self.frame, self.at = frame, dt.datetime.now(dt.UTC)


class View:
    """Snapshot, sparklines, history and status as the page should show them now."""

    def __init__(self, manager: Any, live: bool, store: MutableMapping[str, Any]) -> None:
        self._manager = manager
        self.live = live
        self._store = store
        if live:
            store.clear()
        else:
            store.setdefault("at", dt.datetime.now(dt.UTC))
            store.setdefault("rows", {})
            store.setdefault("sparks", {})
            store.setdefault("history", {})

    @property
    def paused_at(self) -> dt.datetime | None:
        return None if self.live else self._store["at"]

    def status(self) -> FeedStatus:
        return self._manager.status()

    def _rows(self, codes: list[str]) -> pd.DataFrame:
        """The feed's rows of ``codes``; one the feed does not watch yet reads "waiting"."""
        try:
            return complete_snapshot(self._manager.snapshot(codes), codes)
        except KeyError:  # a code added a moment ago, not in the feed's table yet
            full = self._manager.snapshot()
            return complete_snapshot(full[full["symbol"].isin(codes)], codes)

    def snapshot(self, codes: Iterable[str], status: FeedStatus | None = None) -> pd.DataFrame:
        """Rows for exactly ``codes`` in order (see :func:`complete_snapshot`), frozen if paused."""
        codes = list(codes)
        if self.live:
            return mark_auth_failed(self._rows(codes), status)
        rows: dict[str, pd.DataFrame] = self._store["rows"]
        missing = [c for c in codes if c not in rows]
        if missing:
            fresh = mark_auth_failed(self._rows(missing), status)
            for code, row in zip(missing, freeze(fresh).to_dict("records"), strict=True):
                rows[code] = row
        if not codes:
            return complete_snapshot(self._manager.snapshot([]), [])
        frame = pd.DataFrame([rows[c] for c in codes])
        frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
        return frame

    def sparklines(self, codes: Iterable[str], points: int) -> dict[str, list[float]]:
        codes = list(codes)
        if self.live:
            return self._manager.sparklines(codes, points=points)
        sparks: dict[str, list[float]] = self._store["sparks"]
        missing = [c for c in codes if c not in sparks]
        if missing:
            sparks.update(self._manager.sparklines(missing, points=points))
        return {c: sparks.get(c, []) for c in codes}

    def history(self, code: str) -> pd.DataFrame:
        if self.live:
            try:
                return self._manager.history(code)
            except KeyError:  # not in the feed's watch yet: no path to draw
                return history_frame([])
        hist: dict[str, pd.DataFrame] = self._store["history"]
        if code not in hist:
            hist[code] = self._manager.history(code)
        return hist[code]
