"""The emulated model's reply (`ChatAnswer`) as an OpenAI Responses ``response``, or as the events of its stream.

A request's ``input`` (a string, or items: messages, ``function_call`` and ``function_call_output``)
and its flat function ``tools`` are read as the chat messages and tools they stand for, so the reply is
the same as chat's: reasoning first (a ``reasoning`` item with a summary), then the message, or one
``function_call`` item per call, arguments in fragments.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from ._chat_answer import ChatAnswer
from ._fixtures import CREATED, reply_pieces, tool_call_pieces
from ._state import StreamConfig

__all__ = ["chat_messages_of_input", "chat_tools_of", "response_events", "response_object"]


def _text(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [
            cast("Mapping[str, Any]", p).get("text") for p in cast("list[object]", content) if isinstance(p, Mapping)
        ]
        return " ".join(p for p in parts if isinstance(p, str))
    return ""


def chat_messages_of_input(instructions: object, items: object) -> list[dict[str, Any]]:
    """The chat messages a Responses ``input`` stands for (``function_call_output`` items become tool messages)."""
    messages: list[dict[str, Any]] = []
    if isinstance(instructions, str) and instructions:
        messages.append({"role": "system", "content": instructions})
    if isinstance(items, str):
        return [*messages, {"role": "user", "content": items}]
    for raw in cast("list[object]", items) if isinstance(items, list) else []:
        if not isinstance(raw, Mapping):
            continue
        item = cast("Mapping[str, Any]", raw)
        kind = item.get("type", "message")
        if kind == "function_call_output":
            messages.append({"role": "tool", "tool_call_id": item.get("call_id"), "content": _text(item.get("output"))})
        elif kind == "function_call":
            call = {"id": item.get("call_id"), "type": "function", "function": {"name": item.get("name")}}
            messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "message":
            role = item.get("role", "user")
            messages.append({"role": "system" if role == "developer" else role, "content": _text(item.get("content"))})
    return messages


def chat_tools_of(tools: object) -> list[dict[str, Any]]:
    """Responses' flat function tools (``{"type": "function", "name", "parameters"}``) as chat tools."""
    found: list[dict[str, Any]] = []
    for raw in cast("list[object]", tools) if isinstance(tools, list) else []:
        if isinstance(raw, Mapping) and cast("Mapping[str, Any]", raw).get("type") == "function":
            tool = cast("Mapping[str, Any]", raw)
            function: dict[str, Any] = {"name": tool.get("name"), "parameters": tool.get("parameters") or {}}
            found.append({"type": "function", "function": function})
    return found


def _ids(answer: ChatAnswer) -> tuple[str, str, str]:
    """The response's, its message's and its reasoning item's ids (from the completion's number)."""
    number = answer.completion_id.rsplit("-", 1)[-1]
    return f"resp_emulator_{number}", f"msg_emulator_{number}", f"rs_emulator_{number}"


def _items(answer: ChatAnswer) -> list[dict[str, Any]]:
    """The output items, complete."""
    _, message_id, reasoning_id = _ids(answer)
    items: list[dict[str, Any]] = []
    if answer.reasoning is not None:
        summary = [{"type": "summary_text", "text": answer.reasoning}]
        items.append({"type": "reasoning", "id": reasoning_id, "summary": summary, "status": "completed"})
    if answer.content is not None:
        part: dict[str, Any] = {"type": "output_text", "text": answer.content, "annotations": []}
        items.append(
            {"type": "message", "id": message_id, "role": "assistant", "status": "completed", "content": [part]}
        )
    for call in answer.tool_calls:
        function = call["function"]
        items.append(
            {
                "type": "function_call",
                "id": "fc_" + call["id"].removeprefix("call_"),
                "call_id": call["id"],
                "name": function["name"],
                "arguments": function["arguments"],
                "status": "completed",
            }
        )
    return items


def response_object(answer: ChatAnswer, *, status: str = "completed", output: bool = True) -> dict[str, Any]:
    """The whole ``response`` (without its output while it is ``in_progress``)."""
    response_id, _, _ = _ids(answer)
    body: dict[str, Any] = {
        "id": response_id,
        "object": "response",
        "created_at": CREATED,
        "model": answer.model,
        "status": status,
        "output": _items(answer) if output else [],
        "usage": None,
    }
    if output:
        produced = answer.output_tokens
        body["usage"] = {
            "input_tokens": answer.prompt_tokens,
            "output_tokens": produced,
            "total_tokens": answer.prompt_tokens + produced,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": len(reply_pieces(answer.reasoning or ""))},
        }
    return body


def response_events(answer: ChatAnswer, config: StreamConfig) -> list[dict[str, Any]]:
    """The events of the streamed response, ``response.created`` to ``response.completed``."""
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": response_object(answer, status="in_progress", output=False)},
        {"type": "response.in_progress", "response": response_object(answer, status="in_progress", output=False)},
    ]
    for index, item in enumerate(_items(answer)):
        opened = {**item, "status": "in_progress"}
        where = {"item_id": item["id"], "output_index": index}
        if item["type"] == "reasoning":
            text = item["summary"][0]["text"]
            events.append(
                {"type": "response.output_item.added", "output_index": index, "item": {**opened, "summary": []}}
            )
            part = {"type": "summary_text", "text": ""}
            events.append({"type": "response.reasoning_summary_part.added", **where, "summary_index": 0, "part": part})
            events += [
                {"type": "response.reasoning_summary_text.delta", **where, "summary_index": 0, "delta": piece}
                for piece in reply_pieces(text)
            ]
            events.append({"type": "response.reasoning_summary_text.done", **where, "summary_index": 0, "text": text})
            done_part = {"type": "summary_text", "text": text}
            events.append(
                {"type": "response.reasoning_summary_part.done", **where, "summary_index": 0, "part": done_part}
            )
        elif item["type"] == "message":
            text = item["content"][0]["text"]
            events.append(
                {"type": "response.output_item.added", "output_index": index, "item": {**opened, "content": []}}
            )
            text_part: dict[str, Any] = {"type": "output_text", "text": "", "annotations": []}
            events.append({"type": "response.content_part.added", **where, "content_index": 0, "part": text_part})
            events += [
                {"type": "response.output_text.delta", **where, "content_index": 0, "delta": piece}
                for piece in reply_pieces(text, config.chunks)
            ]
            events.append({"type": "response.output_text.done", **where, "content_index": 0, "text": text})
            whole_part: dict[str, Any] = {**text_part, "text": text}
            events.append({"type": "response.content_part.done", **where, "content_index": 0, "part": whole_part})
        else:
            arguments = item["arguments"]
            events.append(
                {"type": "response.output_item.added", "output_index": index, "item": {**opened, "arguments": ""}}
            )
            events += [
                {"type": "response.function_call_arguments.delta", **where, "delta": piece}
                for piece in tool_call_pieces(arguments)
            ]
            events.append({"type": "response.function_call_arguments.done", **where, "arguments": arguments})
        events.append({"type": "response.output_item.done", "output_index": index, "item": item})
    events.append({"type": "response.completed", "response": response_object(answer)})
    for number, event in enumerate(events):
        event["sequence_number"] = number
    return events
