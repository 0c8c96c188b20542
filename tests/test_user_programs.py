"""The user programs of tests/user_programs run against the emulator (scripts/test type-checks them),
and the reply types they rely on hold: required fields fail loudly, base64 has its own type (issue 13.17)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from aioresponses import aioresponses

from telnyx_ai import APIResponseValidationError, AsyncTelnyx, Telnyx, TelnyxError
from telnyx_ai.testing import MockServer
from telnyx_ai.types.openai import OpenAIEmbeddingResponse
from telnyx_ai.types.openai_base64 import OpenAIEmbeddingBase64Response

from .conftest import BASE_URL

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = sorted((ROOT / "tests" / "user_programs").glob("*.py"))
PYRIGHT = Path(sys.executable).parent / "pyright"


def test_the_folder_covers_what_users_do() -> None:
    names = {path.stem for path in PROGRAMS}
    assert {"chat_async", "stream_async", "tools_async", "embeddings_async", "batch_async"} <= names
    assert {"raw_responses_async", "sync_client"} <= names


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.stem for p in PROGRAMS])
async def test_program_runs_against_the_emulator(program: Path) -> None:
    async with MockServer() as server:
        env = {**os.environ, "TELNYX_API_KEY": "test", "TELNYX_BASE_URL": server.url}
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(program), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    assert out.strip(), "the program printed nothing"


# -- a required field missing from a reply --------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "call"),
    [
        (
            {"role": "assistant", "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            ("", "function", "f", "{}"),
        ),
        ({"role": "assistant", "tool_calls": [{"id": "c1", "type": "function"}]}, ("c1", "function", "", "")),
        ({"role": "assistant", "tool_calls": [{"id": "c1", "function": {"name": "f"}}]}, ("c1", "function", "f", "")),
    ],
)
async def test_a_reply_without_a_field_the_contract_leaves_optional_takes_its_default(
    client: AsyncTelnyx, mocked: aioresponses, message: dict[str, object], call: tuple[str, str, str, str]
) -> None:
    # The contract declares the reply as any object (issue 22, point 3): nothing may be required.
    body = {"id": "chatcmpl-1", "choices": [{"index": 0, "message": message}]}
    mocked.post(f"{BASE_URL}/ai/chat/completions", body=json.dumps(body), content_type="application/json")
    reply = await client.ai.chat.create_completion(messages=[{"role": "user", "content": "x"}])
    (tool_call,) = reply.choices[0].message.tool_calls or []
    assert (tool_call.id, tool_call.type, tool_call.function.name, tool_call.function.arguments) == call


async def test_an_empty_reply_decodes_to_defaults_not_an_error(client: AsyncTelnyx, mocked: aioresponses) -> None:
    mocked.post(f"{BASE_URL}/ai/openai/chat/completions", payload={})  # what Prism answers
    reply = await client.ai.openai.chat.create_completion(messages=[{"role": "user", "content": "x"}])
    assert (reply.id, reply.choices, reply.usage, reply.model) == ("", [], None, None)
    mocked.post(f"{BASE_URL}/ai/openai/chat/completions", payload={"choices": [{}]})
    reply = await client.ai.openai.chat.create_completion(messages=[{"role": "user", "content": "x"}])
    assert (reply.choices[0].message.role, reply.choices[0].message.content) == ("assistant", None)


async def test_streamed_fragments_may_omit_tool_call_fields() -> None:
    from telnyx_ai._models import decoder_for
    from telnyx_ai.types.chat import ChatCompletionChunk

    raw = b'{"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{\\"ci"}}]}}]}'
    chunk = decoder_for(ChatCompletionChunk).decode(raw)
    call = (chunk.choices[0].delta.tool_calls or [])[0]
    assert (call.id, call.function and call.function.name) == (None, None)


# -- embeddings: floats to the caller unless base64 is asked for (base64 on the wire either way) ----


async def test_embeddings_are_floats_and_base64_is_its_own_type() -> None:
    async with MockServer() as server, AsyncTelnyx(api_key="test", base_url=server.url) as client:
        embeddings = client.ai.openai.embeddings
        floats = await embeddings.create_embeddings(input="hi", model="thenlper/gte-large")
        assert isinstance(floats, OpenAIEmbeddingResponse)
        assert all(isinstance(x, float) for x in floats.data[0].embedding)
        packed = await embeddings.create_embeddings(input="hi", model="thenlper/gte-large", encoding_format="base64")
        assert isinstance(packed, OpenAIEmbeddingBase64Response)
        assert isinstance(packed.data[0].embedding, str)
        sent = [r.json() for r in server.requests_to("/ai/openai/embeddings")]
        # Not asked, the SDK asks for base64 itself (smaller, cheaper to decode) and returns floats.
        assert [body.get("encoding_format") for body in sent] == ["base64", "base64"]


async def test_a_base64_vector_where_floats_belong_decodes_only_if_whole(
    client: AsyncTelnyx, mocked: aioresponses
) -> None:
    def reply(embedding: str) -> dict[str, object]:
        data = [{"embedding": embedding, "index": 0, "object": "embedding"}]
        return {"data": data, "model": "m", "object": "list", "usage": {"prompt_tokens": 1, "total_tokens": 1}}

    mocked.post(f"{BASE_URL}/ai/openai/embeddings", payload=reply("AACAPwAAAMA="))  # float32 1.0, -2.0
    floats = await client.ai.openai.embeddings.create_embeddings(input="hi", model="m")
    assert floats.data[0].embedding == [1.0, -2.0]
    mocked.post(f"{BASE_URL}/ai/openai/embeddings", payload=reply("AAAA"))  # 3 bytes: never a short vector
    with pytest.raises(APIResponseValidationError, match=re.escape("(0) of 3 bytes, not whole float32 values")):
        await client.ai.openai.embeddings.create_embeddings(input="hi", model="m")


# -- call_with_raw_response --------------------------------------------------------------------------


async def test_call_with_raw_response_needs_the_client_it_is_given() -> None:
    async with MockServer() as server, AsyncTelnyx(api_key="test", base_url=server.url) as client:
        raw = await client.call_with_raw_response(lambda c: c.ai.retrieve_models())
        assert raw.status_code == 200
        assert raw.parsed.data
        with pytest.raises(TelnyxError, match="through the client it is given"):
            await client.call_with_raw_response(lambda _: client.ai.retrieve_models())


def test_sync_call_with_raw_response_streams() -> None:
    async def serve() -> None:
        async with MockServer() as server:
            url.set_result(server.url)
            await stop

    loop = asyncio.new_event_loop()
    url: asyncio.Future[str] = loop.create_future()
    stop: asyncio.Future[None] = loop.create_future()
    import threading

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),))
    thread.start()
    try:
        base = asyncio.run_coroutine_threadsafe(asyncio.wait_for(asyncio.shield(url), 10), loop).result()
        with Telnyx(api_key="test", base_url=base) as client:
            raw = client.call_with_raw_response(
                lambda c: c.ai.chat.create_completion(messages=[{"role": "user", "content": "Hi"}], stream=True)
            )
            with raw.parsed as stream:
                assert [c for c in stream if c.choices]
            assert raw.status_code == 200
            with pytest.raises(TelnyxError, match="through the client it is given"):
                client.call_with_raw_response(lambda _: client.ai.retrieve_models())
    finally:
        loop.call_soon_threadsafe(stop.set_result, None)
        thread.join()
        loop.close()


# -- the typing part of point 1: a misspelled keyword is a type error on both clients ----------------


def test_misspelled_keywords_are_type_errors() -> None:
    done = subprocess.run(
        [str(PYRIGHT), "--outputjson", "tests/typing/misspelled_keywords.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(done.stdout)
    errors = [(d["range"]["start"]["line"] + 1, d["message"]) for d in report["generalDiagnostics"]]
    # Both methods are overloaded (on ``stream``, on ``as_numpy``): pyright says no overload matches,
    # listing the arguments it was given (the runtime check then names the keyword and its fix).
    assert [line for line, _ in errors] == [10, 11, 15, 16], errors
    assert [message for line, message in errors if line in (11, 16)] == [
        'No overloads for "embed_many" match the provided arguments\n'
        "\xa0\xa0Argument types: (list[str], Literal['m'], Literal[10])"  # pyright indents with no-break spaces
    ] * 2


# -- typed messages (issue 21.4): a misspelled role, a tool message without its id, ... are type errors --


def _marked_lines(path: Path) -> set[int]:
    return {number for number, line in enumerate(path.read_text().splitlines(), 1) if line.endswith("# error")}


def test_wrong_messages_are_type_errors_for_pyright() -> None:
    path = ROOT / "tests" / "typing" / "misspelled_roles.py"
    done = subprocess.run(
        [str(PYRIGHT), "--outputjson", str(path)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    report = json.loads(done.stdout)
    lines = {d["range"]["start"]["line"] + 1 for d in report["generalDiagnostics"] if d["severity"] == "error"}
    assert len(_marked_lines(path)) == 6
    assert lines == _marked_lines(path), report["generalDiagnostics"]


def test_wrong_messages_are_type_errors_for_mypy() -> None:
    path = ROOT / "tests" / "typing" / "misspelled_roles.py"
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = {int(line.split(":")[1]) for line in done.stdout.splitlines() if ": error:" in line}
    assert lines == _marked_lines(path), done.stdout
