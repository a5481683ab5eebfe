"""Issue 14's defects as a new user met them, each under AppTest (the e2e file covers layout).

Each test drives the real pages in demo mode and asserts what the user sees: it
failed on the code before the fix and passes after.
"""

from __future__ import annotations

import json
import time
import tomllib

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.support import run_until
from tests.test_app_pages import (  # noqa: F401
    ENTRY,
    ROOT,
    _add,
    _app,
    _demo_feed,
    _link,
    _priced,
    _watchlist,
    numbers,
)
from ui.live import COLUMN_WIDTHS, DISPLAY_ORDER
from ui.tables import SPARK_POINTS, snapshot_csv
from ui.watchlist import MAX_WATCHLIST

HEALTH = ROOT / "pages" / "3_Feed_health.py"
HK_300 = ", ".join(f"{n:04d}.HK" for n in range(1, 301))  # 2,700 characters


def _errors(at: AppTest) -> str:
    return "\n".join(e.value for e in at.sidebar.error)


# 1. A long paste -------------------------------------------------------------------------


def test_1_a_300_symbol_paste_fills_the_list_to_the_cap_and_says_why_the_rest_is_not_added() -> None:
    at = _app().run()
    box = at.sidebar.text_input(key="wl_add_text")
    assert box.proto.max_chars == 0  # the browser no longer drops a paste over 2,000 characters
    assert len(HK_300) > 2000
    _add(at, HK_300)
    wl = _watchlist(at)
    assert len(wl) == MAX_WATCHLIST
    assert wl[10:12] == ["1.HK", "2.HK"]  # the defaults first, then the paste in order
    errors = _errors(at)
    # 300 codes: 5.HK was a default already, 190 fit, the other 109 are named and counted.
    assert f"at most {MAX_WATCHLIST} symbols" in errors and "109 more were not added" in errors


# 6. ...whose success message stays short -----------------------------------------------------


def test_6_the_success_message_of_a_long_paste_names_a_few_codes_and_counts_the_rest() -> None:
    at = _app().run()
    _add(at, HK_300)
    (ok,) = at.sidebar.success
    assert ok.value.startswith("Added 190 symbols: 1\\.HK, 2\\.HK")
    assert "and 182 more" in ok.value
    assert ok.value.count("\\.HK") == 8


# 2. Paused: the grid and the CSV hold the same, frozen prices -----------------------------------


def test_2_paused_the_grid_stays_and_the_csv_holds_exactly_what_it_shows() -> None:
    at = run_until(_app(symbols="BTCUSDT,USDHKD,AAPL.US"), _priced)
    at.sidebar.toggle(key="ui_live").set_value(False).run()
    frozen = at.dataframe[0].value.copy()
    assert set(frozen["Status"]) == {"paused"}  # 11: rows no longer say "live"
    time.sleep(2.5)  # the simulator moves every symbol several times meanwhile
    at.run()
    again = at.dataframe[0].value
    assert again["Last"].tolist() == frozen["Last"].tolist()
    shown = at.session_state["view_shown"].frame
    lines = snapshot_csv(shown).decode().splitlines()
    header = lines[0].split(",")
    csv_last = [round(float(line.split(",")[header.index("last")]), 5) for line in lines[1:]]
    shown_last = numbers(frozen["Last"]).tolist()
    assert csv_last == [round(v, 5) for v in shown_last] or all(
        abs(a - b) < 0.006 for a, b in zip(csv_last, shown_last, strict=True)
    )
    assert any("Paused at" in c.value for c in at.caption)
    from feed.runtime import get_manager

    live = get_manager().snapshot(["BTCUSDT", "USDHKD", "AAPL.US"])["last"].tolist()
    assert live != [float(line.split(",")[header.index("last")]) for line in lines[1:]]  # the feed did move
    at.sidebar.toggle(key="ui_live").set_value(True).run()
    assert "paused" not in set(at.dataframe[0].value["Status"])


# 3. The grid's columns: numbers first, Symbol pinned, widths that fit --------------------------


def test_3_the_grid_pins_symbol_and_puts_the_numbers_first() -> None:
    at = run_until(_app(), _priced)
    config = json.loads(at.dataframe[0].proto.columns)
    assert config["Symbol"]["pinned"] is True
    assert DISPLAY_ORDER[:4] == ("Symbol", "Last", "Change", "% Chg")
    assert sum(COLUMN_WIDTHS[c] for c in DISPLAY_ORDER[:4]) <= 368  # a 400 px phone, less padding
    assert sum(COLUMN_WIDTHS.values()) <= 900  # beside an open sidebar at 1280 px (e2e measures)


# 4. Shared links -----------------------------------------------------------------------------


def test_4_a_link_of_only_bad_symbols_says_so_and_loads_no_defaults() -> None:
    at = _app(symbols="FOO.BAR,<b>x</b>").run()
    assert not at.exception
    assert _watchlist(at) == []
    errors = _errors(at)
    assert "None of the link's entries is a symbol" in errors
    assert "`FOO.BAR`" in errors and "`<b>x</b>`" in errors
    assert "past" not in errors.lower()  # it speaks of the link, not of pasting
    assert _link(at) == "FOO.BAR,<b>x</b>"  # the address is left as shared


def test_4_a_link_of_10000_symbols_keeps_the_first_200_and_counts_the_rest() -> None:
    at = _app(symbols=",".join(f"{n}.HK" for n in range(1, 10_001))).run()
    assert not at.exception
    assert _watchlist(at) == [f"{n}.HK" for n in range(1, 201)]
    errors = _errors(at)
    assert "From the link: kept 200 symbols." in errors
    assert "the link's first 200 were kept and 9,800 more were dropped" in errors
    assert _link(at) == ",".join(f"{n}.HK" for n in range(1, 201))


# 5. Clear asks, can be undone, and Back restores --------------------------------------------


def test_5_clear_is_confirmed_and_undone() -> None:
    at = _app().run()
    before = _watchlist(at)
    assert not at.button(key="wl_clear").value
    menu = [b for b in at.sidebar.get("popover")]
    assert menu  # the clear button sits behind a confirming popover
    at.button(key="wl_clear").click().run()
    assert _watchlist(at) == []
    at.button(key="wl_undo_button").click().run()
    assert _watchlist(at) == before


def test_5_back_after_clear_restores_the_list_from_the_address() -> None:
    at = _app().run()
    before = _watchlist(at)
    old_link = _link(at)
    at.button(key="wl_clear").click().run()
    assert _watchlist(at) == [] and _link(at) == ""
    at.query_params["symbols"] = old_link  # what the browser's Back sends
    at.run()
    assert _watchlist(at) == before


# 8. Input as Chinese input methods and copy-paste produce it ------------------------------------


@pytest.mark.parametrize(
    ("text", "added"),
    [
        pytest.param("600519，000001", ["600519.SH", "000001.SZ"], id="full-width-comma"),
        pytest.param("600519、ＡＡＰＬ；７００", ["600519.SH", "AAPL.US", "700.HK"], id="full-width-forms"),
        pytest.param("BRK.B", ["BRK.B.US"], id="class-share"),
        pytest.param("AAPL\u200b", ["AAPL.US"], id="zero-width-space"),
        pytest.param("\ufeffMSFT", ["MSFT.US"], id="bom"),
    ],
)
def test_8_typed_forms_are_added(text: str, added: list[str]) -> None:
    at = _app(symbols="TSLA.US").run()
    _add(at, text)
    assert not at.sidebar.error, _errors(at)
    assert _watchlist(at) == ["TSLA.US", *added]


def test_8_a_double_hyphen_is_quoted_literally() -> None:
    at = _app().run()
    _add(at, "--")
    assert "`--` is not a valid symbol" in _errors(at)  # a code span: never an em dash


# 9. Words are not tickers; invalid codes are this watchlist's, named and removable -----------------


def test_9_sql_is_not_turned_into_tickers() -> None:
    at = _app().run()
    before = _watchlist(at)
    _add(at, "'; DROP TABLE users; --")
    assert _watchlist(at) == before
    errors = _errors(at)
    assert "looks like text" in errors and "`DROP`" in errors and "`users`" in errors
    assert not at.sidebar.success


def test_9_unknown_codes_are_named_with_their_cause_removable_and_kept_to_their_watchlist() -> None:
    def refused(a: AppTest) -> bool:
        return any("AllTick refused" in w.value for w in a.warning)

    mine = run_until(_app(symbols="AAPL.US,ZZZQ.US"), refused, timeout=20)
    (warning,) = [w for w in mine.warning if "AllTick refused" in w.value]
    assert "ZZZQ\\.US" in warning.value and "does not know" in warning.value
    assert "plan streams" not in warning.value  # not filed under an unrelated plan note
    other = run_until(AppTest.from_file(str(HEALTH), default_timeout=30), lambda a: len(a.dataframe) >= 2)
    assert not [
        d for d in other.dataframe if "Reason" in d.value.columns and "ZZZQ.US" in set(d.value["Symbol"])
    ]
    assert any("accepted every code" in c.value for c in other.caption)
    mine.button(key="quotes_alerts_remove_invalid").click().run()
    assert _watchlist(mine) == ["AAPL.US"]


# 10. A refused token ---------------------------------------------------------------------------


def _auth_script(cause: str) -> None:
    import streamlit as st

    from feed.model import FeedEvent, FeedStatus
    from tests.test_ui_support import snapshot_frame
    from ui.live import feed_alerts, notify_events
    from ui.tables import mark_auth_failed, quotes_table

    st.session_state.setdefault("feed_last_event_seq", 0)
    event = FeedEvent(1, __import__("datetime").datetime.now(), "auth failed", "http", cause)
    status = FeedStatus(
        demo=False,
        plan="free",
        max_connections=1,
        max_codes=5,
        connections=(),
        events=(event,),
        auth_error=cause,
    )
    snap = snapshot_frame()
    snap["freshness"] = "waiting"
    feed_alerts(snap, status)
    notify_events(status)
    st.dataframe(quotes_table(mark_auth_failed(snap, status)))


@pytest.mark.parametrize(
    "cause",
    ["HTTP API rejected the token (401): check ALLTICK_TOKEN", "the HTTP API answered 401 Unauthorized"],
)
def test_10_a_refused_token_is_said_once_rows_say_auth_failed_and_the_toast_names_the_http_api(
    cause: str,
) -> None:
    at = AppTest.from_function(_auth_script, args=(cause,), default_timeout=30).run()
    assert not at.exception
    (error,) = at.error
    assert error.value.replace("\\", "").count("ALLTICK_TOKEN") == 1
    assert set(at.dataframe[0].value["Status"]) == {"auth failed"}
    (toast,) = at.toast
    assert toast.value.replace("\\", "").startswith("HTTP API:")
    assert "Http feed" not in toast.value


# 11. Counts, toasts, accessible numbers --------------------------------------------------------


def test_11_one_symbol_is_singular() -> None:
    at = run_until(_app(symbols="AAPL.US,700.HK,9988.HK"), _priced)
    labels = [m.label for m in at.metric]
    assert "US stocks · 1 symbol" in labels and "Hong Kong stocks · 2 symbols" in labels
    assert "1 symbols" not in " ".join(labels)


def _toasts_script() -> None:
    import datetime as dt

    import streamlit as st

    from feed.model import EventKind, FeedEvent, FeedStatus
    from ui.live import notify_events

    runs = st.session_state.get("runs", 0)
    st.session_state["runs"] = runs + 1
    t0 = dt.datetime(2026, 11, 25, 15, 0, tzinfo=dt.UTC)
    connected = [FeedEvent(i, t0, EventKind.CONNECTED, m, f"connected ({m})") for i, m in enumerate("ABC", 1)]
    drops = [FeedEvent(i, t0, EventKind.DISCONNECTED, m, "lost") for i, m in enumerate(["US", "HK"], 4)]
    events = tuple(connected + (drops if runs >= 2 else []))
    notify_events(
        FeedStatus(demo=True, plan="p", max_connections=1, max_codes=5, connections=(), events=events)
    )


def test_11_connecting_is_not_news_and_several_events_make_one_toast() -> None:
    at = AppTest.from_function(_toasts_script, default_timeout=30).run()
    at.run()  # three links came up: no toast covers the market filter
    assert not at.toast
    at.run()
    (toast,) = at.toast
    assert "Hong Kong stocks WebSocket" in toast.value and "1 more feed event" in toast.value


def test_11_the_grid_holds_rounded_numbers_and_short_sparklines() -> None:
    def sparked(a: AppTest) -> bool:
        return _priced(a) and all(len(v) > 3 for v in a.dataframe[0].value["Today"])

    at = run_until(_app(symbols="AAPL.US,1810.HK,USDCNH"), sparked)
    table = at.dataframe[0].value
    assert all(len(v) <= SPARK_POINTS for v in table["Today"])
    assert all(round(x, 2) == x for v in table["Today"] for x in v)  # % since prev close, 2 dp
    for col in ("Last", "Prev close", "Change"):
        assert all(round(x, 5) == x for x in numbers(table[col]).dropna())
    assert all(round(x, 2) == x for x in table["% Chg"].dropna())
    assert at.dataframe[0].proto.alt == "Quotes of 3 symbols"


# 12. Light and dark themes ----------------------------------------------------------------------


def test_12_the_theme_follows_the_browser_with_both_themes_defined() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    theme = config["theme"]
    assert "base" not in theme  # a fixed base would override prefers-color-scheme
    assert theme["light"]["backgroundColor"] != theme["dark"]["backgroundColor"]
    from ui.colors import BACKGROUNDS

    assert theme["light"]["backgroundColor"] == BACKGROUNDS["light"]
    assert theme["dark"]["backgroundColor"] == BACKGROUNDS["dark"]


@pytest.mark.parametrize(("locale", "spark"), [("en-US", "auto"), ("zh-CN", "auto-inverse")])
def test_12_the_grid_fixes_no_colour_its_sparklines_follow_the_convention(locale: str, spark: str) -> None:
    """No Styler (its per-rerun cost was most of a viewer's): nothing in the grid is painted in
    one theme's colour; direction shows as ▲/▼ and in the sparkline, in the viewer's convention."""
    at = AppTest.from_file(str(ENTRY), default_timeout=30)
    at.context = {"theme": "light", "locale": locale}
    at = run_until(at, lambda a: _priced(a) and a.dataframe[0].value["Prev close"].ne("—").all())
    assert not at.dataframe[0].proto.arrow_data.styler.styles
    config = json.loads(at.dataframe[0].proto.columns)
    assert config["Today"]["type_config"]["color"] == spark
    moves = at.dataframe[0].value["Change"]
    assert all(m.startswith(("▲ +", "▼ -")) or set(m) <= set("0.,") for m in moves)


@pytest.fixture(autouse=True)
def _clear_caches():
    yield
    st.cache_resource.clear()
