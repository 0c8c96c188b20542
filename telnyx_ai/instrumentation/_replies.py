"""What a reply tells a span: the response's model and id, why it finished, and the tokens it used.

Each protocol's reply names these its own way; the conventions' names are one set (input tokens include
cached ones, so Anthropic's cache counts are added to its ``input_tokens``). A streamed reply is the one its
events added up to, so its usage is the final usage the stream carried.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .._errors import APIStatusError, APIStreamError, APITimeoutError
from ..types.anthropic import Message
from ..types.chat import ChatCompletion
from ..types.responses import Response, ResponseFunctionToolCall

__all__ = ["error_type", "reply_attributes", "token_counts"]


def reply_attributes(reply: object) -> dict[str, Any]:
    """``gen_ai.response.*`` and ``gen_ai.usage.*`` from a reply of any protocol (nothing it lacks)."""
    attributes: dict[str, Any] = {}
    model = getattr(reply, "model", None)
    if isinstance(model, str) and model:
        attributes["gen_ai.response.model"] = model
    reply_id = getattr(reply, "id", None)
    if isinstance(reply_id, str) and reply_id:
        attributes["gen_ai.response.id"] = reply_id
    reasons = _finish_reasons(reply)
    if reasons:
        attributes["gen_ai.response.finish_reasons"] = reasons
    attributes.update(_usage(reply))
    return attributes


def token_counts(attributes: dict[str, Any]) -> list[tuple[str, int]]:
    """(``gen_ai.token.type``, count) for the token usage histogram, from `reply_attributes`."""
    counts = (
        ("input", attributes.get("gen_ai.usage.input_tokens")),
        ("output", attributes.get("gen_ai.usage.output_tokens")),
    )
    return [(kind, count) for kind, count in counts if isinstance(count, int)]


def _finish_reasons(reply: object) -> list[str]:
    if isinstance(reply, ChatCompletion):
        return [choice.finish_reason for choice in reply.choices if choice.finish_reason]
    if isinstance(reply, Message):
        return [reply.stop_reason] if reply.stop_reason else []
    if isinstance(reply, Response):
        reasons: list[str] = []
        if reply.status == "completed":
            reasons.append("stop")
        elif reply.status == "incomplete":
            reason = reply.incomplete_details.reason if reply.incomplete_details else None
            reasons.append("length" if reason == "max_output_tokens" else reason or "incomplete")
        elif reply.status in ("failed", "cancelled"):
            reasons.append(reply.status)
        if any(isinstance(item, ResponseFunctionToolCall) for item in reply.output):
            reasons.append("tool_calls")
        return reasons
    return []


def _usage(reply: object) -> dict[str, Any]:
    if isinstance(reply, ChatCompletion):
        usage = reply.usage
        if usage is None:
            return {}
        return {"gen_ai.usage.input_tokens": usage.prompt_tokens, "gen_ai.usage.output_tokens": usage.completion_tokens}
    if isinstance(reply, Response):
        used = reply.usage
        if used is None:
            return {}
        counts = {"gen_ai.usage.input_tokens": used.input_tokens, "gen_ai.usage.output_tokens": used.output_tokens}
        if used.input_tokens_details is not None and used.input_tokens_details.cached_tokens:
            counts["gen_ai.usage.cache_read.input_tokens"] = used.input_tokens_details.cached_tokens
        if used.output_tokens_details is not None and used.output_tokens_details.reasoning_tokens:
            counts["gen_ai.usage.reasoning.output_tokens"] = used.output_tokens_details.reasoning_tokens
        return counts
    if isinstance(reply, Message):
        tokens = reply.usage
        created, read = tokens.cache_creation_input_tokens or 0, tokens.cache_read_input_tokens or 0
        counts = {
            "gen_ai.usage.input_tokens": tokens.input_tokens + created + read,  # Anthropic's leaves the cache out
            "gen_ai.usage.output_tokens": tokens.output_tokens,
        }
        if created:
            counts["gen_ai.usage.cache_creation.input_tokens"] = created
        if read:
            counts["gen_ai.usage.cache_read.input_tokens"] = read
        return counts
    prompt_tokens = getattr(getattr(reply, "usage", None), "prompt_tokens", None)  # an embeddings reply
    return {"gen_ai.usage.input_tokens": prompt_tokens} if isinstance(prompt_tokens, int) else {}


def error_type(error: BaseException) -> str:
    """``error.type``: the status code of a status error (``429``), ``timeout``, the kind an error event
    names (``overloaded_error``), ``cancelled``, else the exception's class name (``APIConnectionError``)."""
    if isinstance(error, APIStatusError):
        return str(error.status_code)
    if isinstance(error, APITimeoutError):
        return "timeout"
    if isinstance(error, APIStreamError) and error.error_type:
        return error.error_type
    if isinstance(error, asyncio.CancelledError):
        return "cancelled"
    return type(error).__qualname__
