"""ui.board: one build per snapshot version shared by every session; the viewer's filter on top."""

from __future__ import annotations

import time

import pandas as pd

from tests.test_ui_support import snapshot_frame
from ui.board import Boards
from ui.i18n import translator


class FakeFeed:
    """The read API the board uses, counting reads (a build reads the snapshot once)."""

    def __init__(self) -> None:
        self.version = 1
        self.reads = 0
        self.frame = snapshot_frame()

    def snapshot_state(self) -> object:
        return type("State", (), {"version": self.version})()

    def snapshot(self, codes: list[str]) -> pd.DataFrame:
        self.reads += 1
        return self.frame.set_index("symbol", drop=False).loc[codes].reset_index(drop=True)

    def sparklines(self, codes: list[str], points: int) -> dict[str, list[float]]:
        return {c: [1.0, 2.0, 3.0] for c in codes}


CODES = tuple(snapshot_frame()["symbol"])
EN, ZH = translator("en"), translator("zh")


def test_sessions_share_one_build_per_version() -> None:
    feed, boards = FakeFeed(), Boards(coalesce=0.5)
    first = boards.get(feed, CODES, EN, None)
    for _ in range(5):  # five more tabs rerun at the same version
        assert boards.get(feed, CODES, EN, None) is first
    assert feed.reads == 1 and boards.builds == 1
    feed.version = 2  # a newer version, but the board is younger than the coalescing window
    assert boards.get(feed, CODES, EN, None) is first


def test_a_new_version_is_built_once_the_board_has_aged() -> None:
    feed, boards = FakeFeed(), Boards(coalesce=0.05)
    first = boards.get(feed, CODES, EN, None)
    feed.version = 2
    time.sleep(0.06)
    second = boards.get(feed, CODES, EN, None)
    assert second is not first and second.version == 2 and boards.builds == 2


def test_a_viewer_never_gets_the_last_beats_board_when_a_newer_version_exists() -> None:
    """At a 0.5 s refresh, a board built at the previous beat (just under 0.5 s old) is stale."""
    feed, boards = FakeFeed(), Boards(coalesce=0.5)
    first = boards.get(feed, CODES, EN, None, 0.5)
    object.__setattr__(first, "made_at", first.made_at - 0.45)  # the previous beat, rerun a bit early
    feed.version = 2
    assert boards.get(feed, CODES, EN, None) is first  # the plain window still shares it
    second = boards.get(feed, CODES, EN, None, 0.5)
    assert second is not first and second.version == 2
    assert boards.get(feed, CODES, EN, None, 0.5) is second  # same beat: shared


def test_an_unchanged_feed_is_rebuilt_once_a_second_for_ages_and_phases() -> None:
    feed, boards = FakeFeed(), Boards(coalesce=0.05)
    first = boards.get(feed, CODES, EN, None)
    first_made = first.made_at
    object.__setattr__(first, "made_at", first_made - 1.0)  # as if a second had passed
    assert boards.get(feed, CODES, EN, None) is not first


def test_language_and_watchlist_get_their_own_boards() -> None:
    feed, boards = FakeFeed(), Boards()
    en = boards.get(feed, CODES, EN, None)
    zh = boards.get(feed, CODES, ZH, None)
    few = boards.get(feed, CODES[:2], EN, None)
    assert boards.builds == 3
    assert en.grid.loc[0, "Status"] != zh.grid.loc[0, "Status"]  # translated once, per language
    assert list(few.grid["Symbol"]) == list(CODES[:2])


def test_only_keeps_one_markets_rows_cards_and_grid_aligned() -> None:
    board = Boards().get(FakeFeed(), CODES, EN, None)
    hk = board.only("HK")
    assert list(hk.snapshot["symbol"]) == ["700.HK", "1810.HK"]
    assert list(hk.grid["Symbol"]) == ["700.HK", "1810.HK"]
    assert list(hk.summary["market"]) == ["HK"]
    assert board.only("All") is board and board.only(None) is board
    assert len(board.grid) == len(CODES)  # the shared board itself is untouched
