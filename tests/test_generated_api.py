"""The generated API: up to date with the spec, every operation where endpoints.tsv says, and what it sends."""

from __future__ import annotations

import base64
import csv
import inspect
import subprocess
import sys
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import pytest
from aioresponses import aioresponses
from aioresponses.core import RequestCall
from yarl import URL

from telnyx_ai import AsyncPaginator, AsyncTelnyx, Telnyx, TelnyxError
from telnyx_ai._files import multipart_form, write_audio
from telnyx_ai.testing._fixtures import model_metadata
from telnyx_ai.types.text_to_speech import Base64AudioResponse

from .conftest import BASE_URL

ROOT = Path(__file__).resolve().parent.parent
ENDPOINTS = ROOT / "scripts" / "openapi" / "endpoints.tsv"

with ENDPOINTS.open(newline="", encoding="utf-8") as _f:
    ROWS = list(csv.DictReader(_f, delimiter="\t"))
with (ROOT / "scripts" / "openapi" / "operations.toml").open("rb") as _f:
    OPERATIONS: dict[str, dict[str, Any]] = tomllib.load(_f)["operations"]


def paginated(row: dict[str, str]) -> bool:
    """Whether the SDK pages the row's list: endpoints.tsv's column, unless operations.toml overrides it."""
    return bool(OPERATIONS[row["sdk_call"]].get("paginated", row["paginated"] == "yes"))


PAGE = {"data": [], "meta": {"page_number": 1, "page_size": 20, "total_pages": 1, "total_results": 0}}


def calls(mocked: aioresponses) -> list[tuple[str, URL, RequestCall]]:
    return [(method, url, call) for (method, url), cs in mocked.requests.items() for call in cs]


def only_call(mocked: aioresponses) -> tuple[str, URL, RequestCall]:
    sent = calls(mocked)
    assert len(sent) == 1, sent
    return sent[0]


def sent_json(call: RequestCall) -> Any:
    return msgspec.json.decode(call.kwargs["data"])


class _Buffer:
    def __init__(self) -> None:
        self.data = bytearray()

    async def write(self, chunk: bytes) -> None:
        self.data += chunk


async def render(form: aiohttp.FormData) -> bytes:
    """The bytes aiohttp would send for ``form``."""
    writer = form()
    buffer = _Buffer()
    await writer.write(buffer)  # type: ignore[arg-type]
    return bytes(buffer.data)


# -- the generator and the tree ----------------------------------------------------------------


def test_generated_files_are_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate_api.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("path", sorted((ROOT / "scripts").glob("*.py")), ids=lambda p: p.name)
def test_the_generator_modules_stay_small(path: Path) -> None:
    # Data lives in scripts/openapi/*.toml, not in the code (issue 9).
    lines = path.read_text(encoding="utf-8").count("\n")
    assert lines <= 600, f"scripts/{path.name} has {lines} lines; split it"


def test_endpoints_table_has_every_operation() -> None:
    assert len(ROWS) == 194
    assert sum(row["paginated"] == "yes" for row in ROWS) == 23
    # knowledge document search: the one page asked for, as the official SDK returns it (its data may be null)
    assert sum(paginated(row) for row in ROWS) == 22


@pytest.mark.parametrize("row", ROWS, ids=[row["sdk_call"] for row in ROWS])
def test_every_operation_resolves_with_its_required_parameters(row: dict[str, str]) -> None:
    node: Any = AsyncTelnyx(api_key="k")
    for part in row["sdk_call"].split(".")[1:]:
        node = getattr(node, part)
    assert callable(node)
    if paginated(row):
        assert not inspect.iscoroutinefunction(node)
        assert "AsyncPaginator" in str(inspect.signature(node).return_annotation)
    else:
        assert inspect.iscoroutinefunction(node)
    params = inspect.signature(node).parameters
    assert "options" in params and params["options"].kind is inspect.Parameter.VAR_KEYWORD
    for wire in filter(None, row["required_params"].split(",")):
        name = {"from": "from_"}.get(wire, wire)
        assert name in params, f"{row['sdk_call']} lacks {name}"
        assert params[name].default is inspect.Parameter.empty, f"{row['sdk_call']}: {name} should be required"


def test_path_parameters_follow_the_official_convention() -> None:
    client = AsyncTelnyx(api_key="k")
    params = inspect.signature(client.ai.assistants.tools.add).parameters
    assert params["tool_id"].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert params["assistant_id"].kind is inspect.Parameter.KEYWORD_ONLY


# -- what goes on the wire -------------------------------------------------------------------------


async def test_deep_object_page_parameters(client: AsyncTelnyx, mocked: aioresponses) -> None:
    mocked.get(f"{BASE_URL}/ai/conversations/insight-groups?page[number]=2&page[size]=5", payload=PAGE)
    pager = client.ai.conversations.insight_groups.retrieve_insight_groups(page_number=2, page_size=5)
    assert isinstance(pager, AsyncPaginator)
    page = await pager
    assert page.data == []
    method, url, _ = only_call(mocked)
    assert method == "GET"
    assert url.path == "/v2/ai/conversations/insight-groups"
    assert dict(url.query) == {"page[number]": "2", "page[size]": "5"}


async def test_bracket_named_filters_and_explicit_page_names(client: AsyncTelnyx, mocked: aioresponses) -> None:
    item = {"id": "t1", "type": "webhook", "tool_definition": {}}
    mocked.get(
        f"{BASE_URL}/ai/tools?filter[name]=n&page[number]=3",
        payload={"data": [item], "meta": {"page_number": 3, "page_size": 20, "total_pages": 3, "total_results": 41}},
    )
    items = [tool async for tool in client.ai.tools.list(filter_name="n", page_number=3)]
    assert [tool.id for tool in items] == ["t1"]
    _, url, _ = only_call(mocked)
    assert dict(url.query) == {"filter[name]": "n", "page[number]": "3"}


async def test_bare_array_list(client: AsyncTelnyx, mocked: aioresponses) -> None:
    server = {"id": "m1", "name": "n", "type": "sse", "url": "https://mcp.example", "created_at": "t"}
    mocked.get(f"{BASE_URL}/ai/mcp_servers?type=sse", payload=[server])
    page = await client.ai.mcp_servers.list(type="sse")
    assert [s.id for s in page.data] == ["m1"]


async def test_postgrest_filters_of_conversations(client: AsyncTelnyx, mocked: aioresponses) -> None:
    mocked.get(
        f"{BASE_URL}/ai/conversations?metadata->assistant_id=eq.a1&or=(name.eq.x)&limit=5&order=created_at.desc",
        payload={"data": []},
    )
    await client.ai.conversations.list(
        metadata_assistant_id="eq.a1", or_="(name.eq.x)", limit=5, order="created_at.desc"
    )
    _, url, _ = only_call(mocked)
    assert dict(url.query) == {
        "metadata->assistant_id": "eq.a1",
        "or": "(name.eq.x)",
        "limit": "5",
        "order": "created_at.desc",
    }


async def test_from_keyword_is_sent_as_from(client: AsyncTelnyx, mocked: aioresponses) -> None:
    mocked.post(f"{BASE_URL}/ai/assistants/a1/chat/sms", payload={"conversation_id": "c1"})
    await client.ai.assistants.send_sms("a1", from_="+15550001", to="+15550002")
    method, url, call = only_call(mocked)
    assert (method, url.path) == ("POST", "/v2/ai/assistants/a1/chat/sms")
    assert sent_json(call) == {"from": "+15550001", "to": "+15550002"}


async def test_required_body_is_sent_even_when_empty(client: AsyncTelnyx, mocked: aioresponses) -> None:
    mocked.post(
        f"{BASE_URL}/ai/conversations", payload={"id": "c", "created_at": "t", "last_message_at": "t", "metadata": {}}
    )
    await client.ai.conversations.create()
    _, _, call = only_call(mocked)
    assert sent_json(call) == {}


async def test_path_parameters_are_percent_encoded(client: AsyncTelnyx, mocked: aioresponses) -> None:
    url = URL(f"{BASE_URL}/ai/assistants/as%20sistant/tags/a%2Fb", encoded=True)
    mocked.delete(url, payload={"tags": []})
    await client.ai.assistants.tags.remove("a/b", assistant_id="as sistant")
    _, sent, _ = only_call(mocked)
    assert sent.raw_path == "/v2/ai/assistants/as%20sistant/tags/a%2Fb"


async def test_delete_without_body_returns_none(client: AsyncTelnyx, mocked: aioresponses) -> None:
    mocked.delete(f"{BASE_URL}/ai/conversations/c1", body=b"")
    assert await client.ai.conversations.delete("c1") is None


async def test_texml_is_a_string(client: AsyncTelnyx, mocked: aioresponses) -> None:
    mocked.get(f"{BASE_URL}/ai/assistants/a1/texml", payload="<Response/>")
    assert await client.ai.assistants.get_texml("a1") == "<Response/>"


async def test_existing_names_still_work(client: AsyncTelnyx, mocked: aioresponses) -> None:
    mocked.get(f"{BASE_URL}/ai/models", payload={"data": [model_metadata("m")], "object": "list"})
    mocked.get(
        f"{BASE_URL}/ai/conversations/c1",
        payload={"data": {"id": "c1", "created_at": "t", "last_message_at": "t", "metadata": {}}},
    )
    models = await client.ai.retrieve_models()
    assert models.data[0].id == "m"
    conversation = await client.ai.conversations.retrieve("c1")
    assert conversation.data is not None and conversation.data.id == "c1"


# -- readable aliases (scripts/openapi/operations.toml) ------------------------------------------------


def _aliases() -> dict[str, list[str]]:
    """Each call path's other names: endpoints.tsv's ``aliases`` column, then operations.toml's ``alias``."""
    found: dict[str, list[str]] = {}
    for row in ROWS:
        names = [a.rsplit(".", 1)[1] for a in filter(None, row["aliases"].split(","))]
        extra = OPERATIONS[row["sdk_call"]].get("alias", [])
        names += [extra] if isinstance(extra, str) else extra
        if names:
            found[row["sdk_call"]] = names
    return found


ALIASES = _aliases()


def test_the_aliases_are_the_ones_the_note_names() -> None:
    assert ALIASES == {
        "client.ai.conversations.insight_groups.retrieve_insight_groups": ["list"],
        "client.ai.conversations.insight_groups.insight_groups": ["create"],
        "client.ai.conversations.insight_groups.insights.delete_unassign": ["unassign"],
        # v1's name, then the official SDK's second method for the same operation
        "client.text_to_speech.generate_speech": ["generate", "create_speech"],
    }


@pytest.mark.parametrize("call", sorted(ALIASES))
def test_an_alias_is_the_same_method_on_both_clients(call: str) -> None:
    sync_client = Telnyx(api_key="k", base_url="http://127.0.0.1:9")
    try:
        for client in (AsyncTelnyx(api_key="k"), sync_client):
            node: Any = client
            for part in call.split(".")[1:-1]:
                node = getattr(node, part)
            name = call.rsplit(".", 1)[1]
            for alias in ALIASES[call]:
                assert getattr(type(node), alias) is getattr(type(node), name)
    finally:
        sync_client.close()


GROUP = {"id": "g1", "name": "n", "created_at": "t"}


async def test_an_alias_sends_what_the_spec_name_sends(client: AsyncTelnyx, mocked: aioresponses) -> None:
    mocked.post(f"{BASE_URL}/ai/conversations/insight-groups", payload={"data": GROUP})
    mocked.delete(f"{BASE_URL}/ai/conversations/insight-groups/g1/insights/i1/unassign", body=b"")
    group = await client.ai.conversations.insight_groups.create(name="n")
    assert group.data.id == "g1"
    assert await client.ai.conversations.insight_groups.insights.unassign("i1", group_id="g1") is None
    sent = [(method, url.path, call.kwargs.get("data")) for method, url, call in calls(mocked)]
    assert sent == [
        ("POST", "/v2/ai/conversations/insight-groups", b'{"name":"n"}'),
        ("DELETE", "/v2/ai/conversations/insight-groups/g1/insights/i1/unassign", None),
    ]


# -- multipart transcription -----------------------------------------------------------------------

TRANSCRIPTION = {"text": "hello"}


async def test_transcription_with_bytes(client: AsyncTelnyx, mocked: aioresponses) -> None:
    mocked.post(f"{BASE_URL}/ai/audio/transcriptions", payload=TRANSCRIPTION)
    result = await client.ai.audio.transcribe(
        model="distil-whisper/distil-large-v2", file=b"RIFF-audio", model_config={"smart_format": True}
    )
    assert result.text == "hello"
    _, _, call = only_call(mocked)
    assert "Content-Type" not in call.kwargs["headers"]  # aiohttp sets multipart with its boundary
    body = await render(call.kwargs["data"])
    assert b'name="model"\r\n\r\ndistil-whisper/distil-large-v2\r\n' in body
    # Objects travel in bracket form, as the official SDK sends them and the spec's mock accepts.
    assert b'name="model_config[smart_format]"\r\n\r\ntrue\r\n' in body
    assert b'name="file"; filename="file"' in body
    assert b"RIFF-audio" in body
    assert b"language" not in body  # not given, not sent


async def test_transcription_streams_a_path(client: AsyncTelnyx, mocked: aioresponses, tmp_path: Path) -> None:
    audio = tmp_path / "clip.wav"
    audio.write_bytes(b"RIFF" + bytes(range(256)) * 4096)
    mocked.post(f"{BASE_URL}/ai/audio/transcriptions", payload=TRANSCRIPTION)
    await client.ai.audio.transcribe(model="deepgram/nova-3", file=audio, language="en")
    _, _, call = only_call(mocked)
    body = await render(call.kwargs["data"])
    assert b'name="file"; filename="clip.wav"' in body
    assert b"Content-Type: audio/" in body or b"Content-Type: application/octet-stream" in body
    assert audio.read_bytes() in body
    assert b'name="language"\r\n\r\nen\r\n' in body


async def test_multipart_factory_rebuilds_the_file_for_each_attempt(tmp_path: Path) -> None:
    audio = tmp_path / "a.mp3"
    audio.write_bytes(b"ID3-data")
    factory = multipart_form({"model": "m"}, files={"file": str(audio)})
    first, second = await render(factory()), await render(factory())
    assert b"ID3-data" in first and b"ID3-data" in second


async def test_seekable_file_object_is_rewound_and_left_open(tmp_path: Path) -> None:
    audio = tmp_path / "a.wav"
    audio.write_bytes(b"WAVE-data")
    with audio.open("rb") as handle:
        factory = multipart_form({}, files={"file": handle})
        assert b"WAVE-data" in await render(factory())
        assert b"WAVE-data" in await render(factory())
        assert not handle.closed


async def test_async_iterable_is_sent_once_only() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"part-1"
        yield b"part-2"

    factory = multipart_form({}, files={"file": ("speech.ogg", chunks())})
    body = await render(factory())
    assert b'filename="speech.ogg"' in body and b"part-1part-2" in body
    with pytest.raises(TelnyxError, match="once"):
        factory()


def test_missing_file_fails_before_any_request(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        multipart_form({}, files={"file": tmp_path / "nope.wav"})


# -- text to speech --------------------------------------------------------------------------------


async def test_speech_as_binary(client: AsyncTelnyx, mocked: aioresponses, tmp_path: Path) -> None:
    mocked.post(f"{BASE_URL}/text-to-speech/speech", body=b"ID3\x00mp3", content_type="audio/mpeg")
    audio = await client.text_to_speech.generate(text="hi", voice="Telnyx.NaturalHD.astra", output_type="binary_output")
    assert audio == b"ID3\x00mp3"
    _, _, call = only_call(mocked)
    assert call.kwargs["headers"]["Accept"].startswith("audio/mpeg")
    assert sent_json(call) == {"text": "hi", "voice": "Telnyx.NaturalHD.astra", "output_type": "binary_output"}
    written = await write_audio(tmp_path / "out.mp3", audio)
    assert written.read_bytes() == b"ID3\x00mp3"


async def test_speech_as_base64(client: AsyncTelnyx, mocked: aioresponses, tmp_path: Path) -> None:
    encoded = base64.b64encode(b"ID3-bytes").decode()
    mocked.post(f"{BASE_URL}/text-to-speech/speech", payload={"base64_audio": encoded})
    result = await client.text_to_speech.generate(text="hi", output_type="base64_output")
    assert isinstance(result, Base64AudioResponse)
    _, _, call = only_call(mocked)
    assert call.kwargs["headers"]["Accept"] == "application/json"
    assert sent_json(call) == {"text": "hi", "output_type": "base64_output"}
    written = await write_audio(tmp_path / "out.mp3", result)
    assert written.read_bytes() == b"ID3-bytes"


async def test_transcription_without_a_file_is_still_multipart(mocked: Any) -> None:
    import re as _re

    mocked.post(_re.compile(r".*/ai/audio/transcriptions$"), payload={"text": "hi"})
    async with AsyncTelnyx(api_key="k", base_url="https://api.telnyx.test/v2", max_retries=0) as client:
        await client.ai.audio.transcribe(model="distil-whisper/distil-large-v2", file_url="https://example.com/a.mp3")
    call = next(iter(mocked.requests.values()))[0]
    form = call.kwargs["data"]
    assert form.is_multipart


async def test_speech_without_output_type_follows_the_content_type(mocked: aioresponses) -> None:
    import re as _re

    from telnyx_ai.types.text_to_speech import Base64AudioResponse

    url = _re.compile(r".*/text-to-speech/speech$")
    mocked.post(url, payload={"base64_audio": base64.b64encode(b"ID3 audio").decode()})
    mocked.post(url, body=b"ID3 raw audio", content_type="audio/mpeg")
    async with AsyncTelnyx(api_key="k", base_url="https://api.telnyx.test/v2", max_retries=0) as client:
        as_json = await client.text_to_speech.generate(text="hi")
        as_audio = await client.text_to_speech.generate(text="hi")
    assert isinstance(as_json, Base64AudioResponse)
    assert as_json.base64_audio is not None
    assert base64.b64decode(as_json.base64_audio) == b"ID3 audio"
    assert as_audio == b"ID3 raw audio"
    first = next(iter(mocked.requests.values()))[0]
    assert first.kwargs["headers"]["Accept"].startswith("application/json")


async def test_a_one_shot_upload_is_not_retried_so_the_real_error_shows() -> None:
    from telnyx_ai import InternalServerError
    from telnyx_ai.testing import Call, Fault, MockServer, json_response

    async def chunks() -> AsyncIterator[bytes]:
        yield b"audio"

    async with MockServer() as server:

        async def transcribe(call: Call) -> aiohttp.web.StreamResponse:
            return json_response({"text": "hello"})

        server.add_route("POST", "/ai/audio/transcriptions", transcribe)
        server.inject(Fault.status(503), path="/ai/audio/transcriptions")
        async with AsyncTelnyx(api_key="k", base_url=server.url, max_retries=3) as client:
            with pytest.raises(InternalServerError):
                await client.ai.audio.transcribe(model="distil-whisper/distil-large-v2", file=("a.ogg", chunks()))
            assert len(server.requests) == 1
            # A resendable file (bytes) is retried as usual.
            server.inject(Fault.status(503), path="/ai/audio/transcriptions")
            result = await client.ai.audio.transcribe(model="distil-whisper/distil-large-v2", file=b"audio")
            assert result.text == "hello"
            assert len(server.requests) == 3


async def test_stream_options_is_a_keyword_sent_in_the_body(client: AsyncTelnyx, mocked: aioresponses) -> None:
    body = (
        b'data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":0,"total_tokens":3}}\n\ndata: [DONE]\n\n'
    )
    mocked.post(f"{BASE_URL}/ai/openai/chat/completions", body=body, content_type="text/event-stream")
    stream = await client.ai.openai.chat.create_completion(
        messages=[{"role": "user", "content": "x"}], stream=True, stream_options={"include_usage": True}
    )
    final = await stream.get_final_completion()
    assert final.usage is not None and final.usage.prompt_tokens == 3
    (_, _, call) = only_call(mocked)
    assert sent_json(call)["stream_options"] == {"include_usage": True}
