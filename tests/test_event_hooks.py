"""Event hooks: the typed events a client hands its hooks (request, response, retry, call_end, stream_end),
in order, on both clients, with the key redacted; every way a stream ends; hooks that fail or are wrong."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web

from telnyx_ai import (
    APIConnectionError,
    APIStreamError,
    AsyncTelnyx,
    CallEndEvent,
    EventHooks,
    InternalServerError,
    NotFoundError,
    RequestEvent,
    ResponseEvent,
    RetryEvent,
    StreamEndEvent,
    Telnyx,
)
from telnyx_ai._http import transport as transport_module
from telnyx_ai.testing import Call, Fault, MockServer, StreamConfig, expected_reply
from telnyx_ai.types.anthropic import Message
from telnyx_ai.types.assistant_chat import AssistantChatDone
from telnyx_ai.types.chat import ChatCompletion
from telnyx_ai.types.responses import Response

from .protocol_calls import anthropic_stream, assistant_stream, canned, responses_stream

KEY = "KEY-hooks-secret-0123456789"
MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct"
MESSAGES: Any = [{"role": "user", "content": "Say hello."}]
NAMES = ("request", "response", "retry", "call_end", "stream_end")

pytestmark = pytest.mark.usefixtures("instant_retries")  # retries without their waits


class Recorder:
    """Every event the hooks received, in order, as (event name, event)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self.threads: set[str] = set()

    def hooks(self) -> EventHooks:
        def hook(name: str) -> Callable[[Any], None]:
            def record(event: Any) -> None:
                self.events.append((name, event))
                self.threads.add(threading.current_thread().name)

            return record

        return {name: [hook(name)] for name in NAMES}  # type: ignore[return-value]

    def names(self) -> list[str]:
        return [name for name, _ in self.events]

    def of(self, name: str) -> list[Any]:
        return [event for kind, event in self.events if kind == name]


@pytest.fixture
async def server() -> AsyncIterator[MockServer]:
    async with MockServer() as s:
        yield s


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def client(server: MockServer, recorder: Recorder) -> AsyncIterator[AsyncTelnyx]:
    async with AsyncTelnyx(api_key=KEY, base_url=server.url, event_hooks=recorder.hooks()) as c:
        yield c


async def test_a_call_retried_once_tells_every_step_in_order(
    client: AsyncTelnyx, server: MockServer, recorder: Recorder
) -> None:
    server.inject(Fault.status(503), times=1)
    reply = await client.ai.openai.chat.create_completion(messages=MESSAGES, model=MODEL)
    assert recorder.names() == ["request", "response", "retry", "request", "response", "call_end"]
    first, second = recorder.of("request")
    assert (first.attempt, second.attempt) == (1, 2)
    assert first.call is second.call
    call = first.call
    assert (call.method, call.path, call.stream) == ("POST", "/ai/openai/chat/completions", False)
    assert call.url == server.url + "/ai/openai/chat/completions"
    assert call.content is not None and b'"Say hello."' in call.content
    assert second.headers["X-Retry-Count"] == "1"
    assert [r.status_code for r in recorder.of("response")] == [503, 200]
    assert all(isinstance(r, ResponseEvent) for r in recorder.of("response"))
    assert recorder.of("response")[1].request_id == reply.request_id
    (retry,) = recorder.of("retry")
    assert isinstance(retry, RetryEvent)
    assert (retry.attempt, type(retry.error)) == (1, InternalServerError)
    assert retry.delay >= 0
    (end,) = recorder.of("call_end")
    assert isinstance(end, CallEndEvent)
    assert end.result is reply and end.error is None and end.attempts == 2
    assert end.call is call and end.elapsed > 0


async def test_events_never_hold_the_key(client: AsyncTelnyx, server: MockServer, recorder: Recorder) -> None:
    server.inject(Fault.status(429), times=1)
    await client.ai.openai.chat.create_completion(messages=MESSAGES, model=MODEL)
    request = recorder.of("request")[0]
    assert request.headers["Authorization"] == "<redacted>"
    assert isinstance(request, RequestEvent)
    for name, event in recorder.events:
        assert KEY not in repr(event), name
        assert KEY not in str(getattr(event, "headers", {})), name


async def test_a_failed_call_ends_with_its_error(client: AsyncTelnyx, recorder: Recorder) -> None:
    with pytest.raises(NotFoundError) as caught:
        await client.ai.conversations.retrieve("nope")
    assert recorder.names() == ["request", "response", "call_end"]
    (end,) = recorder.of("call_end")
    assert end.error is caught.value and end.result is None and end.attempts == 1
    assert end.call.method == "GET" and end.call.content is None


async def test_a_connection_error_has_no_response_event(
    client: AsyncTelnyx, server: MockServer, recorder: Recorder
) -> None:
    server.inject(Fault.reset_before_headers(), times=1)
    await client.ai.openai.chat.create_completion(messages=MESSAGES, model=MODEL)
    assert recorder.names() == ["request", "retry", "request", "response", "call_end"]
    assert isinstance(recorder.of("retry")[0].error, APIConnectionError)


async def test_a_cancelled_call_ends_with_the_cancellation(server: MockServer, recorder: Recorder) -> None:
    server.inject(Fault.stall(5.0), times=1)
    sent = asyncio.Event()
    hooks = recorder.hooks()
    hooks["request"] = [*hooks["request"], lambda event: sent.set()]
    async with AsyncTelnyx(api_key=KEY, base_url=server.url, event_hooks=hooks) as client:
        task = asyncio.create_task(client.ai.openai.chat.create_completion(messages=MESSAGES, model=MODEL))
        await sent.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    (end,) = recorder.of("call_end")
    assert isinstance(end.error, asyncio.CancelledError)


async def test_a_stream_ends_after_its_call_with_what_it_added_up_to(client: AsyncTelnyx, recorder: Recorder) -> None:
    stream = await client.ai.openai.chat.create_completion(messages=MESSAGES, model=MODEL, stream=True)
    assert recorder.names() == ["request", "response", "call_end"]
    (end,) = recorder.of("call_end")
    assert end.result is None and end.call.stream
    text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices])
    assert recorder.names()[-1] == "stream_end"
    (finished,) = recorder.of("stream_end")
    assert isinstance(finished, StreamEndEvent)
    assert (finished.outcome, finished.error, finished.call) == ("completed", None, end.call)
    assert isinstance(finished.reply, ChatCompletion)
    assert finished.reply.choices[0].message.content == text == expected_reply(MESSAGES)
    assert finished.reply.usage is not None and finished.reply.usage.completion_tokens > 0
    assert finished.time_to_first_event == pytest.approx(end.elapsed)
    assert 0 < finished.time_to_first_event <= finished.elapsed
    await stream.close()  # already ended: not told twice
    assert recorder.names().count("stream_end") == 1


async def test_a_stream_closed_early_ends_closed(server: MockServer, recorder: Recorder) -> None:
    server.stream = StreamConfig(reply="word " * 200, delay=0.005)
    async with AsyncTelnyx(api_key=KEY, base_url=server.url, event_hooks=recorder.hooks()) as client:
        stream = await client.ai.openai.chat.create_completion(messages=MESSAGES, model=MODEL, stream=True)
        async with stream:
            async for _ in stream:
                break
    (finished,) = recorder.of("stream_end")
    assert finished.outcome == "closed" and finished.error is None
    assert isinstance(finished.reply, ChatCompletion) and finished.reply.id  # the part read so far


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.truncated_stream(after_events=2), APIConnectionError),
        (Fault.error_event(after_events=2, error_type="overloaded_error"), APIStreamError),
        (Fault.error_event(after_events=0), APIStreamError),  # before the first event: the call fails
    ],
)
async def test_a_stream_cut_or_failing_ends_failed(
    client: AsyncTelnyx, server: MockServer, recorder: Recorder, fault: Fault, error: type[Exception]
) -> None:
    server.inject(fault, times=1)
    with pytest.raises(error) as caught:
        stream = await client.ai.openai.chat.create_completion(messages=MESSAGES, model=MODEL, stream=True)
        async for _ in stream:
            pass
    if recorder.of("stream_end"):
        (finished,) = recorder.of("stream_end")
        assert (finished.outcome, finished.error) == ("failed", caught.value)
    else:  # failed before its first event: the call itself failed, and no stream was handed out
        assert recorder.of("call_end")[-1].error is caught.value


async def test_an_error_event_read_with_the_first_event_still_ends_the_stream(
    client: AsyncTelnyx, server: MockServer, recorder: Recorder
) -> None:
    chunk = b'data: {"id":"c1","model":"m","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n'
    error = b'event: error\ndata: {"error":{"message":"overloaded","type":"overloaded_error"}}\n\n'
    server.add_route("POST", "/ai/openai/chat/completions", canned(chunk + error))  # one write, one read
    stream = await client.ai.openai.chat.create_completion(messages=MESSAGES, model=MODEL, stream=True)
    (finished,) = recorder.of("stream_end")  # it ended while its first event was read, before it was handed out
    assert finished.outcome == "failed" and isinstance(finished.error, APIStreamError)
    assert isinstance(finished.reply, ChatCompletion) and finished.reply.choices[0].message.content == "Hi"
    with pytest.raises(APIStreamError) as caught:
        async for _ in stream:
            pass
    assert caught.value is finished.error
    assert recorder.names().count("stream_end") == 1


async def test_an_error_event_after_more_events_in_its_read_reports_them_folded_in(
    client: AsyncTelnyx, server: MockServer, recorder: Recorder
) -> None:
    def chunk(text: str) -> bytes:
        return b'data: {"id":"c1","model":"m","choices":[{"index":0,"delta":{"content":"%s"}}]}\n\n' % text.encode()

    error = b'event: error\ndata: {"error":{"message":"overloaded","type":"overloaded_error"}}\n\n'

    async def handler(call: Call) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(call.request)
        await response.write(chunk("one "))
        await asyncio.sleep(0.05)
        await response.write(chunk("two ") + chunk("three") + error)  # one read: two events, then the error
        await response.write_eof()
        return response

    server.add_route("POST", "/ai/openai/chat/completions", handler)
    stream = await client.ai.openai.chat.create_completion(messages=MESSAGES, model=MODEL, stream=True)
    texts: list[str] = []
    with pytest.raises(APIStreamError):
        async for event in stream:
            texts.append(event.choices[0].delta.content or "")
    (finished,) = recorder.of("stream_end")
    assert texts == ["one ", "two ", "three"]
    assert isinstance(finished.reply, ChatCompletion) and finished.reply.choices[0].message.content == "one two three"


async def test_an_abandoned_stream_ends_abandoned(server: MockServer, recorder: Recorder) -> None:
    server.stream = StreamConfig(reply="word " * 200, delay=0.005)
    async with AsyncTelnyx(api_key=KEY, base_url=server.url, event_hooks=recorder.hooks()) as client:
        stream = await client.ai.openai.chat.create_completion(messages=MESSAGES, model=MODEL, stream=True)
        async for _ in stream:
            break
        del stream
        for _ in range(100):  # the loop closes the abandoned ``async for`` generator, then the stream goes
            gc.collect()
            if recorder.of("stream_end"):
                break
            await asyncio.sleep(0.01)
        (finished,) = recorder.of("stream_end")
        assert finished.outcome == "abandoned"


async def test_a_cancelled_reader_ends_the_stream_cancelled(server: MockServer, recorder: Recorder) -> None:
    server.stream = StreamConfig(reply="word " * 200, delay=0.02)
    async with AsyncTelnyx(api_key=KEY, base_url=server.url, event_hooks=recorder.hooks()) as client:
        stream = await client.ai.openai.chat.create_completion(messages=MESSAGES, model=MODEL, stream=True)

        async def read() -> None:
            async for _ in stream:
                pass

        task = asyncio.create_task(read())
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    (finished,) = recorder.of("stream_end")
    assert finished.outcome == "cancelled"


@pytest.mark.parametrize("protocol", ["responses", "anthropic", "assistant"])
async def test_every_protocols_stream_end_carries_its_reply(
    client: AsyncTelnyx, recorder: Recorder, protocol: str
) -> None:
    if protocol == "responses":
        stream: Any = await responses_stream(client, model=MODEL, input="Say hello.")
        kind: type = Response
    elif protocol == "anthropic":
        stream = await anthropic_stream(client, model=MODEL, max_tokens=50, messages=MESSAGES)
        kind = Message
    else:
        assistant = await client.ai.assistants.create(name="Ada", model="m", instructions="Help.")
        recorder.events.clear()
        stream = await assistant_stream(client, assistant.id, content="Say hello.", conversation_id="c1")
        kind = AssistantChatDone
    text = await stream.get_final_text()
    (finished,) = recorder.of("stream_end")
    assert finished.outcome == "completed" and isinstance(finished.reply, kind)
    assert text and text in str(finished.reply)


async def test_embed_many_tells_each_batch(client: AsyncTelnyx, recorder: Recorder) -> None:
    vectors = await client.ai.openai.embeddings.embed_many(
        [f"text {i}" for i in range(5)], model="thenlper/gte-large", batch_size=2
    )
    assert len(vectors) == 5
    ends = recorder.of("call_end")
    assert len(ends) == 3 and {end.call.path for end in ends} == {"/ai/openai/embeddings"}
    assert all(end.error is None and end.result is not None for end in ends)


async def test_a_failing_hook_is_logged_and_the_call_goes_on(
    server: MockServer, caplog: pytest.LogCaptureFixture
) -> None:
    told: list[str] = []

    def broken(event: RequestEvent) -> None:
        raise RuntimeError("hook bug")

    hooks: EventHooks = {"request": [broken, lambda event: told.append(event.call.path)]}
    async with AsyncTelnyx(api_key=KEY, base_url=server.url, event_hooks=hooks) as client:
        with caplog.at_level(logging.ERROR, logger="telnyx_ai"):
            models = await client.ai.openai.list_models()
    assert models.data and told == ["/ai/openai/models"]
    assert "broken" in caplog.text and "hook bug" in caplog.text


def test_wrong_hooks_are_refused_with_what_to_write() -> None:
    async def async_hook(event: RequestEvent) -> None:
        pass

    with pytest.raises(TypeError, match=r"async function .*async_hook.* plain function"):
        AsyncTelnyx(api_key=KEY, event_hooks={"request": [async_hook]})  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"no event 'requests'.*Did you mean 'request'"):
        AsyncTelnyx(api_key=KEY, event_hooks={"requests": [print]})  # type: ignore[typeddict-unknown-key]
    with pytest.raises(TypeError, match=r"must be a list of functions.*\{'response': \[my_hook\]\}"):
        AsyncTelnyx(api_key=KEY, event_hooks={"response": print})  # type: ignore[typeddict-item]
    with pytest.raises(TypeError, match="not callable"):
        Telnyx(api_key=KEY, event_hooks={"retry": ["log"]})  # type: ignore[list-item]
    with pytest.raises(TypeError, match="dict of lists"):
        AsyncTelnyx(api_key=KEY, event_hooks=[print])  # type: ignore[typeddict-item]


async def test_copies_keep_the_hooks_and_with_options_replaces_one_event(server: MockServer) -> None:
    first: list[Any] = []
    second: list[Any] = []
    ends: list[Any] = []
    async with AsyncTelnyx(
        api_key=KEY, base_url=server.url, event_hooks={"request": [first.append], "call_end": [ends.append]}
    ) as client:
        await client.with_options(timeout=30).ai.openai.list_models()
        assert (len(first), len(ends)) == (1, 1)
        await client.with_options(event_hooks={"request": [second.append]}).ai.openai.list_models()
        assert (len(first), len(second), len(ends)) == (1, 1, 2)
        await client.with_options(event_hooks={"request": [], "call_end": []}).ai.openai.list_models()
        assert (len(first), len(second), len(ends)) == (1, 1, 2)
        await client.ai.openai.list_models()  # the original keeps its own
        assert (len(first), len(ends)) == (2, 3)


async def test_without_hooks_no_call_takes_the_observed_path(
    server: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> Any:
        raise AssertionError("a call without hooks went through the observed path")

    monkeypatch.setattr(transport_module, "observed_call", refuse)
    async with AsyncTelnyx(api_key=KEY, base_url=server.url) as client:
        reply = await client.ai.openai.chat.create_completion(messages=MESSAGES, model=MODEL)
        stream = await client.ai.openai.chat.create_completion(messages=MESSAGES, model=MODEL, stream=True)
        assert (await stream.get_final_completion()).choices[0].message.content == reply.choices[0].message.content


def test_the_sync_client_tells_its_hooks_on_its_loop_thread(server_thread: MockServer) -> None:
    recorder = Recorder()
    with Telnyx(api_key=KEY, base_url=server_thread.url, event_hooks=recorder.hooks()) as client:
        reply = client.ai.openai.chat.create_completion(messages=MESSAGES, model=MODEL)
        with client.ai.openai.chat.create_completion(messages=MESSAGES, model=MODEL, stream=True) as stream:
            text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == reply.choices[0].message.content
    assert recorder.names() == ["request", "response", "call_end", "request", "response", "call_end", "stream_end"]
    assert recorder.of("call_end")[0].result == reply
    assert recorder.of("stream_end")[0].outcome == "completed"
    assert threading.current_thread().name not in recorder.threads


@pytest.fixture
def server_thread() -> Any:
    with MockServer.in_thread() as s:
        yield s
