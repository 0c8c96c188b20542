"""Idempotency keys: one per call, the same on each of its retries, and an emulator that never acts twice."""

from __future__ import annotations

import uuid

import pytest

from telnyx_ai import APIResponseValidationError, AsyncTelnyx, ConflictError, Telnyx
from telnyx_ai.testing import Fault, MockServer
from telnyx_ai.testing._idempotency import KEY_LIFETIME, IdempotencyStore

KEY = "Idempotency-Key"


@pytest.fixture
async def server() -> MockServer:
    async with MockServer() as running:
        yield running  # type: ignore[misc]


def keys_sent(server: MockServer, path: str) -> list[str | None]:
    return [r.headers.get(KEY) for r in server.requests_to(path)]


async def make_assistant(client: AsyncTelnyx) -> str:
    return (await client.ai.assistants.create(name="A", instructions="Be brief.")).id


async def test_every_retry_of_a_call_repeats_its_key(server: MockServer) -> None:
    async with AsyncTelnyx(api_key="k", base_url=server.url, max_retries=3) as client:
        server.inject(Fault.status(503, retry_after=0), times=2, path="/ai/assistants")
        await make_assistant(client)
    sent = server.requests_to("/ai/assistants", "POST")
    assert [r.status for r in sent] == [503, 503, 200]
    keys = {r.headers[KEY] for r in sent}
    assert len(keys) == 1
    uuid.UUID(keys.pop())  # a UUID, the form servers that validate keys accept
    assert [r.headers["X-Retry-Count"] for r in sent] == ["0", "1", "2"]


async def test_each_call_gets_its_own_key_and_gets_send_none(server: MockServer) -> None:
    async with AsyncTelnyx(api_key="k", base_url=server.url) as client:
        first, second = await make_assistant(client), await make_assistant(client)
        await client.ai.assistants.retrieve(first)
        await client.ai.assistants.delete(second)
    posts = keys_sent(server, "/ai/assistants")
    assert len(posts) == 2 and None not in posts and posts[0] != posts[1]
    assert [r.headers.get(KEY) for r in server.requests if r.method == "GET"] == [None]
    (delete,) = [r for r in server.requests if r.method == "DELETE"]
    assert delete.headers.get(KEY) not in (None, *posts)


async def test_the_callers_key_is_sent_as_given(server: MockServer) -> None:
    async with AsyncTelnyx(api_key="k", base_url=server.url) as client:
        assistant = await make_assistant(client)
        await client.ai.assistants.send_sms(assistant, from_="+13125550100", to="+13125550111", idempotency_key="sms-1")
        await client.ai.assistants.retrieve(assistant, extra_headers={KEY: "ignored-on-a-get"})
        # extra_headers work on any call, in any case, and win over everything else
        await client.ai.assistants.delete(assistant, extra_headers={"idempotency-key": "delete-1"})
    sms = server.requests_to(f"/ai/assistants/{assistant}/chat/sms")[0]
    assert sms.headers.getall(KEY) == ["sms-1"]
    delete = server.requests_to(f"/ai/assistants/{assistant}", "DELETE")[0]
    assert delete.headers.getall(KEY) == ["delete-1"]
    get = server.requests_to(f"/ai/assistants/{assistant}", "GET")[0]
    assert get.headers.get(KEY) == "ignored-on-a-get"  # sent as asked, but the server ignores it on a GET


async def test_no_key_is_invented_when_the_call_cannot_be_retried(server: MockServer) -> None:
    async with AsyncTelnyx(api_key="k", base_url=server.url, max_retries=0) as client:
        assistant = await make_assistant(client)
        await client.ai.assistants.send_sms(assistant, from_="+1", to="+2", idempotency_key="mine")
    assert keys_sent(server, "/ai/assistants") == [None]
    assert keys_sent(server, f"/ai/assistants/{assistant}/chat/sms") == ["mine"]


async def test_a_stream_retried_before_its_first_event_keeps_its_key(server: MockServer) -> None:
    async with AsyncTelnyx(api_key="k", base_url=server.url, max_retries=2) as client:
        server.inject(Fault.reset_before_headers(), path="/ai/chat/completions")
        stream = await client.ai.chat.create_completion(messages=[{"role": "user", "content": "hi"}], stream=True)
        async with stream:
            assert "".join([c.choices[0].delta.content or "" async for c in stream])
    keys = keys_sent(server, "/ai/chat/completions")
    assert len(keys) == 2 and keys[0] is not None and keys[0] == keys[1]


async def test_each_batch_of_a_job_has_its_own_key_kept_across_its_retries(server: MockServer) -> None:
    async with AsyncTelnyx(api_key="k", base_url=server.url) as client:
        server.inject(Fault.status(503, retry_after=0), times=1, path="/ai/openai/embeddings")
        texts = [f"text {i}" for i in range(6)]
        vectors = await client.ai.openai.embeddings.embed_many(texts, model="thenlper/gte-large", batch_size=2)
    assert len(vectors) == 6
    sent = server.requests_to("/ai/openai/embeddings")
    by_key: dict[str, list[int]] = {}
    for request in sent:
        by_key.setdefault(request.headers[KEY], []).append(request.status or 0)
    assert len(by_key) == 3  # three batches, three keys
    assert sorted(by_key.values()) == [[200], [200], [503, 200]]  # the failed batch repeated its key


async def test_a_retried_sms_after_a_cut_answer_is_sent_once(server: MockServer) -> None:
    # The SMS is sent, then the connection breaks before the answer arrives: the SDK retries with the
    # same key, and the emulator answers from its store instead of sending a second SMS.
    async with AsyncTelnyx(api_key="k", base_url=server.url, max_retries=2) as client:
        assistant = await make_assistant(client)
        path = f"/ai/assistants/{assistant}/chat/sms"
        server.inject(Fault.reset_after_headers(), path=path)
        reply = await client.ai.assistants.send_sms(assistant, from_="+13125550100", to="+13125550111", text="Hi")
    assert len(server.state.sent_messages) == 1
    assert reply.conversation_id == server.state.sent_messages[0]["conversation_id"]
    attempts = server.requests_to(path)
    assert len(attempts) == 2 and attempts[0].headers[KEY] == attempts[1].headers[KEY]
    assert server.idempotency.replays == 1


def test_a_retried_mission_run_starts_once() -> None:
    with MockServer.in_thread() as server, Telnyx(api_key="k", base_url=server.url, max_retries=2) as client:
        mission = client.ai.missions.create(name="Renewals").data
        path = f"/ai/missions/{mission.mission_id}/runs"
        server.inject(Fault.reset_after_headers(), path=path)
        run = client.ai.missions.runs.create(mission.mission_id, input={"account": "a-1"})
        assert list(server.state.mission_runs) == [run.data.run_id]
        again = client.ai.missions.runs.create(mission.mission_id, input={"account": "a-1"})  # a new call: new run
        assert again.data.run_id != run.data.run_id and len(server.state.mission_runs) == 2


async def test_a_key_reused_for_another_request_is_a_conflict_not_retried(server: MockServer) -> None:
    async with AsyncTelnyx(api_key="k", base_url=server.url, max_retries=3) as client:
        assistant = await make_assistant(client)
        await client.ai.assistants.send_sms(assistant, from_="+1", to="+2", text="one", idempotency_key="k-1")
        with pytest.raises(ConflictError, match="was used for another request"):
            await client.ai.assistants.send_sms(assistant, from_="+1", to="+2", text="two", idempotency_key="k-1")
        again = await client.ai.assistants.send_sms(assistant, from_="+1", to="+2", text="one", idempotency_key="k-1")
    assert len(server.state.sent_messages) == 1
    assert again.conversation_id == server.state.sent_messages[0]["conversation_id"]
    assert len(server.requests_to(f"/ai/assistants/{assistant}/chat/sms")) == 3  # the conflict was not retried


async def test_refusals_do_not_use_up_a_key(server: MockServer) -> None:
    async with AsyncTelnyx(api_key="k", base_url=server.url, max_retries=0) as client:
        assistant = await make_assistant(client)
        server.inject(Fault.status(429, retry_after=0), path=f"/ai/assistants/{assistant}/chat/sms")
        with pytest.raises(Exception, match="429"):
            await client.ai.assistants.send_sms(assistant, from_="+1", to="+2", idempotency_key="k-2")
        await client.ai.assistants.send_sms(assistant, from_="+1", to="+2", idempotency_key="k-2")
    assert len(server.state.sent_messages) == 1 and server.idempotency.replays == 0


def test_a_key_is_kept_for_24_hours() -> None:
    now = [0.0]
    store = IdempotencyStore(clock=lambda: now[0])

    class Request:  # what the store reads of an aiohttp request
        method, path, headers = "POST", "/ai/x", {KEY: "k"}

    request = Request()
    assert store.before("k", request, b"{}") is None  # type: ignore[arg-type]
    from aiohttp import web

    store.after("k", web.Response(body=b'{"ok":true}', content_type="application/json"))
    now[0] = KEY_LIFETIME - 1
    replay = store.before("k", request, b"{}")  # type: ignore[arg-type]
    assert replay is not None and replay.body == b'{"ok":true}' and replay.headers["Idempotent-Replayed"] == "true"
    now[0] = KEY_LIFETIME + 2
    assert store.before("k", request, b"{}") is None  # type: ignore[arg-type]  # expired: acts again


async def test_a_batch_retried_after_the_format_is_learned_sends_its_new_body_with_a_new_key(
    server: MockServer,
) -> None:
    # The same inputs first go in base64 and, once the client has learned that this server answers
    # floats, without encoding_format: another body, so another key (the same key would be a 409).
    from telnyx_ai._batch.wire_format import request_embeddings

    server.base64 = "ignore"
    body = {"input": ["a"], "model": "thenlper/gte-large"}
    async with AsyncTelnyx(api_key="k", base_url=server.url, max_retries=0) as client:
        transport = client._transport  # pyright: ignore[reportPrivateUsage]
        server.inject(Fault.truncated_json(), path="/ai/openai/embeddings")
        with pytest.raises(APIResponseValidationError):  # acted on, stored, cut on the way back
            await request_embeddings(transport, body, {}, idempotency_key="batch-1")
        await request_embeddings(transport, {**body, "input": ["b"]}, {})  # teaches: floats
        reply = await request_embeddings(transport, body, {}, idempotency_key="batch-1")  # the retry
    assert len(reply.data) == 1
    sent = server.requests_to("/ai/openai/embeddings")
    assert [(r.headers.get(KEY), r.json().get("encoding_format"), r.status) for r in sent] == [
        ("batch-1", "base64", 200),
        (None, "base64", 200),
        ("batch-1-float", None, 200),
    ]
