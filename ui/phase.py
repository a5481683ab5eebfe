"""When a page's live fragment starts its timer: on the same beat on every replica.

Why: the browser side of Streamlit redraws a ``run_every`` fragment with a
``setInterval`` started when the fragment's timer message reaches it, and keeps that
timer while the page stays open with the same period. Two replicas' pages (or two tabs)
therefore redraw at the phases they happened to load at, and showed a new price up to
one period (plus a render) apart: ~1.1 s at the default 1 s refresh. Behind the quote
service, where replicas must agree, a page's full run waits, before it starts its live
fragment, for the next multiple of the period on the wall clock (machines' clocks agree
through NTP to a few ms), so every page redraws on the same beat. It waits only when the
browser's timer is (re)started: a session's first run of the page, a return to it from
another page, a new period, a resume; a sidebar change on the same page keeps the beat
and does not wait.

:func:`phase_wait` is pure; :func:`note_page` and :func:`live_fragment` run in the
script thread and keep their record in the session's own ``st.session_state``.
Thread ownership: the script thread of a run (one session's state).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

__all__ = ["SLACK", "live_fragment", "note_page", "phase_wait"]

STATE = "_live_phase"  # session_state: {"page": title, "periods": {fragment: period}}
SLACK = 0.05  # seconds after a beat that count as on it (a second fragment started right after)


def phase_wait(now: float, period: float, slack: float = SLACK) -> float:
    """Seconds from ``now`` (epoch seconds) to the next multiple of ``period``; 0 when
    ``now`` is at most ``slack`` past one (or the period is not positive)."""
    if period <= 0:
        return 0.0
    since = now % period
    return 0.0 if since <= slack else period - since


def note_page(title: str) -> None:
    """Called by every page's full run: another page's run stopped this page's timers."""
    import streamlit as st

    record = st.session_state.get(STATE)
    if record is None or record.get("page") != title:
        st.session_state[STATE] = {"page": title, "periods": {}}


def live_fragment(
    fn: Callable[[], Any],
    run_every: float | None,
    *,
    in_step: bool,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """``st.fragment(fn, run_every=run_every)()``, its timer started on the beat when ``in_step``."""
    import streamlit as st

    record = st.session_state.setdefault(STATE, {"page": None, "periods": {}})
    name = fn.__qualname__
    if not run_every:
        record["periods"].pop(name, None)  # paused: the browser drops the timer
    elif in_step and record["periods"].get(name) != run_every:
        sleep(phase_wait(clock(), run_every))
        record["periods"][name] = run_every
    st.fragment(fn, run_every=run_every)()
