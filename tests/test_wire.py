"""feed.wire: a Snapshot and a FeedStatus survive JSON, so a reader builds the publisher's table."""

from __future__ import annotations

import orjson
import pytest

from feed.manager import FeedManager
from feed.simulator import Simulator
from feed.view import frame, path_points
from feed.wire import decode_path, decode_snapshot, decode_status, encode_path, encode_snapshot, encode_status
from tests.support import fast_config, wait_until

CODES = ["AAPL.US", "700.HK", "USDCNH", "NOPE.US"]
COLUMNS = ["symbol", "name", "market", "currency", "last", "prev_close", "change", "freshness", "note"]


def test_a_snapshot_round_trip_builds_the_same_table(sim: Simulator, make_manager) -> None:
    feed: FeedManager = make_manager(fast_config(sim, default_symbols=()))
    feed.subscribe(CODES)  # NOPE.US: refused by the server, an invalid code with its reason
    assert wait_until(lambda: "NOPE.US" in feed.snapshot_state().invalid, 10)
    feed.wait_ready(10)
    assert wait_until(lambda: all(c in feed.snapshot_state().paths for c in CODES[:2]), 10)
    snap = feed.snapshot_state()
    paths = {c: decode_path(encode_path(p)) for c, p in snap.paths.items()}
    back, revs = decode_snapshot(encode_snapshot(snap, {c: 1 for c in paths}, run="r1"), paths)
    assert back.version == snap.version and back.watched == snap.watched
    assert _same_quotes(back, snap)
    mine, _ = frame(snap, {}, 0.0)
    theirs, _ = frame(back, {}, 0.0)
    pd_equal = mine[COLUMNS].astype(str).equals(theirs[COLUMNS].astype(str))
    assert pd_equal, (mine[COLUMNS], theirs[COLUMNS])
    assert (theirs["age_s"] - mine["age_s"]).abs().max() < 0.05  # clocks mapped back
    assert path_points(back, "AAPL.US") == path_points(snap, "AAPL.US")
    assert back.prev_closes == snap.prev_closes and back.names == snap.names
    assert back.events == snap.events and back.invalid == snap.invalid and revs == {c: 1 for c in paths}


def _same_quotes(a, b) -> bool:
    return all(
        (q.price, q.seq, q.time_ms, q.volume, q.source) == (p.price, p.seq, p.time_ms, p.volume, p.source)
        and abs(q.received - p.received) < 0.05
        for (q, p) in ((a.quotes[c], b.quotes[c]) for c in b.quotes)
    )


def test_a_status_round_trip_is_equal(sim: Simulator, make_manager) -> None:
    feed: FeedManager = make_manager(fast_config(sim, default_symbols=()))
    feed.subscribe(["AAPL.US", "700.HK"])
    assert feed.wait_ready(10)
    assert wait_until(lambda: feed.status().connections and feed.status().events, 5)
    status = feed.status()
    assert decode_status(encode_status(status)) == status


def test_another_schema_is_refused_by_name() -> None:
    data = orjson.dumps({"schema": 99})
    with pytest.raises(ValueError, match="schema 99"):
        decode_snapshot(data, {})
