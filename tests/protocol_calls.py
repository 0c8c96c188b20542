"""Opening the new protocols' streams on either client, through their generated methods
(``client.ai.openai.create_response``, ``client.ai.anthropic.v1.messages``, ``client.ai.assistants.chat``),
and a canned event-stream route."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from telnyx_ai import AsyncTelnyx, Telnyx
from telnyx_ai._streams import anthropic, assistant_chat, chat, responses
from telnyx_ai._streams.protocol import StreamProtocol
from telnyx_ai._streams.stream import AsyncStream
from telnyx_ai._streams.sync_stream import Stream
from telnyx_ai.testing import Call
from telnyx_ai.types.anthropic import RawMessageStreamEvent
from telnyx_ai.types.assistant_chat import AssistantChatEvent
from telnyx_ai.types.responses import ResponseStreamEvent

PATHS: dict[str, tuple[str, StreamProtocol[Any]]] = {
    "chat": ("/ai/openai/chat/completions", chat.PROTOCOL),
    "responses": ("/ai/openai/responses", responses.PROTOCOL),
    "anthropic": ("/ai/anthropic/v1/messages", anthropic.PROTOCOL),
}


def open_sync(client: Telnyx, path: str, protocol: StreamProtocol[Any], body: dict[str, Any]) -> Stream[Any]:
    """The stream of ``path`` through the sync client's generated method (``protocol`` names which)."""
    if protocol is responses.PROTOCOL:
        return client.ai.openai.create_response(**body, stream=True)
    if protocol is anthropic.PROTOCOL:
        return client.ai.anthropic.v1.messages(**body, stream=True)
    if protocol is assistant_chat.PROTOCOL:
        return client.ai.assistants.chat(path.split("/")[3], **body, stream=True)
    return client.ai.openai.chat.create_completion(**body, stream=True)


async def responses_stream(client: AsyncTelnyx, **body: Any) -> AsyncStream[ResponseStreamEvent]:
    return await client.ai.openai.create_response(**body, stream=True)


async def anthropic_stream(client: AsyncTelnyx, **body: Any) -> AsyncStream[RawMessageStreamEvent]:
    return await client.ai.anthropic.v1.messages(**body, stream=True)


async def assistant_stream(client: AsyncTelnyx, assistant_id: str, **body: Any) -> AsyncStream[AssistantChatEvent]:
    return await client.ai.assistants.chat(assistant_id, **body, stream=True)


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
