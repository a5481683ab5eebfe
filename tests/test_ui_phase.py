"""Live fragments on the wall clock's beat (ui/phase.py): the rule, then its use under AppTest.

Two replicas' pages redraw on browser timers started when each page's fragment first
reached the browser; behind the quote service each page starts its timer on the next
multiple of the period, and only when the browser (re)starts it.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from ui.phase import SLACK, phase_wait


@pytest.mark.parametrize(
    ("now", "period", "wait"),
    [
        (100.25, 1.0, 0.75),
        (100.99, 1.0, 0.01),
        (100.0, 1.0, 0.0),  # on the beat
        (100.0 + SLACK / 2, 1.0, 0.0),  # just past it: a second fragment started right after the first
        (100.6, 0.5, 0.4),
        (101.0, 2.0, 1.0),
        (5.0, 0.0, 0.0),  # no period: nothing to wait for
    ],
)
def test_the_wait_is_to_the_next_multiple_of_the_period(now, period, wait):
    assert phase_wait(now, period) == pytest.approx(wait, abs=1e-9)


def _page() -> None:
    import streamlit as st

    from ui.phase import live_fragment, note_page

    note_page(st.session_state.get("page", "Quotes"))
    waits = st.session_state.setdefault("waits", [])

    def live() -> None:
        st.write("live")

    live_fragment(
        live,
        st.session_state.get("period", 1.0),
        in_step=st.session_state.get("in_step", True),
        clock=lambda: 1_764_000_000.3,
        sleep=waits.append,
    )


def test_a_page_waits_for_the_beat_only_when_the_browser_starts_its_timer():
    at = AppTest.from_function(_page).run()
    assert not at.exception
    assert at.session_state["waits"] == [pytest.approx(0.7)]  # the session's first run
    at.run()
    assert len(at.session_state["waits"]) == 1  # a rerun of the same page keeps the beat
    at.session_state["period"] = 0.5
    at.run()
    assert at.session_state["waits"][-1] == pytest.approx(0.2)  # a new period: a new timer
    at.session_state["period"] = None
    at.run()
    at.session_state["period"] = 0.5
    at.run()
    assert len(at.session_state["waits"]) == 3  # paused, then resumed: the timer restarts
    at.session_state["page"] = "Heatmap"
    at.run()
    at.session_state["page"] = "Quotes"
    at.run()
    assert len(at.session_state["waits"]) == 5  # another page's run stopped this one's timer
    assert "live" in [m.value for m in at.markdown]


def test_a_local_feed_never_waits():
    at = AppTest.from_function(_page)
    at.session_state["in_step"] = False
    at.run()
    assert not at.exception and at.session_state["waits"] == []
