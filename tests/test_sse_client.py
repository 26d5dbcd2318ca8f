"""The tests' SSE reader (``tests/sse_client.py``): what httpx-sse makes of the frames the app
writes, and the comments it never sees, however the bytes are cut."""

import random

import pytest

from app.realtime import sse
from tests.sse_client import FrameDecoder

WIRE = (
    sse.retry(1000)
    + sse.encode({"version": 3}, id=3)
    + sse.encode({"kind": "created"}, event="order")
    + sse.HEARTBEAT
    + sse.encode("déjà vu")
    + sse.retry(1500)
    + b": draining\n\n"
)
FRAMES = [
    {"event": "message", "data": None, "retry": "1000"},
    {"event": "message", "data": '{"version":3}', "id": "3"},
    {"event": "order", "data": '{"kind":"created"}', "id": "3"},
    {"event": "heartbeat", "data": "{}", "id": "3", "comment": "heartbeat"},
    {"event": "message", "data": "déjà vu", "id": "3"},
    {"event": "message", "data": None, "id": "3", "retry": "1500"},
    {"event": "message", "data": None, "id": "3", "comment": "draining"},
]


def read(pieces) -> list[dict]:
    decoder = FrameDecoder()
    frames = [frame for piece in pieces for frame in decoder.feed(piece)]
    return frames + decoder.end()


def test_frames_in_one_piece():
    """``id`` is the last event ID (as EventSource has it); ``retry`` alone is a frame."""
    assert read([WIRE]) == FRAMES


@pytest.mark.parametrize("seed", range(20))
def test_frames_cut_anywhere_even_inside_a_character(seed):
    rnd = random.Random(seed)
    inside_e_acute = WIRE.index("é".encode()) + 1
    cuts = sorted({*rnd.sample(range(1, len(WIRE)), 25), inside_e_acute})
    pieces = [WIRE[a:b] for a, b in zip([0, *cuts], [*cuts, len(WIRE)], strict=True)]
    assert read(pieces) == FRAMES


def test_each_piece_returns_the_frames_it_completes():
    decoder = FrameDecoder()
    assert decoder.feed(sse.retry(100)) == [{"event": "message", "data": None, "retry": "100"}]
    assert decoder.feed(b": why\n") == []
    assert decoder.feed(b"\n") == [{"event": "message", "data": None, "comment": "why"}]
    assert decoder.feed(b"data: unfinished") == []
    assert decoder.end() == []  # a frame without its blank line is dropped, as clients do
    assert decoder.end() == []
    with pytest.raises(ValueError):
        decoder.feed(b"data: late\n\n")
