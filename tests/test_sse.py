"""The SSE decoder on DashScope's framing, split at every possible network boundary."""

import json

import pytest

from wan26._sse import SSEDecoder, SSEEvent

# DashScope's framing, as its official SDK parses it (https://pypi.org/project/dashscope/): no space after
# colons, a status comment, no [DONE].
STREAM = (
    'id:1\nevent:result\n:HTTP_STATUS/200\ndata:{"text":"Stir — 炒肉 ✓"}\n\n'
    'id:2\nevent:result\n:HTTP_STATUS/200\ndata:{"text":"café"}\n\n'
    'id:3\nevent:error\n:HTTP_STATUS/400\ndata:{"code":"InvalidParameter"}\n\n'
).encode()

EXPECTED = [
    SSEEvent("result", '{"text":"Stir — 炒肉 ✓"}', "1", ("HTTP_STATUS/200",)),
    SSEEvent("result", '{"text":"café"}', "2", ("HTTP_STATUS/200",)),
    SSEEvent("error", '{"code":"InvalidParameter"}', "3", ("HTTP_STATUS/400",)),
]


def decode_in_chunks(raw: bytes, size: int) -> list[SSEEvent]:
    decoder = SSEDecoder()
    events = []
    for start in range(0, len(raw), size):
        events += decoder.feed(raw[start : start + size])
    return events + decoder.close()


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 13, len(STREAM)])
def test_same_events_whatever_the_chunking(size):
    # Size 1 splits every line ending and every multi-byte UTF-8 character (炒 is 3 bytes).
    assert decode_in_chunks(STREAM, size) == EXPECTED


@pytest.mark.parametrize("size", [1, 2, 3, len(STREAM)])
def test_crlf_and_cr_line_endings_split_across_reads(size):
    for ending in (b"\r\n", b"\r"):
        assert decode_in_chunks(STREAM.replace(b"\n", ending), size) == EXPECTED


def test_json_survives_a_utf8_character_cut_in_half():
    raw = 'data:{"text":"准备"}\n\n'.encode()
    cut = raw.index("准".encode()) + 1  # inside the character
    decoder = SSEDecoder()
    events = decoder.feed(raw[:cut]) + decoder.feed(raw[cut:])
    assert json.loads(events[0].data) == {"text": "准备"}


def test_standard_framing_with_spaces_and_multiline_data():
    events = decode_in_chunks(b"event: update\ndata: line one\ndata: line two\n\n", 4)
    assert events == [SSEEvent("update", "line one\nline two")]


def test_last_event_without_blank_line_is_kept_at_close():
    assert decode_in_chunks(b'id:9\ndata:{"a":1}', 3) == [SSEEvent("message", '{"a":1}', "9")]


def test_heartbeat_comments_alone_produce_no_event():
    assert decode_in_chunks(b":keep-alive\n\n:keep-alive\n\n", 2) == []


def test_events_come_out_as_soon_as_their_blank_line_arrives():
    decoder = SSEDecoder()
    assert decoder.feed(b"data:first\n") == []
    assert decoder.feed(b"\ndata:sec") == [SSEEvent(data="first")]
    assert decoder.feed(b"ond\n\n") == [SSEEvent(data="second")]
