"""The local emulator (`telnyx_ai.testing`), exercised through the real `AsyncTelnyx` client."""

from __future__ import annotations

import asyncio
import base64
import json
import struct
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

import telnyx_ai._http.retry
from telnyx_ai import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APIStreamError,
    APITimeoutError,
    AsyncTelnyx,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    UnprocessableEntityError,
)
from telnyx_ai.testing import (
    CHAT_MODELS,
    EMBEDDING_MODELS,
    SEEDED_CONVERSATION_IDS,
    Call,
    Fault,
    MockServer,
    StreamConfig,
    expected_embedding,
    expected_reply,
    json_response,
    reply_pieces,
)

MESSAGES: Any = [  # Any: the request TypedDicts belong to the generated types
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Héllo wörld, ça va? 🎉"},
]
CHAT = "/ai/chat/completions"
EMBED = "/ai/openai/embeddings"


@pytest.fixture
async def server() -> AsyncIterator[MockServer]:
    async with MockServer(tests=45) as mock:
        yield mock


@pytest.fixture
async def client(server: MockServer) -> AsyncIterator[AsyncTelnyx]:
    async with AsyncTelnyx(api_key="test-key", base_url=server.url, max_retries=0) as telnyx:
        yield telnyx


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retry waits, recorded instead of slept."""
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(telnyx_ai._http.retry, "_sleep", record)
    return waits


async def _eventually(check: Callable[[], bool], timeout: float = 2.0) -> None:
    """Wait until ``check()`` holds: the server notices a client leaving a moment after it left."""
    async with asyncio.timeout(timeout):
        while not check():  # noqa: ASYNC110 - polling a counter the server bumps, no event to wait on
            await asyncio.sleep(0.005)


async def _stream_text(client: AsyncTelnyx, messages: Any = MESSAGES) -> list[str]:
    stream = await client.ai.chat.create_completion(messages=messages, stream=True)
    async with stream:
        return [chunk.choices[0].delta.content or "" async for chunk in stream]


# -- endpoints ---------------------------------------------------------------------------------


async def test_chat_completion_echoes_the_last_user_message(server: MockServer, client: AsyncTelnyx) -> None:
    completion = await client.ai.chat.create_completion(messages=MESSAGES, model=CHAT_MODELS[3])

    assert completion.choices[0].message.content == expected_reply(MESSAGES)
    assert "Héllo wörld" in expected_reply(MESSAGES)
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == CHAT_MODELS[3]
    assert completion.usage is not None and completion.usage.total_tokens > 0
    [recorded] = server.requests
    assert (recorded.method, recorded.path, recorded.status) == ("POST", CHAT, 200)
    assert recorded.headers["authorization"] == "Bearer test-key"
    assert recorded.json()["messages"] == MESSAGES


async def test_streamed_chat_joins_to_expected_reply(client: AsyncTelnyx) -> None:
    stream = await client.ai.chat.create_completion(messages=MESSAGES, stream=True)
    async with stream:
        chunks = [chunk async for chunk in stream]

    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    contents = [c.choices[0].delta.content for c in chunks[1:-1]]
    assert contents == reply_pieces(expected_reply(MESSAGES))
    assert "".join(c or "" for c in contents) == expected_reply(MESSAGES)
    assert stream.closed


@pytest.mark.parametrize("line_ending", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize(
    "shape",
    [
        {},
        {"write_size": 1},
        {"write_size": 5, "comments": True, "event_ids": True},
        {"multiline_data": True, "write_size": 3, "bom": True},
        {"chunks": 4, "comments": True, "multiline_data": True},
    ],
)
async def test_stream_shapes_parse_to_the_same_text(
    server: MockServer, client: AsyncTelnyx, line_ending: Any, shape: dict[str, Any]
) -> None:
    server.stream = StreamConfig(reply="Grüße, 世界! naïve café 🎉 done", line_ending=line_ending, **shape)

    pieces = await _stream_text(client)

    assert "".join(pieces) == "Grüße, 世界! naïve café 🎉 done"
    if "chunks" in shape:
        assert len([p for p in pieces if p]) == 4


async def test_stream_bytes_on_the_wire_follow_the_config(server: MockServer) -> None:
    server.stream = StreamConfig(reply="a b", line_ending="\r\n", comments=True, multiline_data=True)
    headers = {"Authorization": "Bearer k"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(server.url + CHAT, json={"messages": MESSAGES, "stream": True}, headers=headers) as response,
    ):
        raw = await response.read()

    assert response.content_type == "text/event-stream"
    assert raw.startswith(b": ping\r\ndata: {\r\ndata:   ")
    assert raw.endswith(b"data: [DONE]\r\n\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")


async def test_embeddings_are_exact_and_deterministic(client: AsyncTelnyx) -> None:
    texts = ["The quick brown fox", "naïve café", "The quick brown fox"]
    for model, size in EMBEDDING_MODELS.items():
        response = await client.ai.openai.embeddings.create_embeddings(input=texts, model=model)
        vectors = [d.embedding for d in sorted(response.data, key=lambda d: d.index)]
        assert vectors == [expected_embedding(t, model) for t in texts]
        assert all(len(v) == size for v in vectors)
        assert response.model == model
    vector = expected_embedding("x", "thenlper/gte-large")
    assert all(v * 1024 == int(v * 1024) and -1 <= v < 1 for v in vector)
    assert vector != expected_embedding("y", "thenlper/gte-large")


async def test_embeddings_single_input_dimensions_and_base64(client: AsyncTelnyx) -> None:
    model = "intfloat/multilingual-e5-large"
    single = await client.ai.openai.embeddings.create_embeddings(input="hi", model=model, dimensions=8)
    assert single.data[0].embedding == expected_embedding("hi", model, 8) == expected_embedding("hi", model)[:8]


async def test_embeddings_base64_encoding(server: MockServer) -> None:
    # Raw HTTP: whether the SDK's response type accepts the base64 string is the generator's business.
    model = "intfloat/multilingual-e5-large"
    body = {"input": "hi", "model": model, "encoding_format": "base64"}
    async with (
        aiohttp.ClientSession(headers={"Authorization": "Bearer k"}) as session,
        session.post(server.url + EMBED, json=body) as response,
    ):
        packed = await response.json()
    raw = base64.b64decode(packed["data"][0]["embedding"])
    assert list(struct.unpack(f"<{len(raw) // 4}f", raw)) == expected_embedding("hi", model)


async def test_embeddings_reject_bad_requests(client: AsyncTelnyx) -> None:
    with pytest.raises(UnprocessableEntityError, match=r"body\.model: Unknown embedding model 'nope'"):
        await client.ai.openai.embeddings.create_embeddings(input="hi", model="nope")
    with pytest.raises(UnprocessableEntityError, match="dimensions"):
        await client.ai.openai.embeddings.create_embeddings(input="hi", model="thenlper/gte-large", dimensions=5000)
    with pytest.raises(UnprocessableEntityError, match=r"body\.input"):
        await client.ai.openai.embeddings.create_embeddings(input=[], model="thenlper/gte-large")


async def test_model_listings(client: AsyncTelnyx) -> None:
    models = await client.ai.retrieve_models()
    embedding_models = await client.ai.openai.embeddings.list_embedding_models()

    assert "meta-llama/Meta-Llama-3.1-8B-Instruct" in [m.id for m in models.data]
    assert [m.id for m in embedding_models.data] == list(EMBEDDING_MODELS)


async def test_conversations_are_seeded_stored_and_404_when_unknown(server: MockServer, client: AsyncTelnyx) -> None:
    seeded = await client.ai.conversations.retrieve(SEEDED_CONVERSATION_IDS[0])
    assert seeded.data is not None and seeded.data.id == SEEDED_CONVERSATION_IDS[0]

    body = {"name": "n", "metadata": {"a": "b"}}
    async with (
        aiohttp.ClientSession(headers={"Authorization": "Bearer k"}) as session,
        session.post(server.url + "/ai/conversations", json=body) as response,
    ):
        created = await response.json()
    fetched = await client.ai.conversations.retrieve(created["id"])
    assert fetched.data is not None and (fetched.data.name, fetched.data.metadata) == ("n", {"a": "b"})

    with pytest.raises(NotFoundError, match="No conversation with id 'missing/id'"):
        await client.ai.conversations.retrieve("missing/id")


async def test_pagination_walks_all_seeded_tests(server: MockServer, client: AsyncTelnyx) -> None:
    tests = [t async for t in client.ai.assistants.tests.list()]

    assert len(tests) == 45 and len({t.test_id for t in tests}) == 45
    assert [r.query.get("page[number]", "1") for r in server.requests] == ["1", "2", "3"]

    first = await client.ai.assistants.tests.list(page_size=10)
    assert first.meta is not None
    assert (first.meta.page_number, first.meta.page_size, first.meta.total_pages, first.meta.total_results) == (
        1,
        10,
        5,
        45,
    )
    assert len([t async for t in client.ai.assistants.tests.list(page_size=10, page_number=4)]) == 15
    suite = [t async for t in client.ai.assistants.tests.list(test_suite="suite-2")]
    assert len(suite) == 15 and {t.test_suite for t in suite} == {"suite-2"}

    server.seed_tests(0)
    assert [t async for t in client.ai.assistants.tests.list()] == []
    with pytest.raises(UnprocessableEntityError):
        await client.ai.assistants.tests.list(extra_query={"page[size]": 500})


async def test_missing_key_gets_401_and_unknown_routes_404(server: MockServer) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(server.url + CHAT, json={"messages": MESSAGES}) as response:
            assert response.status == 401
            assert response.headers["WWW-Authenticate"] == "Bearer"
            body = await response.json()
        async with session.get(server.url + "/ai/nothing", headers={"Authorization": "Bearer k"}) as response:
            assert response.status == 404
            missing = await response.json()
        async with session.delete(server.url + "/ai/models", headers={"Authorization": "Bearer k"}) as response:
            assert response.status == 405

    assert body["errors"][0]["code"] == "10009"
    assert body["errors"][0]["title"] == "Authentication failed"
    assert missing["errors"][0]["title"] == "Resource not found"
    assert [r.status for r in server.requests] == [401, 404, 405]


async def test_custom_routes_can_be_added(server: MockServer, client: AsyncTelnyx) -> None:
    async def texml(call: Call) -> web.StreamResponse:
        return json_response({"assistant": call.params["assistant_id"]})

    server.add_route("GET", "/ai/assistants/{assistant_id}/texml", texml)
    async with (
        aiohttp.ClientSession(headers={"Authorization": "Bearer k"}) as session,
        session.get(server.url + "/ai/assistants/a%20b/texml") as response,
    ):
        assert await response.json() == {"assistant": "a b"}


# -- faults ------------------------------------------------------------------------------------


async def test_status_faults_map_to_status_errors(server: MockServer, client: AsyncTelnyx) -> None:
    server.inject(Fault.status(429, retry_after=1))
    with pytest.raises(RateLimitError) as rate_limited:
        await client.ai.retrieve_models()
    assert rate_limited.value.response is not None
    assert rate_limited.value.response.headers["Retry-After"] == "1"

    server.inject(Fault.status(502, html=True), path=CHAT)
    await client.ai.retrieve_models()  # the path filter keeps other endpoints clean
    with pytest.raises(InternalServerError, match="502 Bad Gateway") as bad_gateway:
        await client.ai.chat.create_completion(messages=MESSAGES)
    assert "<html>" in str(bad_gateway.value.body)
    assert server.fault_counts["status"] == 2
    assert [r.fault is not None for r in server.requests] == [True, False, True]


@pytest.mark.parametrize("fault", [Fault.reset_before_headers(), Fault.reset_after_headers()])
@pytest.mark.parametrize("streaming", [False, True])
async def test_resets_are_connection_errors(
    server: MockServer, client: AsyncTelnyx, fault: Fault, streaming: bool
) -> None:
    server.inject(fault)
    with pytest.raises(APIConnectionError) as failed:
        if streaming:
            await _stream_text(client)
        else:
            await client.ai.chat.create_completion(messages=MESSAGES)
    assert not isinstance(failed.value, APITimeoutError)
    assert len(server.requests) == 1 and server.fault_counts[fault.kind] == 1
    assert server.disconnects == 0  # the server cut it: not counted as the client leaving


async def test_truncated_json_is_a_validation_error_then_a_cut(server: MockServer, client: AsyncTelnyx) -> None:
    server.inject(Fault.truncated_json(), times=2)
    with pytest.raises(APIResponseValidationError) as caught:
        await client.ai.openai.embeddings.create_embeddings(input="x", model="thenlper/gte-large")
    assert caught.value.malformed  # so a client with retries tries again
    with pytest.raises(APIConnectionError, match="first event arrived cut short"):  # nothing read yet: a cut
        await _stream_text(client)


async def test_truncated_json_is_retried(server: MockServer) -> None:
    server.inject(Fault.truncated_json(), times=2)
    async with AsyncTelnyx(api_key="k", base_url=server.url, max_retries=2) as client:
        completion = await client.ai.chat.create_completion(messages=MESSAGES)
        assert completion.choices[0].message.content == expected_reply(MESSAGES)
        assert "".join(await _stream_text(client)) == expected_reply(MESSAGES)
    assert len(server.requests) == 4 and server.fault_counts["truncated_json"] == 2


async def test_truncated_stream_raises_after_the_events_sent(server: MockServer, client: AsyncTelnyx) -> None:
    server.inject(Fault.truncated_stream(after_events=3))
    received: list[str] = []
    stream = await client.ai.chat.create_completion(messages=MESSAGES, stream=True)
    with pytest.raises(APIConnectionError, match="no \\[DONE\\]"):
        async with stream:
            async for chunk in stream:
                received.append(chunk.choices[0].delta.content or "")
    assert received == ["", *reply_pieces(expected_reply(MESSAGES))[:2]]


async def test_error_event_raises_stream_error(server: MockServer, client: AsyncTelnyx) -> None:
    server.inject(Fault.error_event(after_events=2))
    with pytest.raises(APIStreamError, match="Unexpected error: The emulator injected an error event"):
        await _stream_text(client)


async def test_stream_only_faults_wait_for_a_stream(server: MockServer, client: AsyncTelnyx) -> None:
    injection = server.inject(Fault.error_event())
    await client.ai.chat.create_completion(messages=MESSAGES)
    assert injection.remaining == 1 and server.pending_faults == [injection]
    with pytest.raises(APIStreamError):
        await _stream_text(client)
    assert (injection.remaining, injection.applied, server.pending_faults) == (0, 1, [])


async def test_stall_times_out_and_the_server_sees_the_client_leave(server: MockServer, client: AsyncTelnyx) -> None:
    server.inject(Fault.stall(5.0))
    with pytest.raises(APITimeoutError):
        await client.ai.retrieve_models(timeout=0.1)
    await _eventually(lambda: server.disconnects == 1)
    assert server.requests[0].disconnected and server.in_flight == 0


async def test_stall_mid_stream_times_out_between_events(server: MockServer, client: AsyncTelnyx) -> None:
    server.inject(Fault.stall(5.0, after_events=2))
    stream = await client.ai.chat.create_completion(messages=MESSAGES, stream=True, timeout=0.1)
    received = 0
    with pytest.raises(APITimeoutError, match="next stream event"):
        async with stream:
            async for _ in stream:
                received += 1
    assert received == 2


async def test_trickle_delivers_everything_slowly(server: MockServer, client: AsyncTelnyx) -> None:
    server.inject(Fault.trickle(0.0005, chunk_size=64), times=2)
    models = await client.ai.retrieve_models()
    assert len(models.data) == 4
    assert "".join(await _stream_text(client)) == expected_reply(MESSAGES)
    assert server.fault_counts["trickle"] == 2


async def test_closing_a_stream_early_is_seen_as_a_disconnect(server: MockServer, client: AsyncTelnyx) -> None:
    server.stream.delay = 0.02
    stream = await client.ai.chat.create_completion(messages=MESSAGES, stream=True)
    async with stream:
        await stream.__anext__()
        await stream.__anext__()
    await _eventually(lambda: server.disconnects == 1)
    assert server.requests[0].disconnected


async def test_peak_concurrency_counts_overlapping_requests(server: MockServer, client: AsyncTelnyx) -> None:
    server.inject(Fault.stall(0.1), times=6)
    await asyncio.gather(*(client.ai.retrieve_models() for _ in range(6)))
    assert server.peak_concurrency == 6 and server.in_flight == 0

    server.reset()
    assert (server.requests, server.peak_concurrency, server.fault_counts["stall"]) == ([], 0, 0)


# -- retries ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [Fault.status(503), Fault.status(502, html=True), Fault.reset_before_headers(), Fault.reset_after_headers()],
)
async def test_retries_recover_from_two_faults(server: MockServer, sleeps: list[float], fault: Fault) -> None:
    server.inject(fault, times=2)
    async with AsyncTelnyx(api_key="k", base_url=server.url, max_retries=2) as client:
        completion = await client.ai.chat.create_completion(messages=MESSAGES)
    assert completion.choices[0].message.content == expected_reply(MESSAGES)
    assert len(server.requests) == 3 and len(sleeps) == 2
    assert [r.fault for r in server.requests] == [fault, fault, None]


async def test_retries_recover_before_a_stream_starts(server: MockServer, sleeps: list[float]) -> None:
    server.inject(Fault.status(429), times=1)
    server.inject(Fault.reset_after_headers(), times=1)
    async with AsyncTelnyx(api_key="k", base_url=server.url, max_retries=2) as client:
        assert "".join(await _stream_text(client)) == expected_reply(MESSAGES)
    assert len(server.requests) == 3


@pytest.mark.parametrize(
    ("fault", "wait"), [(Fault.status(429, retry_after=1), 1.0), (Fault.status(429, retry_after_ms=5), 0.005)]
)
async def test_retry_after_is_honoured(server: MockServer, sleeps: list[float], fault: Fault, wait: float) -> None:
    server.inject(fault)
    async with AsyncTelnyx(api_key="k", base_url=server.url, max_retries=1) as client:
        await client.ai.retrieve_models()
    assert sleeps == [wait]


async def test_random_fault_rates_are_repeatable_with_a_seed(server: MockServer, client: AsyncTelnyx) -> None:
    async def run() -> list[str]:
        outcomes: list[str] = []
        for _ in range(120):
            try:
                await client.ai.chat.create_completion(messages=MESSAGES)
                outcomes.append("ok")
            except APIStatusError as exc:
                outcomes.append(str(exc.status_code))
            except APIConnectionError:
                outcomes.append("reset")
        return outcomes

    server.set_fault_rates({Fault.status(503): 0.2, "reset_before_headers": 0.1}, seed=7)
    first = await run()
    counts = dict(server.fault_counts)
    server.reset()
    server.set_fault_rates({Fault.status(503): 0.2, "reset_before_headers": 0.1}, seed=7)

    assert await run() == first
    assert counts == {"status": first.count("503"), "reset_before_headers": first.count("reset")}
    assert 10 < first.count("503") < 40 and first.count("ok") == server.served
    with pytest.raises(ValueError, match="must not exceed 1"):
        server.set_fault_rates({"status": 0.7, "trickle": 0.5})


# -- from synchronous code -------------------------------------------------------------------


def test_in_thread_serves_synchronous_callers() -> None:
    with MockServer.in_thread() as server:
        request = urllib.request.Request(
            server.url + CHAT,
            data=json.dumps({"messages": MESSAGES}).encode(),
            headers={"Authorization": "Bearer k", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            body = json.loads(response.read())
        server.inject(Fault.status(503))
        with pytest.raises(urllib.error.HTTPError) as failed:
            urllib.request.urlopen(request, timeout=5)
        assert failed.value.code == 503
        failed.value.close()
        url = server.url
    assert body["choices"][0]["message"]["content"] == expected_reply(MESSAGES)
    assert len(server.requests) == 2 and not server.running
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url + CHAT, timeout=1)


def test_url_before_start_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="not running"):
        _ = MockServer().url


async def test_closing_the_server_ends_stalled_requests_at_once() -> None:
    server = MockServer()
    await server.start()
    server.inject(Fault.stall(30.0))
    async with AsyncTelnyx(api_key="k", base_url=server.url, max_retries=0) as client:
        pending = asyncio.create_task(client.ai.retrieve_models())
        await _eventually(lambda: server.in_flight == 1)
        async with asyncio.timeout(2):
            await server.close()
            with pytest.raises(APIConnectionError):
                await pending
    assert server.disconnects == 0  # the server left, not the client


async def test_every_response_carries_a_request_id_and_errors_expose_it() -> None:
    from telnyx_ai import NotFoundError

    async with MockServer() as server, AsyncTelnyx(api_key="k", base_url=server.url, max_retries=0) as client:
        raw = await client.with_raw_response(client.ai.retrieve_models)
        assert raw.headers["x-request-id"] == server.requests[0].request_id
        with pytest.raises(NotFoundError) as info:
            await client.ai.conversations.retrieve("missing")
        assert info.value.request_id == server.requests[1].request_id
        assert info.value.request_id != raw.headers["x-request-id"]
        stream = await client.ai.chat.create_completion(messages=[{"role": "user", "content": "hi"}], stream=True)
        async with stream:
            assert stream.response.headers["x-request-id"] == server.requests[2].request_id


async def test_conversations_are_listed(server: MockServer, client: AsyncTelnyx) -> None:
    made = await client.ai.conversations.create(name="support", metadata={"channel": "sms"})
    listed = await client.ai.conversations.list()
    assert made.id in [c.id for c in listed.data] and len(listed.data) == len(SEEDED_CONVERSATION_IDS) + 1
    assert len((await client.ai.conversations.list(limit=1)).data) == 1
