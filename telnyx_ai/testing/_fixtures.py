"""The emulator's canned data: deterministic replies, vectors, models, conversations and tests.

Everything here is a pure function of its inputs, so a test can compute what the server
will answer without talking to it.
"""

from __future__ import annotations

import hashlib
import re
import struct
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, cast

__all__ = [
    "CHAT_MODELS",
    "CREATED",
    "DEFAULT_CHAT_MODEL",
    "EMBEDDING_MODELS",
    "SEEDED_CONVERSATION_IDS",
    "assistant_test",
    "expected_embedding",
    "expected_reply",
    "reply_pieces",
]

CREATED = 1_735_689_600
"""The fixed ``created`` timestamp (2025-01-01T00:00:00Z) of every object the emulator makes."""

DEFAULT_CHAT_MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct"

CHAT_MODELS: tuple[str, ...] = (
    DEFAULT_CHAT_MODEL,
    "meta-llama/Meta-Llama-3.1-70B-Instruct",
    "Qwen/Qwen3-235B-A22B",
    "moonshotai/Kimi-K2-Instruct",
)
"""What ``GET /ai/models`` lists. Chat completions accept any model name."""

EMBEDDING_MODELS: Mapping[str, int] = {
    "thenlper/gte-large": 1024,
    "intfloat/multilingual-e5-large": 1024,
    "sentence-transformers/all-MiniLM-L6-v2": 384,
}
"""Embedding model name -> vector length. Any other model name is rejected with a 422."""

SEEDED_CONVERSATION_IDS: tuple[str, ...] = (
    "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d",
)
"""Conversations that exist from the start, so ``retrieve`` works without a create first."""

_NO_USER_MESSAGE = "The local emulator received no user message."
_PIECE = re.compile(r"\s*\S+|\s+")
_SCALE = 1024.0  # vector values are multiples of 1/1024: exact in float32 and float64


def _text_of(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts: list[str] = []
        for part in cast("list[object]", content):
            if isinstance(part, Mapping):
                text = cast("Mapping[str, object]", part).get("text")
                if isinstance(text, str):
                    parts.append(text)
        return " ".join(parts)
    return ""


def expected_reply(messages: Sequence[Mapping[str, Any]]) -> str:
    """The reply the emulator gives to ``messages``: it echoes the last user message."""
    for message in reversed(messages):
        if message.get("role") == "user":
            return f"Echo from the local emulator: {_text_of(message.get('content'))}"
    return _NO_USER_MESSAGE


def reply_pieces(reply: str, chunks: int | None = None) -> list[str]:
    """How a streamed reply is cut into content deltas; ``"".join(pieces) == reply``.

    By default one piece per word (with its leading whitespace, like model tokens); with
    ``chunks`` the text is cut into that many near-equal runs of characters.
    """
    if not reply:
        return []
    if chunks is None:
        return _PIECE.findall(reply)
    if chunks < 1:
        raise ValueError(f"chunks must be at least 1, got {chunks}.")
    count = min(chunks, len(reply))
    bounds = [round(i * len(reply) / count) for i in range(count + 1)]
    return [reply[bounds[i] : bounds[i + 1]] for i in range(count)]


def expected_embedding(text: str, model: str, dimensions: int | None = None) -> list[float]:
    """The vector the emulator returns for ``text`` under ``model`` (first ``dimensions`` values).

    Values are multiples of 1/1024 in [-1, 1), derived from a hash of the model and text, so
    they survive JSON and float32 round trips exactly and tests can compare with ``==``.
    """
    size = EMBEDDING_MODELS.get(model)
    if size is None:
        raise KeyError(f"Unknown embedding model {model!r}; known: {', '.join(EMBEDDING_MODELS)}.")
    if dimensions is not None:
        if not 1 <= dimensions <= size:
            raise ValueError(f"dimensions must be between 1 and {size} for {model}, got {dimensions}.")
        size = dimensions
    seed = model.encode() + b"\0" + text.encode()
    raw = hashlib.shake_256(seed).digest(2 * size)
    return [(value >> 5) / _SCALE for value in struct.unpack(f"<{size}h", raw)]


def assistant_test(index: int) -> dict[str, Any]:
    """The ``index``-th (0-based) seeded assistant test, shaped like the spec's AssistantTestResponse."""
    channels = ("web_chat", "sms_chat", "phone_call", "web_call")
    number = index + 1
    return {
        "test_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"telnyx-ai-emulator/tests/{number}")),
        "name": f"Emulator test {number:03d}",
        "description": f"Seeded test number {number}.",
        "telnyx_conversation_channel": channels[index % len(channels)],
        "destination": f"+1555000{number:04d}",
        "instructions": "Ask for the opening hours and check the answer.",
        "max_duration_seconds": 60 + index % 5 * 30,
        "test_suite": f"suite-{index % 3 + 1}",
        "rubric": [{"name": "Accuracy", "criteria": "States the correct opening hours."}],
        "created_at": f"2025-01-{index % 28 + 1:02d}T09:00:00Z",
    }
