"""The SSE framer: events split anywhere, every line ending, comments, multi-line data, UTF-8."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telnyx_ai import APIError
from telnyx_ai._streams import sse as sse_module
from telnyx_ai._streams.sse import ServerSentEvent, SSEDecoder


def feed_all(pieces: list[bytes], **kwargs: int) -> list[ServerSentEvent]:
    decoder = SSEDecoder(**kwargs)
    events: list[ServerSentEvent] = []
    for piece in pieces:
        events.extend(decoder.feed(piece))
    return events


def feed_split_all(pieces: list[bytes]) -> list[ServerSentEvent]:
    """The events of ``pieces`` as `SSEDecoder.feed_split` hands them over, plain messages rebuilt as events."""
    splitter = SSEDecoder()
    rebuilt: list[ServerSentEvent] = []
    for piece in pieces:
        id_, retry = splitter._id, splitter._retry  # pyright: ignore[reportPrivateUsage]
        messages, events = splitter.feed_split(piece)
        rebuilt += [ServerSentEvent(data, "message", id_, retry) for data in messages] + events
    return rebuilt


def split_every(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def cut_into(wire: bytes, sizes: list[int]) -> list[bytes]:
    """``wire`` as reads of ``sizes`` bytes, then the rest in one read."""
    pieces, offset = [], 0
    for size in [*sizes, len(wire)]:
        pieces.append(wire[offset : offset + size])
        offset += size
    return pieces


def feed_named_all(pieces: list[bytes], frequent: tuple[bytes, ...]) -> list[tuple[bool, bytes]]:
    """(is it an error event, its data) for each event of ``pieces`` read with names dropped: whether the
    name of any other event is dropped depends on how the reads fall, so only ``error`` is compared."""
    decoder = SSEDecoder(drop_names=True, frequent_names=frequent)
    events: list[tuple[bool, bytes]] = []
    for piece in pieces:
        messages, others = decoder.feed_split(piece)
        events += [(False, m) for m in messages] + [(e.event == "error", e.data) for e in others]
    return events


STREAM = (
    ": keep-alive comment\n"
    "event: message\n"
    'data: {"text": "héllo — 世界 🚀"}\n'
    "id: 1\n"
    "\n"
    "data: line one\n"
    "data: line two\n"
    "\n"
    "data:no-space\n"
    "\n"
    "event: error\n"
    'data: {"error": {"message": "boom"}}\n'
    "\n"
    "data: [DONE]\n"
    "\n"
).encode()

EXPECTED = [
    ServerSentEvent('{"text": "héllo — 世界 🚀"}'.encode(), "message", "1"),
    ServerSentEvent(b"line one\nline two", "message", "1"),
    ServerSentEvent(b"no-space", "message", "1"),
    ServerSentEvent(b'{"error": {"message": "boom"}}', "error", "1"),
    ServerSentEvent(b"[DONE]", "message", "1"),
]


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"])
def test_every_line_ending_and_every_split_point(ending: bytes) -> None:
    data = STREAM.replace(b"\n", ending)
    assert feed_all([data]) == EXPECTED
    for cut in range(1, len(data)):
        assert feed_all([data[:cut], data[cut:]]) == EXPECTED, f"split at byte {cut}"


@pytest.mark.parametrize("size", [1, 2, 3, 7])
def test_byte_by_byte_including_multibyte_characters(size: int) -> None:
    assert feed_all(split_every(STREAM.replace(b"\n", b"\r\n"), size)) == EXPECTED


def test_crlf_pair_split_across_reads_is_one_line_ending() -> None:
    events = feed_all([b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"])
    assert events == [ServerSentEvent(b"a\nb")]


def test_leading_byte_order_mark_is_ignored_even_when_split() -> None:
    assert feed_all([b"\xef", b"\xbb", b"\xbfdata: x\n\n"]) == [ServerSentEvent(b"x")]


def test_a_byte_order_mark_after_the_first_read_is_not_dropped() -> None:
    """The first read starts with "data: " (the quick way); a BOM in a later read is part of its line, whose
    field name is then unknown, so that event has no data, as when the bytes arrive one at a time."""
    pieces = [b"data: a\n\n", b"\xef\xbb\xbfdata: b\n\ndata: c\n\n"]
    expected = [ServerSentEvent(b"a"), ServerSentEvent(b"c")]
    assert feed_all(pieces) == feed_all(split_every(b"".join(pieces), 1)) == expected
    assert feed_split_all(pieces) == expected


def test_event_without_data_is_not_dispatched_and_its_type_is_forgotten() -> None:
    assert feed_all([b"event: ping\n\ndata: x\n\n"]) == [ServerSentEvent(b"x", "message")]


def test_unfinished_event_at_end_is_not_dispatched() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: complete\n\ndata: partial") == [ServerSentEvent(b"complete")]
    assert decoder.feed(b"") == []


def test_retry_and_empty_data_field() -> None:
    events = feed_all([b"retry: 3000\ndata\ndata: x\n\n"])
    assert events == [ServerSentEvent(b"\nx", retry=3000)]


def test_a_line_longer_than_the_limit_raises_a_clear_error() -> None:
    decoder = SSEDecoder(max_event_bytes=1024)
    with pytest.raises(APIError, match="exceeded 1024 bytes"):
        for _ in range(10):
            decoder.feed(b"x" * 200)


def test_many_events_in_one_read() -> None:
    data = b"".join(b"data: %d\n\n" % i for i in range(1000))
    assert [e.data for e in feed_all([data])] == [str(i).encode() for i in range(1000)]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512), st.lists(st.integers(min_value=1, max_value=64), max_size=20))
def test_arbitrary_bytes_never_raise_anything_but_sdk_errors(data: bytes, sizes: list[int]) -> None:
    decoder = SSEDecoder(max_event_bytes=4096)
    offset = 0
    for size in [*sizes, len(data)]:
        try:
            decoder.feed(data[offset : offset + size])
        except APIError:
            return
        offset += size


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",))),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.integers(min_value=1, max_value=9),
)
def test_any_payload_survives_any_split(payloads: list[str], ending: str, size: int) -> None:
    wire = "".join(f"data: {p}{ending}{ending}" for p in payloads).encode()
    events = feed_all(split_every(wire, size))
    expected = [p.encode() for p in payloads]
    # A payload that is empty after "data: " still dispatches (one empty data line).
    assert [e.data for e in events] == expected


def test_a_long_line_over_many_reads_is_kept_in_pieces_not_rejoined() -> None:
    # Re-joining the unfinished line on every read would make a 4 MiB line in 4 KiB reads copy ~2 GiB.
    wire = b"data: " + b"x" * (4 * 1024 * 1024) + b"\n\n"
    reads = [wire[i : i + 4096] for i in range(0, len(wire), 4096)]
    decoder = SSEDecoder()
    for count, piece in enumerate(reads[:-1], start=1):
        assert decoder.feed(piece) == []
        assert len(decoder._partial) == count  # one stored piece per read, nothing copied
    events = decoder.feed(reads[-1])
    assert [len(e.data) for e in events] == [4 * 1024 * 1024]
    assert decoder._partial == []


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                b'data: {"n": 1}\n\n',
                b"data: plain\n\n",
                b"data: [DONE]\n\n",
                b"data: \n\n",
                b"id: 7\n\n",
                b"event: error\ndata: {}\n\n",
                b"data: one\ndata: two\n\n",
                b": comment\n\n",
                b"retry: 10\ndata: r\n\n",
            ]
        ),
        max_size=12,
    ),
    st.lists(st.integers(min_value=1, max_value=40), max_size=12),
)
def test_feed_split_gives_the_events_feed_gives(blocks: list[bytes], sizes: list[int]) -> None:
    # The fast path hands plain messages over as bytes; rebuilt, they are the events `feed` makes,
    # ids and retry values included, wherever the reads are cut.
    wire = b"".join(blocks)
    pieces = cut_into(wire, sizes)
    assert feed_split_all(pieces) == feed_all(pieces) == feed_all([wire])


EVENT_BLOCKS = [
    b'data: {"n": 1}\n\n',
    b"data: plain\n\n",
    b"data: [DONE]\n\n",
    b"data: \n\n",
    b"data:no-space\n\n",
    b"data: data: twice\n\n",
    b"id: 7\n\n",
    b"event: error\ndata: {}\n\n",
    b"event: named\ndata: x\n\n",
    b"data: one\ndata: two\n\n",
    b": comment\n\n",
    b"retry: 10\ndata: r\n\n",
    b"data: cr\r\n\r\n",
    b"data: lone cr\r\r",
    b"data: \xc3\xa9t\xc3\xa9 \xf0\x9f\x9a\x80\n\n",
    b"data: a\n\n\n\ndata: b\n\n",
]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from(EVENT_BLOCKS), min_size=1, max_size=5), max_size=8),
    st.booleans(),
)
def test_reads_of_whole_events_give_what_byte_by_byte_reads_give(reads: list[list[bytes]], bom: bool) -> None:
    """Reads that each hold whole events (the fast path's case when they are plain data lines) against the
    same bytes fed one at a time (never the fast path): the same events."""
    pieces = [b"".join(blocks) for blocks in reads]
    if bom and pieces:
        pieces[0] = b"\xef\xbb\xbf" + pieces[0]

    whole = feed_all(pieces)
    assert whole == feed_all(split_every(b"".join(pieces), 1))
    # ...and as `feed_split` hands them over (plain messages as bytes).
    assert feed_split_all(pieces) == whole


def test_a_read_of_whole_plain_events_is_split_into_their_data() -> None:
    decoder = SSEDecoder()
    assert decoder.feed_split(b"data: first\n\n") == ([b"first"], [])
    assert decoder.feed_split(b'data: {"a": 1}\n\ndata: \n\ndata: [DONE]\n\n') == ([b'{"a": 1}', b"", b"[DONE]"], [])
    # A second line in an event, a comment or a CR: not plain, read line by line.
    assert decoder.feed(b"data: x\ndata: y\n\ndata: z\n\n") == [ServerSentEvent(b"x\ny"), ServerSentEvent(b"z")]
    assert decoder.feed(b"data: x\n\n: ping\n\n") == [ServerSentEvent(b"x")]
    assert decoder.feed(b"data: x\r\n\r\ndata: y\n\n") == [ServerSentEvent(b"x"), ServerSentEvent(b"y")]
    # Over the size limit: the error, not the event.
    small = SSEDecoder(max_event_bytes=8)
    small.feed(b"data: ok\n\n")
    with pytest.raises(APIError, match="exceeded 8 bytes"):
        small.feed(b"data: far too long\n\n")


# -- named events whose data says its type (Responses, Anthropic): names dropped in the fast path --


def test_named_events_read_as_plain_messages_when_names_repeat_the_data() -> None:
    decoder = SSEDecoder(drop_names=True)
    body = b'event: ping\ndata: {"type":"ping"}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n'
    assert decoder.feed_split(body) == ([b'{"type":"ping"}', b'{"type":"message_stop"}'], [])


@pytest.mark.parametrize("frequent", [(), (b"content_block_delta", b"error")])
def test_named_events_keep_an_error_event_and_survive_any_split(frequent: tuple[bytes, ...]) -> None:
    body = (
        b'event: content_block_delta\ndata: {"a":1}\n\n'
        b'event: error\ndata: {"type":"error"}\n\n'
        b'event: content_block_delta\ndata: {"c":3}\n\n'
        b'event: message_stop\ndata: {"b":2}\n\n'
    )
    for cut in range(len(body) + 1):
        events = feed_named_all([body[:cut], body[cut:]], frequent)
        assert events == [(False, b'{"a":1}'), (True, b'{"type":"error"}'), (False, b'{"c":3}'), (False, b'{"b":2}')], (
            cut
        )


def test_without_drop_names_a_named_event_keeps_its_name() -> None:
    messages, events = SSEDecoder().feed_split(b"event: delta\ndata: {}\n\n")
    assert messages == [] and [(e.event, e.data) for e in events] == [("delta", b"{}")]


NAMED_BLOCKS = [
    b'event: content_block_delta\ndata: {"d":1}\n\n',
    b'event: message_start\ndata: {"s":2}\n\n',
    b'data: {"plain":3}\n\n',
    b'event: error\ndata: {"type":"error"}\n\n',
    b"event: content_block_delta\ndata: one\ndata: two\n\n",
    b": ping\n\n",
    b"data: \n\n",
    b"event: ping\n\n",
    b"event: error\nevent: renamed\ndata: {}\n\n",  # a later event line gives the event its name
]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(NAMED_BLOCKS), max_size=16),
    st.lists(st.integers(min_value=1, max_value=200), max_size=12),
)
def test_named_events_cut_anywhere_give_what_byte_by_byte_reads_give(blocks: list[bytes], sizes: list[int]) -> None:
    # Reads of many whole named events and a part of the next (the large read of an Anthropic or Responses
    # stream) are split in C once their names are dropped; against the same bytes one at a time (never that
    # path), the same data in the same order, and error events still named.
    wire = b"".join(blocks)
    frequent = (b"content_block_delta",)
    assert feed_named_all(cut_into(wire, sizes), frequent) == feed_named_all(split_every(wire, 1), frequent)


def test_a_large_read_of_named_events_and_a_part_gives_its_events_and_keeps_the_part() -> None:
    decoder = SSEDecoder(drop_names=True, frequent_names=(b"content_block_delta",))
    read = b'event: content_block_delta\ndata: {"a":1}\n\nevent: message_delta\ndata: {"b":2}\n\nevent: content_bl'
    assert decoder.feed_split(read) == ([b'{"a":1}', b'{"b":2}'], [])
    assert decoder.feed_split(b'ock_delta\ndata: {"c":3}\n\ndata: {"d"') == ([b'{"c":3}'], [])
    assert decoder.feed_split(b":4}\n\n") == ([b'{"d":4}'], [])


def test_an_oversized_event_after_plain_ones_in_one_read_is_refused_after_them() -> None:
    decoder = SSEDecoder(max_event_bytes=16)
    assert decoder.feed_split(b"data: ok\n\ndata: " + b"x" * 20 + b"\n\ndata: n") == ([b"ok"], [])
    with pytest.raises(APIError, match="exceeded 16 bytes"):
        decoder.feed_split(b"ext\n\n")


def test_a_reads_first_named_event_is_dropped_in_c_like_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    # A read that starts at an event's "event:" line (the usual large read after a held part) has its name
    # dropped with the rest, not left to the per-block loop (`_named_data`), which would then walk every block.
    def per_block(block: bytes) -> None:
        raise AssertionError(f"walked block by block: {block!r}")

    monkeypatch.setattr(sse_module, "_named_data", per_block)
    decoder = SSEDecoder(drop_names=True, frequent_names=(b"content_block_delta",))
    read = b'event: content_block_delta\ndata: {"a":1}\n\nevent: message_delta\ndata: {"b":2}\n\n'
    assert decoder.feed_split(read) == ([b'{"a":1}', b'{"b":2}'], [])


def test_a_named_event_of_many_lines_is_not_held_whole_between_reads() -> None:
    # Held whole, the unfinished event would be copied again by every read until it ended: quadratic.
    decoder = SSEDecoder(drop_names=True, frequent_names=(b"content_block_delta",))
    line = b"data: " + b"x" * 100 + b"\n"
    wire = b"event: content_block_delta\n" + line * 2000 + b"\n"
    held: list[int] = []
    got: list[bytes] = []  # (its name may be dropped: the data says what it is)
    for piece in split_every(wire, 4096):
        messages, events = decoder.feed_split(piece)
        got += messages + [e.data for e in events]
        held.append(decoder._partial_size)  # pyright: ignore[reportPrivateUsage]
    assert got == [b"\n".join([b"x" * 100] * 2000)]
    assert max(held) < 2 * len(line)
