"""Message contents for a span, only when the user opted in: ``gen_ai.input.messages``, ``gen_ai.output.messages``
and ``gen_ai.system_instructions``, in the conventions' JSON shape (role, then parts: ``text``, ``tool_call``,
``tool_call_response``, ``reasoning``, ``uri``), recorded as JSON strings as spans take them.

Each protocol's request and reply are mapped by hand; a part of a kind not listed keeps only its ``type``.
"""

from __future__ import annotations

import contextlib
from typing import Any, cast

import msgspec

from ..types.anthropic import Message, TextBlock, ThinkingBlock, ToolUseBlock
from ..types.assistant_chat import AssistantChatDone
from ..types.assistants import AssistantChatResponse
from ..types.chat import ChatCompletion
from ..types.responses import (
    Response,
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseReasoningItem,
)

__all__ = ["input_attributes", "output_attributes"]

Part = dict[str, Any]


def input_attributes(protocol: str, content: bytes | None) -> dict[str, str]:
    """The request's messages (and system instructions kept apart from them) as span attributes."""
    try:
        body: object = msgspec.json.decode(content) if content else None
    except (msgspec.DecodeError, RecursionError):
        return {}
    if not isinstance(body, dict):
        return {}
    fields: dict[str, Any] = body  # pyright: ignore[reportUnknownVariableType]
    system: list[Part] = []
    if protocol == "chat":
        messages = [_chat_message(m) for m in _dicts(fields.get("messages"))]
    elif protocol == "responses":
        system = _texts(fields.get("instructions"))
        given = fields.get("input")
        messages = [{"role": "user", "parts": _texts(given)}] if isinstance(given, str) else _responses_input(given)
    elif protocol == "anthropic":
        system = _texts(fields.get("system"))
        messages = [{"role": m.get("role"), "parts": _blocks(m.get("content"))} for m in _dicts(fields.get("messages"))]
    elif protocol == "assistant":
        messages = [{"role": "user", "parts": _texts(fields.get("content"))}]
    else:
        return {}
    attributes = {"gen_ai.input.messages": _json(messages)}
    if system:
        attributes["gen_ai.system_instructions"] = _json(system)
    return attributes


def output_attributes(reply: object, finish_reasons: list[str]) -> dict[str, str]:
    """The reply's messages (one per choice) as a span attribute, or nothing for a reply without any."""
    reason = finish_reasons[0] if finish_reasons else ""
    messages: list[dict[str, Any]]
    parts: list[Part]
    if isinstance(reply, ChatCompletion):
        messages = []
        for choice in reply.choices:
            message = choice.message
            parts = _texts(message.content) + _reasoning(message.reasoning_content)
            parts += [_tool_call(c.id, c.function.name, c.function.arguments) for c in message.tool_calls or []]
            messages.append({"role": message.role, "parts": parts, "finish_reason": choice.finish_reason or ""})
    elif isinstance(reply, Response):
        parts = []
        for item in reply.output:
            if isinstance(item, ResponseOutputMessage):
                parts += [_text(p.text if isinstance(p, ResponseOutputText) else p.refusal) for p in item.content]
            elif isinstance(item, ResponseFunctionToolCall):
                parts.append(_tool_call(item.call_id, item.name, item.arguments))
            elif isinstance(item, ResponseReasoningItem):  # pyright: ignore[reportUnnecessaryIsInstance]
                parts += _reasoning(" ".join(s.text for s in item.summary) or None)
        messages = [{"role": "assistant", "parts": parts, "finish_reason": reason}]
    elif isinstance(reply, Message):
        messages = [{"role": reply.role, "parts": _reply_blocks(reply.content), "finish_reason": reason}]
    elif isinstance(reply, AssistantChatDone | AssistantChatResponse):
        messages = [{"role": "assistant", "parts": _texts(reply.content), "finish_reason": reason or "stop"}]
    else:
        return {}
    return {"gen_ai.output.messages": _json(messages)}


def _chat_message(message: dict[str, Any]) -> dict[str, Any]:
    role = message.get("role")
    if role == "tool":
        parts: list[Part] = [
            {"type": "tool_call_response", "id": message.get("tool_call_id"), "response": message.get("content")}
        ]
    else:
        parts = _blocks(message.get("content"))
        for call in _dicts(message.get("tool_calls")):
            function = (_dicts([call.get("function")]) or [{}])[0]
            parts.append(_tool_call(call.get("id"), function.get("name"), function.get("arguments")))
    shaped: dict[str, Any] = {"role": role, "parts": parts}
    if isinstance(message.get("name"), str):
        shaped["name"] = message["name"]
    return shaped


def _responses_input(items: object) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for item in _dicts(items):
        kind = item.get("type")
        if kind == "function_call":
            messages.append(
                {
                    "role": "assistant",
                    "parts": [_tool_call(item.get("call_id"), item.get("name"), item.get("arguments"))],
                }
            )
        elif kind == "function_call_output":
            part = {"type": "tool_call_response", "id": item.get("call_id"), "response": item.get("output")}
            messages.append({"role": "tool", "parts": [part]})
        else:
            messages.append({"role": item.get("role", "user"), "parts": _blocks(item.get("content"))})
    return messages


def _blocks(content: object) -> list[Part]:
    """Text, or a list of content parts or blocks (OpenAI's, the Responses API's or Anthropic's)."""
    if isinstance(content, str):
        return _texts(content)
    parts: list[Part] = []
    for block in _dicts(content):
        kind = block.get("type")
        if kind in ("text", "input_text", "output_text"):
            parts.append(_text(block.get("text")))
        elif kind == "image_url" and isinstance(block.get("image_url"), dict):
            parts.append({"type": "uri", "modality": "image", "uri": block["image_url"].get("url")})
        elif kind == "tool_use":
            parts.append(_tool_call(block.get("id"), block.get("name"), block.get("input")))
        elif kind == "tool_result":
            parts.append(
                {"type": "tool_call_response", "id": block.get("tool_use_id"), "response": block.get("content")}
            )
        elif kind == "thinking":
            parts.append({"type": "reasoning", "content": block.get("thinking")})
        else:
            parts.append({"type": kind})
    return parts


def _texts(content: object) -> list[Part]:
    if isinstance(content, str):
        return [_text(content)]
    return [_text(block.get("text")) for block in _dicts(content)]


def _text(text: object) -> Part:
    return {"type": "text", "content": text}


def _reasoning(text: str | None) -> list[Part]:
    return [{"type": "reasoning", "content": text}] if text else []


def _tool_call(call_id: object, name: object, arguments: object) -> Part:
    if isinstance(arguments, str):  # JSON text: the conventions want the object, when it is one
        with contextlib.suppress(msgspec.DecodeError):
            arguments = msgspec.json.decode(arguments)
    return {"type": "tool_call", "id": call_id, "name": name, "arguments": arguments}


def _dicts(items: object) -> list[dict[str, Any]]:
    """The objects (dicts) in ``items``, when it is a list; an empty list otherwise."""
    if not isinstance(items, list):
        return []
    values: list[object] = items  # pyright: ignore[reportUnknownVariableType]
    return [cast("dict[str, Any]", item) for item in values if isinstance(item, dict)]


def _json(value: object) -> str:
    return msgspec.json.encode(value).decode()


def _reply_blocks(blocks: list[Any]) -> list[Part]:
    """An Anthropic reply's decoded blocks as parts."""
    parts: list[Part] = []
    for block in blocks:
        if isinstance(block, TextBlock):
            parts.append(_text(block.text))
        elif isinstance(block, ToolUseBlock):
            parts.append(_tool_call(block.id, block.name, block.input))
        elif isinstance(block, ThinkingBlock):
            parts.append({"type": "reasoning", "content": block.thinking})
        else:
            parts.append({"type": getattr(block, "type", "unknown")})
    return parts
