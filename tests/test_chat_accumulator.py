"""The tool-call merge, property-based: any fragmentation of any calls rebuilds them byte for byte."""

from __future__ import annotations

import tracemalloc
from dataclasses import dataclass
from itertools import pairwise

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from telnyx_ai._streams.chat import ChatAccumulator
from telnyx_ai.types.chat import ChatCompletionChunk


@dataclass(frozen=True)
class Call:
    choice: int
    index: int
    id: str
    name: str
    arguments: str


def _cuts(text: str, data: st.DataObject) -> list[str]:
    """``text`` cut at random places (empty pieces allowed)."""
    points = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=6)))
    bounds = [0, *points, len(text)]
    return [text[a:b] for a, b in pairwise(bounds)]


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[Call], list[dict[str, object]]]:
    """Calls over up to three choices, and the deltas that stream them, in a random valid order.

    Per choice, calls either take fresh indices (and then interleave freely, their ids possibly
    arriving late) or all share index 0 (servers that number every call 0), one call after another.
    """
    data = draw(st.data())
    calls: list[Call] = []
    queues: list[list[dict[str, object]]] = []
    for choice in range(draw(st.integers(1, 3))):
        shared_index = draw(st.booleans())
        for number in range(draw(st.integers(1, 3))):
            name = draw(st.sampled_from(["get_weather", "lookup", "send_sms"]))
            arguments = draw(st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40))
            call = Call(choice, 0 if shared_index else number, f"call_{choice}_{number}", name, arguments)
            calls.append(call)
            pieces = _cuts(arguments, data)
            # The id rides on a fragment of its own choosing (late ids) unless calls share an index.
            id_at = 0 if shared_index else data.draw(st.integers(0, len(pieces) - 1))
            repeat_name = data.draw(st.booleans())
            fragments: list[dict[str, object]] = []
            for position, piece in enumerate(pieces):
                fragment: dict[str, object] = {"index": call.index, "function": {"arguments": piece}}
                if position == id_at:
                    fragment["id"] = call.id
                if position == 0 or repeat_name:
                    fragment["function"] = {"name": name, "arguments": piece}
                    fragment["type"] = "function"
                fragments.append({"choice": choice, "fragment": fragment})
            if shared_index and queues and queues[-1] and queues[-1][0]["choice"] == choice:
                queues[-1].extend(fragments)  # one after another, never interleaved
            else:
                queues.append(fragments)
    order: list[dict[str, object]] = []
    while any(queues):
        queue = data.draw(st.sampled_from([q for q in queues if q]))
        order.append(queue.pop(0))
    return calls, order


def _chunks(order: list[dict[str, object]], data: st.DataObject) -> list[bytes]:
    """The deltas grouped into chunks: each chunk takes a run of fragments, one choice entry per fragment."""
    chunks: list[bytes] = []
    position = 0
    while position < len(order):
        size = data.draw(st.integers(1, 3))
        group = order[position : position + size]
        position += size
        choices = [{"index": item["choice"], "delta": {"tool_calls": [item["fragment"]]}} for item in group]
        chunks.append(msgspec.json.encode({"id": "chatcmpl-1", "choices": choices}))
    return chunks


@settings(max_examples=300, deadline=None)
@given(scenarios(), st.data())
def test_any_fragmentation_rebuilds_every_call_byte_for_byte(
    scenario: tuple[list[Call], list[dict[str, object]]], data: st.DataObject
) -> None:
    calls, order = scenario
    accumulator = ChatAccumulator()
    decoder = msgspec.json.Decoder(ChatCompletionChunk)
    raw = _chunks(order, data)
    split = data.draw(st.integers(0, len(raw)))
    accumulator.add([decoder.decode(c) for c in raw[:split]])  # in two batches, like two network reads
    accumulator.add([decoder.decode(c) for c in raw[split:]])
    completion = accumulator.completion()

    for choice in completion.choices:
        expected = sorted((c for c in calls if c.choice == choice.index), key=lambda c: c.index)
        got = choice.message.tool_calls or []
        assert [(t.id, t.type, t.function.name if t.function else None) for t in got] == [
            (c.id, "function", c.name) for c in expected
        ]
        assert [(t.function.arguments if t.function else "").encode() for t in got] == [
            c.arguments.encode() for c in expected
        ]
    assert sorted(c.index for c in completion.choices) == sorted({c.choice for c in calls})


def test_content_reasoning_finish_usage_and_logprobs_are_kept() -> None:
    decoder = msgspec.json.Decoder(ChatCompletionChunk)
    raw = [
        {
            "id": "c9",
            "model": "m",
            "created": 5,
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}],
        },
        {"choices": [{"index": 0, "delta": {"reasoning_content": "think "}}]},
        {"choices": [{"index": 0, "delta": {"reasoning_content": "more"}}]},
        {"choices": [{"index": 1, "delta": {"content": "B"}, "logprobs": {"content": [{"token": "B"}]}}]},
        {"choices": [{"index": 0, "delta": {"content": "A"}, "logprobs": {"content": [{"token": "A"}]}}]},
        {"choices": [{"index": 0, "delta": {"content": "a"}, "logprobs": {"content": [{"token": "a"}]}}]},
        {
            "id": "other",
            "choices": [
                {"index": 0, "delta": {}, "finish_reason": "length"},
                {"index": 1, "delta": {}, "finish_reason": "stop"},
            ],
        },
        {"choices": [], "usage": {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5}},
    ]
    accumulator = ChatAccumulator()
    accumulator.add([decoder.decode(msgspec.json.encode(c)) for c in raw])
    completion = accumulator.completion()
    assert (completion.id, completion.model, completion.created) == ("c9", "m", 5)
    assert completion.usage is not None and completion.usage.total_tokens == 5
    first, second = completion.choices
    assert (first.index, first.message.content, first.message.reasoning_content, first.finish_reason) == (
        0,
        "Aa",
        "think more",
        "length",
    )
    assert first.logprobs == {"content": [{"token": "A"}, {"token": "a"}]}
    assert (second.index, second.message.content, second.message.reasoning_content, second.finish_reason) == (
        1,
        "B",
        None,
        "stop",
    )
    assert first.message.tool_calls is None


def decoded(raw: list[dict[str, object]]) -> list[ChatCompletionChunk]:
    decoder = msgspec.json.Decoder(ChatCompletionChunk)
    return [decoder.decode(msgspec.json.encode(c)) for c in raw]


def test_thousands_of_small_deltas_over_several_choices_add_up_exactly() -> None:
    """Far more deltas than are ever held one by one: content, reasoning and tool-call arguments of three
    choices, interleaved, folded in batches of every size; the reply is the same text, character for character."""
    choices = 3
    contents: list[list[str]] = [[] for _ in range(choices)]
    reasoning: list[str] = []
    arguments = [[f'{{"n": {n}, "city": "Zürich ☀"' if n == 0 else f', "k{n}": "{n}é"' for n in range(700)] + ["}"]]
    raw: list[dict[str, object]] = [
        {"id": "c1", "model": "m", "created": 1, "choices": [{"index": 0, "delta": {"role": "assistant"}}]}
    ]
    for n in range(3_000):
        index = n % choices
        piece = ["a", "é", "☀", " ", "", "bc"][n % 6]
        contents[index].append(piece)
        delta: dict[str, object] = {"content": piece}
        if index == 0 and n % 5 == 0:
            delta["reasoning_content"] = f"r{n}"
            reasoning.append(f"r{n}")
        raw.append({"choices": [{"index": index, "delta": delta}]})
    for position, fragment in enumerate(arguments[0]):
        call: dict[str, object] = {"index": 0, "function": {"arguments": fragment}}
        if position == 0:
            call |= {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": fragment}}
        raw.append({"choices": [{"index": 2, "delta": {"tool_calls": [call]}}]})
    raw.append({"choices": [{"index": i, "delta": {}, "finish_reason": "stop"} for i in range(choices)]})
    chunks = decoded(raw)
    for batch in (1, 7, 64, 65, 1_000, len(chunks)):
        accumulator = ChatAccumulator()
        for start in range(0, len(chunks), batch):
            accumulator.add(chunks[start : start + batch])
        completion = accumulator.completion()
        assert [c.message.content for c in completion.choices] == ["".join(pieces) for pieces in contents]
        assert completion.choices[0].message.reasoning_content == "".join(reasoning)
        assert completion.choices[1].message.reasoning_content is None
        [tool] = completion.choices[2].message.tool_calls or []
        assert tool.id == "call_1" and tool.function is not None and tool.function.name == "lookup"
        assert tool.function.arguments == "".join(arguments[0])
        assert msgspec.json.decode(tool.function.arguments)["k699"] == "699é"
        assert accumulator.final_text() == "".join(contents[0])


def test_an_open_streams_accumulator_holds_about_its_text() -> None:
    """20,000 deltas of 4 characters: held as one string each, some 1.2 MB; folded, little more than the 80 KB of text."""
    chunks = decoded([{"choices": [{"index": 0, "delta": {"content": f"t{n % 100:02d} "}}]} for n in range(256)])
    accumulator = ChatAccumulator()
    accumulator.add(chunks[:1])
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for _ in range(20_000 // len(chunks)):
            accumulator.add(chunks)
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    text = accumulator.final_text()
    assert len(text) == 4 * (1 + 20_000 // len(chunks) * len(chunks))
    assert held - before < 1.5 * len(text) + 16_384


def test_header_fields_come_from_the_first_chunk_that_has_each_within_and_across_batches() -> None:
    decoder = msgspec.json.Decoder(ChatCompletionChunk)
    first_batch = [
        {"choices": [{"index": 0, "delta": {"content": "a"}}]},
        {"id": "c1", "choices": [{"index": 0, "delta": {"content": "b"}}]},
        {"id": "c2", "model": "m1", "choices": [{"index": 0, "delta": {"content": "c"}}]},
    ]
    second_batch = [
        {"id": "c3", "model": "m2", "created": 7, "choices": [{"index": 0, "delta": {"content": "d"}}]},
        {"id": "c4", "model": "m3", "created": 8, "choices": [{"index": 0, "delta": {"content": "e"}}]},
    ]
    accumulator = ChatAccumulator()
    for batch in (first_batch, second_batch):
        accumulator.add([decoder.decode(msgspec.json.encode(c)) for c in batch])
    completion = accumulator.completion()
    assert (completion.id, completion.model, completion.created) == ("c1", "m1", 7)
    assert completion.choices[0].message.content == "abcde"
