"""The canned responses every benchmark server returns, and the figures that prove a client read them.

One set of bodies is served under several URL prefixes so each SDK finds it where it looks:

* ``/v2/...`` the Telnyx layout (``telnyx_ai``, the official ``telnyx`` SDK, the floor);
* ``/openai/v1/...`` the OpenAI layout (``openai`` pointed at ``base_url=.../openai/v1``);
* a variant prefix in front of either picks another body: ``/e16`` answers embeddings with
  16 vectors instead of 1, ``/e16b`` the same 16 in base64, ``/sse`` answers chat completions with
  the SSE stream.

A contender reaches a variant by putting its prefix into its ``base_url``, so no server has to
look at the request body to decide what to answer.
"""

from __future__ import annotations

import base64
import json
import random
import struct
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BASE64_VARIANT",
    "CHAT_MODEL",
    "DIM",
    "EMBED_MODEL",
    "Fixtures",
    "Route",
    "build",
    "stream_events",
    "write_tree",
]

DIM = 1024
EMBED_MODEL = "thenlper/gte-large"
CHAT_MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct"
BASE64_VARIANT = "/e16b"
"""The prefix whose embeddings come back in base64 (S1c): each contender asks for, or accepts, base64 and
decodes it to floats; the vectors are S1b's, rounded to float32 (what base64 carries)."""
JSON = "application/json"
SSE = "text/event-stream"

# Varied lengths, and one non-ASCII word so a decoder that splits UTF-8 wrongly is caught.
_WORDS = ("The ", "quick ", "brown ", "fox ", "jumps ", "over ", "the ", "lazy ", "dog, ", "café ", "and ", "then ")


@dataclass(frozen=True)
class Route:
    path: str
    body: bytes
    content_type: str


@dataclass(frozen=True)
class Fixtures:
    """The routes to serve and what a client must have read back from them."""

    routes: dict[str, Route]
    embed_sums: dict[int, float]  # vectors per response -> sum of every float in the response
    embed16_base64_sum: float  # the same for the base64 variant's 16 vectors (float32 values)
    chat_text_len: int  # characters in the completion's message content
    stream_chunks: int  # chat.completion.chunk events before [DONE]
    stream_text_len: int  # characters of content across all chunks
    responses_events: int = 0  # events of the Responses stream (3r)
    responses_text_len: int = 0  # characters of its text deltas
    anthropic_events: int = 0  # events of the Anthropic stream (3a)
    anthropic_text_len: int = 0  # characters of its text deltas

    def expected(self) -> dict[str, float | int]:
        """The figures as a flat dict (JSON-friendly, handed to worker processes)."""
        return {
            "embed1_sum": self.embed_sums[1],
            "embed16_sum": self.embed_sums[16],
            "embed16_base64_sum": self.embed16_base64_sum,
            "chat_text_len": self.chat_text_len,
            "stream_chunks": self.stream_chunks,
            "stream_text_len": self.stream_text_len,
            "responses_stream_events": self.responses_events,
            "responses_stream_text_len": self.responses_text_len,
            "anthropic_stream_events": self.anthropic_events,
            "anthropic_stream_text_len": self.anthropic_text_len,
        }


def _dumps(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def _embedding_body(rng: random.Random, vectors: int) -> tuple[bytes, float, bytes, float]:
    """The float body and its sum, and the base64 body of the same vectors (as float32) and its sum."""
    data, data64 = [], []
    total = total64 = 0.0
    for index in range(vectors):
        vector = [round(rng.gauss(0.0, 0.05), 9) for _ in range(DIM)]
        total += sum(vector)
        packed = struct.pack(f"<{DIM}f", *vector)
        total64 += sum(struct.unpack(f"<{DIM}f", packed))
        data.append({"object": "embedding", "index": index, "embedding": vector})
        data64.append({"object": "embedding", "index": index, "embedding": base64.b64encode(packed).decode()})
    usage = {"prompt_tokens": 8, "total_tokens": 8}
    body = {"object": "list", "data": data, "model": EMBED_MODEL, "usage": usage}
    body64 = {"object": "list", "data": data64, "model": EMBED_MODEL, "usage": usage}
    return _dumps(body), total, _dumps(body64), total64


def _completion_body() -> tuple[bytes, int]:
    content = "".join(_WORDS[i % len(_WORDS)] for i in range(96))
    body = {
        "id": "chatcmpl-bench-0001",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": CHAT_MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 24, "completion_tokens": 96, "total_tokens": 120},
    }
    return _dumps(body), len(content)


def stream_events(chunks: int) -> tuple[list[bytes], int]:
    """``chunks`` chat.completion.chunk events (role first, finish_reason last), then ``[DONE]``, each a
    whole ``data: ...\n\n`` frame; and the characters of content across them."""
    frames: list[bytes] = []
    text_len = 0
    for i in range(chunks):
        delta: dict[str, str] = {}
        finish = None
        if i == 0:
            delta = {"role": "assistant", "content": ""}
        elif i == chunks - 1:
            finish = "stop"
        else:
            delta = {"content": _WORDS[i % len(_WORDS)]}
        text_len += len(delta.get("content", ""))
        event = {
            "id": "chatcmpl-bench-0002",
            "object": "chat.completion.chunk",
            "created": 1_700_000_000,
            "model": CHAT_MODEL,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        frames.append(b"data: " + _dumps(event) + b"\n\n")
    frames.append(b"data: [DONE]\n\n")
    return frames, text_len


def _stream_body(chunks: int) -> tuple[bytes, int]:
    frames, text_len = stream_events(chunks)
    return b"".join(frames), text_len


def build(stream_chunks: int = 20_000, seed: int = 1024) -> Fixtures:
    """Every route and its expected figures; deterministic for a given seed."""
    if stream_chunks < 2:
        raise ValueError("a stream needs at least 2 chunks (role, then finish_reason)")
    rng = random.Random(seed)
    embed1, sum1, _, _ = _embedding_body(rng, 1)
    embed16, sum16, embed16_base64, sum16_base64 = _embedding_body(rng, 16)
    from .protocol_fixtures import anthropic_stream, responses_stream  # it builds on this module's words

    completion, chat_len = _completion_body()
    stream, stream_len = _stream_body(stream_chunks)
    responses, responses_events, responses_len = responses_stream(stream_chunks)
    anthropic, anthropic_events, anthropic_len = anthropic_stream(stream_chunks)

    routes: dict[str, Route] = {}

    def add(path: str, body: bytes, content_type: str) -> None:
        routes[path] = Route(path, body, content_type)

    for prefix, embed_path, chat_paths in (
        ("", "/v2/ai/openai/embeddings", ("/v2/ai/chat/completions", "/v2/ai/openai/chat/completions")),
        ("", "/openai/v1/embeddings", ("/openai/v1/chat/completions",)),
    ):
        add(prefix + embed_path, embed1, JSON)
        add("/e16" + embed_path, embed16, JSON)
        add(BASE64_VARIANT + embed_path, embed16_base64, JSON)
        for chat_path in chat_paths:
            add(chat_path, completion, JSON)
            add("/sse" + chat_path, stream, SSE)
    add("/sse/v2/ai/openai/responses", responses, SSE)
    add("/sse/v2/ai/anthropic/v1/messages", anthropic, SSE)
    return Fixtures(
        routes=routes,
        embed_sums={1: sum1, 16: sum16},
        embed16_base64_sum=sum16_base64,
        chat_text_len=chat_len,
        stream_chunks=stream_chunks,
        stream_text_len=stream_len,
        responses_events=responses_events,
        responses_text_len=responses_len,
        anthropic_events=anthropic_events,
        anthropic_text_len=anthropic_len,
    )


def write_tree(fixtures: Fixtures, root: Path) -> None:
    """Write each route's body to ``root/<path>`` for a static file server (nginx)."""
    for route in fixtures.routes.values():
        target = root / route.path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(route.body)
