"""The quote book: validation and stale-tick drops, bounded history."""

import math

import pytest

from feed.book import QuoteBook
from feed.minutes import MinuteSeries
from feed.protocol.codec import Tick


def t(code="AAPL.US", seq=1, time_ms=1_000_000, price=100.0):
    return Tick(code, seq, time_ms, price, 1.0)


def book(**kw):
    b = QuoteBook(**kw)
    b.watch(["AAPL.US", "700.HK"])
    return b


def test_newer_ticks_replace_the_row():
    b = book()
    b.apply([t(seq=1, price=100.0), t(seq=2, time_ms=1_000_500, price=101.0)], 0.0)
    assert b.quotes["AAPL.US"].price == 101.0 and b.applied == 2


def test_duplicates_and_out_of_order_ticks_are_dropped_and_counted():
    b = book()
    b.apply([t(seq=5, time_ms=2_000, price=10.0)], 0.0)
    b.apply(
        [
            t(seq=5, time_ms=2_000, price=10.0),
            t(seq=4, time_ms=2_100, price=9.0),
            t(seq=6, time_ms=1_000, price=8.0),
        ],
        0.0,
    )
    assert b.quotes["AAPL.US"].price == 10.0
    assert b.drops == {"duplicate": 1, "out_of_order": 2}


def test_unknown_codes_never_reach_the_book():
    b = book()
    b.apply([t(code="MSFT.US")], 0.0)
    assert "MSFT.US" not in b.quotes and b.drops["unknown_code"] == 1


def test_non_finite_prices_are_refused_even_past_the_codec():
    b = book()
    b.apply([t(price=math.nan), t(seq=2, price=-1.0), t(seq=3, price=math.inf)], 0.0)
    assert "AAPL.US" not in b.quotes
    assert b.drops["non_finite"] == 2 and b.drops["non_positive"] == 1


def test_bad_print_is_held_until_confirmed():
    b = book(bad_print_band=0.1)
    b.apply([t(seq=1, price=100.0)], 0.0)
    b.apply([t(seq=2, time_ms=1_000_001, price=150.0)], 0.0)  # held
    assert b.quotes["AAPL.US"].price == 100.0
    b.apply([t(seq=3, time_ms=1_000_002, price=151.0)], 0.0)  # confirms the move
    assert b.quotes["AAPL.US"].price == 151.0


def test_unconfirmed_bad_print_is_dropped():
    b = book(bad_print_band=0.1)
    b.apply(
        [
            t(seq=1, price=100.0),
            t(seq=2, time_ms=1_000_001, price=1000.0),
            t(seq=3, time_ms=1_000_002, price=100.5),
        ],
        0.0,
    )
    assert b.quotes["AAPL.US"].price == 100.5 and b.drops["bad_print"] == 1


def test_unwatching_forgets_the_row():
    b = book()
    b.apply([t()], 0.0)
    b.watch(["700.HK"])
    assert "AAPL.US" not in b.quotes and "AAPL.US" not in b.history


def test_published_quotes_and_paths_are_immutable_copies():
    b = book()
    b.apply([t()], 0.0)
    quotes, path = b.publish_quotes(), b.path("AAPL.US")
    b.apply([t(seq=2, time_ms=1_000_001 + 60_000, price=2.0)], 0.0)
    assert quotes["AAPL.US"].price == 100.0 and path is not None and list(path.closes) == [100.0]
    with pytest.raises(TypeError):
        quotes["X"] = None  # type: ignore[index]


def test_apply_returns_the_accepted_ticks_in_order():
    b = book()
    first, dup, second = t(seq=1), t(seq=1), t(seq=2, time_ms=1_000_001, price=101.0)
    assert b.apply([first, dup, second], 0.0) == [first, second]


def test_minute_series_is_bounded_and_fills_gaps_forward():
    s = MinuteSeries(cap=5)
    s.update(100, 1.0)
    s.update(103, 2.0)
    assert s.points() == [(100, 1.0), (101, 1.0), (102, 1.0), (103, 2.0)]
    for m in range(104, 120):
        s.update(m, float(m))
    assert len(s) == 5 and s.points()[-1] == (119, 119.0) and s.points()[0][0] == 115


def test_minute_series_seed_keeps_newer_live_points():
    s = MinuteSeries()
    s.update(110, 9.0)
    s.seed([(100, 5.0, 5.5, 4.5, 5.0, 10.0), (105, 6.0, 6.0, 6.0, 6.0, 1.0), (110, 7.0, 7.0, 7.0, 7.0, 2.0)])
    pts = dict(s.points())
    assert pts[100] == 5.0 and pts[110] == 9.0
    assert s.bars(100)[0] == (100, 5.0, 5.5, 4.5, 5.0, 10.0)
    assert s.bars(101)[0] == (101, 5.0, 5.0, 5.0, 5.0, 0.0)  # a quiet minute: flat, no volume


def test_minute_bars_carry_open_high_low_close_and_volume():
    s = MinuteSeries()
    for price, size in ((10.0, 1.0), (12.0, 2.0), (9.0, 3.0), (11.0, 4.0)):
        s.update(500, price, size)
    s.update(501, 11.5, 1.0)
    assert s.bars() == [(500, 10.0, 12.0, 9.0, 11.0, 10.0), (501, 11.5, 11.5, 11.5, 11.5, 1.0)]


def test_the_push_of_a_trade_an_http_fetch_brought_first_makes_the_row_live_once():
    """A /trade-tick answer racing the push of the same trade: the row was "quiet" for good."""
    from feed.book import SOURCE_HTTP, SOURCE_PUSH

    b = book()
    b.apply([t(seq=7, time_ms=60_000, price=190.5)], 1.0, SOURCE_HTTP)
    accepted = b.apply([t(seq=7, time_ms=60_000, price=190.5)], 2.0)
    q = b.quotes["AAPL.US"]
    assert accepted and q.source == SOURCE_PUSH and q.received == 2.0 and q.price == 190.5
    assert b.history["AAPL.US"].v[-1] == 1.0  # the trade's volume counted once, not twice
    # A repeat of the push is still a duplicate, and an older push still moves nothing.
    assert not b.apply([t(seq=7, time_ms=60_000, price=190.5)], 3.0)
    assert b.quotes["AAPL.US"].received == 2.0
