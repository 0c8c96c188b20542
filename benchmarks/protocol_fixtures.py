"""The streams of scenarios 3r and 3a: an OpenAI Responses stream and an Anthropic Messages stream of
``events`` events each, almost all text deltas (as a long reply is), framed with ``event:`` names as
those APIs send them; and the text they add up to."""

from __future__ import annotations

import json
from typing import Any

from .fixtures import _WORDS, CHAT_MODEL  # pyright: ignore[reportPrivateUsage]

__all__ = ["anthropic_stream", "responses_stream"]


def _frames(events: list[dict[str, Any]]) -> bytes:
    return b"".join(
        b"event: " + event["type"].encode() + b"\ndata: " + json.dumps(event, separators=(",", ":")).encode() + b"\n\n"
        for event in events
    )


def responses_stream(events: int) -> tuple[bytes, int, int]:
    """About ``events`` Responses events (at least 9): created, in_progress, a message's item and part, its
    text deltas, the closing events and ``response.completed``; how many, and the text's length."""
    deltas = [_WORDS[i % len(_WORDS)] for i in range(max(1, events - 8))]
    text = "".join(deltas)
    where = {"item_id": "msg_bench", "output_index": 0}
    part = {"type": "output_text", "text": "", "annotations": []}
    item = {"type": "message", "id": "msg_bench", "role": "assistant", "status": "in_progress", "content": []}
    response = {"id": "resp_bench", "object": "response", "created_at": 1_700_000_000, "model": CHAT_MODEL}
    done_item = {**item, "status": "completed", "content": [{**part, "text": text}]}
    usage = {"input_tokens": 24, "output_tokens": len(deltas), "total_tokens": 24 + len(deltas)}
    stream: list[dict[str, Any]] = [
        {"type": "response.created", "response": {**response, "status": "in_progress", "output": []}},
        {"type": "response.in_progress", "response": {**response, "status": "in_progress", "output": []}},
        {"type": "response.output_item.added", "output_index": 0, "item": item},
        {"type": "response.content_part.added", **where, "content_index": 0, "part": part},
        *(
            {"type": "response.output_text.delta", **where, "content_index": 0, "delta": d, "logprobs": []}
            for d in deltas
        ),
        {"type": "response.output_text.done", **where, "content_index": 0, "text": text, "logprobs": []},
        {"type": "response.content_part.done", **where, "content_index": 0, "part": {**part, "text": text}},
        {"type": "response.output_item.done", "output_index": 0, "item": done_item},
        {
            "type": "response.completed",
            "response": {**response, "status": "completed", "output": [done_item], "usage": usage},
        },
    ]
    for number, event in enumerate(stream):
        event["sequence_number"] = number
    return _frames(stream), len(stream), len(text)


def anthropic_stream(events: int) -> tuple[bytes, int, int]:
    """About ``events`` Anthropic events (at least 7): message_start, a ping, one text block's start, deltas
    and stop, message_delta and message_stop; how many, and the text's length."""
    deltas = [_WORDS[i % len(_WORDS)] for i in range(max(1, events - 6))]
    start = {
        "id": "msg_bench",
        "type": "message",
        "role": "assistant",
        "model": CHAT_MODEL,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 24, "output_tokens": 1},
    }
    stream: list[dict[str, Any]] = [
        {"type": "message_start", "message": start},
        {"type": "ping"},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        *({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": d}} for d in deltas),
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": len(deltas)},
        },
        {"type": "message_stop"},
    ]
    return _frames(stream), len(stream), len("".join(deltas))
