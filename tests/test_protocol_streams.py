"""Typed streams of OpenAI Responses, Anthropic Messages and assistant chat, on both clients, against the
emulator and recorded transcripts: events, final objects, every way a stream ends, unknown events, relays."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import msgspec
import pytest

from telnyx_ai import APIConnectionError, APIStreamError, AsyncTelnyx, Telnyx, TelnyxError
from telnyx_ai._streams import anthropic, assistant_chat, responses
from telnyx_ai.testing import (
    REASONING_MODELS,
    Fault,
    MockServer,
    StreamConfig,
    expected_reasoning,
    expected_reply,
    reply_pieces,
)
from telnyx_ai.types.anthropic import (
    Message,
    PingEvent,
    RawContentBlockDeltaEvent,
    RawMessageStartEvent,
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
)
from telnyx_ai.types.responses import (
    Response,
    ResponseCompletedEvent,
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseReasoningItem,
    ResponseTextDeltaEvent,
    UnknownEvent,
)

from .protocol_calls import anthropic_stream, assistant_stream, canned, open_sync, responses_stream
from .transcripts import anthropic_events, frame, named_sse, responses_events

WEATHER = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
RESPONSES_TOOLS = [{"type": "function", "name": "get_weather", "parameters": WEATHER}]
ANTHROPIC_TOOLS = [{"name": "get_weather", "input_schema": WEATHER}]
USER = "What is the weather in Lyon?"
REASONER = REASONING_MODELS[0]


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


def anthropic_body(**extra: Any) -> dict[str, Any]:
    return {"model": REASONER, "max_tokens": 256, "messages": [{"role": "user", "content": USER}], **extra}


# -- Responses ------------------------------------------------------------------------------------


async def test_responses_stream_is_typed_and_adds_up_to_the_plain_response(client: AsyncTelnyx) -> None:
    stream = await responses_stream(client, model=REASONER, input=USER)
    events = [event async for event in stream]
    assert events[0].type == "response.created"
    assert isinstance(events[-1], ResponseCompletedEvent)
    deltas = [e.delta for e in events if isinstance(e, ResponseTextDeltaEvent)]
    assert deltas == reply_pieces(expected_reply([{"role": "user", "content": USER}]))
    assert [e.sequence_number for e in events] == list(range(len(events)))  # pyright: ignore[reportAttributeAccessIssue]
    final = await stream.get_final_response()
    assert final == events[-1].response
    assert final.request_id == stream.request_id is not None
    plain = await client._transport.request(  # pyright: ignore[reportPrivateUsage]
        "POST", "/ai/openai/responses", cast_to=Response, body={"model": REASONER, "input": USER}, options={}
    )
    assert [type(item) for item in plain.output] == [type(item) for item in final.output]
    assert [ResponseReasoningItem, ResponseOutputMessage] == [type(item) for item in final.output]
    assert final.output_text == plain.output_text == expected_reply([{"role": "user", "content": USER}])
    reasoning = final.output[0]
    assert isinstance(reasoning, ResponseReasoningItem)
    assert reasoning.summary[0].text == expected_reasoning([{"role": "user", "content": USER}])
    assert final.usage is not None and final.usage.total_tokens == final.usage.input_tokens + final.usage.output_tokens


async def test_responses_tool_call_round_trip(client: AsyncTelnyx) -> None:
    stream = await responses_stream(client, input=USER, tools=RESPONSES_TOOLS)
    final = await stream.get_final_response()
    [call] = final.output
    assert isinstance(call, ResponseFunctionToolCall)
    assert call.name == "get_weather" and json.loads(call.arguments) == {"city": "text"}
    follow_up = [
        {"role": "user", "content": USER},
        call.to_param(),
        {"type": "function_call_output", "call_id": call.call_id, "output": "12 °C"},
    ]
    answer = await (await responses_stream(client, input=follow_up, tools=RESPONSES_TOOLS)).get_final_text()
    assert answer == expected_reply([{"role": "user", "content": USER}])


async def test_responses_text_stream_and_final_text(client: AsyncTelnyx) -> None:
    stream = await responses_stream(client, input=USER)
    texts = [text async for text in stream.text_stream]
    assert texts == reply_pieces(expected_reply([{"role": "user", "content": USER}]))
    assert await stream.get_final_text() == "".join(texts)


async def test_responses_conversation_stores_the_turn(client: AsyncTelnyx, server: MockServer) -> None:
    conversation = await client.ai.conversations.create(name="weather")
    stream = await responses_stream(client, input=USER, conversation=conversation.id, instructions="Be brief.")
    await stream.get_final_response()
    stored = await client.ai.conversations.messages.list(conversation.id)
    assert [(m.role, m.text) for m in stored.data] == [
        ("system", "Be brief."),
        ("user", USER),
        ("assistant", expected_reply([{"role": "user", "content": USER}])),
    ]
    second = await (
        await responses_stream(client, input="And tomorrow?", conversation=conversation.id)
    ).get_final_text()
    assert second == expected_reply([{"role": "user", "content": "And tomorrow?"}])
    assert len((await client.ai.conversations.messages.list(conversation.id)).data) == 5


def test_sync_responses_stream_has_the_same_helpers(sync_client: Telnyx) -> None:
    with open_sync(sync_client, "/ai/openai/responses", responses.PROTOCOL, {"input": USER}) as stream:
        assert list(stream.text_stream) == reply_pieces(expected_reply([{"role": "user", "content": USER}]))
        assert stream.get_final_response().output_text == expected_reply([{"role": "user", "content": USER}])
    with open_sync(sync_client, "/ai/openai/responses", responses.PROTOCOL, {"input": USER}) as stream:
        assert stream.get_final_text() == expected_reply([{"role": "user", "content": USER}])


# -- Anthropic --------------------------------------------------------------------------------------


async def test_anthropic_stream_rebuilds_the_message_with_tool_input_and_thinking(client: AsyncTelnyx) -> None:
    body = anthropic_body(tools=ANTHROPIC_TOOLS, thinking={"type": "enabled", "budget_tokens": 1024})
    stream = await anthropic_stream(client, **body)
    events = [event async for event in stream]
    assert isinstance(events[0], RawMessageStartEvent) and isinstance(events[1], PingEvent)
    fragments = [
        e.delta for e in events if isinstance(e, RawContentBlockDeltaEvent) and e.delta.type == "input_json_delta"
    ]
    assert len(fragments) > 2  # the input arrived in pieces
    final = await stream.get_final_message()
    plain = await client._transport.request(  # pyright: ignore[reportPrivateUsage]
        "POST", "/ai/anthropic/v1/messages", cast_to=Message, body=body, options={}
    )
    assert final.content == plain.content
    thinking, tool = final.content
    assert isinstance(thinking, ThinkingBlock) and thinking.signature.startswith("sig-")
    assert isinstance(tool, ToolUseBlock) and tool.input == {"city": "text"}
    assert final.stop_reason == plain.stop_reason == "tool_use"
    assert final.usage.input_tokens == plain.usage.input_tokens
    assert final.usage.output_tokens == plain.usage.output_tokens  # message_delta's count replaced message_start's
    assert final.request_id == stream.request_id


async def test_anthropic_tool_round_trip(client: AsyncTelnyx) -> None:
    first = await (await anthropic_stream(client, **anthropic_body(tools=ANTHROPIC_TOOLS))).get_final_message()
    [tool] = first.content
    assert isinstance(tool, ToolUseBlock)
    messages = [
        {"role": "user", "content": USER},
        first.to_param(),
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool.id, "content": "12 °C"}]},
    ]
    second = await (
        await anthropic_stream(client, **anthropic_body(messages=messages, tools=ANTHROPIC_TOOLS))
    ).get_final_message()
    assert second.stop_reason == "end_turn"
    assert isinstance(second.content[0], TextBlock)


async def test_anthropic_text_stream(client: AsyncTelnyx) -> None:
    stream = await anthropic_stream(client, **anthropic_body())
    assert [t async for t in stream.text_stream] == reply_pieces(expected_reply([{"role": "user", "content": USER}]))


def test_sync_anthropic_stream(sync_client: Telnyx) -> None:
    with open_sync(sync_client, "/ai/anthropic/v1/messages", anthropic.PROTOCOL, anthropic_body()) as stream:
        assert stream.get_final_message().stop_reason == "end_turn"
    with open_sync(sync_client, "/ai/anthropic/v1/messages", anthropic.PROTOCOL, anthropic_body()) as stream:
        assert "".join(stream.text_stream) == expected_reply([{"role": "user", "content": USER}])


# -- assistant chat -------------------------------------------------------------------------------


async def test_assistant_chat_stream(client: AsyncTelnyx) -> None:
    assistant = await client.ai.assistants.create(name="Ada", model="m", instructions="Help.")
    stream = await assistant_stream(client, assistant.id, content=USER, conversation_id="c-1")
    texts = [t async for t in stream.text_stream]
    assert texts == reply_pieces(expected_reply([{"role": "user", "content": USER}]))
    stream = await assistant_stream(client, assistant.id, content=USER, conversation_id="c-1")
    answer = await stream.get_final_answer()
    assert answer.content == "".join(texts) and answer.whatsapp_template is None


async def test_assistant_chat_error_event_raises_after_the_deltas(client: AsyncTelnyx, server: MockServer) -> None:
    assistant = await client.ai.assistants.create(name="Ada", model="m", instructions="Help.")
    server.inject(Fault.error_event(3))
    stream = await assistant_stream(client, assistant.id, content=USER, conversation_id="c-1")
    texts: list[str] = []
    with pytest.raises(APIStreamError, match="injected an error event") as caught:
        async for text in stream.text_stream:
            texts.append(text)
    assert texts == reply_pieces(expected_reply([{"role": "user", "content": USER}]))[:3]
    assert caught.value.error_type == "10007" and stream.closed


def test_sync_assistant_chat_stream(sync_client: Telnyx) -> None:
    assistant = sync_client.ai.assistants.create(name="Ada", model="m", instructions="Help.")
    path = f"/ai/assistants/{assistant.id}/chat"
    with open_sync(sync_client, path, assistant_chat.PROTOCOL, {"content": USER, "conversation_id": "c"}) as stream:
        assert stream.get_final_answer().content == expected_reply([{"role": "user", "content": USER}])


# -- every way a stream ends, on both clients ---------------------------------------------------------


def responses_body(ending: str) -> bytes:
    body = named_sse(responses_events(ending))
    return body + b"data: [DONE]\n\n" if ending == "done" else body


@pytest.mark.parametrize(
    ("ending", "status"), [("completed", "completed"), ("failed", "failed"), ("incomplete", "incomplete")]
)
async def test_responses_terminal_events(client: AsyncTelnyx, server: MockServer, ending: str, status: str) -> None:
    server.add_route("POST", "/ai/openai/responses", canned(responses_body(ending)))
    stream = await responses_stream(client, input=USER)
    final = await stream.get_final_response()
    assert final.status == status
    assert final.output_text == "Il fait beau à Paris ☀️ aujourd'hui."
    assert stream.closed
    if ending == "failed":
        assert final.error is not None and final.error.code == "server_error"
    if ending == "incomplete":
        assert final.incomplete_details is not None and final.incomplete_details.reason == "max_output_tokens"


@pytest.mark.parametrize("ending", ["completed", "failed", "incomplete", "done"])
def test_sync_responses_terminal_events(ending: str) -> None:
    with MockServer.in_thread() as own, Telnyx(api_key="test", base_url=own.url, max_retries=0) as sync_client:
        own.add_route("POST", "/ai/openai/responses", canned(responses_body(ending)))
        with open_sync(sync_client, "/ai/openai/responses", responses.PROTOCOL, {"input": USER}) as stream:
            final = stream.get_final_response()
    assert final.status == ("completed" if ending == "done" else ending)
    assert [item.type for item in final.output] == ["reasoning", "message", "function_call"]


async def test_a_responses_stream_ended_by_done_is_assembled(client: AsyncTelnyx, server: MockServer) -> None:
    server.add_route("POST", "/ai/openai/responses", canned(responses_body("done")))
    final = await (await responses_stream(client, input=USER)).get_final_response()
    expected = msgspec.convert(responses_events("completed")[-1]["response"], Response)
    assert final.output == expected.output
    assert final.id == expected.id and final.status == "completed"


@pytest.mark.parametrize("kind", ["responses", "anthropic"])
async def test_an_error_event_raises_with_its_type(client: AsyncTelnyx, server: MockServer, kind: str) -> None:
    if kind == "responses":
        server.add_route("POST", "/ai/openai/responses", canned(responses_body("error")))
        stream = await responses_stream(client, input=USER)
        expected = ("rate_limit_exceeded", "Slow down.")
    else:
        server.add_route("POST", "/ai/anthropic/v1/messages", canned(named_sse(anthropic_events("error"))))
        stream = await anthropic_stream(client, **anthropic_body())
        expected = ("overloaded_error", "Overloaded")
    seen: list[object] = []
    with pytest.raises(APIStreamError) as caught:
        async for event in stream:
            seen.append(event)
    assert (caught.value.error_type, caught.value.message) == expected
    assert seen  # the events before the error were handed out first
    assert stream.closed


@pytest.mark.parametrize("kind", ["responses", "anthropic"])
def test_sync_error_event_raises_with_its_type(thread_server: MockServer, sync_client: Telnyx, kind: str) -> None:
    thread_server.inject(Fault.error_event(4, error_type="overloaded_error"))
    path, protocol, body = (
        ("/ai/openai/responses", responses.PROTOCOL, {"input": USER})
        if kind == "responses"
        else ("/ai/anthropic/v1/messages", anthropic.PROTOCOL, anthropic_body())
    )
    with open_sync(sync_client, path, protocol, body) as stream, pytest.raises(APIStreamError) as caught:
        stream.get_final_text()
    assert caught.value.error_type == "overloaded_error"


@pytest.mark.parametrize("kind", ["responses", "anthropic", "assistant"])
async def test_a_cut_before_the_last_event_raises(client: AsyncTelnyx, server: MockServer, kind: str) -> None:
    server.inject(Fault.truncated_stream(after_events=5))
    if kind == "responses":
        stream: Any = await responses_stream(client, input=USER)
    elif kind == "anthropic":
        stream = await anthropic_stream(client, **anthropic_body())
    else:
        assistant = await client.ai.assistants.create(name="Ada", model="m", instructions="Help.")
        stream = await assistant_stream(client, assistant.id, content=USER, conversation_id="c")
    with pytest.raises(APIConnectionError, match="before the stream finished"):
        async for _ in stream:
            pass
    with pytest.raises(TelnyxError, match="closed before it finished"):
        await stream.get_final_text()


@pytest.mark.parametrize("kind", ["responses", "anthropic"])
def test_sync_cut_between_tool_fragments_raises(thread_server: MockServer, sync_client: Telnyx, kind: str) -> None:
    thread_server.inject(Fault.cut_in_tool_call(after_fragments=1))
    path, protocol, body = (
        ("/ai/openai/responses", responses.PROTOCOL, {"input": USER, "tools": RESPONSES_TOOLS})
        if kind == "responses"
        else ("/ai/anthropic/v1/messages", anthropic.PROTOCOL, anthropic_body(tools=ANTHROPIC_TOOLS))
    )
    with open_sync(sync_client, path, protocol, body) as stream, pytest.raises(APIConnectionError):
        stream.get_final_text()


async def test_a_cut_before_the_first_event_is_retried(server: MockServer) -> None:
    server.inject(Fault.reset_after_headers(), times=1)
    async with AsyncTelnyx(api_key="test", base_url=server.url, max_retries=2) as retrying:
        stream = await anthropic_stream(retrying, **anthropic_body())
        assert await stream.get_final_text() == expected_reply([{"role": "user", "content": USER}])
    assert len(server.requests_to("/ai/anthropic/v1/messages")) == 2


async def test_an_error_after_the_first_event_is_not_retried(server: MockServer) -> None:
    server.inject(Fault.error_event(3, error_type="overloaded_error"))
    async with AsyncTelnyx(api_key="test", base_url=server.url, max_retries=2) as retrying:
        stream = await anthropic_stream(retrying, **anthropic_body())
        with pytest.raises(APIStreamError):
            await stream.get_final_message()
    assert len(server.requests_to("/ai/anthropic/v1/messages")) == 1


# -- unknown events ------------------------------------------------------------------------------


async def test_unknown_events_and_deltas_are_kept_not_fatal(client: AsyncTelnyx, server: MockServer) -> None:
    events = anthropic_events()
    events.insert(3, {"type": "future_event", "weight": 3})
    events.insert(5, {"type": "content_block_delta", "index": 0, "delta": {"type": "future_delta", "x": 1}})
    server.add_route("POST", "/ai/anthropic/v1/messages", canned(named_sse(events)))
    stream = await anthropic_stream(client, **anthropic_body())
    seen = [event async for event in stream]
    unknown = [e for e in seen if isinstance(e, UnknownEvent)]
    assert [(e.type, e.data.get("weight")) for e in unknown] == [("future_event", 3), ("content_block_delta", None)]
    assert unknown[1].data["delta"] == {"type": "future_delta", "x": 1}
    expected = await _final_of(client, server, named_sse(anthropic_events()))
    assert await stream.get_final_message() == expected


async def _final_of(client: AsyncTelnyx, server: MockServer, body: bytes) -> Message:
    server.add_route("POST", "/ai/anthropic/v1/messages", canned(body))
    return await (await anthropic_stream(client, **anthropic_body())).get_final_message()


async def test_unknown_responses_events_without_names(client: AsyncTelnyx, server: MockServer) -> None:
    events = responses_events()
    events.insert(2, {"type": "response.web_search_call.searching", "item_id": "ws_1", "output_index": 9})
    server.add_route("POST", "/ai/openai/responses", canned(named_sse(events, names=False)))
    stream = await responses_stream(client, input=USER)
    seen = [event async for event in stream]
    assert isinstance(seen[2], UnknownEvent) and seen[2].type == "response.web_search_call.searching"
    assert (await stream.get_final_response()).status == "completed"


# -- relays -----------------------------------------------------------------------------------------


def relayed_events(data: bytes) -> list[tuple[str | None, Any]]:
    found: list[tuple[str | None, Any]] = []
    for block in data.decode().split("\n\n"):
        if not block or block.startswith(":"):
            continue
        name = None
        payload = ""
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                payload = line[6:]
        found.append((name, payload if payload == "[DONE]" else json.loads(payload)))
    return found


async def test_anthropic_relay_keeps_event_names_and_ends_once(client: AsyncTelnyx) -> None:
    stream = await anthropic_stream(client, **anthropic_body())
    frames = relayed_events(b"".join([piece async for piece in stream.to_sse()]))
    assert all(name == payload["type"] for name, payload in frames)
    assert frames[-1][0] == "message_stop"
    assert [name for name, _ in frames].count("message_stop") == 1


async def test_relay_of_an_overloaded_stream_ends_with_the_protocols_error(
    client: AsyncTelnyx, server: MockServer
) -> None:
    server.inject(Fault.error_event(4, error_type="overloaded_error"))
    stream = await anthropic_stream(client, **anthropic_body())
    frames = relayed_events(b"".join([piece async for piece in stream.to_sse()]))
    name, payload = frames[-1]
    assert name == "error"
    assert payload["type"] == "error" and payload["error"]["type"] == "overloaded_error"
    assert payload["retryable"] is False
    assert [n for n, _ in frames].count("error") == 1 and "message_stop" not in [n for n, _ in frames]


async def test_responses_relay_cut_ends_with_one_error_frame(client: AsyncTelnyx, server: MockServer) -> None:
    server.inject(Fault.truncated_stream(after_events=6))
    stream = await responses_stream(client, input=USER)
    frames = relayed_events(b"".join([piece async for piece in stream.to_sse()]))
    assert [n for n, _ in frames][:6] == [p["type"] for _, p in frames][:6]
    name, payload = frames[-1]
    assert name == "error" and payload["code"] == "connection_error" and payload["retryable"] is True


async def test_responses_relay_after_done_sends_done(client: AsyncTelnyx, server: MockServer) -> None:
    server.add_route("POST", "/ai/openai/responses", canned(responses_body("done")))
    stream = await responses_stream(client, input=USER)
    frames = relayed_events(b"".join([piece async for piece in stream.to_sse()]))
    assert frames[-1] == (None, "[DONE]")


def test_frame_helper_names_events() -> None:
    assert frame("ping", {"type": "ping"}) == b'event: ping\ndata: {"type":"ping"}\n\n'


@pytest.mark.parametrize("chunk", [None, 100])
async def test_an_event_over_the_size_limit_raises(server: MockServer, chunk: int | None) -> None:
    events = anthropic_events(texts=["x" * 5000])
    server.add_route("POST", "/ai/anthropic/v1/messages", canned(named_sse(events), chunk=chunk))
    async with AsyncTelnyx(api_key="t", base_url=server.url, max_retries=0, max_event_bytes=2048) as small:
        stream = await anthropic_stream(small, **anthropic_body())
        with pytest.raises(TelnyxError, match="exceeded 2048 bytes"):
            async for _ in stream:
                pass
        assert stream.closed


async def test_get_final_is_every_protocols_final_reply(client: AsyncTelnyx) -> None:
    response = await (await responses_stream(client, input=USER)).get_final()
    assert isinstance(response, Response) and response.request_id is not None
    message = await (await anthropic_stream(client, **anthropic_body())).get_final()
    assert isinstance(message, Message) and message.content
