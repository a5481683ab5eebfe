"""The link session, sans-I/O: every rule driven with a fake clock, no sockets, no sleeps."""

from __future__ import annotations

import itertools
import random

import orjson
import pytest

from feed.model import ConnectionState, EventKind
from feed.protocol.codec import Cmd, Response, Ret
from feed.session import Close, Connect, Failure, Notice, OpenFailure, Send, Session, SessionTiming

T = SessionTiming(
    heartbeat_interval=10.0,
    reply_timeout=5.0,
    dead_after=20.0,
    request_interval=1.0,
    reconnect_floor=3.0,
    backoff_base=0.5,
    backoff_cap=5.0,
    auth_retry=30.0,
)


def session(**kw) -> Session:
    return Session("US", kw.pop("timing", T), rng=random.Random(1), **kw)


def sent(actions) -> list[dict]:
    return [orjson.loads(a.text) for a in actions if isinstance(a, Send)]


def notices(actions) -> list[Notice]:
    return [a for a in actions if isinstance(a, Notice)]


def kinds(actions) -> list[EventKind]:
    return [n.kind for n in notices(actions) if n.kind is not None]


def ack(cmd: int = Cmd.TICK_SUBSCRIBE_ACK, ret: int = Ret.OK, msg: str = "ok") -> Response:
    return Response(cmd_id=cmd, seq_id=1, trace="t", ret=ret, msg=msg)


def live(s: Session, codes=("AAPL.US",), now: float = 0.0) -> float:
    """Connect, subscribe and acknowledge; returns the time reached."""
    s.set_desired(tuple(codes))
    assert s.poll(now) == [Connect()]
    s.opened(now)
    assert sent(s.poll(now))[0]["cmd_id"] == Cmd.TICK_SUBSCRIBE
    s.response(ack(), now + 0.01)
    assert s.state is ConnectionState.LIVE
    return now + 0.01


def test_first_poll_connects_then_subscribes_the_full_list():
    s = session()
    s.set_desired(("AAPL.US", "MSFT.US"))
    assert s.poll(0.0) == [Connect()]
    assert s.poll(0.1) == []  # connecting: nothing until opened/open_failed
    s.opened(0.2)
    (msg,) = sent(s.poll(0.2))
    assert msg["cmd_id"] == Cmd.TICK_SUBSCRIBE
    assert [c["code"] for c in msg["data"]["symbol_list"]] == ["AAPL.US", "MSFT.US"]


def test_a_change_resends_the_whole_list_no_sooner_than_the_request_interval():
    s = session()
    now = live(s)
    s.set_desired(("AAPL.US", "NVDA.US"))
    assert s.poll(now + 0.5) == []  # 1 s between requests on a link
    (msg,) = sent(s.poll(now + 1.0))
    assert [c["code"] for c in msg["data"]["symbol_list"]] == ["AAPL.US", "NVDA.US"]


def test_an_empty_list_is_a_cancel():
    s = session()
    now = live(s)
    s.set_desired(())
    (msg,) = sent(s.poll(now + 2))
    assert msg["cmd_id"] == Cmd.CANCEL and msg["data"] == {"cancel_type": 2}


def test_the_token_pacer_holds_a_subscribe_back():
    waits = [2.0, 0.0]
    s = session(pace=lambda: waits.pop(0))
    s.set_desired(("AAPL.US",))
    s.poll(0.0)
    s.opened(0.0)
    assert sent(s.poll(0.0)) == []
    assert sent(s.poll(1.0))[0]["cmd_id"] == Cmd.TICK_SUBSCRIBE


def test_heartbeats_every_interval_and_an_unanswered_one_means_half_open():
    s = session()
    now = live(s)
    (hb,) = sent(s.poll(now + 10.0))
    assert hb["cmd_id"] == Cmd.HEARTBEAT
    s.frame(now + 12.0)  # pushes keep coming, but no heartbeat reply...
    actions = s.poll(now + 15.5)
    assert isinstance(actions[0], Close) and "heartbeat" in actions[0].reason
    assert s.state is ConnectionState.RECONNECTING
    assert EventKind.DISCONNECTED in kinds(actions)


def test_an_answered_heartbeat_keeps_the_link():
    s = session()
    now = live(s)
    s.poll(now + 10.0)
    s.response(ack(Cmd.HEARTBEAT_ACK), now + 10.1)
    assert not any(isinstance(a, Close) for a in s.poll(now + 16.0))


def test_total_silence_is_dead_after_dead_after():
    s = session(timing=SessionTiming(heartbeat_interval=100, dead_after=20.0, request_interval=1.0))
    now = live(s)
    assert not any(isinstance(a, Close) for a in s.poll(now + 19.0))
    assert isinstance(s.poll(now + 20.5)[0], Close)


@pytest.mark.parametrize(
    "frame",
    [ack(0, Ret.TOKEN_INVALID, "token invalid"), ack(Cmd.HEARTBEAT_ACK, Ret.TOKEN_INVALID)],
    ids=["unsolicited", "heartbeat-answer"],
)
def test_ret_401_in_any_frame_is_auth_failed_and_retries_slowly(frame):
    s = session()
    now = live(s)
    actions = s.response(frame, now + 1)  # no subscribe pending
    assert isinstance(actions[0], Close)
    assert s.state is ConnectionState.AUTH_FAILED and EventKind.AUTH_FAILED in kinds(actions)
    assert s.poll(now + 29) == []
    assert s.poll(now + 31.5) == [Connect()]


def test_auth_failures_cost_at_most_three_attempts_a_minute():
    s = session()
    s.set_desired(("AAPL.US",))
    attempts = 0
    t = 0.0
    while t < 120.0:
        if s.poll(t) == [Connect()]:
            attempts += 1
            if t >= 60.0:
                break
            s.open_failed(OpenFailure(Failure.AUTH, "HTTP 401 at the WebSocket upgrade"), t)
        t += 0.1
    assert s.state is ConnectionState.AUTH_FAILED
    assert attempts <= 3, attempts


def test_unreachable_is_its_own_state_with_one_event_and_short_capped_backoff():
    s = session(timing=SessionTiming(reconnect_floor=0.0, backoff_base=0.5, backoff_cap=2.0))
    s.set_desired(("AAPL.US",))
    times, events = [], []
    t = 0.0
    while len(times) < 8:
        if s.poll(t) == [Connect()]:
            times.append(t)
            events += kinds(s.open_failed(OpenFailure(Failure.UNREACHABLE, "connection refused (x:1)"), t))
        t = round(t + 0.01, 2)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert s.state is ConnectionState.UNREACHABLE
    assert events == [EventKind.UNREACHABLE]  # once, not once per attempt
    assert max(gaps) <= 2.0 + 0.02 and gaps[0] < gaps[2]  # grows, capped


def test_a_refused_connect_is_never_a_plan_cap():
    s = session(timing=SessionTiming(reconnect_floor=0.0))
    s.set_desired(("AAPL.US",))
    seen = []
    for i in range(200):
        if s.poll(i * 0.1) == [Connect()]:
            seen += kinds(s.open_failed(OpenFailure(Failure.UNREACHABLE, "connection refused"), i * 0.1))
    assert EventKind.PLAN_LIMIT not in seen and s.state is ConnectionState.UNREACHABLE


def test_accepted_upgrades_closed_at_once_twice_are_a_plan_cap():
    s = session(timing=SessionTiming(reconnect_floor=0.0))
    s.set_desired(("AAPL.US",))
    events = []
    t = 0.0
    for _ in range(2):
        while s.poll(t) != [Connect()]:
            t += 0.1
        s.opened(t)
        events += kinds(s.closed("closed by the server (1008 connection limit)", t + 0.05))
    assert EventKind.PLAN_LIMIT in events and s.state is ConnectionState.PLAN_CAP


def test_a_link_that_delivered_data_reconnects_at_once_after_a_drop():
    s = session()
    now = live(s, now=100.0)
    s.data(now + 5)
    s.closed("connection reset by the server", now + 5)
    assert s.state is ConnectionState.RECONNECTING
    assert s.poll(now + 5) == [Connect()]  # last attempt 5 s ago > the 3 s floor


def test_the_backoff_resets_only_after_data_not_after_a_bare_connect():
    s = session(timing=SessionTiming(reconnect_floor=0.0, backoff_base=0.5, backoff_cap=5.0))
    s.set_desired(("AAPL.US",))
    t = 0.0
    for _ in range(4):  # unproductive links: open, subscribe, no data, dropped after 3 s
        while s.poll(t) != [Connect()]:
            t = round(t + 0.01, 2)
        s.opened(t)
        s.poll(t)
        s.response(ack(), t)
        t += 3.0
        s.closed("reset", t)
    waits = s.seconds_to_attempt(t)
    assert waits > 1.0  # backing off
    while s.poll(t) != [Connect()]:
        t = round(t + 0.01, 2)
    s.opened(t)
    s.poll(t)
    s.response(ack(), t)
    s.data(t + 0.5)
    t += 3.0
    s.closed("reset", t)
    assert s.seconds_to_attempt(t) == 0.0


def test_a_resubscribe_after_a_reconnect_says_so_once():
    s = session(timing=SessionTiming(reconnect_floor=0.0, request_interval=0.0))
    live(s)
    s.data(1.0)
    s.closed("reset", 2.0)
    assert s.poll(2.0) == [Connect()]
    s.opened(2.0)
    s.poll(2.0)
    (n,) = [x for x in notices(s.response(ack(), 2.1)) if x.subscribed is not None]
    assert n.after_reconnect
    s.set_desired(("AAPL.US", "TSLA.US"))
    s.poll(3.0)
    (n,) = [x for x in notices(s.response(ack(), 3.1)) if x.subscribed is not None]
    assert not n.after_reconnect  # same socket: a watchlist change, not a recovery


def _reconnect(s: Session, t: float) -> float:
    """Poll through the backoff until the session dials again; open the socket."""
    while s.poll(t) != [Connect()]:
        t = round(t + 0.01, 2)
    s.opened(t)
    return t


def test_a_subscribe_lost_with_its_link_is_a_recovery_on_the_next_socket():
    # The server took the subscribe, the link died before its answer reached us (one CI
    # run: a stall right after the server registered the code): the next socket's ack
    # still means a gap to fill and a "recovered" to show after the "disconnected".
    s = session(timing=SessionTiming(reconnect_floor=0.0, request_interval=0.0))
    s.set_desired(("AAPL.US",))
    assert s.poll(0.0) == [Connect()]
    s.opened(0.0)
    assert sent(s.poll(0.0))[0]["cmd_id"] == Cmd.TICK_SUBSCRIBE
    s.closed("reset", 1.0)
    t = _reconnect(s, 1.0)
    assert sent(s.poll(t))[0]["cmd_id"] == Cmd.TICK_SUBSCRIBE
    (n,) = [x for x in notices(s.response(ack(), t + 0.1)) if x.subscribed is not None]
    assert n.after_reconnect and n.subscribed == ("AAPL.US",)


def test_a_link_that_never_asked_for_codes_has_no_gap_after_a_reconnect():
    s = session(timing=SessionTiming(reconnect_floor=0.0, request_interval=0.0))
    assert s.poll(0.0) == [Connect()]
    s.opened(0.0)
    s.poll(0.0)  # nothing watched yet: nothing asked
    s.closed("reset", 1.0)
    s.set_desired(("AAPL.US",))
    t = _reconnect(s, 1.0)
    assert sent(s.poll(t))[0]["cmd_id"] == Cmd.TICK_SUBSCRIBE
    (n,) = [x for x in notices(s.response(ack(), t + 0.1)) if x.subscribed is not None]
    assert not n.after_reconnect  # a first subscription, not a recovery


def test_ret_600_on_a_subscribe_counts_the_list_and_asks_for_a_probe():
    s = session()
    s.set_desired(("AAPL.US", "NOPE.US"))
    s.poll(0.0)
    s.opened(0.0)
    s.poll(0.0)
    actions = s.response(ack(ret=Ret.CODE_INVALID, msg="code invalid"), 0.1)
    (n,) = [x for x in notices(actions) if x.subscribed is not None]
    assert n.refused == ("AAPL.US", "NOPE.US") and n.refused_ret == 600
    assert s.state is ConnectionState.LIVE and s.acked == ("AAPL.US", "NOPE.US")


def test_rate_limit_answers_pace_the_link_down():
    s = session()
    now = live(s)
    assert kinds(s.response(ack(0, Ret.TOO_MANY_REQUESTS), now)) == [EventKind.RATE_LIMITED]
    s.set_desired(("AAPL.US", "TSLA.US"))
    assert s.poll(now + 1.5) == []  # 1 s interval + 1 s penalty
    assert sent(s.poll(now + 2.1))


def test_upgrade_429_is_rate_limited_and_waits_longer():
    s = session()
    s.set_desired(("AAPL.US",))
    s.poll(0.0)
    actions = s.open_failed(OpenFailure(Failure.RATE_LIMIT, "HTTP 429 at the WebSocket upgrade"), 0.0)
    assert s.state is ConnectionState.RATE_LIMITED and EventKind.RATE_LIMITED in kinds(actions)
    assert s.seconds_to_attempt(0.0) >= 10.0


def test_state_notices_carry_their_cause():
    s = session()
    s.set_desired(("AAPL.US",))
    s.poll(0.0)
    actions = s.open_failed(OpenFailure(Failure.UNREACHABLE, "connection refused (127.0.0.1:9)"), 0.0)
    (n,) = [x for x in notices(actions) if x.state is not None]
    assert n.state is ConnectionState.UNREACHABLE and "refused" in n.message
