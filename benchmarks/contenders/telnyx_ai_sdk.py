"""This project's SDK: ``telnyx_ai.AsyncTelnyx``, and the sync ``telnyx_ai.Telnyx`` once it exists."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..fixtures import CHAT_MODEL, EMBED_MODEL
from . import API_KEY, EMBED_INPUT, MESSAGES, count_frames, vectors_sum

__all__ = ["AsyncTelnyxAI", "AsyncTelnyxAIAsyncioReads", "SyncTelnyxAI"]


class AsyncTelnyxAI:
    cold_start = (
        "import asyncio, telnyx_ai\n"
        "async def _make():\n"
        "    return telnyx_ai.AsyncTelnyx(api_key='k', base_url='http://127.0.0.1:80/v2', max_connections=256)\n"
        "client = asyncio.run(_make())\n"
    )

    async def open(self, root: str, variant: str, concurrency: int) -> None:
        from telnyx_ai import AsyncTelnyx

        self._client = AsyncTelnyx(api_key=API_KEY, base_url=f"{root}{variant}/v2", max_connections=concurrency)

    async def close(self) -> None:
        await self._client.close()

    async def embed(self) -> float:
        response = await self._client.ai.openai.embeddings.create_embeddings(input=EMBED_INPUT, model=EMBED_MODEL)
        return vectors_sum(item.embedding for item in response.data)  # type: ignore[misc]

    async def chat(self) -> int:
        completion = await self._client.ai.openai.chat.create_completion(messages=MESSAGES, model=CHAT_MODEL)  # type: ignore[arg-type]
        return len(completion.choices[0].message.content or "")

    async def stream(self, first: Callable[[], None] | None = None) -> tuple[int, int]:
        stream = await self._client.ai.openai.chat.create_completion(messages=MESSAGES, model=CHAT_MODEL, stream=True)  # type: ignore[arg-type]
        chunks = 0
        text_len = 0  # counted, not kept: a relay forwards each chunk and holds none of them
        async with stream:
            async for chunk in stream:
                if not chunks and first is not None:
                    first()
                chunks += 1
                for choice in chunk.choices:
                    if choice.delta.content:
                        text_len += len(choice.delta.content)
        return chunks, text_len

    async def relay(self, first: Callable[[], None] | None = None) -> tuple[int, int]:
        """The stream through ``to_sse()``, as a web backend relays it; (chunks, bytes of frames)."""
        stream = await self._client.ai.openai.chat.create_completion(messages=MESSAGES, model=CHAT_MODEL, stream=True)  # type: ignore[arg-type]
        async with stream:
            return await count_frames(stream.to_sse(), first)

    async def responses_stream(self) -> tuple[int, int]:
        """Scenario 3r: a Responses stream, its text deltas joined."""
        from telnyx_ai.types.responses import ResponseTextDeltaEvent

        stream = await self._client.ai.openai.create_response(input=MESSAGES, model=CHAT_MODEL, stream=True)  # type: ignore[arg-type]
        events = 0
        parts: list[str] = []
        async with stream:
            async for event in stream:
                events += 1
                if isinstance(event, ResponseTextDeltaEvent) and event.delta:
                    parts.append(event.delta)
        return events, len("".join(parts))

    async def anthropic_stream(self) -> tuple[int, int]:
        """Scenario 3a: an Anthropic Messages stream, its text deltas joined."""
        from telnyx_ai.types.anthropic import RawContentBlockDeltaEvent, TextDelta

        stream = await self._client.ai.anthropic.v1.messages(
            messages=MESSAGES[1:],
            model=CHAT_MODEL,
            max_tokens=1024,
            stream=True,  # type: ignore[arg-type]
        )
        events = 0
        parts: list[str] = []
        async with stream:
            async for event in stream:
                events += 1
                if (
                    isinstance(event, RawContentBlockDeltaEvent)
                    and isinstance(event.delta, TextDelta)
                    and event.delta.text
                ):
                    parts.append(event.delta.text)
        return events, len("".join(parts))


class AsyncTelnyxAIAsyncioReads(AsyncTelnyxAI):
    """The SDK with its reads left at asyncio's size (256 KiB, allocated whole) instead of its `READ_SIZE`:
    the same code otherwise, so the two rows show what that one setting is worth."""

    async def open(self, root: str, variant: str, concurrency: int) -> None:
        from telnyx_ai._http import aiohttp_compat

        aiohttp_compat.READ_SIZE = 1 << 62  # `cap_read_size` then leaves every transport as asyncio made it
        await super().open(root, variant, concurrency)


class SyncTelnyxAI:
    """The sync bridge. Imported lazily: `telnyx_ai.Telnyx` may not exist in this checkout yet."""

    cold_start = "import telnyx_ai\nclient = telnyx_ai.Telnyx(api_key='k', base_url='http://127.0.0.1:80/v2')\n"

    def open(self, root: str, variant: str, concurrency: int) -> None:
        import telnyx_ai

        self._client: Any = telnyx_ai.Telnyx(api_key=API_KEY, base_url=f"{root}{variant}/v2")  # type: ignore[attr-defined]

    def close(self) -> None:
        close = getattr(self._client, "close", None)
        if close is not None:
            close()

    def embed(self) -> float:
        response = self._client.ai.openai.embeddings.create_embeddings(input=EMBED_INPUT, model=EMBED_MODEL)
        return vectors_sum(item.embedding for item in response.data)
