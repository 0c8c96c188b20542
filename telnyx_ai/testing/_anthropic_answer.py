"""The emulated model's reply (`ChatAnswer`) as an Anthropic ``message``, or as the events of its stream.

A request's ``messages`` (text or blocks; a ``tool_result`` block answers a tool) and its ``tools``
(``name``, ``input_schema``) are read as the chat messages and tools they stand for, so the reply is the
same as chat's: a ``thinking`` block when the request enables thinking, then text, or one ``tool_use``
block per call, its input streamed as ``input_json_delta`` fragments.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, cast

from ._chat_answer import ChatAnswer
from ._fixtures import reply_pieces, tool_call_pieces
from ._state import StreamConfig

__all__ = ["chat_messages_of", "chat_tool_choice_of", "chat_tools_of", "message_events", "message_object"]


def _blocks(content: object) -> list[Mapping[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    items = cast("list[object]", content) if isinstance(content, list) else []
    return [cast("Mapping[str, Any]", block) for block in items if isinstance(block, Mapping)]


def chat_messages_of(system: object, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The chat messages Anthropic ``messages`` stand for (a user turn of ``tool_result`` blocks is a tool message)."""
    found: list[dict[str, Any]] = []
    if isinstance(system, str) and system:
        found.append({"role": "system", "content": system})
    for message in messages:
        blocks = _blocks(message.get("content"))
        results = [b for b in blocks if b.get("type") == "tool_result"]
        if results:
            found += [
                {"role": "tool", "tool_call_id": b.get("tool_use_id"), "content": str(b.get("content"))}
                for b in results
            ]
            continue
        text = " ".join(str(b.get("text")) for b in blocks if b.get("type") == "text")
        found.append({"role": message.get("role", "user"), "content": text})
    return found


def chat_tools_of(tools: object) -> list[dict[str, Any]]:
    """Anthropic tools (``name``, ``input_schema``) as chat function tools."""
    found: list[dict[str, Any]] = []
    for raw in cast("list[object]", tools) if isinstance(tools, list) else []:
        if isinstance(raw, Mapping) and "name" in raw:
            tool = cast("Mapping[str, Any]", raw)
            function: dict[str, Any] = {"name": tool["name"], "parameters": tool.get("input_schema") or {}}
            found.append({"type": "function", "function": function})
    return found


def chat_tool_choice_of(choice: object) -> object:
    """Anthropic's ``tool_choice`` as chat's: ``auto``, ``any`` (required), ``tool`` (one named), ``none``."""
    if not isinstance(choice, Mapping):
        return "auto"
    kind = cast("Mapping[str, Any]", choice).get("type")
    if kind == "any":
        return "required"
    if kind == "tool":
        return {"type": "function", "function": {"name": cast("Mapping[str, Any]", choice).get("name")}}
    return "none" if kind == "none" else "auto"


def _message_id(answer: ChatAnswer) -> str:
    return "msg_emulator_" + answer.completion_id.rsplit("-", 1)[-1]


def _signature(reasoning: str) -> str:
    return "sig-" + hashlib.sha256(reasoning.encode()).hexdigest()[:32]


def _content(answer: ChatAnswer) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if answer.reasoning is not None:
        blocks.append({"type": "thinking", "thinking": answer.reasoning, "signature": _signature(answer.reasoning)})
    if answer.content is not None:
        blocks.append({"type": "text", "text": answer.content})
    for call in answer.tool_calls:
        function = call["function"]
        blocks.append(
            {
                "type": "tool_use",
                "id": "toolu_" + call["id"].removeprefix("call_"),
                "name": function["name"],
                "input": json.loads(function["arguments"]),
            }
        )
    return blocks


def _usage(answer: ChatAnswer) -> dict[str, int]:
    return {"input_tokens": answer.prompt_tokens, "output_tokens": answer.output_tokens}


def message_object(answer: ChatAnswer) -> dict[str, Any]:
    """The whole ``message``."""
    return {
        "id": _message_id(answer),
        "type": "message",
        "role": "assistant",
        "model": answer.model,
        "content": _content(answer),
        "stop_reason": "tool_use" if answer.tool_calls else "end_turn",
        "stop_sequence": None,
        "usage": _usage(answer),
    }


def message_events(answer: ChatAnswer, config: StreamConfig) -> list[dict[str, Any]]:
    """The events of the streamed message, ``message_start`` (then a ``ping``) to ``message_stop``."""
    whole = message_object(answer)
    start: dict[str, Any] = {
        **whole,
        "content": [],
        "stop_reason": None,
        "usage": {**whole["usage"], "output_tokens": 1},
    }
    events: list[dict[str, Any]] = [{"type": "message_start", "message": start}, {"type": "ping"}]
    arguments = iter([call["function"]["arguments"] for call in answer.tool_calls])  # the exact text, as streamed
    for index, block in enumerate(whole["content"]):
        kind = block["type"]
        if kind == "thinking":
            events.append(
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {**block, "thinking": "", "signature": ""},
                }
            )
            events += [
                {"type": "content_block_delta", "index": index, "delta": {"type": "thinking_delta", "thinking": piece}}
                for piece in reply_pieces(block["thinking"])
            ]
            signature = {"type": "signature_delta", "signature": block["signature"]}
            events.append({"type": "content_block_delta", "index": index, "delta": signature})
        elif kind == "text":
            events.append({"type": "content_block_start", "index": index, "content_block": {**block, "text": ""}})
            events += [
                {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": piece}}
                for piece in reply_pieces(block["text"], config.chunks)
            ]
        else:
            events.append({"type": "content_block_start", "index": index, "content_block": {**block, "input": {}}})
            text = next(arguments)
            events += [
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "input_json_delta", "partial_json": piece},
                }
                for piece in ["", *tool_call_pieces(text)]
            ]
        events.append({"type": "content_block_stop", "index": index})
    delta = {"stop_reason": whole["stop_reason"], "stop_sequence": None}
    events.append(
        {"type": "message_delta", "delta": delta, "usage": {"output_tokens": whole["usage"]["output_tokens"]}}
    )
    events.append({"type": "message_stop"})
    return events
