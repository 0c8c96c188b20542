"""The official ``telnyx`` SDK (Stainless-generated, httpx; aiohttp through ``DefaultAioHttpClient``).

Its chat endpoint is ``/ai/openai/chat/completions`` and it returns a plain dict. It has no
typed stream for chat, so streaming goes the documented way for such endpoints:
``with_streaming_response`` and ``iter_lines``, with each ``data:`` line decoded by ``json``.
Every client gets a pool of ``concurrency`` connections, all kept alive, like the others.
"""

from __future__ import annotations

import json
from typing import Any

from ..fixtures import CHAT_MODEL, EMBED_MODEL
from . import API_KEY, EMBED_INPUT, MESSAGES, CheckError, floats, vectors_sum

__all__ = ["AsyncTelnyxAiohttp", "AsyncTelnyxHttpx", "SyncTelnyx"]


def _limits(concurrency: int) -> Any:
    import telnyx

    return type(telnyx.DEFAULT_CONNECTION_LIMITS)(max_connections=concurrency, max_keepalive_connections=concurrency)


def _text_len(completion: Any) -> int:
    return len(completion["choices"][0]["message"]["content"] or "")


class AsyncTelnyxHttpx:
    cold_start = (
        "import asyncio, telnyx\n"
        "async def _make():\n"
        "    return telnyx.AsyncTelnyx(api_key='k', base_url='http://127.0.0.1:80/v2')\n"
        "client = asyncio.run(_make())\n"
    )

    def _http_client(self, concurrency: int) -> Any:
        import telnyx

        return telnyx.DefaultAsyncHttpxClient(limits=_limits(concurrency))

    async def open(self, root: str, variant: str, concurrency: int) -> None:
        import telnyx

        self._client = telnyx.AsyncTelnyx(
            api_key=API_KEY, base_url=f"{root}{variant}/v2", http_client=self._http_client(concurrency)
        )

    async def close(self) -> None:
        await self._client.close()

    async def embed(self) -> float:
        response = await self._client.ai.openai.embeddings.create_embeddings(input=EMBED_INPUT, model=EMBED_MODEL)
        return vectors_sum(floats(item.embedding) for item in response.data)  # base64 (S1c): decoded by hand

    async def chat(self) -> int:
        completion = await self._client.ai.openai.chat.create_completion(messages=MESSAGES, model=CHAT_MODEL)
        return _text_len(completion)

    async def stream(self) -> tuple[int, int]:
        chunks = 0
        parts: list[str] = []
        done = False
        async with self._client.ai.openai.chat.with_streaming_response.create_completion(
            messages=MESSAGES, model=CHAT_MODEL, stream=True
        ) as response:
            async for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue
                payload = line[5:].lstrip(" ")
                if payload == "[DONE]":
                    done = True
                    break
                chunks += 1
                for choice in json.loads(payload)["choices"]:
                    content = choice["delta"].get("content")
                    if content:
                        parts.append(content)
        if not done:
            raise CheckError("the stream ended without [DONE]")
        return chunks, len("".join(parts))


class AsyncTelnyxAiohttp(AsyncTelnyxHttpx):
    cold_start = (
        "import asyncio, telnyx\n"
        "async def _make():\n"
        "    return telnyx.AsyncTelnyx(api_key='k', base_url='http://127.0.0.1:80/v2',"
        " http_client=telnyx.DefaultAioHttpClient())\n"
        "client = asyncio.run(_make())\n"
    )

    def _http_client(self, concurrency: int) -> Any:
        import telnyx

        return telnyx.DefaultAioHttpClient(limits=_limits(concurrency))


class SyncTelnyx:
    cold_start = "import telnyx\nclient = telnyx.Telnyx(api_key='k', base_url='http://127.0.0.1:80/v2')\n"

    def open(self, root: str, variant: str, concurrency: int) -> None:
        import telnyx

        self._client = telnyx.Telnyx(api_key=API_KEY, base_url=f"{root}{variant}/v2")

    def close(self) -> None:
        self._client.close()

    def embed(self) -> float:
        response = self._client.ai.openai.embeddings.create_embeddings(input=EMBED_INPUT, model=EMBED_MODEL)
        return vectors_sum(item.embedding for item in response.data)
