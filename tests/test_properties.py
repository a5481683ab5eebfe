"""Property tests: arbitrary bytes and JSON thrown at the codec and the book.

No exception may escape, and nothing invalid may ever reach a snapshot.
"""

import json
import math

import orjson
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from feed.book import QuoteBook
from feed.protocol.codec import Rejected, Response, Tick, decode, decode_request

CODES = ["AAPL.US", "700.HK", "GOLD"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)

scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["nan", "inf", "-1", "0", "1e999", "12.5", "", "0x10", "1_000"]),
)

tick_like = st.fixed_dictionaries(
    {},
    optional={
        "code": st.sampled_from(CODES) | st.text(max_size=8) | st.integers(),
        "seq": scalar,
        "tick_time": scalar,
        "price": scalar,
        "volume": scalar,
        "turnover": scalar,
        "trade_direction": scalar,
    },
)


@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_raise(frame):
    assert isinstance(decode(frame), Tick | Response | Rejected)
    decode_request(frame)


@given(json_values)
def test_arbitrary_json_never_raises(value):
    frame = json.dumps(value).encode()  # stdlib: big ints and NaN tokens included
    assert isinstance(decode(frame), Tick | Response | Rejected)


@settings(max_examples=300)
@given(st.lists(tick_like, max_size=30))
def test_nothing_invalid_reaches_the_snapshot(pushes):
    book = QuoteBook()
    book.watch(CODES)
    highest: dict[str, tuple[int, int]] = {}
    for data in pushes:
        frame = json.dumps({"cmd_id": 22998, "data": data}).encode()
        event = decode(frame)
        if isinstance(event, Tick):
            for t in book.apply([event], 0.0):
                # The book only ever moves forward: each accepted tick is newer than the last.
                assert t.code not in highest or (t.seq, t.time_ms) > highest[t.code]
                assert t.seq >= highest.get(t.code, (t.seq, 0))[0]
                highest[t.code] = (t.seq, t.time_ms)
    quotes = book.publish_quotes()
    for code, q in quotes.items():
        assert code in CODES
        assert isinstance(q.price, float) and math.isfinite(q.price) and q.price > 0
        assert q.time_ms > 0
        assert (q.seq, q.time_ms) == highest[code]  # the row is the newest accepted tick
    for code, series in book.history.items():
        assert all(math.isfinite(p) and p > 0 for _, p in series.points()), code


@settings(max_examples=300, deadline=None)
@given(
    first=st.integers(min_value=0, max_value=50),
    closes=st.lists(st.floats(min_value=0.01, max_value=1e6), max_size=60),
    quote_min=st.none() | st.integers(min_value=-5, max_value=120),
    points=st.sampled_from([1, 2, 5, 24, 120]),
)
def test_sparkline_is_the_thinned_path(first, closes, quote_min, points) -> None:
    """The fast sparkline equals today's path (``path_points``) thinned, first and newest kept."""
    from types import MappingProxyType

    from feed.book import MinutePath, Quote
    from feed.snapshot import Snapshot
    from feed.view import path_points, sparkline

    base = 29_000_000
    paths = {"X": MinutePath(base + first, tuple(closes))} if closes else {}
    quotes = {}
    if quote_min is not None:
        quotes["X"] = Quote("X", 9.5, 1, (base + first + quote_min) * 60_000 + 1234, 1.0, 0.0, "push")
    snap = Snapshot(paths=MappingProxyType(paths), quotes=MappingProxyType(quotes))
    full = [p for _, p in path_points(snap, "X")]
    if len(full) > points > 1:
        step = (len(full) - 1) / (points - 1)
        full = [full[round(i * step)] for i in range(points)]
    assert sparkline(snap, "X", points) == full


numeric_text = st.one_of(
    st.integers(min_value=-(2**64), max_value=2**64).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=4).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["1764600000000", "1764600000", "1.7646e12", "5.0", "1e3", " 5", "+5", "5_0", ".5"]),
)
push_value = st.one_of(scalar, numeric_text)


@settings(max_examples=500)
@given(
    st.fixed_dictionaries(
        {"code": st.sampled_from(CODES) | st.text(max_size=4)},
        optional={"seq": push_value, "tick_time": push_value, "price": push_value, "volume": push_value},
    ),
    st.booleans(),
)
# Integer literals just past 64 bits, which orjson reads as floats (found by hand, not
# by the search: the careful way once turned -(2**63) - 1 into -(2**63)).
@example({"code": "A.US", "seq": -(2**63) - 1, "tick_time": "1764600000000", "price": "1.5"}, True)
@example({"code": "A.US", "seq": 2**64, "tick_time": "1764600000000", "price": "1.5"}, False)
@example({"code": "A.US", "seq": 1, "tick_time": 2**64, "price": "1.5"}, True)
def test_the_hot_path_decodes_a_push_exactly_as_the_careful_way(data, as_text):
    # decode() tries msgspec's typed parser first and falls back to orjson and
    # tick_from_fields; whichever way a push goes, the result must be the same.
    from feed.protocol.codec import tick_from_fields

    try:
        frame = json.dumps({"cmd_id": 22998, "data": data}, allow_nan=False)
    except ValueError:
        assume(False)  # NaN or infinity as a JSON number: not JSON, neither way reads it
    got = decode(frame if as_text else frame.encode())
    careful = tick_from_fields(orjson.loads(frame)["data"])  # what the careful way parses with
    if isinstance(careful, Tick):
        assert got == careful
        assert all(type(a) is type(b) for a, b in zip(got, careful, strict=True))
    else:
        assert isinstance(got, Rejected)
