"""The emulator's canned data: deterministic replies, vectors, models, conversations and tests.

Everything here is a pure function of its inputs, so a test can compute what the server
will answer without talking to it.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, cast

from ._json_schema import example_for_schema

__all__ = [
    "ANTHROPIC_ONLY_MODELS",
    "CHAT_MODELS",
    "CREATED",
    "DEFAULT_CHAT_MODEL",
    "EMBEDDING_MODELS",
    "REASONING_MODELS",
    "SEEDED_CONVERSATION_IDS",
    "assistant_test",
    "expected_embedding",
    "expected_json",
    "expected_reasoning",
    "expected_reply",
    "expected_tool_calls",
    "model_metadata",
    "reply_pieces",
    "tool_call_pieces",
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
"""What ``GET /ai/openai/models`` lists. A chat completion for any other model gets a 422, as from the API."""


def model_metadata(model: str) -> dict[str, object]:
    """One entry of the models listing, with every field the contract requires."""
    organization = model.split("/")[0]
    return {
        "id": model,
        "object": "model",
        "created": "2025-01-01T00:00:00Z",  # a date-time string since contract v2 (it was CREATED)
        "owned_by": organization,
        "organization": organization,
        "context_length": 131_072,
        "languages": ["en"],
        "license": "see the model card",
        "parameters": 8_000_000_000,
        "tier": "small",
        "task": "text-generation",
    }


ANTHROPIC_ONLY_MODELS: tuple[str, ...] = ("MiniMaxAI/MiniMax-M3",)
"""Models served only through the Anthropic Messages API (``/ai/anthropic/v1/messages``), as on the API."""

REASONING_MODELS: tuple[str, ...] = ("Qwen/Qwen3-235B-A22B",)
"""Chat models that think first: they stream ``reasoning_content`` before the content (unless
the request says ``enable_thinking: false``)."""

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


def _last_user(messages: Sequence[Mapping[str, Any]]) -> object:
    return next((m.get("content") for m in reversed(messages) if m.get("role") == "user"), None)


def expected_reply(messages: Sequence[Mapping[str, Any]]) -> str:
    """The reply the emulator gives to ``messages``: it echoes the last user message."""
    if not any(message.get("role") == "user" for message in messages):
        return _NO_USER_MESSAGE
    return f"Echo from the local emulator: {_text_of(_last_user(messages))}"


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


def expected_reasoning(messages: Sequence[Mapping[str, Any]]) -> str:
    """The ``reasoning_content`` a reasoning model gives to ``messages`` before its reply."""
    words = len(_text_of(_last_user(messages)).split())
    return f"The user wrote {words} words; the emulator will echo them back."


def expected_json(schema: Mapping[str, Any]) -> str:
    """The content answering ``guided_json=schema``: JSON valid for the schema, with spaces after ``,`` and ``:``."""
    return json.dumps(example_for_schema(schema), ensure_ascii=False)


def _wanted_tools(tools: Sequence[Mapping[str, Any]], tool_choice: object) -> list[Mapping[str, Any]]:
    functions = [t for t in tools if t.get("type") == "function" and isinstance(t.get("function"), Mapping)]
    if isinstance(tool_choice, Mapping):
        choice: Mapping[str, Any] = cast("Mapping[str, Any]", tool_choice).get("function") or {}
        return [t for t in functions if t["function"].get("name") == choice.get("name")]
    return functions


def expected_tool_calls(
    messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]], tool_choice: object = "auto"
) -> list[dict[str, Any]]:
    """The tool calls the emulator makes: one per function tool, in order, with arguments valid for its schema.

    None with ``tool_choice="none"``, or under ``"auto"`` once the last message is a tool's
    result (the reply is then text); only the named function for a ``{"type": "function", ...}``
    choice. Ids are derived from the conversation, so they are the same on every run.
    """
    if tool_choice == "none" or (tool_choice != "required" and messages and messages[-1].get("role") == "tool"):
        return []
    seed = _text_of(_last_user(messages))
    calls: list[dict[str, Any]] = []
    for number, tool in enumerate(_wanted_tools(tools, tool_choice)):
        function = cast("Mapping[str, Any]", tool["function"])
        name = str(function.get("name", ""))
        digest = hashlib.sha256(f"{number}\0{name}\0{seed}".encode()).hexdigest()[:24]
        arguments = json.dumps(example_for_schema(function.get("parameters") or {}), ensure_ascii=False)
        calls.append({"id": f"call_{digest}", "type": "function", "function": {"name": name, "arguments": arguments}})
    return calls


def tool_call_pieces(arguments: str) -> list[str]:
    """How a tool call's ``arguments`` are cut into streamed fragments: runs of at most 8 characters."""
    return [arguments[start : start + 8] for start in range(0, len(arguments), 8)]


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
