"""The OpenTelemetry hooks: one CLIENT span per GenAI call, and the conventions' client metrics.

Built on the client's event hooks: the span starts with the call's first attempt (current while the call
runs, so an HTTP instrumentation's spans nest under it), each retry is a span event, and it ends with the
call, or for a stream with the stream (its time to first chunk recorded when the stream is handed out).
Calls that are not GenAI operations are let through untouched.
"""

from __future__ import annotations

import asyncio
from contextvars import Token
from typing import Any, Final

from opentelemetry import context, trace
from opentelemetry.context import Context
from opentelemetry.metrics import Meter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.util.types import AttributeValue

from .._hooks import CallEndEvent, Hooks, RequestEvent, RetryEvent, StreamEndEvent
from ._content import input_attributes, output_attributes
from ._operations import Operation, operation_of
from ._replies import error_type, reply_attributes, token_counts

__all__ = ["DURATION_BUCKETS", "TOKEN_BUCKETS", "GenAITelemetry"]

DURATION_BUCKETS: Final = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
"""Seconds: the conventions' advised boundaries for the duration and time-to-first-chunk histograms."""
TOKEN_BUCKETS: Final = tuple(4**power for power in range(14))
"""Tokens: 1, 4, 16, ... 67,108,864, the conventions' advised boundaries for ``gen_ai.client.token.usage``."""
RETRY_EVENT: Final = "telnyx_ai.retry"
"""The span event of a retry, with ``http.request.resend_count``, ``telnyx_ai.retry.delay`` and ``error.type``."""


class _Traced:
    """A traced call's span, and the context token that made it current while the call ran."""

    __slots__ = ("operation", "span", "token")

    def __init__(self, operation: Operation, span: Span, token: Token[Context]) -> None:
        self.operation = operation
        self.span = span
        self.token = token


class GenAITelemetry:
    """The hooks `telnyx_ai.instrumentation.instrument` installs for every client."""

    def __init__(self, tracer: Tracer, meter: Meter, *, capture_content: bool) -> None:
        self._tracer = tracer
        self._capture = capture_content
        self._duration = meter.create_histogram(
            "gen_ai.client.operation.duration",
            unit="s",
            description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self._tokens = meter.create_histogram(
            "gen_ai.client.token.usage",
            unit="{token}",
            description="Number of input and output tokens used.",
            explicit_bucket_boundaries_advisory=TOKEN_BUCKETS,
        )
        self._first_chunk = meter.create_histogram(
            "gen_ai.client.operation.time_to_first_chunk",
            unit="s",
            description="Time to receive the first chunk of a streamed response.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )

    def hooks(self) -> Hooks:
        return Hooks(
            {
                "request": [self.on_request],
                "retry": [self.on_retry],
                "call_end": [self.on_call_end],
                "stream_end": [self.on_stream_end],
            }
        )

    def on_request(self, event: RequestEvent) -> None:
        if event.attempt != 1:
            return
        call = event.call
        operation = operation_of(call)
        if operation is None:
            return
        span = self._tracer.start_span(operation.span_name, kind=SpanKind.CLIENT, attributes=operation.attributes)
        if self._capture and span.is_recording():
            span.set_attributes(input_attributes(operation.protocol, call.content))
        token = context.attach(trace.set_span_in_context(span))
        call.state[self] = _Traced(operation, span, token)

    def on_retry(self, event: RetryEvent) -> None:
        traced: _Traced | None = event.call.state.get(self)
        if traced is not None:
            attributes: dict[str, AttributeValue] = {
                "http.request.resend_count": event.attempt,
                "telnyx_ai.retry.delay": event.delay,
                "error.type": error_type(event.error),
            }
            traced.span.add_event(RETRY_EVENT, attributes)

    def on_call_end(self, event: CallEndEvent) -> None:
        call = event.call
        traced: _Traced | None = call.state.get(self)
        if traced is None:
            return
        context.detach(traced.token)  # attach's own token: call_end runs in the task the request hook ran in
        if call.stream and event.error is None:  # handed out after its first chunk: the span ends with the stream
            traced.span.set_attribute("gen_ai.response.time_to_first_chunk", event.elapsed)
            return
        del call.state[self]
        self._end(traced, event.result, event.error, event.elapsed)

    def on_stream_end(self, event: StreamEndEvent) -> None:
        traced: _Traced | None = event.call.state.pop(self, None)
        if traced is None:
            return
        error = event.error if event.outcome != "cancelled" else asyncio.CancelledError()
        traced.span.set_attribute("telnyx_ai.stream.outcome", event.outcome)
        self._end(traced, event.reply, error, event.elapsed, first_chunk=event.time_to_first_event)

    def _end(
        self,
        traced: _Traced,
        reply: object,
        error: BaseException | None,
        elapsed: float,
        *,
        first_chunk: float | None = None,
    ) -> None:
        """End the span with what the reply (or error) says; record the call's metrics."""
        span = traced.span
        attributes: dict[str, Any] = reply_attributes(reply) if reply is not None else {}
        metric = traced.operation.metric_attributes.copy()
        if "gen_ai.response.model" in attributes:
            metric["gen_ai.response.model"] = attributes["gen_ai.response.model"]
        tokens = token_counts(attributes)
        if error is not None:
            attributes["error.type"] = error_type(error)
            span.set_status(Status(StatusCode.ERROR, str(error) or type(error).__name__))
        if span.is_recording():
            if self._capture and reply is not None:
                attributes.update(output_attributes(reply, attributes.get("gen_ai.response.finish_reasons", [])))
            span.set_attributes(attributes)
        span.end()
        if first_chunk is not None:
            self._first_chunk.record(first_chunk, metric)
        for kind, count in tokens:
            self._tokens.record(count, {**metric, "gen_ai.token.type": kind})
        if "error.type" in attributes:
            metric["error.type"] = attributes["error.type"]
        self._duration.record(elapsed, metric)
