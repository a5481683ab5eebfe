"""The tick store against the simulator: nothing lost across a restart, gaps honest, bad days survived.

Each test runs the real feed (threads, sockets, DuckDB on a temporary directory); a
"process" is a real one where it matters (a restart, a second process on the same
directory). Ticks are checked against the simulator's own record of what it pushed.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import math
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

import feed.store.db
import feed.store.files
from feed.manager import FeedManager
from feed.model import EventKind
from feed.simulator import Simulator
from tests.support import TOKEN, fast_config, wait_until
from ui.store import store_notices

ROOT = Path(__file__).resolve().parents[1]
CODES = ["AAPL.US", "700.HK"]
_CHILD_KEYS = (
    "token", "ws_base", "http_base", "plan", "heartbeat_interval", "dead_after", "request_interval",
    "token_request_interval", "reconnect_floor", "reexpand_after", "backoff_cap", "reply_timeout", "data_dir",
)  # fmt: skip


@pytest.fixture(autouse=True)
def _store_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The store as users run it: in its child process (``QUOTES_STORE_PROCESS``'s default)."""
    monkeypatch.setenv("QUOTES_STORE_PROCESS", "1")


class Child:
    """A feed in another process (``tests/store_child.py``) on the same store directory."""

    def __init__(self, sim: Simulator, data_dir: Path, codes: list[str]) -> None:
        config = fast_config(sim, data_dir=str(data_dir))
        values = {k: getattr(config, k) for k in _CHILD_KEYS}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.store_child", json.dumps(values), ",".join(codes)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self._line(40.0)
        assert line.startswith("ready"), line
        _, pid, self.mode = line.split()
        self.pid = int(pid)

    def _line(self, timeout: float) -> str:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        return self.proc.stdout.readline().strip() if ready else "(no answer)"

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("stop\n")
        self.proc.stdin.flush()
        assert self._line(20.0) == "stopped"
        assert self.proc.wait(20) == 0

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def child_factory():
    children: list[Child] = []

    def make(*args: object) -> Child:
        child = Child(*args)  # type: ignore[arg-type]
        children.append(child)
        return child

    yield make
    for c in children:
        c.kill()


def sent(sim: Simulator, code: str) -> list[tuple[int, float]]:
    return [(seq, float(price)) for seq, price in sim.sent_ticks(code)]


def stored(m: FeedManager, code: str, since: float) -> list[tuple[int, float]]:
    t = m.history(code, start=pd.Timestamp(since, unit="s", tz="UTC"), kind="ticks")
    return list(zip(t["seq"].tolist(), t["price"].tolist(), strict=True))


def assert_bars_agree(ticks: pd.DataFrame, bars: pd.DataFrame) -> int:
    """Every minute with ticks has its bar; a bar from ticks is exactly those ticks. Returns
    the number of minutes checked exactly."""
    minute = ticks["ts"].dt.floor("min")
    by_minute = bars.set_index("ts")
    exact = 0
    for ts, g in ticks.groupby(minute, sort=True):
        assert ts in by_minute.index, f"no bar for {ts}"
        b = by_minute.loc[ts]
        if b["source"] == "ticks":
            exact += 1
            got = (b["open"], b["high"], b["low"], b["close"], b["volume"], b["trades"])
            want = (g["price"].iloc[0], g["price"].max(), g["price"].min(), g["price"].iloc[-1])
            assert got == (*want, g["volume"].sum(), len(g)), (ts, got, want)
        else:  # a K-line minute holds our trades among others
            assert (
                b["high"] >= g["price"].max()
                and b["low"] <= g["price"].min()
                and b["volume"] >= g["volume"].sum()
            )
    return exact


# --- acceptance: a restart keeps every tick --------------------------------------------


def test_a_new_process_holds_every_tick_of_the_last_one_with_its_seq_and_price(sim, tmp_path, child_factory):
    since = time.time() - 1
    child = child_factory(sim, tmp_path, CODES)
    assert child.mode == "writing"
    time.sleep(10)
    sim.pause()  # so every tick pushed also arrived before the process stops
    time.sleep(1.0)
    child.stop()
    first_run = {c: sent(sim, c) for c in CODES}
    assert all(len(v) >= 40 for v in first_run.values()), {c: len(v) for c, v in first_run.items()}

    reader = FeedManager(fast_config(sim, data_dir=str(tmp_path)))  # not started: the directory alone
    for code in CODES:
        assert stored(reader, code, since) == first_run[code]
        ticks = reader.history(code, start=pd.Timestamp(since, unit="s", tz="UTC"), kind="ticks")
        bars = reader.history(code, start=pd.Timestamp(since // 60 * 60, unit="s", tz="UTC"), kind="1m")
        assert_bars_agree(ticks, bars)

    m = FeedManager(fast_config(sim, data_dir=str(tmp_path))).start()
    try:
        m.subscribe(CODES)
        assert m.wait_ready(10)
        for code in CODES:  # the new process: the same ticks, its path starts where the last one did
            assert stored(m, code, since) == first_run[code]
            old = reader.history(code, start=pd.Timestamp(since, unit="s", tz="UTC"), kind="ticks")

            def continues() -> bool:
                path = m.history(code)  # noqa: B023
                return path["ts"].iloc[0] <= old["ts"].iloc[0] and not path["price"].isna().any()  # noqa: B023

            assert wait_until(continues, 10), m.history(code)
    finally:
        m.stop()


class FastClock:
    """Market time running ``speed`` times faster than the wall, for minutes in seconds."""

    def __init__(self, speed: float) -> None:
        self.base, self.speed = time.time(), speed

    def __call__(self) -> float:
        return self.base + (time.time() - self.base) * self.speed


def _fast_feed(sim: Simulator, data_dir: Path, clock: FastClock) -> FeedManager:
    m = FeedManager(fast_config(sim, data_dir=str(data_dir)), clock=clock).start()
    m.subscribe(["AAPL.US"])
    return m


def test_a_restart_after_a_three_minute_outage_fills_the_missed_minutes_from_the_kline(tmp_path):
    clock = FastClock(20.0)  # a minute every 3 s
    with Simulator(seed=3, token=TOKEN, tick_interval=0.05, min_request_interval=0.2, clock=clock) as sim:
        first = _fast_feed(sim, tmp_path, clock)
        assert first.wait_ready(10)
        start = clock()
        time.sleep(12)  # four minutes of trading
        first.stop()
        stopped = clock()
        time.sleep(9.5)  # three minutes down; the market trades on
        m = _fast_feed(sim, tmp_path, clock)
        try:
            assert m.wait_ready(10)
            since = pd.Timestamp(start // 60 * 60, unit="s", tz="UTC")  # from the first run's first minute

            cut = pd.Timestamp(stopped, unit="s", tz="UTC")

            def filled() -> bool:
                p = m.history("AAPL.US", start=since)
                streamed = len(m.history("AAPL.US", start=cut, kind="ticks")) > 0  # this run's pushes too
                return len(p) > 5 and not p["price"].isna().any() and streamed

            assert wait_until(filled, 15), m.history("AAPL.US", start=since)
            sim.pause()
            time.sleep(0.5)
            bars = m.history("AAPL.US", start=since, kind="1m")
            minutes = (bars["ts"].dt.as_unit("s").astype("int64") // 60).tolist()
            assert minutes == list(range(minutes[0], minutes[-1] + 1)), "the minute path has a hole"
            every = m.history("AAPL.US", start=since, kind="ticks")["ts"]
            last_before, first_after = (
                every[every <= cut].max().floor("min"),
                every[every > cut].min().floor("min"),
            )
            outage = bars[(bars["ts"] > last_before) & (bars["ts"] < first_after)]
            why = (last_before, first_after, bars[["ts", "source", "complete"]].to_string())
            assert len(outage) >= 2 and set(outage["source"]) == {"kline"}, why  # the minutes nobody saw
            ticks = m.history(
                "AAPL.US", start=since, end=pd.Timestamp(stopped, unit="s", tz="UTC"), kind="ticks"
            )
            run1 = bars[bars["ts"] <= pd.Timestamp(stopped, unit="s", tz="UTC")]
            assert assert_bars_agree(ticks, run1) >= 2  # whole minutes of the first run: our own bars
            assert run1[run1["source"] == "ticks"]["complete"].sum() >= 2
        finally:
            m.stop()


def test_a_gap_that_cannot_be_filled_shows_as_a_gap_until_the_kline_comes(tmp_path, monkeypatch):
    from feed.http import AllTickHttp, Unreachable
    from ui.compare_chart import compare_frame

    kline, blocked = AllTickHttp.kline, [False]

    def no_kline(self, endpoint, code, kline_type, count, end_s=0):
        if blocked[0]:  # the minute K-line cannot be had (the HTTP API unreachable for it)
            raise Unreachable("/kline", "connection refused")
        return kline(self, endpoint, code, kline_type, count, end_s)

    monkeypatch.setattr(AllTickHttp, "kline", no_kline)
    clock = FastClock(20.0)
    with Simulator(seed=4, token=TOKEN, tick_interval=0.05, min_request_interval=0.2, clock=clock) as sim:
        first = _fast_feed(sim, tmp_path, clock)
        assert first.wait_ready(10)
        start = pd.Timestamp(clock() // 60 * 60, unit="s", tz="UTC")
        time.sleep(7)
        first.stop()
        time.sleep(7)  # two minutes and more down
        blocked[0] = True
        m = _fast_feed(sim, tmp_path, clock)
        try:

            def broken() -> bool:
                p = m.history("AAPL.US", start=start)
                return bool(len(p) > 3 and p["price"].isna().sum() == 1 and p["price"].notna().iloc[-1])

            assert wait_until(broken, 20), m.history("AAPL.US", start=start)
            path = m.history("AAPL.US", start=start)
            gap_at = path.index[path["price"].isna()][0]
            assert path["ts"].iloc[gap_at - 1] < path["ts"].iloc[gap_at] < path["ts"].iloc[gap_at + 1]
            spark = m.sparklines(["AAPL.US"], points=40)["AAPL.US"]
            assert any(math.isnan(v) for v in spark) and not math.isnan(spark[-1])
            frame = compare_frame({"AAPL.US": path}, {"AAPL.US": 100.0})
            assert frame["pct"].isna().sum() == 1  # the chart breaks its line there
            time.sleep(3)  # it stays a gap as long as nothing can fill it
            assert m.history("AAPL.US", start=start)["price"].isna().sum() == 1
            blocked[0] = False
            assert wait_until(lambda: not m.history("AAPL.US", start=start)["price"].isna().any(), 20)
        finally:
            m.stop()


# --- acceptance: export equals history -----------------------------------------------------


def _run_cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALLTICK_", "QUOTES_"))}
    env["QUOTES_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "feed", "export", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _history_of_all(m: FeedManager, kind: str, codes: list[str]) -> pd.DataFrame:
    parts = []
    for code in codes:
        h = m.history(code, kind=kind)
        h.insert(0, "symbol", code)
        parts.append(h)
    return pd.concat(parts, ignore_index=True)


def test_export_csv_and_parquet_read_back_equal_history_and_the_pages_rows(sim, tmp_path):
    m = FeedManager(fast_config(sim, data_dir=str(tmp_path))).start()
    try:
        m.subscribe(CODES)
        assert m.wait_ready(10)
        time.sleep(4)
        sim.pause()
        time.sleep(0.8)
        # The CLI is another process: the running app lends it the file for the read.
        csv, pq = tmp_path / "ticks.csv", tmp_path / "bars.parquet"
        done = _run_cli("--symbols", ",".join(CODES), "--kind", "ticks", "--out", str(csv), data_dir=tmp_path)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("wrote ")
        done = _run_cli("--kind", "1m", "--format", "parquet", "--out", str(pq), data_dir=tmp_path)
        assert done.returncode == 0, done.stderr
        ticks = pd.read_csv(csv, parse_dates=["ts"])
        ticks["ts"] = ticks["ts"].astype("datetime64[ms, UTC]")
        pd.testing.assert_frame_equal(ticks, _history_of_all(m, "ticks", CODES), check_dtype=False)
        pd.testing.assert_frame_equal(
            ticks, m.export(CODES, kind="ticks"), check_dtype=False
        )  # the page's rows
        bars = pd.read_parquet(pq)
        # No --symbols: every stored symbol, in code order, as the page's rows for that list.
        pd.testing.assert_frame_equal(bars, m.export(sorted(CODES), kind="1m"), check_dtype=False)
    finally:
        m.stop()
    stopped = FeedManager(fast_config(sim, data_dir=str(tmp_path)))  # history from the directory alone
    pd.testing.assert_frame_equal(bars, _history_of_all(stopped, "1m", sorted(CODES)), check_dtype=False)
    assert len(ticks) >= 40 and set(ticks["symbol"]) == set(CODES)


def test_export_says_why_when_there_is_nothing_to_write(tmp_path):
    assert (
        _run_cli("--from", "2026-13-01", "--out", str(tmp_path / "x.csv"), data_dir=tmp_path).returncode == 2
    )
    late = _run_cli("--from", "2026-03-06", "--to", "2026-03-05", "--out", "x.csv", data_dir=tmp_path)
    assert late.returncode == 2 and "after --to" in late.stderr
    empty = _run_cli("--out", str(tmp_path / "x.csv"), data_dir=tmp_path)
    assert empty.returncode == 1 and "no tick store" in empty.stderr
    assert not (tmp_path / "x.csv").exists()


# --- bad situations: none stops the live feed --------------------------------------------


def _opened(m: FeedManager) -> bool:
    """The store's own process has started and opened (or declined) the database."""
    return wait_until(lambda: m.status().store.mode != "starting", 20)


def _streaming(m: FeedManager, code: str = "AAPL.US") -> bool:
    before = m.status().ticks_applied
    return wait_until(lambda: m.status().ticks_applied > before + 3, 5)


def test_a_corrupt_database_is_moved_aside_and_a_fresh_one_started(sim, tmp_path):
    (tmp_path / "ticks.duckdb").write_bytes(b"this is not a database" * 500)
    m = FeedManager(fast_config(sim, data_dir=str(tmp_path))).start()
    try:
        m.subscribe(CODES)
        assert m.wait_ready(10) and _streaming(m) and _opened(m)
        store = m.status().store
        assert store.mode == "writing" and store.moved_aside is not None
        assert Path(store.moved_aside).read_bytes().startswith(b"this is not a database")
        assert "moved aside" in store.message and "fresh store" in store.message
        assert any(e.kind == EventKind.STORE and "moved aside" in e.message for e in m.status().events)
        assert wait_until(lambda: len(m.history("AAPL.US", kind="ticks")) > 5, 5)  # the fresh file works
        (level, text, _), *_ = store_notices(store)
        assert level == "warning" and Path(store.moved_aside).name in text
    finally:
        m.stop()


def test_a_second_process_on_the_directory_opens_it_read_only_and_says_so(sim, tmp_path, child_factory):
    child = child_factory(sim, tmp_path, ["AAPL.US"])
    m = FeedManager(fast_config(sim, data_dir=str(tmp_path))).start()
    try:
        m.subscribe(["AAPL.US"])
        assert m.wait_ready(10) and _streaming(m) and _opened(m)
        store = m.status().store
        assert store.mode == "read-only" and store.writer_pid == child.pid
        assert f"pid {child.pid}" in store.message and "read-only" in store.message
        assert wait_until(lambda: m.status().store.not_stored > 0, 5)
        # Read through the writer's lending; the writer (another process, on a loaded
        # machine) flushes every half second, so give it time to have written a few.
        assert wait_until(lambda: len(m.history("AAPL.US", kind="ticks")) > 5, 10)
        theirs = m.history("AAPL.US", kind="ticks")
        assert theirs["seq"].is_monotonic_increasing
        assert "read-only" in store_notices(m.status().store)[0][1]
        child.stop()  # the writer goes: this process takes the store over
        assert wait_until(lambda: m.status().store.mode == "writing", 10), m.status().store
        written = m.status().store.written
        assert wait_until(lambda: m.status().store.written > written, 5)
    finally:
        m.stop()


class FullDisk:
    """The writer's seam: while ``full``, every commit fails with ENOSPC and no space is free."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.full = False
        commit, free = feed.store.db.commit, feed.store.files.free_bytes

        def failing_commit(*args: object, **kwargs: object) -> None:
            if self.full:
                raise OSError(errno.ENOSPC, "No space left on device")
            commit(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(feed.store.db, "commit", failing_commit)
        monkeypatch.setattr(feed.store.files, "free_bytes", lambda d: 0 if self.full else free(d))


def test_a_full_disk_pauses_writing_keeps_the_ticks_in_memory_and_resumes(sim, tmp_path, monkeypatch):
    monkeypatch.setenv("QUOTES_STORE_PROCESS", "0")  # the seam is patched in this process
    disk = FullDisk(monkeypatch)
    since = time.time() - 1
    m = FeedManager(fast_config(sim, data_dir=str(tmp_path))).start()
    try:
        m.subscribe(CODES)
        assert m.wait_ready(10) and _streaming(m)
        disk.full = True
        assert wait_until(lambda: m.status().store.mode == "paused", 5), m.status().store
        assert _streaming(m)  # the live feed does not notice
        assert wait_until(lambda: m.status().store.buffered > 10, 5)
        store = m.status().store
        assert "disk is full" in store.message and "resumes when space returns" in store.message
        level, text, _ = store_notices(store)[0]
        assert level == "error" and "disk is full" in text.lower()
        during = len(m.history("AAPL.US", kind="ticks"))  # the ticks in memory are part of history
        disk.full = False
        assert wait_until(lambda: m.status().store.mode == "writing", 10), m.status().store
        assert wait_until(lambda: m.status().store.buffered == 0, 5)
        assert "resumed" in m.status().store.message
        sim.pause()
        time.sleep(0.8)
        for code in CODES:  # nothing was lost while the disk was full
            assert stored(m, code, since) == sent(sim, code)
        assert len(m.history("AAPL.US", kind="ticks")) >= during
    finally:
        m.stop()


def _tmpfs(path: Path, size: str) -> bool:
    path.mkdir()
    ok = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    return ok.returncode == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="a size-limited tmpfs needs root to mount")
def test_a_really_full_filesystem_pauses_and_resumes(sim, tmp_path):
    """The same on a real 3 MB tmpfs (DuckDB's own ENOSPC, not the seam): filled up, then freed."""
    disk = tmp_path / "tiny"
    if not _tmpfs(disk, "3m"):
        pytest.skip("cannot mount a tmpfs here")
    m = FeedManager(fast_config(sim, data_dir=str(disk / "store"))).start()
    try:
        m.subscribe(CODES)
        assert m.wait_ready(10) and wait_until(lambda: m.status().store.written > 0, 5)
        filler = disk / "filler"
        with filler.open("wb") as f, pytest.raises(OSError):
            while True:
                f.write(b"\0" * 65536)
        assert wait_until(lambda: m.status().store.mode == "paused", 10), m.status().store
        assert _streaming(m)
        filler.unlink()
        assert wait_until(lambda: m.status().store.mode == "writing", 10), m.status().store
        assert wait_until(lambda: m.status().store.buffered == 0, 5)
    finally:
        m.stop()
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


# --- bounded: retention, size and the oldest day -------------------------------------------


def test_retention_prunes_old_days_and_status_shows_size_and_oldest_day(sim, tmp_path):
    from feed.protocol.codec import Tick
    from feed.store import db, pipe, schema

    old_ms = int((time.time() - 40 * 86400) * 1000)
    con = db.connect(tmp_path / "ticks.duckdb")
    db.init(con)
    run = db.new_run(con, old_ms)
    old = [Tick("AAPL.US", i, old_ms + i, 100.0, 1.0) for i in range(1000)]
    db.commit(con, run, 1, schema.columns_table(pipe.columns(old)), [], [])
    con.close()
    m = FeedManager(fast_config(sim, data_dir=str(tmp_path), retention_days=30)).start()
    try:
        m.subscribe(["AAPL.US"])
        assert m.wait_ready(10)
        assert wait_until(lambda: m.status().store.written > 0, 5)
        store = m.status().store
        today = pd.Timestamp.now(tz="UTC").date()
        assert store.oldest == today and store.size_bytes > 0 and store.retention_days == 30
        assert (
            m.history("AAPL.US", start=pd.Timestamp(old_ms, unit="ms", tz="UTC"), kind="ticks")["seq"].min()
            > 1000
        )
    finally:
        m.stop()


def test_with_the_store_off_nothing_is_written_and_history_says_why(sim, tmp_path, monkeypatch):
    import threading

    monkeypatch.setenv("QUOTES_DATA_DIR", "off")
    m = FeedManager(fast_config(sim, data_dir=None)).start()
    try:
        m.subscribe(["AAPL.US"])
        assert m.wait_ready(10)
        assert m.status().store.mode == "off"
        assert not [t for t in threading.enumerate() if t.name == "feed-store"]
        with pytest.raises(LookupError, match="QUOTES_DATA_DIR=off"):
            m.history("AAPL.US", kind="ticks")
        # Minutes from memory: today's path, which starts at New York's midnight (05:00 UTC in
        # winter), so just after it there are only the minutes since.
        now = dt.datetime.now(ZoneInfo("America/New_York"))
        want = min(11, now.hour * 60 + now.minute + 1)
        assert wait_until(lambda: len(m.history("AAPL.US", kind="1m")) >= want, 10)
    finally:
        m.stop()
    assert not list(tmp_path.iterdir())


def test_a_seq_past_64_bits_is_dropped_and_counted_and_the_rest_of_its_flush_written(tmp_path):
    from feed.sinks import Batch
    from feed.store.sink import TickStore

    now_ms = int(time.time() * 1000)
    store = TickStore(tmp_path, flush_every=0.1).start()
    try:
        rows = [("AAPL.US", i, now_ms + i, 230.0, 1.0) for i in range(1, 4)]
        store.offer(Batch([*rows[:2], ("AAPL.US", 2**63, now_ms + 2, 230.0, 1.0), rows[2]], {}))
        assert wait_until(lambda: store.stats.delivered == 3, 10)
        assert store.stats.dropped == 1
    finally:
        store.stop()
        store.join(10)
