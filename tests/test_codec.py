import json
import math

import orjson
import pytest

from feed.protocol.codec import (
    Cmd,
    DropReason,
    Rejected,
    Request,
    Response,
    Ret,
    Tick,
    decode,
    decode_request,
    encode_cancel,
    encode_heartbeat,
    encode_response,
    encode_subscribe,
    encode_tick_push,
    parse_epoch_ms,
)


def test_heartbeat_is_22000_with_an_empty_data_object():
    msg = orjson.loads(encode_heartbeat(7, "hb-7"))
    assert msg == {"cmd_id": 22000, "seq_id": 7, "trace": "hb-7", "data": {}}


def test_subscribe_carries_the_full_list_in_order():
    msg = orjson.loads(encode_subscribe(["AAPL.US", "700.HK", "Silver"], 3, "s"))
    assert msg["cmd_id"] == 22004
    assert msg["data"] == {"symbol_list": [{"code": "AAPL.US"}, {"code": "700.HK"}, {"code": "Silver"}]}


def test_cancel_names_its_type():
    from feed.protocol.codec import CancelType

    assert orjson.loads(encode_cancel(CancelType.TICK, 1, "c"))["data"] == {"cancel_type": 2}


def test_seq_id_stays_within_uint32():
    assert orjson.loads(encode_heartbeat(2**32 + 5, "x"))["seq_id"] == 5


@pytest.mark.parametrize("integer_ids", [False, True], ids=["string-ids", "integer-ids"])
def test_tick_push_round_trips_with_string_or_integer_ids(integer_ids):
    frame = encode_tick_push(
        "AAPL.US", 27755950, 1751068801000, "201.187000", "174", "35006.1", 1, integer_ids=integer_ids
    )
    raw = orjson.loads(frame)["data"]
    assert isinstance(raw["seq"], int) is integer_ids
    assert decode(frame) == Tick("AAPL.US", 27755950, 1751068801000, 201.187, 174.0)


def test_seq_beyond_float_precision_is_kept_exact():
    big = 2**60 + 1
    tick = decode(encode_tick_push("700.HK", big, 1751068801000, "410.5", "1", "1"))
    assert tick.seq == big


NOW = 1751068801000


def _push(seq: object, time_ms: object) -> str:
    data = {"code": "700.HK", "seq": seq, "tick_time": time_ms, "price": "410.5", "volume": "1"}
    return json.dumps({"cmd_id": 22998, "data": data})  # the stdlib writes any integer


@pytest.mark.parametrize("as_text", [False, True])
@pytest.mark.parametrize(
    ("seq", "time_ms"),
    [(2**63, NOW), (2**64 - 1, NOW), (2**64, NOW), (-(2**63) - 1, NOW), (1, 2**63), (1, 2**64 - 1)],
)
def test_a_seq_or_time_past_64_bits_is_refused_by_both_ways(seq, time_ms, as_text):
    """msgspec reads up to 2**64 - 1 on the hot path; nothing downstream holds past 2**63 - 1."""
    for value in (seq, time_ms), (str(seq), str(time_ms)):
        event = decode(_push(*value) if as_text else _push(*value).encode())
        assert isinstance(event, Rejected) and event.reason == DropReason.MALFORMED, value
        # orjson reads an integer literal outside [-2**63, 2**64) as a float: that is named instead.
        as_float = any(isinstance(v, int) and not -(2**63) <= v < 2**64 for v in value)
        assert ("2**53" if as_float else "64 bits") in event.detail, event.detail
        assert event.code == "700.HK"
    edge = decode(_push(2**63 - 1, 2**63 - 1))
    assert isinstance(edge, Tick) and edge.seq == edge.time_ms == 2**63 - 1


def test_ten_digit_tick_time_is_read_as_seconds():
    assert parse_epoch_ms("1751068801") == 1751068801000
    assert parse_epoch_ms(1751068801000) == 1751068801000


@pytest.mark.parametrize(
    ("price", "reason"),
    [
        ("0", DropReason.NON_POSITIVE),
        ("-1.5", DropReason.NON_POSITIVE),
        ("nan", DropReason.NON_FINITE),
        ("inf", DropReason.NON_FINITE),
        ("1e999", DropReason.NON_FINITE),
        ("abc", DropReason.MALFORMED),
        (None, DropReason.MALFORMED),
        (True, DropReason.MALFORMED),
        ([], DropReason.MALFORMED),
    ],
)
def test_invalid_prices_are_rejected_with_a_reason(price, reason):
    frame = orjson.dumps(
        {"cmd_id": 22998, "data": {"code": "A.US", "seq": "1", "tick_time": "1751068801000", "price": price}}
    )
    event = decode(frame)
    assert isinstance(event, Rejected) and event.reason == reason


@pytest.mark.parametrize("missing", ["code", "seq", "tick_time", "price"])
def test_ticks_missing_a_field_are_malformed(missing):
    data = {"code": "A.US", "seq": "1", "tick_time": "1751068801000", "price": "1.0"}
    del data[missing]
    event = decode(orjson.dumps({"cmd_id": 22998, "data": data}))
    assert isinstance(event, Rejected) and event.reason == DropReason.MALFORMED


@pytest.mark.parametrize(
    "frame", [b"", b"\xff\xfe", b"[1,2]", b"null", b'{"cmd_id": 1}', b'{"cmd_id":22998}', b'"x"']
)
def test_garbage_frames_become_rejected_events(frame):
    assert isinstance(decode(frame), Rejected)


def test_responses_decode_with_their_ret():
    resp = decode('{"ret":600,"msg":"code invalid","cmd_id":22005,"seq_id":2,"trace":"t","data":{}}')
    assert resp == Response(cmd_id=22005, seq_id=2, trace="t", ret=600, msg="code invalid")
    assert not resp.ok and Ret(resp.ret).explanation == "code invalid"


def test_server_side_round_trip_echoes_seq_and_trace():
    req = decode_request(encode_subscribe(["AAPL.US"], 9, "trace-9"))
    assert isinstance(req, Request) and req.codes == ["AAPL.US"] and req.cmd_id == Cmd.TICK_SUBSCRIBE
    resp = decode(encode_response(req, Ret.OK))
    assert resp == Response(cmd_id=22005, seq_id=9, trace="trace-9", ret=200, msg="ok")


def test_server_answers_a_malformed_request_with_400():
    resp = decode_request('{"cmd_id":22000,"seq_id":1,"trace":"x","data":[]}')
    assert isinstance(resp, Response) and resp.ret == 400 and resp.cmd_id == 0


def test_volume_may_be_missing_or_empty():
    frame = orjson.dumps(
        {
            "cmd_id": 22998,
            "data": {"code": "GOLD", "seq": 1, "tick_time": 1751068801000, "price": "2400.1", "volume": ""},
        }
    )
    tick = decode(frame)
    assert isinstance(tick, Tick) and tick.volume == 0.0 and not math.isnan(tick.price)
