"""The emulator's speech, text-to-speech and assistant routes: deterministic answers, the spec's shapes, 4xx."""

from __future__ import annotations

import base64
import io
from collections.abc import AsyncIterator

import pytest

from telnyx_ai import AsyncTelnyx, NotFoundError, Telnyx, UnprocessableEntityError
from telnyx_ai.testing import MockServer, expected_reply
from telnyx_ai.testing._media_handlers import SPEECH_HEADER, VOICES, speech_bytes

MODEL = "deepgram/nova-3"


@pytest.fixture
async def server() -> AsyncIterator[MockServer]:
    async with MockServer() as s:
        yield s


@pytest.fixture
async def client(server: MockServer) -> AsyncIterator[AsyncTelnyx]:
    async with AsyncTelnyx(api_key="test", base_url=server.url, max_retries=0) as c:
        yield c


async def test_a_transcript_is_the_uploaded_text(client: AsyncTelnyx) -> None:
    for upload in (b"one two three", io.BytesIO(b"one two three")):
        result = await client.ai.audio.transcribe(file=upload, model=MODEL)
        assert (result.text, result.duration, result.segments) == ("one two three", 1.2, [])
    binary = await client.ai.audio.transcribe(file=b"\xff\xfb\x90", model=MODEL, response_format="verbose_json")
    assert binary.text == "3 bytes of audio"
    assert binary.segments is not None and binary.segments[0].text == binary.text
    by_url = await client.ai.audio.transcribe(file_url="https://example.com/a.mp3", model=MODEL)
    assert by_url.text == "Audio fetched from https://example.com/a.mp3"


async def test_transcription_rejects_a_bad_model_or_no_audio(client: AsyncTelnyx) -> None:
    with pytest.raises(UnprocessableEntityError) as bad_model:
        await client.ai.audio.transcribe(file=b"x", model="no/such-model")  # type: ignore[arg-type]
    assert bad_model.value.body is not None
    with pytest.raises(UnprocessableEntityError):
        await client.ai.audio.transcribe(model=MODEL)


async def test_speech_is_binary_or_base64_as_asked(client: AsyncTelnyx, server: MockServer) -> None:
    audio = await client.text_to_speech.generate(text="Hi", output_type="binary_output")
    assert audio == SPEECH_HEADER + b"Hi" == speech_bytes("Hi")
    encoded = await client.text_to_speech.generate(text="Hi", output_type="base64_output")
    assert base64.b64decode(encoded.base64_audio or "") == audio
    either = await client.text_to_speech.generate(text="Hi")  # the SDK prefers JSON when left out
    assert not isinstance(either, bytes) and either.base64_audio == encoded.base64_audio
    assert server.requests[0].headers["Accept"].startswith("audio/mpeg")
    with pytest.raises(UnprocessableEntityError):
        await client.text_to_speech.generate(output_type="binary_output")


async def test_voices_filter_by_provider(client: AsyncTelnyx) -> None:
    every = await client.text_to_speech.list_voices()
    assert len(every.voices or []) == len(VOICES)
    telnyx = await client.text_to_speech.list_voices(provider="telnyx")
    assert {v.provider for v in telnyx.voices or []} == {"telnyx"}


async def test_an_assistant_lives_through_its_versions(client: AsyncTelnyx) -> None:
    assistant = await client.ai.assistants.create(name="A", model="m", instructions="one")
    reply = await client.ai.assistants.chat(assistant.id, content="Hello", conversation_id="c")
    assert reply.content == expected_reply([{"role": "user", "content": "Hello"}])
    await client.ai.assistants.update(assistant.id, instructions="two", promote_to_main=False)
    assert (await client.ai.assistants.retrieve(assistant.id)).instructions == "one"
    versions = await client.ai.assistants.versions.list(assistant.id)
    assert [v.id for v in versions.data] == ["v1", "v2"]
    assert (await client.ai.assistants.versions.retrieve("v2", assistant_id=assistant.id)).instructions == "two"
    promoted = await client.ai.assistants.versions.promote("v2", assistant_id=assistant.id)
    assert (promoted.id, promoted.instructions) == (assistant.id, "two")
    updated = await client.ai.assistants.update(assistant.id, name="B")
    assert (updated.name, updated.instructions) == ("B", "two")
    assert [a.id for a in (await client.ai.assistants.list()).data] == [assistant.id]
    assert (await client.ai.assistants.delete(assistant.id)).deleted
    with pytest.raises(NotFoundError):
        await client.ai.assistants.retrieve(assistant.id)


async def test_canary_deploys_serve_known_versions_with_weights_up_to_100(client: AsyncTelnyx) -> None:
    assistant = await client.ai.assistants.create(name="A", model="m", instructions="one")
    with pytest.raises(NotFoundError):
        await client.ai.assistants.canary_deploys.retrieve(assistant.id)
    with pytest.raises(UnprocessableEntityError, match="unknown versions"):
        await client.ai.assistants.canary_deploys.create(assistant.id, rules=[{"serve": {"version_id": "v9"}}])
    with pytest.raises(UnprocessableEntityError, match="more than 100"):
        await client.ai.assistants.canary_deploys.create(
            assistant.id, rules=[{"serve": {"rollout": [{"version_id": "v1", "weight": 101}]}}]
        )
    beta = {"attribute": "telnyx_end_user_target", "operator": "starts_with", "values": ["+1312"]}
    made = await client.ai.assistants.canary_deploys.create(
        assistant.id,
        rules=[
            {"match": [beta], "serve": {"version_id": "v1"}},
            {"serve": {"rollout": [{"version_id": "v1", "weight": 20}]}},
        ],
    )
    assert (await client.ai.assistants.canary_deploys.retrieve(assistant.id)).rules == made.rules
    assert made.rules[0].match is not None and made.rules[0].match[0].operator == "starts_with"
    changed = await client.ai.assistants.canary_deploys.update(
        assistant.id, rules=[{"serve": {"rollout": [{"version_id": "v1", "weight": 50}]}}]
    )
    rollout = changed.rules[0].serve.rollout
    assert rollout is not None and rollout[0].weight == 50
    await client.ai.assistants.canary_deploys.delete(assistant.id)
    with pytest.raises(NotFoundError):
        await client.ai.assistants.canary_deploys.retrieve(assistant.id)


async def test_created_tests_are_listed_and_their_runs_complete(client: AsyncTelnyx, server: MockServer) -> None:
    rubric = [{"name": "Tone", "criteria": "Polite."}, {"name": "Facts", "criteria": "Right."}]
    test = await client.ai.assistants.tests.create(name="T", destination="d", instructions="i", rubric=rubric)
    assert server.requests[-1].status == 201
    assert (await client.ai.assistants.tests.retrieve(test.test_id)).name == "T"
    listed = [t.test_id async for t in client.ai.assistants.tests.list()]  # "tests" is not an assistant id
    assert len(listed) == 6 and listed[-1] == test.test_id
    run = await client.ai.assistants.tests.runs.trigger(test.test_id)
    assert run.status == "pending"
    done = await client.ai.assistants.tests.runs.retrieve(run.run_id, test_id=test.test_id)
    assert done.status == "completed"
    assert [(d.name, d.status) for d in done.detail_status or []] == [("Tone", "pass"), ("Facts", "pass")]
    with pytest.raises(NotFoundError):
        await client.ai.assistants.tests.runs.retrieve(run.run_id, test_id=listed[0])


def test_the_sync_client_gets_the_same_answers() -> None:
    with MockServer.in_thread() as server, Telnyx(api_key="test", base_url=server.url) as client:
        assert client.ai.audio.transcribe(file=b"hello", model=MODEL).text == "hello"
        assert client.text_to_speech.generate(text="a", output_type="binary_output") == speech_bytes("a")
        assistant = client.ai.assistants.create(name="A", model="m", instructions="i")
        assert client.ai.assistants.chat(assistant.id, content="x", conversation_id="c").content.endswith("x")
