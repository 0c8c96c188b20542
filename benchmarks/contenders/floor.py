"""The floor: what a careful hand-written client costs, with no SDK in between.

Async: one aiohttp ``ClientSession``, the body encoded by msgspec per call, the response
decoded by msgspec into small structs; SSE split on blank lines with each ``data:`` payload
decoded. Sync: one keep-alive ``http.client.HTTPConnection`` and the same msgspec work; and the async
floor called from a plain thread, as a hand-written sync client over aiohttp has to be.
Minimal but correct: statuses and content types are checked, nothing is skipped.
"""

from __future__ import annotations

import asyncio
import http.client
import threading
from array import array
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import msgspec

from ..fixtures import BASE64_VARIANT, CHAT_MODEL, EMBED_MODEL
from . import API_KEY, EMBED_INPUT, MESSAGES, CheckError, count_frames, vectors_sum

__all__ = ["Floor", "FloorTimeouts", "SyncFloor", "ThreadBridgedFloor"]


class _EmbeddingData(msgspec.Struct):
    embedding: list[float]
    index: int


class _EmbeddingResponse(msgspec.Struct):
    data: list[_EmbeddingData]
    model: str


class _Base64Data(msgspec.Struct):
    embedding: bytes  # msgspec decodes base64 into bytes itself
    index: int


class _Base64Response(msgspec.Struct):
    data: list[_Base64Data]
    model: str


class _Message(msgspec.Struct):
    content: str | None = None
    role: str = "assistant"


class _Choice(msgspec.Struct):
    message: _Message
    finish_reason: str | None = None


class _Completion(msgspec.Struct):
    choices: list[_Choice]


class _Delta(msgspec.Struct):
    content: str | None = None


class _ChunkChoice(msgspec.Struct):
    delta: _Delta
    finish_reason: str | None = None


class _Chunk(msgspec.Struct):
    choices: list[_ChunkChoice]


_encode = msgspec.json.Encoder().encode
_decode_embeddings = msgspec.json.Decoder(_EmbeddingResponse).decode
_decode_base64_embeddings = msgspec.json.Decoder(_Base64Response).decode
_decode_completion = msgspec.json.Decoder(_Completion).decode
_decode_chunk = msgspec.json.Decoder(_Chunk).decode

_HEADERS = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json", "Accept": "application/json"}
_SSE_HEADERS = {**_HEADERS, "Accept": "text/event-stream"}


def _data_payloads(pending: bytes, piece: bytes) -> tuple[list[bytes], bytes, bool]:
    """The ``data:`` payloads that ``pending + piece`` completes, what is left of it, and whether ``[DONE]`` came."""
    events = (pending + piece).split(b"\n\n")
    rest = events.pop()
    payloads: list[bytes] = []
    for event in events:
        for line in event.split(b"\n"):
            if line.startswith(b"data:"):
                payload = line[5:].lstrip(b" ")
                if payload == b"[DONE]":
                    return payloads, rest, True
                payloads.append(payload)
    return payloads, rest, False


def _float32_list(raw: bytes) -> list[float]:
    values = array("f", raw)  # little-endian float32 on the wire; this benchmark runs little-endian
    return values.tolist()


def _completion_len(raw: bytes) -> int:
    content = _decode_completion(raw).choices[0].message.content
    return len(content or "")


class Floor:
    cold_start = (
        "import asyncio, aiohttp, msgspec\n"
        "async def _make():\n"
        "    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256))\n"
        "client = asyncio.run(_make())\n"
    )

    def _timeouts(self) -> dict[str, Any]:
        """The session's timeouts: aiohttp's default (5 minutes in all, no per-read limit)."""
        return {}

    async def open(self, root: str, variant: str, concurrency: int) -> None:
        import aiohttp  # here, not at the top: the sync floor's process should not load it

        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency), **self._timeouts())
        base = f"{root}{variant}/v2"
        self._base64 = variant == BASE64_VARIANT
        self._embed_url = f"{base}/ai/openai/embeddings"
        self._chat_url = f"{base}/ai/openai/chat/completions"

    def _stream_options(self) -> dict[str, Any]:
        return {}

    async def close(self) -> None:
        await self._session.close()

    async def _post(self, url: str, body: bytes) -> bytes:
        async with self._session.post(url, data=body, headers=_HEADERS) as response:
            raw = await response.read()
            if response.status != 200:
                raise CheckError(f"HTTP {response.status} from {url}")
            return raw

    async def embed(self) -> float:
        if self._base64:
            body = {"input": EMBED_INPUT, "model": EMBED_MODEL, "encoding_format": "base64"}
            raw = await self._post(self._embed_url, _encode(body))
            return vectors_sum(_float32_list(item.embedding) for item in _decode_base64_embeddings(raw).data)
        raw = await self._post(self._embed_url, _encode({"input": EMBED_INPUT, "model": EMBED_MODEL}))
        return vectors_sum(item.embedding for item in _decode_embeddings(raw).data)

    async def chat(self) -> int:
        raw = await self._post(self._chat_url, _encode({"messages": MESSAGES, "model": CHAT_MODEL}))
        return _completion_len(raw)

    async def stream(self, first: Callable[[], None] | None = None) -> tuple[int, int]:
        """Read the chat stream; (chunks, text length). ``first`` is called once the first chunk is in hand."""
        chunks = 0
        text_len = 0  # counted, not kept: a relay forwards each chunk and holds none of them
        done = False
        async with self._open_stream() as response:
            pending = b""
            async for piece in response.content.iter_any():
                payloads, pending, done = _data_payloads(pending, piece)
                for payload in payloads:
                    if not chunks and first is not None:
                        first()
                    chunks += 1
                    for choice in _decode_chunk(payload).choices:
                        if choice.delta.content:
                            text_len += len(choice.delta.content)
                if done:
                    break
        if not done:
            raise CheckError("the stream ended without [DONE]")
        return chunks, text_len

    async def relay(self, first: Callable[[], None] | None = None) -> tuple[int, int]:
        """The stream re-framed as SSE for a browser, each chunk checked by decoding it (the work
        ``to_sse`` does), as a relay would forward it; (chunks, bytes of frames)."""
        return await count_frames(self._frames(), first)

    async def _frames(self) -> AsyncIterator[bytes]:
        """One group of ``data:`` frames per network read, then ``data: [DONE]``."""
        async with self._open_stream() as response:
            pending = b""
            async for piece in response.content.iter_any():
                payloads, pending, done = _data_payloads(pending, piece)
                for payload in payloads:
                    _decode_chunk(payload)
                if payloads:
                    yield b"".join([b"data: " + payload + b"\n\n" for payload in payloads])
                if done:
                    yield b"data: [DONE]\n\n"
                    return
        raise CheckError("the stream ended without [DONE]")

    @asynccontextmanager
    async def _open_stream(self) -> AsyncIterator[Any]:
        body = _encode({"messages": MESSAGES, "model": CHAT_MODEL, "stream": True})
        options = self._stream_options()
        async with self._session.post(self._chat_url, data=body, headers=_SSE_HEADERS, **options) as response:
            if response.status != 200 or not response.content_type.startswith("text/event-stream"):
                raise CheckError(f"HTTP {response.status} {response.content_type} from {self._chat_url}")
            yield response

    async def responses_stream(self) -> tuple[int, int]:
        """Scenario 3r: the same events decoded into telnyx_ai's own Responses event structs."""
        from telnyx_ai.types.responses import KnownResponseEvent, ResponseTextDeltaEvent

        return await self._typed_stream(
            "/ai/openai/responses", KnownResponseEvent, b"response.completed", ResponseTextDeltaEvent, "delta"
        )

    async def anthropic_stream(self) -> tuple[int, int]:
        """Scenario 3a: the same events decoded into telnyx_ai's own Anthropic event structs."""
        from telnyx_ai.types.anthropic import KnownMessageStreamEvent, RawContentBlockDeltaEvent

        return await self._typed_stream(
            "/ai/anthropic/v1/messages", KnownMessageStreamEvent, b"message_stop", RawContentBlockDeltaEvent, None
        )

    async def _typed_stream(
        self, path: str, union: object, last: bytes, delta_type: type, field: str | None
    ) -> tuple[int, int]:
        """Events named by ``event:`` lines, each ``data:`` decoded into ``union``, text summed, until ``last``."""
        decode = msgspec.json.Decoder(union).decode
        url = self._chat_url.replace("/ai/openai/chat/completions", path)
        body = _encode({"messages": MESSAGES, "model": CHAT_MODEL, "stream": True})
        events = 0
        parts: list[str] = []
        done = False
        async with self._session.post(url, data=body, headers=_SSE_HEADERS, **self._stream_options()) as response:
            if response.status != 200 or not response.content_type.startswith("text/event-stream"):
                raise CheckError(f"HTTP {response.status} {response.content_type} from {url}")
            pending = b""
            async for piece in response.content.iter_any():
                blocks = (pending + piece).split(b"\n\n")
                pending = blocks.pop()
                for block in blocks:
                    for line in block.split(b"\n"):
                        if not line.startswith(b"data:"):
                            continue
                        event = decode(line[5:].lstrip(b" "))
                        events += 1
                        if type(event) is delta_type:
                            text = getattr(event, field) if field else event.delta.text  # type: ignore[attr-defined]
                            if text:
                                parts.append(text)
                        elif event.type.encode() == last:  # type: ignore[attr-defined]
                            done = True
                if done:
                    break
        if not done:
            raise CheckError(f"the stream ended without {last.decode()}")
        return events, len("".join(parts))


class FloorTimeouts(Floor):
    """The floor with the timeouts the SDK sets by default: 60 s per read (aiohttp re-arms a timer on
    every read), 5 s to connect, 10 minutes for a whole call (none for a stream)."""

    def _timeouts(self) -> dict[str, Any]:
        import aiohttp

        self._stream_timeout = aiohttp.ClientTimeout(total=None, sock_connect=5.0, sock_read=60.0)
        return {"timeout": aiohttp.ClientTimeout(total=600.0, sock_connect=5.0, sock_read=60.0)}

    def _stream_options(self) -> dict[str, Any]:
        return {"timeout": self._stream_timeout}


class SyncFloor:
    cold_start = "import http.client, msgspec\nclient = http.client.HTTPConnection('127.0.0.1', 80)\n"

    def open(self, root: str, variant: str, concurrency: int) -> None:
        parts = urlsplit(root)
        self._conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=60)
        self._embed_path = f"{parts.path}{variant}/v2/ai/openai/embeddings"

    def close(self) -> None:
        self._conn.close()

    def embed(self) -> float:
        body = _encode({"input": EMBED_INPUT, "model": EMBED_MODEL})
        self._conn.request("POST", self._embed_path, body=body, headers=_HEADERS)
        response = self._conn.getresponse()
        raw = response.read()
        if response.status != 200:
            raise CheckError(f"HTTP {response.status} from {self._embed_path}")
        return vectors_sum(item.embedding for item in _decode_embeddings(raw).data)


class ThreadBridgedFloor:
    """The async floor behind the standard library's thread bridge: its event loop runs in a thread of its
    own and each call is handed over with ``asyncio.run_coroutine_threadsafe(...).result()``. What a sync
    caller of a hand-written aiohttp client pays, and the design a thread-bridged SDK shares."""

    def open(self, root: str, variant: str, concurrency: int) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="floor-loop", daemon=True)
        self._thread.start()
        self._floor = Floor()
        try:
            self._call(self._floor.open(root, variant, concurrency))
        except BaseException:
            self._stop()
            raise

    def _call(self, call: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(call, self._loop).result()

    def close(self) -> None:
        try:
            self._call(self._floor.close())
        finally:
            self._stop()

    def _stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def embed(self) -> float:
        total: float = self._call(self._floor.embed())
        return total
