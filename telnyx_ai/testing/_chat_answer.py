"""What the emulated chat model answers, plain or as stream chunks: text, reasoning, JSON or tool calls.

A pure function of the request body (see `_fixtures` for each part), so tests can predict it.
Streamed, a reasoning model's ``reasoning_content`` comes first, then the content, and tool calls
arrive as argument fragments, several calls interleaved round-robin across chunks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from ._fixtures import (
    CREATED,
    REASONING_MODELS,
    expected_json,
    expected_reasoning,
    expected_reply,
    expected_tool_calls,
    reply_pieces,
    tool_call_pieces,
)
from ._state import StreamConfig

__all__ = ["ChatAnswer", "chat_answer"]


@dataclass(frozen=True, slots=True)
class ChatAnswer:
    """One reply of the emulated model to one request."""

    completion_id: str
    model: str
    content: str | None
    reasoning: str | None
    tool_calls: list[dict[str, Any]]
    prompt_tokens: int

    @property
    def finish_reason(self) -> str:
        return "tool_calls" if self.tool_calls else "stop"

    @property
    def output_tokens(self) -> int:
        """The reply's length in tokens: its pieces of content and reasoning, and each call's fragments and name."""
        tokens = len(reply_pieces(self.content or "")) + len(reply_pieces(self.reasoning or ""))
        return tokens + sum(len(tool_call_pieces(call["function"]["arguments"])) + 1 for call in self.tool_calls)

    def completion(self) -> dict[str, Any]:
        """The whole ``chat.completion`` object."""
        message: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.reasoning is not None:
            message["reasoning_content"] = self.reasoning
        if self.tool_calls:
            message["tool_calls"] = self.tool_calls
        return {
            "id": self.completion_id,
            "object": "chat.completion",
            "created": CREATED,
            "model": self.model,
            "choices": [{"index": 0, "message": message, "finish_reason": self.finish_reason}],
            "usage": self._usage(self.output_tokens),
        }

    def chunks(self, config: StreamConfig) -> list[dict[str, Any]]:
        """The ``chat.completion.chunk`` objects of the streamed reply, usage in the last one."""
        deltas: list[dict[str, Any]] = [
            {"role": "assistant", "content": ""} if self.content is not None else {"role": "assistant"}
        ]
        deltas += [{"reasoning_content": piece} for piece in reply_pieces(self.reasoning or "")]
        deltas += [{"content": piece} for piece in reply_pieces(self.content or "", config.chunks)]
        deltas += [{"tool_calls": [fragment]} for fragment in self._fragments()]
        chunks = [self._chunk(delta, None) for delta in deltas]
        final = self._chunk({}, self.finish_reason)
        final["usage"] = self._usage(len(deltas) - 1)
        return [*chunks, final]

    def _fragments(self) -> list[dict[str, Any]]:
        """Every call's fragments (the first with id and name), taken round-robin from the calls."""
        queues: list[list[dict[str, Any]]] = []
        for index, call in enumerate(self.tool_calls):
            function = call["function"]
            first = {
                "index": index,
                "id": call["id"],
                "type": "function",
                "function": {"name": function["name"], "arguments": ""},
            }
            rest = [
                {"index": index, "function": {"arguments": piece}} for piece in tool_call_pieces(function["arguments"])
            ]
            queues.append([first, *rest])
        ordered: list[dict[str, Any]] = []
        while any(queues):
            for queue in queues:
                if queue:
                    ordered.append(queue.pop(0))
        return ordered

    def _chunk(self, delta: Mapping[str, object], finish: str | None) -> dict[str, Any]:
        return {
            "id": self.completion_id,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    def _usage(self, completion_tokens: int) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": self.prompt_tokens + completion_tokens,
        }


def chat_answer(
    body: Mapping[str, Any], messages: list[dict[str, Any]], model: str, completion_id: str, config: StreamConfig
) -> ChatAnswer:
    """The reply to a valid chat request: tool calls if it offers tools, JSON for ``guided_json``, else the echo."""
    tools = body.get("tools")
    calls: list[dict[str, Any]] = []
    if isinstance(tools, list):
        offered = [cast("Mapping[str, Any]", t) for t in cast("list[object]", tools) if isinstance(t, Mapping)]
        calls = expected_tool_calls(messages, offered, body.get("tool_choice", "auto"))
    schema = body.get("guided_json")
    content: str | None
    if calls:
        content = None
    elif config.reply is not None:
        content = config.reply
    elif isinstance(schema, Mapping):
        content = expected_json(cast("Mapping[str, Any]", schema))
    else:
        content = expected_reply(messages)
    thinking = model in REASONING_MODELS and body.get("enable_thinking", True) is not False
    return ChatAnswer(
        completion_id=completion_id,
        model=model,
        content=content,
        reasoning=expected_reasoning(messages) if thinking else None,
        tool_calls=calls,
        prompt_tokens=sum(len(str(m.get("content") or "").split()) for m in messages),
    )
