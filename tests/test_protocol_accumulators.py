"""The Responses and Anthropic accumulators against openai-python's and anthropic's own, on the same bytes:
every byte boundary, and (hypothesis) random fragmentation of the bytes and random splitting of the deltas."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any, cast

import anthropic as anthropic_sdk
import msgspec
import openai
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telnyx_ai._streams import anthropic, responses
from telnyx_ai._streams.protocol import StreamProtocol
from telnyx_ai._streams.stream import AsyncStream
from telnyx_ai.testing import MockServer
from telnyx_ai.types.anthropic import Message, ToolUseBlock
from telnyx_ai.types.responses import Response, ResponseFunctionToolCall

from .protocol_calls import canned
from .transcripts import anthropic_events, named_sse, responses_events


class _Content:
    """A response body read back in the given pieces, one per ``readany``."""

    def __init__(self, pieces: Sequence[bytes]) -> None:
        self._pieces = [piece for piece in pieces if piece]

    async def readany(self) -> bytes:
        return self._pieces.pop(0) if self._pieces else b""

    def at_eof(self) -> bool:
        return not self._pieces


class _Response:
    status = 200
    headers: dict[str, str] = {}

    def __init__(self, pieces: Sequence[bytes]) -> None:
        self.content = _Content(pieces)

    def close(self) -> None:
        pass

    def release(self) -> None:
        pass


async def final_of(protocol: StreamProtocol[Any], pieces: Sequence[bytes]) -> Any:
    """What the stream of ``pieces`` adds up to, read through the SDK's stream (its SSE decoder included)."""
    stream = AsyncStream(cast(Any, _Response(pieces)), protocol, method="POST", url="memory", max_event_bytes=1 << 20)
    return await stream._final()  # pyright: ignore[reportPrivateUsage]


def agrees(ours: object, theirs: object, path: str = "$") -> None:
    """Every field the SDK's object has equals the other SDK's (which may have more fields)."""
    if isinstance(ours, dict):
        assert isinstance(theirs, dict), path
        for key, value in cast("dict[str, object]", ours).items():
            agrees(value, cast("dict[str, object]", theirs).get(key), f"{path}.{key}")
    elif isinstance(ours, list):
        assert isinstance(theirs, list) and len(cast("list[object]", theirs)) == len(cast("list[object]", ours)), path
        for index, (mine, other) in enumerate(zip(ours, cast("list[object]", theirs), strict=True)):
            agrees(mine, other, f"{path}[{index}]")
    else:
        assert ours == theirs, f"{path}: {ours!r} != {theirs!r}"


@pytest.fixture
async def server() -> AsyncIterator[MockServer]:
    async with MockServer(require_auth=False) as s:
        yield s


# -- against the real SDKs ------------------------------------------------------------------------


async def openai_final(server: MockServer) -> dict[str, Any]:
    """openai-python's final response from the server's ``/v1/responses`` stream."""
    async with (
        openai.AsyncOpenAI(api_key="k", base_url=f"{server.url}/v1", max_retries=0) as client,
        client.responses.stream(model="moonshotai/Kimi-K2-Instruct", input="weather?") as stream,
    ):
        return (await stream.get_final_response()).model_dump(mode="json")


async def test_responses_final_equals_openai_pythons_at_every_byte_boundary(server: MockServer) -> None:
    body = named_sse(responses_events())
    server.add_route("POST", "/v1/responses", canned(body, chunk=7))
    theirs = await openai_final(server)
    whole: Response = await final_of(responses.PROTOCOL, [body])
    agrees(msgspec.to_builtins(whole), theirs)
    assert whole.output_text == "Il fait beau à Paris ☀️ aujourd'hui."
    for cut in range(1, len(body)):
        assert await final_of(responses.PROTOCOL, [body[:cut], body[cut:]]) == whole, cut


async def test_responses_assembled_output_equals_openai_pythons_snapshot(server: MockServer) -> None:
    events = responses_events()
    completed = events.pop()
    body = named_sse(events) + b"data: [DONE]\n\n"  # no response.completed: the output is assembled
    ours: Response = await final_of(responses.PROTOCOL, [body])
    agrees(msgspec.to_builtins(ours.output), completed["response"]["output"])
    server.add_route("POST", "/v1/responses", canned(named_sse([*events, completed])))
    theirs = await openai_final(server)
    agrees(msgspec.to_builtins(ours.output), theirs["output"])


async def test_anthropic_final_equals_anthropics_at_every_byte_boundary(server: MockServer) -> None:
    body = named_sse(anthropic_events())
    server.add_route("POST", "/v1/messages", canned(body, chunk=5))
    async with (
        anthropic_sdk.AsyncAnthropic(api_key="k", base_url=server.url, max_retries=0) as client,
        client.messages.stream(
            model="MiniMaxAI/MiniMax-M3", max_tokens=64, messages=[{"role": "user", "content": "weather?"}]
        ) as stream,
    ):
        theirs = (await stream.get_final_message()).model_dump(mode="json")
    whole: Message = await final_of(anthropic.PROTOCOL, [body])
    agrees(msgspec.to_builtins(whole), theirs)
    assert whole.usage.cache_read_input_tokens == 7 and whole.usage.output_tokens == 89
    tool = whole.content[2]
    assert isinstance(tool, ToolUseBlock) and tool.input == {"city": "Paris", "units": ["°C"], "days": 3}
    for cut in range(1, len(body)):
        assert await final_of(anthropic.PROTOCOL, [body[:cut], body[cut:]]) == whole, cut


# -- random fragmentation and random deltas ----------------------------------------------------------

TEXT = "Il fait beau à Paris ☀️ aujourd'hui, 12 °C."
ARGUMENTS = json.dumps({"city": "Zürich", "days": 3, "units": ["°C", "km/h"]}, ensure_ascii=False)
TOOL_INPUT = json.dumps({"city": "Paris", "note": "naïve café ☕", "days": [1, 2]}, ensure_ascii=False)


def split_at(text: str, cuts: list[int]) -> list[str]:
    points = sorted({c % (len(text) + 1) for c in cuts} | {0, len(text)})
    return [text[a:b] for a, b in itertools.pairwise(points)]


def fragments(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


CUTS = st.lists(st.integers(min_value=0, max_value=10_000), max_size=12)
RANDOM = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@RANDOM
@given(text_cuts=CUTS, argument_cuts=CUTS, byte_cuts=st.lists(st.integers(min_value=0, max_value=20_000), max_size=40))
async def test_responses_rebuilds_the_same_response_however_it_is_cut(
    text_cuts: list[int], argument_cuts: list[int], byte_cuts: list[int]
) -> None:
    def body(texts: list[str], arguments: list[str]) -> bytes:
        events = [e for e in responses_events(texts=texts, arguments=arguments) if not e["type"].endswith(".done")]
        events = [e for e in events if e["type"] != "response.completed"]  # every part assembled from deltas
        return named_sse(events) + b"data: [DONE]\n\n"

    expected: Response = await final_of(responses.PROTOCOL, [body([TEXT], [ARGUMENTS])])
    assert expected.output_text == TEXT
    call = expected.output[2]
    assert isinstance(call, ResponseFunctionToolCall) and call.arguments == ARGUMENTS
    data = body(split_at(TEXT, text_cuts), split_at(ARGUMENTS, argument_cuts))
    assert await final_of(responses.PROTOCOL, fragments(data, byte_cuts)) == expected


@RANDOM
@given(text_cuts=CUTS, input_cuts=CUTS, byte_cuts=st.lists(st.integers(min_value=0, max_value=20_000), max_size=40))
async def test_anthropic_rebuilds_the_same_message_however_it_is_cut(
    text_cuts: list[int], input_cuts: list[int], byte_cuts: list[int]
) -> None:
    expected: Message = await final_of(
        anthropic.PROTOCOL, [named_sse(anthropic_events(texts=[TEXT], tool_input=[TOOL_INPUT]))]
    )
    tool = expected.content[2]
    assert isinstance(tool, ToolUseBlock) and tool.input == json.loads(TOOL_INPUT)
    events = anthropic_events(texts=split_at(TEXT, text_cuts), tool_input=split_at(TOOL_INPUT, input_cuts))
    data = named_sse(events)
    assert await final_of(anthropic.PROTOCOL, fragments(data, byte_cuts)) == expected


# -- many small deltas: folded as they come, the same reply ------------------------------------------

MANY_TEXTS = [f"{n % 10}é " if n % 7 else "☀" for n in range(5_000)]  # 5,000 deltas of 1 to 3 characters
MANY_FRAGMENTS = split_at(ARGUMENTS * 40, list(range(0, 40 * len(ARGUMENTS), 3)))


async def test_responses_assembles_thousands_of_small_deltas_exactly() -> None:
    fragments_json = MANY_FRAGMENTS
    events = responses_events(texts=MANY_TEXTS, arguments=fragments_json)
    completed = events.pop()
    body = named_sse(events) + b"data: [DONE]\n\n"  # no response.completed: the output is assembled
    ours: Response = await final_of(responses.PROTOCOL, fragments(body, list(range(0, len(body), 4093))))
    agrees(msgspec.to_builtins(ours.output), completed["response"]["output"])
    assert ours.output_text == "".join(MANY_TEXTS)
    call = ours.output[2]
    assert isinstance(call, ResponseFunctionToolCall) and call.arguments == "".join(fragments_json)


async def test_anthropic_assembles_thousands_of_small_deltas_exactly() -> None:
    tool_input = split_at(TOOL_INPUT, list(range(len(TOOL_INPUT))))  # one character per fragment
    body = named_sse(anthropic_events(texts=MANY_TEXTS, tool_input=tool_input))
    whole: Message = await final_of(anthropic.PROTOCOL, fragments(body, list(range(0, len(body), 997))))
    assert whole == await final_of(anthropic.PROTOCOL, [body])
    text = whole.content[1]
    assert getattr(text, "text", None) == "".join(MANY_TEXTS)
    tool = whole.content[2]
    assert isinstance(tool, ToolUseBlock) and tool.input == json.loads(TOOL_INPUT)
