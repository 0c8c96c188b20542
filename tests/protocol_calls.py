"""Stand-ins for the generated streaming methods of the new protocols, until they land: each opens the
stream through `open_stream` with the protocol the generator will pass (``protocol = "..."`` in
operations.toml), on either client. The merge replaces them with ``client.ai.openai.create_response``,
``client.ai.anthropic.v1.messages`` and ``client.ai.assistants.chat``."""

from __future__ import annotations

from typing import Any, TypeVar

from aiohttp import web

from telnyx_ai import AsyncTelnyx, Telnyx
from telnyx_ai._streams import anthropic, assistant_chat, chat, responses
from telnyx_ai._streams.open import open_stream
from telnyx_ai._streams.protocol import StreamProtocol
from telnyx_ai._streams.stream import AsyncStream
from telnyx_ai._streams.sync_stream import Stream
from telnyx_ai.testing import Call
from telnyx_ai.types.anthropic import RawMessageStreamEvent
from telnyx_ai.types.assistant_chat import AssistantChatEvent
from telnyx_ai.types.responses import ResponseStreamEvent

T = TypeVar("T")

PATHS: dict[str, tuple[str, StreamProtocol[Any]]] = {
    "chat": ("/ai/openai/chat/completions", chat.PROTOCOL),
    "responses": ("/ai/openai/responses", responses.PROTOCOL),
    "anthropic": ("/ai/anthropic/v1/messages", anthropic.PROTOCOL),
}


async def open_async(
    client: AsyncTelnyx, path: str, protocol: StreamProtocol[T], body: dict[str, Any], **options: Any
) -> AsyncStream[T]:
    return await open_stream(
        client._transport,  # pyright: ignore[reportPrivateUsage]
        "POST",
        path,
        protocol,
        body={**body, "stream": True},
        options=options,
    )


def open_sync(
    client: Telnyx, path: str, protocol: StreamProtocol[T], body: dict[str, Any], **options: Any
) -> Stream[T]:
    bridge = client._bridge  # pyright: ignore[reportPrivateUsage]
    inner = client._async  # pyright: ignore[reportPrivateUsage]
    return Stream(bridge, bridge.call(lambda: open_async(inner, path, protocol, body, **options)))


async def responses_stream(client: AsyncTelnyx, **body: Any) -> AsyncStream[ResponseStreamEvent]:
    return await open_async(client, "/ai/openai/responses", responses.PROTOCOL, body)


async def anthropic_stream(client: AsyncTelnyx, **body: Any) -> AsyncStream[RawMessageStreamEvent]:
    return await open_async(client, "/ai/anthropic/v1/messages", anthropic.PROTOCOL, body)


async def assistant_stream(client: AsyncTelnyx, assistant_id: str, **body: Any) -> AsyncStream[AssistantChatEvent]:
    return await open_async(client, f"/ai/assistants/{assistant_id}/chat", assistant_chat.PROTOCOL, body)


def canned(body: bytes, *, chunk: int | None = None) -> Any:
    """A route handler answering every call with ``body`` as an event stream (in writes of ``chunk`` bytes)."""

    async def handler(call: Call) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(call.request)
        size = chunk or len(body) or 1
        for start in range(0, len(body), size):
            await response.write(body[start : start + size])
        await response.write_eof()
        return response

    return handler
