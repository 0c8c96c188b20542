"""``openai`` pointed at the same canned responses (``base_url=.../openai/v1``).

Embeddings are asked for with ``encoding_format="float"``, the body the others send (left
unset, openai-python asks for base64 and decodes it itself). Streams are its typed ``AsyncStream``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..fixtures import BASE64_VARIANT, CHAT_MODEL, EMBED_MODEL
from . import API_KEY, EMBED_INPUT, MESSAGES, vectors_sum

__all__ = ["AsyncOpenAIAiohttp", "AsyncOpenAIHttpx", "SyncOpenAI"]


def _limits(concurrency: int) -> Any:
    import openai

    return type(openai.DEFAULT_CONNECTION_LIMITS)(max_connections=concurrency, max_keepalive_connections=concurrency)


class AsyncOpenAIHttpx:
    cold_start = (
        "import asyncio, openai\n"
        "async def _make():\n"
        "    return openai.AsyncOpenAI(api_key='k', base_url='http://127.0.0.1:80/openai/v1')\n"
        "client = asyncio.run(_make())\n"
    )

    def _http_client(self, concurrency: int) -> Any:
        import openai

        return openai.DefaultAsyncHttpxClient(limits=_limits(concurrency))

    async def open(self, root: str, variant: str, concurrency: int) -> None:
        import openai

        self._client = openai.AsyncOpenAI(
            api_key=API_KEY, base_url=f"{root}{variant}/openai/v1", http_client=self._http_client(concurrency)
        )
        self._base64 = variant == BASE64_VARIANT

    async def close(self) -> None:
        await self._client.close()

    async def embed(self) -> float:
        if self._base64:  # openai-python's default: it asks for base64 and decodes it
            response = await self._client.embeddings.create(input=EMBED_INPUT, model=EMBED_MODEL)
        else:
            response = await self._client.embeddings.create(
                input=EMBED_INPUT, model=EMBED_MODEL, encoding_format="float"
            )
        return vectors_sum(item.embedding for item in response.data)

    async def chat(self) -> int:
        completion = await self._client.chat.completions.create(messages=MESSAGES, model=CHAT_MODEL)  # type: ignore[arg-type]
        return len(completion.choices[0].message.content or "")

    async def stream(self, first: Callable[[], None] | None = None) -> tuple[int, int]:
        stream = await self._client.chat.completions.create(messages=MESSAGES, model=CHAT_MODEL, stream=True)  # type: ignore[arg-type]
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


class AsyncOpenAIAiohttp(AsyncOpenAIHttpx):
    cold_start = (
        "import asyncio, openai\n"
        "async def _make():\n"
        "    return openai.AsyncOpenAI(api_key='k', base_url='http://127.0.0.1:80/openai/v1',"
        " http_client=openai.DefaultAioHttpClient())\n"
        "client = asyncio.run(_make())\n"
    )

    def _http_client(self, concurrency: int) -> Any:
        import openai

        return openai.DefaultAioHttpClient(limits=_limits(concurrency))


class SyncOpenAI:
    cold_start = "import openai\nclient = openai.OpenAI(api_key='k', base_url='http://127.0.0.1:80/openai/v1')\n"

    def open(self, root: str, variant: str, concurrency: int) -> None:
        import openai

        self._client = openai.OpenAI(api_key=API_KEY, base_url=f"{root}{variant}/openai/v1")

    def close(self) -> None:
        self._client.close()

    def embed(self) -> float:
        response = self._client.embeddings.create(input=EMBED_INPUT, model=EMBED_MODEL, encoding_format="float")
        return vectors_sum(item.embedding for item in response.data)
