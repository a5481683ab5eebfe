"""The live notices under AppTest: not-streamed warnings, feed-event toasts, auth errors.

The demo feed grants a professional plan and never refuses a token, so these draw
the notice helpers from small scripts fed synthetic status values instead.
"""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _not_streamed_script() -> None:
    import datetime as dt

    from feed.model import ConnectionState, ConnectionStatus, FeedStatus
    from tests.test_ui_support import snapshot_frame
    from ui.live import feed_alerts

    snap = snapshot_frame()
    for i in (1, 2):
        snap.loc[i, ["streamed", "note", "freshness"]] = [
            False,
            "over the free plan's 5-code cap",
            "not streamed",
        ]
    snap.loc[3, ["streamed", "note", "freshness"]] = [False, "code unauthorized [x](y)", "not streamed"]
    snap.loc[4, ["streamed", "note", "freshness"]] = [
        False,
        "the server does not know this code",
        "not streamed",
    ]
    conn = ConnectionStatus(
        name="stock",
        endpoint="stock",
        state=ConnectionState.LIVE,
        markets=("US", "HK", "CN"),
        symbols=("AAPL.US",),
        not_streamed=("TSLA.US", "700.HK"),
        messages=1,
        msgs_per_s=0.0,
        reconnects=0,
        last_error=None,
        connected_since=dt.datetime.now(dt.UTC),
        last_message_at=None,
    )
    status = FeedStatus(
        demo=False,
        plan="free",
        max_connections=1,
        max_codes=5,
        connections=(conn,),
        auth_error="token expired",
        invalid_symbols={"USDCNH": "the server does not know this code (ret 600)", "ZZZ.US": "elsewhere"},
    )
    feed_alerts(snap, status)


def test_not_streamed_symbols_are_named_under_their_own_cause() -> None:
    at = AppTest.from_function(_not_streamed_script, default_timeout=30).run()
    assert not at.exception
    refused, capped = at.warning
    # Codes AllTick refused: their own notice, not the plan note, and only this watchlist's.
    assert "AllTick refused 1 watched code" in refused.value and "USDCNH" in refused.value
    assert "ZZZ" not in refused.value and "plan" not in refused.value
    assert at.button(key="alerts_remove_invalid") is not None
    # The rest are over the plan's cap, named once each.
    assert "3 watched symbols not streamed" in capped.value
    assert "free plan streams 5 codes per subscription" in capped.value
    assert "TSLA\\.US, 700\\.HK, 1810\\.HK" in capped.value
    assert "USDCNH" not in capped.value
    (error,) = at.error
    assert "refused the token" in error.value and "token expired" in error.value


def _toast_script() -> None:
    import datetime as dt

    import streamlit as st

    from feed.model import EventKind, FeedEvent, FeedStatus
    from ui.live import notify_events

    t0 = dt.datetime(2026, 11, 25, 15, 0, tzinfo=dt.UTC)
    kinds = [
        EventKind.CONNECTED,
        EventKind.DISCONNECTED,
        EventKind.RATE_LIMITED,
        EventKind.RECOVERED,
        EventKind.PLAN_LIMIT,
    ]
    events = tuple(
        FeedEvent(seq=i + 1, time=t0, kind=k, connection="US", message=f"{k} (US)")
        for i, k in enumerate(kinds)
    )
    seen = st.session_state.get("runs", 0)
    st.session_state["runs"] = seen + 1
    shown = events[:1] if seen == 0 else events
    notify_events(
        FeedStatus(demo=True, plan="p", max_connections=1, max_codes=5, connections=(), events=shown)
    )


def test_feed_events_toast_once_and_only_when_new() -> None:
    at = AppTest.from_function(_toast_script, default_timeout=30).run()
    assert not at.toast  # what happened before the session looked is history, not news
    at.run()
    texts = [t.value.replace("\\", "") for t in at.toast]  # the markdown source is escaped
    # One toast for the lot, naming the newest (rate limits and connects stay quiet).
    assert texts == [
        "US stocks WebSocket: plan limit reached (plan limit (US)). (and 2 more feed events: see Feed health)"
    ]
    at.run()
    assert not at.toast
