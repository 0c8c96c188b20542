"""The emulated endpoints. Each is a small handler registered with `route`; add more the same way."""

from __future__ import annotations

import base64
import math
import struct
import uuid
from collections.abc import Callable, Mapping
from typing import Any, cast

import msgspec
from aiohttp import web

from ._chat_answer import chat_answer
from ._fixtures import CHAT_MODELS, CREATED, DEFAULT_CHAT_MODEL, EMBEDDING_MODELS, expected_embedding, model_metadata
from ._records import Call, Handler
from ._responses import json_response, telnyx_error, validation_error
from ._stream import send_events

__all__ = ["ROUTES", "route"]

ROUTES: list[tuple[str, str, Handler]] = []
"""The built-in routes as (method, path template, handler), in the spec's path syntax."""


def route(method: str, path: str) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of ``method path``."""

    def register(handler: Handler) -> Handler:
        ROUTES.append((method, path, handler))
        return handler

    return register


class _Invalid(Exception):
    """A request body that fails validation; becomes a 422."""

    def __init__(self, response: web.Response) -> None:
        super().__init__("invalid request")
        self.response = response


def _body(call: Call) -> dict[str, Any]:
    try:
        body = call.json()
    except msgspec.DecodeError:
        raise _Invalid(validation_error(["body"], "The body is not valid JSON.", "json_invalid")) from None
    if not isinstance(body, dict):
        raise _Invalid(validation_error(["body"], "The body must be a JSON object.", "model_attributes_type"))
    return cast("dict[str, Any]", body)


def _words(text: str) -> int:
    return len(text.split())


def _validated(handler: Handler) -> Handler:
    async def wrapper(call: Call) -> web.StreamResponse:
        try:
            return await handler(call)
        except _Invalid as exc:
            return exc.response

    wrapper.__doc__ = handler.__doc__
    return wrapper


# -- chat ------------------------------------------------------------------------------------


@route("POST", "/ai/chat/completions")
@_validated
async def chat_completions(call: Call) -> web.StreamResponse:
    """A completion from the emulated model (see `chat_answer`); SSE chunks with ``stream: true``."""
    body = _body(call)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return validation_error(["body", "messages"], "Field required: a non-empty list of messages.", "missing")
    if not all(isinstance(m, dict) for m in cast("list[object]", messages)):
        return validation_error(["body", "messages"], "Each message must be an object.", "model_type")
    model = body.get("model") or DEFAULT_CHAT_MODEL
    if not isinstance(model, str) or model not in CHAT_MODELS:
        known = ", ".join(CHAT_MODELS)
        return validation_error(["body", "model"], f"Unknown chat model {model!r}; available: {known}.")
    config = call.state.stream
    typed = cast("list[dict[str, Any]]", messages)
    answer = chat_answer(body, typed, model, call.state.next_completion_id(), config)
    if not call.streaming:
        return json_response(answer.completion())
    return await send_events(call, [msgspec.json.encode(c) for c in answer.chunks(config)], config)


# -- models ----------------------------------------------------------------------------------


@route("GET", "/ai/openai/models")
@route("GET", "/ai/models")  # deprecated upstream, still served
async def models(call: Call) -> web.StreamResponse:
    """The chat models, as ``ModelsResponse``."""
    return json_response({"object": "list", "data": [model_metadata(m) for m in CHAT_MODELS]})


@route("GET", "/ai/openai/embeddings/models")
async def embedding_models(call: Call) -> web.StreamResponse:
    """The embedding models, as ``OpenAIEmbeddingModelsResponse``."""
    data = [{"id": m, "object": "model", "created": CREATED, "owned_by": "telnyx"} for m in EMBEDDING_MODELS]
    return json_response({"object": "list", "data": data})


# -- embeddings ------------------------------------------------------------------------------


def _embedding_inputs(body: Mapping[str, Any]) -> list[str]:
    raw = body.get("input")
    if isinstance(raw, str):
        texts = [raw]
    elif isinstance(raw, list) and all(isinstance(t, str) for t in cast("list[object]", raw)):
        texts = cast("list[str]", raw)
    else:
        raise _Invalid(validation_error(["body", "input"], "Field required: a string or a list of strings.", "missing"))
    if not texts or any(not t for t in texts):
        raise _Invalid(validation_error(["body", "input"], "Input must not be empty.", "value_error"))
    return texts


@route("POST", "/ai/openai/embeddings")
@_validated
async def embeddings(call: Call) -> web.StreamResponse:
    """Deterministic vectors (see `expected_embedding`), as ``OpenAIEmbeddingResponse``."""
    body = _body(call)
    texts = _embedding_inputs(body)
    model = body.get("model")
    if not isinstance(model, str) or model not in EMBEDDING_MODELS:
        known = ", ".join(EMBEDDING_MODELS)
        return validation_error(["body", "model"], f"Unknown embedding model {model!r}; available: {known}.")
    dimensions = body.get("dimensions")
    if dimensions is not None and (
        not isinstance(dimensions, int)
        or isinstance(dimensions, bool)
        or not 1 <= dimensions <= EMBEDDING_MODELS[model]
    ):
        return validation_error(
            ["body", "dimensions"], f"dimensions must be an integer from 1 to {EMBEDDING_MODELS[model]} for {model}."
        )
    encoding = body.get("encoding_format", "float")
    if encoding not in ("float", "base64"):
        return validation_error(["body", "encoding_format"], "encoding_format must be 'float' or 'base64'.")
    if encoding == "base64" and call.state.base64 == "reject":
        return validation_error(["body", "encoding_format"], "encoding_format must be 'float'.", "literal_error")
    if encoding == "base64" and call.state.base64 == "ignore":
        encoding = "float"
    data: list[dict[str, Any]] = []
    for index, text in enumerate(texts):
        vector = expected_embedding(text, model, dimensions)
        embedding: object = vector
        if encoding == "base64":
            embedding = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()  # OpenAI's format
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    tokens = sum(_words(t) for t in texts)
    return json_response(
        {"object": "list", "data": data, "model": model, "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}
    )


# -- conversations ---------------------------------------------------------------------------


@route("POST", "/ai/conversations")
@_validated
async def create_conversation(call: Call) -> web.StreamResponse:
    """Store a conversation and return it (the spec's ``Conversation``)."""
    body = _body(call)
    metadata = body.get("metadata", {})
    if not isinstance(metadata, dict) or not all(
        isinstance(v, str) for v in cast("dict[str, object]", metadata).values()
    ):
        return validation_error(["body", "metadata"], "metadata must be an object of string values.", "dict_type")
    name = body.get("name")
    if name is not None and not isinstance(name, str):
        return validation_error(["body", "name"], "name must be a string.", "string_type")
    conversations = call.state.conversations
    conversation_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"telnyx-ai-emulator/conversations/{len(conversations)}"))
    conversation: dict[str, Any] = {
        "id": conversation_id,
        "name": name or "",
        "created_at": "2025-04-15T13:07:28.764Z",
        "last_message_at": "2025-04-15T13:07:28.764Z",
        "metadata": dict(cast("dict[str, str]", metadata)),
    }
    conversations[conversation_id] = conversation
    return json_response(conversation)


@route("GET", "/ai/conversations")
async def list_conversations(call: Call) -> web.StreamResponse:
    """The stored conversations, oldest first, as ``ConversationsListData`` (``limit`` honoured; the
    PostgREST-style filters of the API are not emulated)."""
    conversations = list(call.state.conversations.values())
    limit = call.request.query.get("limit")
    if limit is not None:
        if not limit.isdigit():
            return validation_error(["query", "limit"], "limit must be a whole number.", "int_parsing")
        conversations = conversations[: int(limit)]
    return json_response({"data": conversations})


@route("GET", "/ai/conversations/{conversation_id}")
async def retrieve_conversation(call: Call) -> web.StreamResponse:
    """``{"data": Conversation}``, or a 404 for an unknown id."""
    conversation_id = call.params["conversation_id"]
    conversation = call.state.conversations.get(conversation_id)
    if conversation is None:
        return telnyx_error(404, f"No conversation with id {conversation_id!r}.")
    return json_response({"data": conversation})


# -- assistant tests -------------------------------------------------------------------------


def _page_param(call: Call, name: str, default: int, maximum: int | None) -> int:
    raw = call.request.query.get(f"page[{name}]")
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _Invalid(
            validation_error(["query", "page", name], "Input should be a valid integer.", "int_parsing")
        ) from None
    if value < 1 or (maximum is not None and value > maximum):
        limit = f" and at most {maximum}" if maximum else ""
        raise _Invalid(
            validation_error(["query", "page", name], f"Input should be at least 1{limit}.", "greater_than_equal")
        )
    return value


@route("GET", "/ai/assistants/tests")
@_validated
async def list_assistant_tests(call: Call) -> web.StreamResponse:
    """One page of the seeded tests (filters by suite, channel and destination), with ``meta``."""
    number = _page_param(call, "number", 1, None)
    size = _page_param(call, "size", 20, 100)
    query = call.request.query
    tests = [
        t
        for t in call.state.assistant_tests
        if all(query.get(key) in (None, t[key]) for key in ("test_suite", "telnyx_conversation_channel", "destination"))
    ]
    page = tests[(number - 1) * size : number * size]
    meta = {
        "page_number": number,
        "page_size": size,
        "total_pages": math.ceil(len(tests) / size),
        "total_results": len(tests),
    }
    return json_response({"data": page, "meta": meta})
