"""ui.health: feed status and market clocks as tables, toasts and sidebar lines."""

from __future__ import annotations

import datetime as dt

from feed import calendars
from feed.model import ConnectionState, ConnectionStatus, EventKind, FeedEvent, FeedStatus
from feed.symbols import Market
from tests.test_ui_support import snapshot_frame
from ui.health import (
    clock_line,
    clocks_frame,
    connections_frame,
    drops_frame,
    events_frame,
    new_events,
    not_streamed,
    toast_for,
)

T0 = dt.datetime(2026, 11, 25, 15, 0, tzinfo=dt.UTC)


def _event(seq: int, kind: EventKind, message: str = "", connection: str = "US") -> FeedEvent:
    time = T0 + dt.timedelta(seconds=seq)
    return FeedEvent(seq=seq, time=time, kind=kind, connection=connection, message=message)


def _status(**changes: object) -> FeedStatus:
    conn = ConnectionStatus(
        name="US",
        endpoint="stock",
        state=ConnectionState.LIVE,
        markets=("US",),
        symbols=("AAPL.US", "TSLA.US"),
        not_streamed=("NVDA.US",),
        messages=1200,
        msgs_per_s=12.5,
        reconnects=2,
        last_error="timeout after 25 s",
        connected_since=T0 - dt.timedelta(hours=1),
        last_message_at=T0 - dt.timedelta(seconds=3),
    )
    values: dict[str, object] = {
        "demo": False,
        "plan": "free",
        "max_connections": 1,
        "max_codes": 5,
        "connections": (conn,),
        "drops": {"stale": 3, "duplicate": 9},
        "events": (
            _event(1, EventKind.CONNECTED, "connected (US)"),
            _event(2, EventKind.INVALID_SYMBOL, "x"),
        ),
    }
    values.update(changes)
    return FeedStatus(**values)  # type: ignore[arg-type]


def test_connections_frame_shows_state_load_and_not_streamed() -> None:
    row = connections_frame(_status(), now=T0).iloc[0]
    assert row["State"] == "live" and row["Markets"] == "US" and row["Symbols"] == 2
    assert row["Not streamed"] == "NVDA.US"
    assert row["Msgs/s"] == 12.5 and row["Reconnects"] == 2
    assert row["Up for"] == "1h 00m" and row["Last message"] == "3s ago"
    assert row["Last error"] == "timeout after 25 s"


def test_drops_frame_sorts_most_first() -> None:
    assert drops_frame(_status()).values.tolist() == [["duplicate", 9], ["stale", 3]]


def test_events_frame_is_newest_first_in_the_given_zone() -> None:
    frame = events_frame(_status().events, tz=Market.HK.tz)
    assert list(frame["#"]) == [2, 1]
    assert frame.iloc[1]["Time"] == "2026-11-25 23:00:01"


def test_new_events_toasts_only_what_a_session_has_not_seen() -> None:
    events = [
        _event(1, EventKind.CONNECTED),
        _event(2, EventKind.INVALID_SYMBOL),
        _event(3, EventKind.DISCONNECTED),
        _event(4, EventKind.RECOVERED),
        _event(5, EventKind.PLAN_LIMIT),
        _event(6, EventKind.AUTH_FAILED),
    ]
    assert new_events(events, None) == []  # first look: history is not news
    assert [e.seq for e in new_events(events, 2)] == [3, 4, 5, 6]
    assert new_events(events, 6) == []


def test_toast_text_names_the_connection_once() -> None:
    text, icon = toast_for(_event(1, EventKind.DISCONNECTED, "connection lost (US)"))
    assert text == "US stocks WebSocket: connection lost, reconnecting." and icon == ":material/link_off:"
    text, _ = toast_for(_event(2, EventKind.PLAN_LIMIT, "3 codes over the free plan's cap", "HK"))
    assert text == "Hong Kong stocks WebSocket: plan limit reached (3 codes over the free plan's cap)."


def test_not_streamed_merges_snapshot_notes_and_connection_lists() -> None:
    snap = snapshot_frame()
    note = "over the free plan's 5-code cap"
    snap.loc[1, ["streamed", "note", "freshness"]] = [False, note, "not streamed"]
    got = not_streamed(_status(), snap)
    assert got == {"TSLA.US": note, "NVDA.US": ""}
    assert not_streamed(None, None) == {}


def test_clock_lines_for_open_closed_lunch_and_crypto() -> None:
    now = dt.datetime(2026, 11, 25, 15, 0, tzinfo=dt.UTC)  # 10:00 ET, 23:00 HKT
    us = calendars.market_clock(Market.US, now)
    _, phase, when = clock_line(us, now)
    assert phase == "open" and when == "closes in 6h 00m"
    _, phase, when = clock_line(calendars.market_clock(Market.HK, now), now)
    assert phase == "closed" and when == "opens in 10h 30m"
    lunch = dt.datetime(2026, 11, 26, 4, 30, tzinfo=dt.UTC)  # 12:30 HKT
    _, phase, when = clock_line(calendars.market_clock(Market.HK, lunch), lunch)
    assert phase == "lunch break" and when == "reopens in 30m"
    _, phase, when = clock_line(calendars.market_clock(Market.CRYPTO, now), now)
    assert phase == "open" and when == "trades around the clock"


def test_clocks_frame_uses_exchange_local_time() -> None:
    now = dt.datetime(2026, 11, 25, 15, 0, tzinfo=dt.UTC)
    clocks = {m.value: calendars.market_clock(m, now) for m in Market}
    frame = clocks_frame(clocks, now).set_index("Market")
    assert frame.loc["US stocks", "Local time"] == "Wed 10:00 ET"
    assert frame.loc["Hong Kong stocks", "Local time"] == "Wed 23:00 HKT"
    assert frame.loc["Hong Kong stocks", "Next open"] == "Thu 26 Nov 09:30 HKT"
    assert frame.loc["Crypto", "Next close"] == "—"
