"""The receive-side frame splitter, against frames built by websocket-client itself."""

import pytest
from websocket import ABNF

from feed.protocol.frames import OP_CLOSE, OP_PING, OP_TEXT, FrameError, FrameReader


def frame(payload: bytes, opcode: int = ABNF.OPCODE_TEXT, fin: int = 1, mask: int = 0) -> bytes:
    f = ABNF(fin, 0, 0, 0, opcode, mask, payload)
    return f.format()


@pytest.mark.parametrize("size", [0, 5, 125, 126, 65535, 65536, 300_000], ids=str)
def test_all_three_length_encodings_round_trip(size):
    payload = bytes(i % 251 for i in range(size))
    assert FrameReader().feed(frame(payload)) == [(OP_TEXT, payload)]


def test_frames_split_across_reads_in_any_place():
    data = frame(b'{"a":1}') + frame(b"x" * 200) + frame(b"tail")
    for cut in range(1, len(data)):
        r = FrameReader()
        got = r.feed(data[:cut]) + r.feed(data[cut:])
        assert got == [(OP_TEXT, b'{"a":1}'), (OP_TEXT, b"x" * 200), (OP_TEXT, b"tail")], cut


def test_fragmented_messages_are_reassembled_around_control_frames():
    data = (
        frame(b"hel", fin=0)
        + frame(b"ping!", opcode=ABNF.OPCODE_PING)
        + frame(b"lo ", opcode=ABNF.OPCODE_CONT, fin=0)
        + frame(b"world", opcode=ABNF.OPCODE_CONT)
    )
    assert FrameReader().feed(data) == [(OP_PING, b"ping!"), (OP_TEXT, b"hello world")]


def test_a_masked_frame_from_a_misbehaving_server_is_unmasked():
    assert FrameReader().feed(frame(b"masked text", mask=1)) == [(OP_TEXT, b"masked text")]


def test_close_frames_pass_through():
    assert FrameReader().feed(frame(b"\x03\xe8bye", opcode=ABNF.OPCODE_CLOSE)) == [(OP_CLOSE, b"\x03\xe8bye")]


@pytest.mark.parametrize(
    "data",
    [frame(b"x", opcode=ABNF.OPCODE_CONT), frame(b"a", fin=0) + frame(b"b")],
    ids=["stray-continuation", "interleaved-message"],
)
def test_broken_fragmentation_is_a_frame_error(data):
    with pytest.raises(FrameError):
        FrameReader().feed(data)


def test_absurd_lengths_are_refused_before_buffering():
    header = bytes([0x81, 127]) + (2**40).to_bytes(8, "big")
    with pytest.raises(FrameError):
        FrameReader().feed(header)
