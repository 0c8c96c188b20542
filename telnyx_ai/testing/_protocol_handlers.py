"""The chat endpoints in their other wire formats: OpenAI chat at ``/ai/openai/chat/completions`` (the main
path), OpenAI Responses and Anthropic Messages; and a conversation's messages, which Responses calls
with ``conversation`` add to. Every format answers what chat answers (`chat_answer`), plain or streamed."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, cast

import msgspec
from aiohttp import web

from . import _anthropic_answer, _responses_answer
from ._chat_answer import ChatAnswer, chat_answer
from ._fixtures import ANTHROPIC_ONLY_MODELS, CHAT_MODELS, DEFAULT_CHAT_MODEL, expected_reasoning
from ._handlers import _body, _validated, chat_completions, route  # pyright: ignore[reportPrivateUsage]
from ._records import Call
from ._responses import json_response, telnyx_error, validation_error
from ._stream import send_events

__all__: list[str] = []

route("POST", "/ai/openai/chat/completions")(chat_completions)


def _model(body: Mapping[str, Any], also: tuple[str, ...] = ()) -> str | web.Response:
    model = body.get("model") or DEFAULT_CHAT_MODEL
    known = CHAT_MODELS + also
    if not isinstance(model, str) or model not in known:
        return validation_error(["body", "model"], f"Unknown chat model {model!r}; available: {', '.join(known)}.")
    return model


def _answer(
    call: Call, messages: list[dict[str, Any]], model: str, tools: list[dict[str, Any]], choice: object, *, think: bool
) -> ChatAnswer:
    chat_body: dict[str, Any] = {"tool_choice": choice, "enable_thinking": think}
    if tools:
        chat_body["tools"] = tools
    return chat_answer(chat_body, messages, model, call.state.next_completion_id(), call.state.stream)


async def _send_typed(call: Call, events: list[dict[str, Any]], protocol: str) -> web.StreamResponse:
    """Stream events that say their ``type``, each named by it, the last one ending the stream."""
    payloads = [msgspec.json.encode(event) for event in events]
    names = [event["type"] for event in events]
    return await send_events(call, payloads, call.state.stream, names=names, done=False, protocol=protocol)


# -- OpenAI Responses ------------------------------------------------------------------------------


@route("POST", "/ai/openai/responses")
@_validated
async def create_response(call: Call) -> web.StreamResponse:
    """A ``response`` (or its events with ``stream: true``); ``conversation`` stores the turn on that conversation."""
    body = _body(call)
    if "input" not in body:
        return validation_error(["body", "input"], "Field required: a string or a list of input items.", "missing")
    model = _model(body)
    if isinstance(model, web.Response):
        return model
    conversation = body.get("conversation")
    history: list[dict[str, Any]] = []
    if conversation is not None:
        if not isinstance(conversation, str) or conversation not in call.state.conversations:
            return telnyx_error(404, f"No conversation with id {conversation!r}.")
        history = [_as_chat(m) for m in call.state.conversation_messages.get(conversation, [])]
    turn = _responses_answer.chat_messages_of_input(body.get("instructions"), body["input"])
    messages = history + turn
    reasoning = body.get("reasoning")
    effort = cast("Mapping[str, Any]", reasoning).get("effort") if isinstance(reasoning, Mapping) else None
    tools = _responses_answer.chat_tools_of(body.get("tools"))
    answer = _answer(call, messages, model, tools, body.get("tool_choice", "auto"), think=effort != "none")
    if conversation is not None:
        _store_turn(call, conversation, turn, answer)
    if not call.streaming:
        return json_response(_responses_answer.response_object(answer))
    return await _send_typed(call, _responses_answer.response_events(answer, call.state.stream), "responses")


def _as_chat(message: Mapping[str, Any]) -> dict[str, Any]:
    return {"role": message["role"], "content": message.get("text", "")}


def _store_turn(call: Call, conversation: str, turn: list[dict[str, Any]], answer: ChatAnswer) -> None:
    """Add the new input, the reasoning, the reply and its tool calls to the conversation's messages."""
    stored = call.state.conversation_messages.setdefault(conversation, [])
    for message in turn:
        if message["role"] != "system" or not stored:
            stored.append({"role": message["role"], "text": str(message.get("content") or ""), "created_at": _NOW})
    if answer.reasoning is not None:
        stored.append({"role": "reasoning", "text": answer.reasoning, "created_at": _NOW})
    reply: dict[str, Any] = {"role": "assistant", "text": answer.content or "", "created_at": _NOW}
    if answer.tool_calls:
        reply["tool_calls"] = answer.tool_calls
    stored.append(reply)
    call.state.conversations[conversation]["last_message_at"] = _NOW


_NOW = "2025-04-15T13:09:02.120Z"


@route("GET", "/ai/conversations/{conversation_id}/messages")
async def conversation_messages(call: Call) -> web.StreamResponse:
    """A conversation's messages (``ConversationMessageListData``), or a 404 for an unknown id."""
    conversation_id = call.params["conversation_id"]
    if conversation_id not in call.state.conversations:
        return telnyx_error(404, f"No conversation with id {conversation_id!r}.")
    messages = call.state.conversation_messages.get(conversation_id, [])
    meta = {"page_number": 1, "page_size": max(len(messages), 1), "total_pages": 1, "total_results": len(messages)}
    return json_response({"data": messages, "meta": meta})


# -- Anthropic Messages -------------------------------------------------------------------------------


@route("POST", "/ai/anthropic/v1/messages")
@_validated
async def create_message(call: Call) -> web.StreamResponse:
    """An Anthropic ``message`` (or its events with ``stream: true``); ``model``, ``messages``, ``max_tokens`` required."""
    body = _body(call)
    raw_messages = body.get("messages")
    if not isinstance(raw_messages, list) or not raw_messages:
        return validation_error(["body", "messages"], "Field required: a non-empty list of messages.", "missing")
    if not isinstance(body.get("max_tokens"), int):
        return validation_error(["body", "max_tokens"], "Field required: an integer.", "missing")
    if "model" not in body:
        return validation_error(["body", "model"], "Field required.", "missing")
    model = _model(body, ANTHROPIC_ONLY_MODELS)
    if isinstance(model, web.Response):
        return model
    typed = [cast("dict[str, Any]", m) for m in cast("list[object]", raw_messages) if isinstance(m, dict)]
    messages = _anthropic_answer.chat_messages_of(body.get("system"), typed)
    tools = _anthropic_answer.chat_tools_of(body.get("tools"))
    choice = _anthropic_answer.chat_tool_choice_of(body.get("tool_choice"))
    answer = _answer(call, messages, model, tools, choice, think=False)
    thinking = body.get("thinking")
    if isinstance(thinking, Mapping) and cast("Mapping[str, Any]", thinking).get("type") == "enabled":
        answer = dataclasses.replace(answer, reasoning=expected_reasoning(messages))  # any model, when asked to
    if not call.streaming:
        return json_response(_anthropic_answer.message_object(answer))
    return await _send_typed(call, _anthropic_answer.message_events(answer, call.state.stream), "anthropic")
