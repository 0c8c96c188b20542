"""Which calls are GenAI operations, and the span attributes their requests give (GenAI semantic conventions).

A call is told apart by its method and path: chat completions (both paths), OpenAI Responses, Anthropic
Messages and assistant chat are ``chat``; OpenAI-style embeddings (``create_embeddings``, each batch of
``embed_many``) are ``embeddings``. Every other operation is not a GenAI call, and gets no span.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Final, Literal
from urllib.parse import urlsplit

import msgspec

from .._hooks import CallInfo

__all__ = ["PROVIDER", "Operation", "operation_of"]

PROVIDER: Final = "telnyx"
"""``gen_ai.provider.name``: Telnyx serves every model behind these endpoints, whatever their wire format."""

Protocol = Literal["chat", "responses", "anthropic", "assistant", "embeddings"]

_PATHS: Final[dict[str, tuple[str, Protocol]]] = {
    "/ai/openai/chat/completions": ("chat", "chat"),
    "/ai/chat/completions": ("chat", "chat"),
    "/ai/openai/responses": ("chat", "responses"),
    "/ai/anthropic/v1/messages": ("chat", "anthropic"),
    "/ai/openai/embeddings": ("embeddings", "embeddings"),
}
_ASSISTANT_CHAT: Final = re.compile(r"/ai/assistants/([^/]+)/chat")
_DEFAULT_PORTS: Final = {"https": 443, "http": 80}
_FLOATS: Final = ("temperature", "top_p", "top_k", "frequency_penalty", "presence_penalty")


class _Request(msgspec.Struct):
    """The request fields the conventions name (the rest, messages included, are skipped unread)."""

    model: Any = None
    temperature: Any = None
    top_p: Any = None
    top_k: Any = None
    max_tokens: Any = None
    max_output_tokens: Any = None
    frequency_penalty: Any = None
    presence_penalty: Any = None
    stop: Any = None
    stop_sequences: Any = None
    seed: Any = None
    n: Any = None
    response_format: Any = None
    guided_json: Any = None
    encoding_format: Any = None
    dimensions: Any = None
    conversation_id: Any = None


_decode_request = msgspec.json.Decoder(_Request).decode


class Operation:
    """One GenAI call: its operation and protocol, and the attributes known when it starts."""

    __slots__ = ("attributes", "metric_attributes", "model", "name", "protocol")

    def __init__(self, name: str, protocol: Protocol, call: CallInfo) -> None:
        self.name = name
        self.protocol: Protocol = protocol
        self.model: str | None = None
        attributes: dict[str, Any] = {"gen_ai.operation.name": name, "gen_ai.provider.name": PROVIDER}
        request = _request(call.content)
        if request is not None:
            model = request.model
            if isinstance(model, str) and model:
                self.model = attributes["gen_ai.request.model"] = model
        server = _server(call.url[: len(call.url) - len(call.path)])
        attributes.update(server)
        self.metric_attributes: dict[str, Any] = attributes.copy()
        """The low-cardinality attributes the conventions put on the metrics."""
        if request is not None:
            _add_request(attributes, request)
        if call.stream:
            attributes["gen_ai.request.stream"] = True
        self.attributes = attributes

    @property
    def span_name(self) -> str:
        """``{operation} {model}``, or the operation alone when the request named no model."""
        return f"{self.name} {self.model}" if self.model else self.name


def _add_request(attributes: dict[str, Any], request: _Request) -> None:
    """The request parameters the conventions name, those that were sent (most requests send few)."""
    for name in _FLOATS:
        value = getattr(request, name)
        if value is not None and _number(value):
            attributes[f"gen_ai.request.{name}"] = float(value)
    max_tokens = request.max_tokens if request.max_tokens is not None else request.max_output_tokens
    if max_tokens is not None and _whole(max_tokens):
        attributes["gen_ai.request.max_tokens"] = max_tokens
    if request.seed is not None and _whole(request.seed):
        attributes["gen_ai.request.seed"] = request.seed
    if request.n is not None and _whole(request.n) and request.n != 1:
        attributes["gen_ai.request.choice.count"] = request.n
    stop = request.stop if request.stop is not None else request.stop_sequences
    if stop is not None:
        stops = [stop] if isinstance(stop, str) else stop
        if isinstance(stops, list) and stops and all(isinstance(s, str) for s in stops):  # pyright: ignore[reportUnknownVariableType]
            attributes["gen_ai.request.stop_sequences"] = stops
    if request.guided_json is not None or request.response_format is not None:
        output = _output_type(request)
        if output is not None:
            attributes["gen_ai.output.type"] = output
    if isinstance(request.encoding_format, str):
        attributes["gen_ai.request.encoding_formats"] = [request.encoding_format]
    if request.dimensions is not None and _whole(request.dimensions):
        attributes["gen_ai.embeddings.dimension.count"] = request.dimensions
    if isinstance(request.conversation_id, str) and request.conversation_id:
        attributes["gen_ai.conversation.id"] = request.conversation_id


def operation_of(call: CallInfo) -> Operation | None:
    """The GenAI operation ``call`` makes, or None for any other call."""
    if call.method != "POST":
        return None
    known = _PATHS.get(call.path)
    if known is not None:
        return Operation(known[0], known[1], call)
    assistant = _ASSISTANT_CHAT.fullmatch(call.path)
    if assistant is None:
        return None
    operation = Operation("chat", "assistant", call)
    operation.attributes["gen_ai.agent.id"] = assistant.group(1)
    return operation


def _request(content: bytes | None) -> _Request | None:
    if not content:
        return None
    try:
        return _decode_request(content)
    except (msgspec.DecodeError, RecursionError):  # an extra_body made it something else: no attributes
        return None


@functools.lru_cache(maxsize=64)
def _server(base: str) -> dict[str, Any]:
    """``server.address`` and ``server.port`` of a base URL (a client has one: worked out once)."""
    parts = urlsplit(base)
    if not parts.hostname:
        return {}
    port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    return {"server.address": parts.hostname} | ({"server.port": port} if port else {})


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _output_type(request: _Request) -> str | None:
    if request.guided_json is not None:
        return "json"
    fmt = request.response_format
    kind = fmt.get("type") if isinstance(fmt, dict) else None  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    if kind in ("json_object", "json_schema"):
        return "json"
    return "text" if kind == "text" else None
