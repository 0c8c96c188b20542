"""The emulator as a capable model: tool calls, guided_json, reasoning, unknown models, cuts between fragments."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import msgspec
import pytest

from telnyx_ai import APIConnectionError, AsyncTelnyx, UnprocessableEntityError
from telnyx_ai.testing import (
    CHAT_MODELS,
    REASONING_MODELS,
    Fault,
    MockServer,
    expected_json,
    expected_reasoning,
    expected_reply,
    expected_tool_calls,
    reply_pieces,
    tool_call_pieces,
)
from telnyx_ai.testing._json_schema import example_for_schema
from telnyx_ai.types.chat import ChatCompletionChunk

MESSAGES: Any = [{"role": "user", "content": "Book a table and text me"}]
TOOLS: Any = [
    {
        "type": "function",
        "function": {
            "name": "book",
            "parameters": {
                "type": "object",
                "properties": {
                    "guests": {"type": "integer", "minimum": 2, "maximum": 8},
                    "when": {"type": "string", "format": "date-time"},
                },
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "send_sms",
            "parameters": {
                "type": "object",
                "properties": {"to": {"type": "string", "minLength": 12}, "text": {"type": "string"}},
            },
        },
    },
    {"type": "retrieval", "retrieval": {"bucket_ids": ["b"]}},
]


@pytest.fixture
async def server() -> AsyncIterator[MockServer]:
    async with MockServer() as s:
        yield s


@pytest.fixture
async def client(server: MockServer) -> AsyncIterator[AsyncTelnyx]:
    async with AsyncTelnyx(api_key="test", base_url=server.url, max_retries=0) as c:
        yield c


async def chunks_of(client: AsyncTelnyx, **kwargs: Any) -> list[ChatCompletionChunk]:
    stream = await client.ai.chat.create_completion(messages=MESSAGES, stream=True, **kwargs)
    async with stream:
        return [chunk async for chunk in stream]


# -- tools -------------------------------------------------------------------------------------------


async def test_tools_get_one_deterministic_call_per_function(client: AsyncTelnyx) -> None:
    completion = await client.ai.chat.create_completion(messages=MESSAGES, tools=TOOLS)
    [choice] = completion.choices
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    calls = [call.to_param() for call in choice.message.tool_calls or []]
    assert calls == expected_tool_calls(MESSAGES, TOOLS)
    assert [c["function"]["name"] for c in calls] == ["book", "send_sms"]  # the retrieval tool is no function
    assert msgspec.json.decode(calls[0]["function"]["arguments"]) == {"guests": 2, "when": "2025-01-01T00:00:00Z"}
    assert len(msgspec.json.decode(calls[1]["function"]["arguments"])["to"]) >= 12
    again = await client.ai.chat.create_completion(messages=MESSAGES, tools=TOOLS)
    assert [c.to_param() for c in again.choices[0].message.tool_calls or []] == calls  # same ids every time


async def test_tool_calls_stream_as_interleaved_fragments_across_chunks(client: AsyncTelnyx) -> None:
    chunks = await chunks_of(client, tools=TOOLS)
    fragments = [(c.choices[0].delta.tool_calls or [None])[0] for c in chunks if c.choices[0].delta.tool_calls]
    assert all(len(c.choices[0].delta.tool_calls or []) <= 1 for c in chunks)  # one fragment per chunk
    order = [f.index for f in fragments if f is not None]
    assert order[:4] == [0, 1, 0, 1]  # interleaved
    calls = expected_tool_calls(MESSAGES, TOOLS)
    for index, call in enumerate(calls):
        mine = [f for f in fragments if f is not None and f.index == index]
        assert (mine[0].id, mine[0].type, mine[0].function and mine[0].function.name) == (
            call["id"],
            "function",
            call["function"]["name"],
        )
        assert all(f.id is None for f in mine[1:])
        pieces = [f.function.arguments for f in mine[1:] if f.function]
        assert pieces == tool_call_pieces(call["function"]["arguments"]) and len(pieces) > 1
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


async def test_tool_choice_none_named_and_after_a_tool_result(client: AsyncTelnyx) -> None:
    plain = await client.ai.chat.create_completion(messages=MESSAGES, tools=TOOLS, tool_choice="none")
    assert plain.choices[0].message.content == expected_reply(MESSAGES) and plain.choices[0].message.tool_calls is None
    named = await client.ai.chat.create_completion(
        messages=MESSAGES,
        tools=TOOLS,
        tool_choice={"type": "function", "function": {"name": "send_sms"}},  # type: ignore[arg-type]
    )
    assert [c.function.name for c in named.choices[0].message.tool_calls or [] if c.function] == ["send_sms"]
    first = await client.ai.chat.create_completion(messages=MESSAGES, tools=TOOLS)
    call = (first.choices[0].message.tool_calls or [])[0]
    answered = [
        *MESSAGES,
        first.choices[0].message.to_param(),
        {"role": "tool", "tool_call_id": call.id, "content": "ok"},
    ]
    final = await client.ai.chat.create_completion(messages=answered, tools=TOOLS)
    assert final.choices[0].message.content == expected_reply(answered) and final.choices[0].finish_reason == "stop"


async def test_a_cut_between_tool_call_fragments(client: AsyncTelnyx, server: MockServer) -> None:
    server.inject(Fault.cut_in_tool_call(after_fragments=3))
    stream = await client.ai.chat.create_completion(messages=MESSAGES, tools=TOOLS, stream=True)
    fragments = 0
    with pytest.raises(APIConnectionError, match="cut before it finished"):
        async with stream:
            async for chunk in stream:
                fragments += len(chunk.choices[0].delta.tool_calls or [])
    assert fragments == 3
    assert server.fault_counts["cut_in_tool_call"] == 1
    # Without tool calls there is nothing to cut between: the stream is cut before [DONE] instead.
    server.inject(Fault.cut_in_tool_call())
    stream = await client.ai.chat.create_completion(messages=MESSAGES, stream=True)
    with pytest.raises(APIConnectionError):
        await stream.get_final_text()


# -- guided_json -------------------------------------------------------------------------------------


class Address(msgspec.Struct):
    street: str
    zip_code: Annotated[str, msgspec.Meta(min_length=5, max_length=5)]


class Order(msgspec.Struct, tag="order"):
    id: uuid.UUID
    day: datetime.date
    quantity: Annotated[int, msgspec.Meta(ge=10, multiple_of=5)]
    price: Annotated[float, msgspec.Meta(gt=0, lt=1)]
    status: Literal["open", "closed"]
    ship_to: Address | None
    lines: Annotated[list[Address], msgspec.Meta(min_length=2)]
    pair: tuple[int, str]
    notes: dict[str, int] = {}
    gift: bool = False


@pytest.mark.parametrize("kind", [Order, Address, list[Address], dict[str, float], int | None])
async def test_guided_json_answers_json_valid_for_the_schema(client: AsyncTelnyx, kind: Any) -> None:
    schema = msgspec.json.schema(kind)
    completion = await client.ai.chat.create_completion(messages=MESSAGES, guided_json=schema)
    content = completion.choices[0].message.content or ""
    assert content == expected_json(schema)
    msgspec.json.decode(content, type=kind, strict=True)  # raises if it does not validate

    streamed = await chunks_of(client, guided_json=schema)
    assert "".join(c.choices[0].delta.content or "" for c in streamed) == content


def test_schema_examples_cover_refs_unions_and_bounds() -> None:
    root = {
        "$defs": {"N": {"type": "number", "exclusiveMinimum": 3, "maximum": 4}},
        "type": "object",
        "properties": {
            "n": {"$ref": "#/$defs/N"},
            "maybe": {"type": ["null", "string"], "maxLength": 2},
            "one": {"oneOf": [{"type": "null"}, {"const": 7}]},
            "all": {"allOf": [{"properties": {"a": {"type": "boolean"}}}, {"properties": {"b": {"enum": ["x"]}}}]},
            "none": {"type": "array", "maxItems": 0},
        },
    }
    assert example_for_schema(root) == {"n": 3.5, "maybe": "te", "one": 7, "all": {"a": True, "b": "x"}, "none": []}


# -- reasoning and models --------------------------------------------------------------------------


async def test_a_reasoning_model_streams_its_reasoning_first(client: AsyncTelnyx) -> None:
    chunks = await chunks_of(client, model=REASONING_MODELS[0])
    deltas = [c.choices[0].delta for c in chunks]
    reasoning = [d.reasoning_content for d in deltas if d.reasoning_content]
    content = [d.content for d in deltas if d.content]
    assert reasoning == reply_pieces(expected_reasoning(MESSAGES))
    assert content == reply_pieces(expected_reply(MESSAGES))
    last_reasoning = max(i for i, d in enumerate(deltas) if d.reasoning_content)
    first_content = min(i for i, d in enumerate(deltas) if d.content)
    assert last_reasoning < first_content
    plain = await client.ai.chat.create_completion(messages=MESSAGES, model=REASONING_MODELS[0])
    assert plain.choices[0].message.reasoning_content == expected_reasoning(MESSAGES)
    other = await client.ai.chat.create_completion(messages=MESSAGES, model=CHAT_MODELS[0])
    assert other.choices[0].message.reasoning_content is None


@pytest.mark.parametrize("stream", [False, True])
async def test_an_unknown_chat_model_gets_the_apis_error(client: AsyncTelnyx, server: MockServer, stream: bool) -> None:
    with pytest.raises(UnprocessableEntityError, match="Unknown chat model 'gpt-nope'") as caught:
        await client.ai.chat.create_completion(messages=MESSAGES, model="gpt-nope", stream=stream)  # type: ignore[call-overload]
    assert caught.value.body == {
        "detail": [{"loc": ["body", "model"], "msg": caught.value.body["detail"][0]["msg"], "type": "value_error"}]  # type: ignore[index]
    }
    assert server.requests[0].status == 422
    for model in CHAT_MODELS:
        assert (await client.ai.chat.create_completion(messages=MESSAGES, model=model)).model == model
