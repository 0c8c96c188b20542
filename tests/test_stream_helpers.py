"""The chat stream helpers on both clients: text_stream, get_final_completion/text, to_param, tool_result, parse."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from typing import Any, TypedDict

import msgspec
import pytest
from aiohttp import web

from telnyx_ai import (
    APIConnectionError,
    AsyncTelnyx,
    StructuredOutputError,
    Telnyx,
    TelnyxError,
    tool_result,
)
from telnyx_ai._bridge import Bridge
from telnyx_ai.testing import (
    REASONING_MODELS,
    Call,
    Fault,
    MockServer,
    StreamConfig,
    expected_json,
    expected_reasoning,
    expected_reply,
    expected_tool_calls,
    reply_pieces,
)
from telnyx_ai.types.chat import ChatCompletionToolParam, ChatMessageParam

MESSAGES: list[ChatMessageParam] = [{"role": "user", "content": "What is the weather in Lyon today?"}]
TOOLS: list[ChatCompletionToolParam] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 2}},
                "required": ["city"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_time",
            "parameters": {"type": "object", "properties": {"tz": {"type": "string", "enum": ["CET", "UTC"]}}},
        },
    },
]


class Weather(msgspec.Struct):
    city: str
    celsius: float
    alerts: list[str]
    windy: bool | None = None


class WeatherDict(TypedDict):
    city: str
    celsius: float


@dataclasses.dataclass
class WeatherData:
    city: str
    days: int


@pytest.fixture
async def server() -> AsyncIterator[MockServer]:
    async with MockServer() as s:
        yield s


@pytest.fixture
async def client(server: MockServer) -> AsyncIterator[AsyncTelnyx]:
    async with AsyncTelnyx(api_key="test", base_url=server.url, max_retries=0) as c:
        yield c


@pytest.fixture(scope="module")
def thread_server() -> Iterator[MockServer]:
    with MockServer.in_thread() as s:
        yield s


@pytest.fixture
def sync_client(thread_server: MockServer) -> Iterator[Telnyx]:
    thread_server.reset()
    thread_server.stream = StreamConfig()
    with Telnyx(api_key="test", base_url=thread_server.url, max_retries=0) as c:
        yield c


# -- text_stream, get_final_text, get_final_completion ----------------------------------------------


async def test_text_stream_yields_the_content_deltas(client: AsyncTelnyx) -> None:
    stream = await client.ai.chat.create_completion(messages=MESSAGES, stream=True)
    async with stream:
        texts = [text async for text in stream.text_stream]
    assert texts == reply_pieces(expected_reply(MESSAGES))
    assert "" not in texts  # the role chunk's empty content is skipped
    assert stream.closed


def test_sync_text_stream_yields_the_content_deltas(sync_client: Telnyx) -> None:
    with sync_client.ai.chat.create_completion(messages=MESSAGES, stream=True) as stream:
        assert list(stream.text_stream) == reply_pieces(expected_reply(MESSAGES))


async def test_final_completion_after_partial_iteration_has_every_chunk(client: AsyncTelnyx) -> None:
    stream = await client.ai.chat.create_completion(messages=MESSAGES, stream=True)
    first = await anext(aiter(stream))
    assert first.choices[0].delta.role == "assistant"
    completion = await stream.get_final_completion()

    reply = expected_reply(MESSAGES)
    assert completion.choices[0].message.content == reply
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.id == first.id and completion.model == first.model and completion.created == first.created
    assert completion.object == "chat.completion"
    assert completion.usage is not None and completion.usage.completion_tokens == len(reply_pieces(reply))
    assert await stream.get_final_text() == reply  # asking again gives the same answer
    assert stream.closed


def test_sync_final_completion_and_text(sync_client: Telnyx, thread_server: MockServer) -> None:
    thread_server.stream = StreamConfig(delay=0.01)  # one event per read, so each helper picks up where the last left
    stream = sync_client.ai.chat.create_completion(messages=MESSAGES, stream=True)
    assert next(stream).choices[0].delta.role == "assistant"
    assert next(iter(stream.text_stream)) == reply_pieces(expected_reply(MESSAGES))[0]
    completion = stream.get_final_completion()
    assert completion.choices[0].message.content == expected_reply(MESSAGES)
    assert stream.get_final_text() == expected_reply(MESSAGES)
    assert stream.closed


async def test_final_completion_of_a_stream_closed_early_raises(client: AsyncTelnyx, server: MockServer) -> None:
    server.stream = StreamConfig(delay=0.02)  # one event per read: closing after the first leaves the rest unread
    stream = await client.ai.chat.create_completion(messages=MESSAGES, stream=True)
    async with stream:
        await anext(aiter(stream))
    with pytest.raises(TelnyxError, match="closed before it finished"):
        await stream.get_final_completion()


async def test_final_completion_of_a_cut_stream_raises_the_cut(client: AsyncTelnyx, server: MockServer) -> None:
    server.inject(Fault.truncated_stream(after_events=3))
    stream = await client.ai.chat.create_completion(messages=MESSAGES, stream=True)
    with pytest.raises(APIConnectionError, match="no \\[DONE\\]"):
        await stream.get_final_text()


async def test_reasoning_content_is_assembled_before_the_content(client: AsyncTelnyx) -> None:
    stream = await client.ai.chat.create_completion(messages=MESSAGES, model=REASONING_MODELS[0], stream=True)
    async with stream:
        chunks = [chunk async for chunk in stream]
    kinds = [
        "r" if c.choices[0].delta.reasoning_content else "c"
        for c in chunks
        if c.choices[0].delta.content or c.choices[0].delta.reasoning_content
    ]
    assert kinds == sorted(kinds, reverse=True) and "r" in kinds and "c" in kinds  # every reasoning delta first

    stream = await client.ai.chat.create_completion(messages=MESSAGES, model=REASONING_MODELS[0], stream=True)
    message = (await stream.get_final_completion()).choices[0].message
    assert message.reasoning_content == expected_reasoning(MESSAGES)
    assert message.content == expected_reply(MESSAGES)


def test_sync_reasoning_model_off_with_enable_thinking_false(sync_client: Telnyx) -> None:
    stream = sync_client.ai.chat.create_completion(
        messages=MESSAGES, model=REASONING_MODELS[0], enable_thinking=False, stream=True
    )
    assert stream.get_final_completion().choices[0].message.reasoning_content is None


async def test_streamed_tool_calls_merge_into_the_calls_made(client: AsyncTelnyx, server: MockServer) -> None:
    stream = await client.ai.chat.create_completion(messages=MESSAGES, tools=TOOLS, stream=True)
    completion = await stream.get_final_completion()
    [choice] = completion.choices
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    expected = expected_tool_calls(server.requests[0].json()["messages"], server.requests[0].json()["tools"])
    assert [call.to_param() for call in choice.message.tool_calls or []] == expected
    assert msgspec.json.decode((choice.message.tool_calls or [])[0].function.arguments or "") == {  # type: ignore[union-attr]
        "city": "text",
        "days": 2,
    }


def test_sync_streamed_tool_calls_merge(sync_client: Telnyx) -> None:
    stream = sync_client.ai.chat.create_completion(messages=MESSAGES, tools=TOOLS, stream=True)
    calls = stream.get_final_completion().choices[0].message.tool_calls or []
    assert [c.to_param() for c in calls] == expected_tool_calls(MESSAGES, TOOLS)


# -- the sync helpers keep one bridge hop per network read -------------------------------------------


def _chunk(text: str) -> bytes:
    return msgspec.json.encode({"id": "c", "choices": [{"index": 0, "delta": {"content": text}}]})


def test_sync_helpers_cross_threads_once_per_read(monkeypatch: pytest.MonkeyPatch) -> None:
    pieces = [f"w{i} " for i in range(100)]

    async def all_in_one_write(call: Call) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(call.request)
        await response.write(b"".join(b"data: " + _chunk(p) + b"\n\n" for p in pieces) + b"data: [DONE]\n\n")
        return response

    with MockServer.in_thread() as server, Telnyx(api_key="k", base_url=server.url) as client:
        server.add_route("POST", "/ai/chat/completions", all_in_one_write)
        calls: list[object] = []
        real_call = Bridge.call

        def counting_call(self: Bridge, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            calls.append(fn)
            return real_call(self, fn, *args, **kwargs)

        monkeypatch.setattr(Bridge, "call", counting_call)
        for read in (
            lambda s: "".join(s.text_stream),
            lambda s: s.get_final_text(),
            lambda s: b"".join(s.to_sse()).decode(),
        ):
            calls.clear()
            with client.ai.chat.create_completion(messages=MESSAGES, stream=True) as stream:
                out = read(stream)
            assert "".join(pieces) in out or all(p in out for p in pieces)
            assert len(calls) <= 6, f"{len(calls)} trips to the loop thread for {len(pieces)} chunks"


# -- meta-only and empty events -------------------------------------------------------------------


async def test_meta_only_and_empty_data_events_are_ignored(server: MockServer, client: AsyncTelnyx) -> None:
    async def proxy_style(call: Call) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(call.request)
        await response.write(b"retry: 3000\n\n")  # meta-only: no data line
        await response.write(b"id: 7\n\n: keep-alive comment\n\nevent: ping\nid: 8\n\n")
        await response.write(b"data: " + _chunk("one ") + b"\n\ndata:\n\ndata: \n\n")  # empty data events
        await response.write(b"retry: 10\nid: 9\n\ndata: " + _chunk("two") + b"\n\ndata: [DONE]\n\n")
        return response

    server.add_route("POST", "/ai/chat/completions", proxy_style)
    stream = await client.ai.chat.create_completion(messages=MESSAGES, stream=True)
    async with stream:
        assert [text async for text in stream.text_stream] == ["one ", "two"]
    stream = await client.ai.chat.create_completion(messages=MESSAGES, stream=True)
    frames = b"".join([frame async for frame in stream.to_sse()])
    assert frames == b"data: " + _chunk("one ") + b"\n\ndata: " + _chunk("two") + b"\n\ndata: [DONE]\n\n"


# -- messages round-trip -------------------------------------------------------------------------


async def test_tool_calling_round_trip_with_to_param_and_tool_result(client: AsyncTelnyx, server: MockServer) -> None:
    first = await client.ai.chat.create_completion(messages=MESSAGES, tools=TOOLS)
    message = first.choices[0].message
    calls = message.tool_calls or []
    assert len(calls) == 2
    param = message.to_param()
    assert param == {"role": "assistant", "content": None, "tool_calls": expected_tool_calls(MESSAGES, TOOLS)}
    answers = [tool_result(calls[0], {"celsius": 21.5}), tool_result(calls[1], "12:00 CET")]
    assert answers[0] == {"role": "tool", "tool_call_id": calls[0].id, "content": '{"celsius":21.5}'}

    second = await client.ai.chat.create_completion(messages=[*MESSAGES, param, *answers], tools=TOOLS)
    assert second.choices[0].message.content == expected_reply(MESSAGES)
    assert second.choices[0].message.to_param() == {"role": "assistant", "content": expected_reply(MESSAGES)}
    sent = server.requests[-1].json()["messages"]
    assert sent[1]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert sent[2:] == answers


# -- parse -------------------------------------------------------------------------------------------


async def test_parse_sends_the_schema_as_guided_json_and_decodes(client: AsyncTelnyx, server: MockServer) -> None:
    completion = await client.ai.chat.parse(messages=MESSAGES, response_format=Weather, temperature=0.0)
    body = server.requests[0].json()
    assert body["guided_json"] == msgspec.json.schema(Weather)
    assert body["temperature"] == 0.0 and "stream" not in body and "response_format" not in body
    parsed = completion.choices[0].message.parsed
    assert isinstance(parsed, Weather)
    assert parsed == msgspec.json.decode(expected_json(msgspec.json.schema(Weather)), type=Weather)
    assert completion.choices[0].message.content == expected_json(msgspec.json.schema(Weather))


def test_sync_parse_typed_dict_and_dataclass(sync_client: Telnyx, thread_server: MockServer) -> None:
    as_dict = sync_client.ai.chat.parse(messages=MESSAGES, response_format=WeatherDict)
    assert as_dict.choices[0].message.parsed == {"city": "text", "celsius": 1.0}
    as_dataclass = sync_client.ai.chat.parse(messages=MESSAGES, response_format=WeatherData)
    assert as_dataclass.choices[0].message.parsed == WeatherData(city="text", days=1)
    assert thread_server.requests[1].json()["guided_json"] == msgspec.json.schema(WeatherData)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("the model chatted instead", "JSON is malformed"),
        ('{"city": "Lyon", "celsius": "warm", "alerts": []}', "Expected `float`, got `str`"),
        ('{"city": "Lyon", "celsius": "21", "alerts": []}', "Expected `float`, got `str`"),  # strict: no coercion
        ('{"city": "Lyon"}', "missing required field `celsius`"),
    ],
)
async def test_parse_of_content_that_does_not_match_raises(
    client: AsyncTelnyx, server: MockServer, content: str, reason: str
) -> None:
    server.stream = StreamConfig(reply=content)
    with pytest.raises(StructuredOutputError) as caught:
        await client.ai.chat.parse(messages=MESSAGES, response_format=Weather)
    assert caught.value.content == content
    assert reason in str(caught.value.decode_error) and reason in caught.value.message
    assert isinstance(caught.value.decode_error, msgspec.DecodeError | msgspec.ValidationError)
    assert caught.value.__cause__ is caught.value.decode_error


def test_sync_parse_of_content_that_does_not_match_raises(sync_client: Telnyx, thread_server: MockServer) -> None:
    thread_server.stream = StreamConfig(reply="[1, 2]")
    with pytest.raises(StructuredOutputError, match="not a valid Weather") as caught:
        sync_client.ai.chat.parse(messages=MESSAGES, response_format=Weather)
    assert caught.value.content == "[1, 2]"
