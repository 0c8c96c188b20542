"""Streams recorded by hand from each protocol's documented event formats (OpenAI Responses streaming events,
Anthropic Messages streaming), as the bytes a server sends, with variants for every way a stream ends.

Text holds multi-byte characters so that splitting the bytes anywhere also splits UTF-8 sequences.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "ANTHROPIC_EVENTS",
    "RESPONSES_EVENTS",
    "anthropic_events",
    "frame",
    "named_sse",
    "responses_events",
]

RESPONSE_ID = "resp_0f7c"
MESSAGE_TEXT = ["Il fait ", "beau à ", "Paris ☀️", " aujourd'hui."]
SUMMARY_TEXT = ["The user asks about ", "the weather; ", "call the tool."]
ARGUMENT_PIECES = ['{"city":', ' "Paris", ', '"days": 3}']
THINKING_TEXT = ["Let me think ", "about Paris… ", "a tool call is needed."]
TOOL_INPUT_PIECES = ["", '{"city": "Pa', 'ris", "unit', 's": ["°C"]', ', "days": 3}']


def frame(name: str | None, payload: dict[str, Any]) -> bytes:
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    head = b"event: " + name.encode() + b"\n" if name else b""
    return head + b"data: " + data + b"\n\n"


def named_sse(events: list[dict[str, Any]], *, names: bool = True) -> bytes:
    """The SSE bytes of ``events``, each named by its ``type`` (as OpenAI and Anthropic send them)."""
    return b"".join(frame(event["type"] if names else None, event) for event in events)


def _response(status: str, output: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    usage = None
    if status != "in_progress":
        usage = {
            "input_tokens": 31,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 57,
            "output_tokens_details": {"reasoning_tokens": 12},
            "total_tokens": 88,
        }
    return {
        "id": RESPONSE_ID,
        "object": "response",
        "created_at": 1741290958,
        "status": status,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "model": "moonshotai/Kimi-K2-Instruct",
        "output": output,
        "parallel_tool_calls": True,
        "temperature": 1.0,
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "usage": usage,
        **extra,
    }


def responses_events(
    ending: str = "completed", *, texts: list[str] | None = None, arguments: list[str] | None = None
) -> list[dict[str, Any]]:
    """A reasoning item, a message and a function call, then the end: ``completed``, ``failed``,
    ``incomplete``, ``error`` (an error event instead of the end), ``cut`` (no end) or ``done`` (no end
    event; the caller adds ``[DONE]``). ``texts`` and ``arguments`` replace the message's text deltas and
    the call's argument deltas."""
    pieces = MESSAGE_TEXT if texts is None else texts
    fragments = ARGUMENT_PIECES if arguments is None else arguments
    text = "".join(pieces)
    summary = "".join(SUMMARY_TEXT)
    whole_arguments = "".join(fragments)
    reasoning = {
        "id": "rs_1",
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": summary}],
        "status": "completed",
    }
    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }
    call = {
        "id": "fc_1",
        "type": "function_call",
        "call_id": "call_1",
        "name": "get_weather",
        "arguments": whole_arguments,
        "status": "completed",
    }
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": _response("in_progress", [])},
        {"type": "response.in_progress", "response": _response("in_progress", [])},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {**reasoning, "summary": [], "status": "in_progress"},
        },
        {
            "type": "response.reasoning_summary_part.added",
            "item_id": "rs_1",
            "output_index": 0,
            "summary_index": 0,
            "part": {"type": "summary_text", "text": ""},
        },
        *(
            {
                "type": "response.reasoning_summary_text.delta",
                "item_id": "rs_1",
                "output_index": 0,
                "summary_index": 0,
                "delta": p,
            }
            for p in SUMMARY_TEXT
        ),
        {
            "type": "response.reasoning_summary_text.done",
            "item_id": "rs_1",
            "output_index": 0,
            "summary_index": 0,
            "text": summary,
        },
        {
            "type": "response.reasoning_summary_part.done",
            "item_id": "rs_1",
            "output_index": 0,
            "summary_index": 0,
            "part": {"type": "summary_text", "text": summary},
        },
        {"type": "response.output_item.done", "output_index": 0, "item": reasoning},
        {
            "type": "response.output_item.added",
            "output_index": 1,
            "item": {**message, "content": [], "status": "in_progress"},
        },
        {
            "type": "response.content_part.added",
            "item_id": "msg_1",
            "output_index": 1,
            "content_index": 0,
            "part": {"type": "output_text", "text": "", "annotations": []},
        },
        *(
            {
                "type": "response.output_text.delta",
                "item_id": "msg_1",
                "output_index": 1,
                "content_index": 0,
                "delta": p,
                "logprobs": [],
            }
            for p in pieces
        ),
        {
            "type": "response.output_text.done",
            "item_id": "msg_1",
            "output_index": 1,
            "content_index": 0,
            "text": text,
            "logprobs": [],
        },
        {
            "type": "response.content_part.done",
            "item_id": "msg_1",
            "output_index": 1,
            "content_index": 0,
            "part": {"type": "output_text", "text": text, "annotations": []},
        },
        {"type": "response.output_item.done", "output_index": 1, "item": message},
        {
            "type": "response.output_item.added",
            "output_index": 2,
            "item": {**call, "arguments": "", "status": "in_progress"},
        },
        *(
            {"type": "response.function_call_arguments.delta", "item_id": "fc_1", "output_index": 2, "delta": p}
            for p in fragments
        ),
        {
            "type": "response.function_call_arguments.done",
            "item_id": "fc_1",
            "output_index": 2,
            "arguments": whole_arguments,
        },
        {"type": "response.output_item.done", "output_index": 2, "item": call},
    ]
    output = [reasoning, message, call]
    if ending == "completed":
        events.append({"type": "response.completed", "response": _response("completed", output)})
    elif ending == "failed":
        error = {"code": "server_error", "message": "The model failed to finish."}
        events.append({"type": "response.failed", "response": _response("failed", output, error=error)})
    elif ending == "incomplete":
        details = {"reason": "max_output_tokens"}
        events.append(
            {"type": "response.incomplete", "response": _response("incomplete", output, incomplete_details=details)}
        )
    elif ending == "error":
        events.append({"type": "error", "code": "rate_limit_exceeded", "message": "Slow down.", "param": None})
    for number, event in enumerate(events):
        event["sequence_number"] = number
    return events


RESPONSES_EVENTS = responses_events()


def anthropic_events(
    ending: str = "stop", *, texts: list[str] | None = None, tool_input: list[str] | None = None
) -> list[dict[str, Any]]:
    """A thinking block, a text block and a tool_use block, then the end: ``stop``, ``error`` (an
    ``overloaded_error`` event after the first text delta) or ``cut`` (no ``message_stop``)."""
    pieces = MESSAGE_TEXT if texts is None else texts
    fragments = TOOL_INPUT_PIECES if tool_input is None else tool_input
    start = {
        "id": "msg_01XF",
        "type": "message",
        "role": "assistant",
        "model": "MiniMaxAI/MiniMax-M3",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 25, "output_tokens": 1, "cache_read_input_tokens": 7},
    }
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": start},
        {"type": "ping"},
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "thinking", "thinking": "", "signature": ""},
        },
        *(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": p}}
            for p in THINKING_TEXT
        ),
        {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "EqQBCgIYAhIM"}},
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
        *({"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": p}} for p in pieces),
        {"type": "content_block_stop", "index": 1},
        {
            "type": "content_block_start",
            "index": 2,
            "content_block": {"type": "tool_use", "id": "toolu_01T1", "name": "get_weather", "input": {}},
        },
        *(
            {"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": p}}
            for p in fragments
        ),
        {"type": "content_block_stop", "index": 2},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use", "stop_sequence": None},
            "usage": {"output_tokens": 89},
        },
        {"type": "message_stop"},
    ]
    if ending == "error":
        at = next(i for i, e in enumerate(events) if e.get("delta", {}).get("type") == "text_delta") + 1
        events = [*events[:at], {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}]
    elif ending == "cut":
        events = events[:-1]
    return events


ANTHROPIC_EVENTS = anthropic_events()
