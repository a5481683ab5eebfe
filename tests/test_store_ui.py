"""The tick store on the pages: Feed health figures, the Quotes page export, the banners' words."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from feed.export import to_bytes, write_file
from feed.store.status import StoreStatus
from tests.support import run_until
from ui.i18n import translator
from ui.store import _bytes, export_name, size_text, store_figures, store_notices

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def demo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("ALLTICK_TOKEN", raising=False)
    monkeypatch.chdir(ROOT)
    yield
    st.cache_resource.clear()


def test_feed_health_shows_the_stores_mode_size_and_oldest_day(demo) -> None:
    def writing(at: AppTest) -> bool:
        cards = {m.label: m.value for m in at.metric}
        return cards.get("Tick store") == "writing" and cards.get("Oldest day") not in (None, "—")

    at = run_until(AppTest.from_file(str(ROOT / "pages" / "3_Feed_health.py"), default_timeout=30), writing)
    assert not at.exception
    cards = {m.label: m.value for m in at.metric}
    assert cards["Tick store"] == "writing", cards
    assert (
        cards["Size on disk"].endswith(("KB", "MB"))
        and cards["Oldest day"] == dt.datetime.now(dt.UTC).date().isoformat()
    )


def test_the_quotes_page_offers_the_days_ticks_as_csv_and_parquet(demo) -> None:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=30).run()
    assert not at.exception
    assert [e.label for e in at.expander if e.label == "Export stored ticks"]
    keys = {b.key for b in at.get("download_button")}
    assert {"export_csv", "export_parquet", "quotes_csv"} <= keys
    assert at.date_input(key="export_day").value == dt.datetime.now(dt.UTC).date()  # the viewer's today


def test_the_pages_file_is_the_clis_file_and_a_failure_says_why(tmp_path) -> None:
    frame = pd.DataFrame(
        {
            "symbol": ["AAPL.US"],
            "ts": pd.to_datetime([1_741_186_800_123], unit="ms", utc=True).astype("datetime64[ms, UTC]"),
            "seq": [7],
            "price": [227.31],
            "volume": [100.0],
        }
    )
    assert _bytes(lambda: frame, "csv")() == write_file(frame, "csv", tmp_path / "x.csv").read_bytes()
    assert (tmp_path / "x.csv").read_text().splitlines()[
        1
    ] == "AAPL.US,2025-03-05T15:00:00.123Z,7,227.31,100.0"
    assert _bytes(lambda: frame, "parquet")() == to_bytes(frame, "parquet")

    def busy() -> pd.DataFrame:
        raise TimeoutError("the tick store did not answer within 15 s")

    assert b"did not answer" in _bytes(busy, "csv")()
    assert export_name("1m", dt.date(2026, 3, 5), "parquet") == "bars-1m-2026-03-05.parquet"


def test_store_banners_name_the_situation_in_the_viewers_language() -> None:
    paused = StoreStatus(mode="paused", buffered=1234, dropped=0, directory="/data")
    (level, text, _), *_ = store_notices(paused)
    assert level == "error" and "1,234" in text and "disk is full" in text
    zh = store_notices(paused, translator("zh"))[0][1]
    assert "磁盘已满" in zh and "1,234" in zh
    moved = StoreStatus(mode="writing", moved_aside="/data/ticks.duckdb.corrupt-20260305T150000Z")
    assert "ticks.duckdb.corrupt-20260305T150000Z" in store_notices(moved)[0][1]
    ro = store_notices(
        StoreStatus(mode="read-only", writer_pid=4242, directory="/data"), translator("zh-Hant")
    )
    assert ro[0][0] == "info" and "4242" in ro[0][1] and "只讀" in ro[0][1]
    assert store_notices(StoreStatus(mode="writing")) == []
    failed = store_notices(StoreStatus(mode="failed", message="permission denied: /data"))
    assert failed[0][0] == "warning" and "permission denied" in failed[0][1]


def test_store_figures_read_plainly() -> None:
    store = StoreStatus(
        mode="writing",
        size_bytes=5 * 2**20,
        oldest=dt.date(2026, 2, 1),
        ticks=12345,
        lag_p99=0.31,
        buffered=2,
    )
    figures = {label: value for label, value, _ in store_figures(store)}
    assert figures == {
        "Tick store": "writing",
        "Size on disk": "5.0 MB",
        "Oldest day": "2026-02-01",
        "Write lag (p99)": "0.31 s",
        "Waiting / dropped": "2 / 0",
    }
    assert size_text(512) == "512 B" and size_text(3 * 2**30) == "3.0 GB"
