"""OpenTelemetry GenAI tracing, checked with the SDK's in-memory span exporter and metric reader: one CLIENT
span per GenAI call with the conventions' attribute names and values, retries as events, errors as
``error.type``, a stream's span ending with the stream (time to first chunk recorded), the duration, token
and time-to-first-chunk histograms, no content unless asked, both clients, and the auto-instrumentation
entry point."""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from telnyx_ai import APIConnectionError, APIStreamError, AsyncTelnyx, Telnyx, UnprocessableEntityError, instrumentation
from telnyx_ai._hooks import INSTALLED
from telnyx_ai.instrumentation._tracing import DURATION_BUCKETS, TOKEN_BUCKETS
from telnyx_ai.testing import Fault, MockServer, StreamConfig
from telnyx_ai.types.anthropic import ToolUseBlock

from .protocol_calls import anthropic_stream, responses_stream

MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct"
EMBEDDER = "thenlper/gte-large"
MESSAGES: Any = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello."}]
CONTENT_KEYS = {"gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions"}

pytestmark = pytest.mark.usefixtures("instant_retries")  # retries without their waits


class Telemetry:
    """An SDK tracer and meter provider reading into memory, with the instrumentation installed on them."""

    def __init__(self, *, capture_content: bool | None = None) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])
        instrumentation.instrument(
            tracer_provider=self.tracer_provider, meter_provider=self.meter_provider, capture_content=capture_content
        )

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def span(self) -> ReadableSpan:
        (only,) = self.spans()
        return only

    def points(self, name: str) -> list[HistogramDataPoint]:
        data = self.reader.get_metrics_data()
        found: list[HistogramDataPoint] = []
        for resource in data.resource_metrics if data else []:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        found += [p for p in metric.data.data_points if isinstance(p, HistogramDataPoint)]
        return found


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    yield Telemetry()
    instrumentation.uninstrument()


@pytest.fixture
async def server() -> AsyncIterator[MockServer]:
    async with MockServer() as s:
        yield s


@pytest.fixture
async def client(server: MockServer) -> AsyncIterator[AsyncTelnyx]:
    async with AsyncTelnyx(api_key="test", base_url=server.url) as c:
        yield c


def attributes(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


async def test_a_chat_call_is_one_client_span_with_the_conventions_attributes(
    telemetry: Telemetry, client: AsyncTelnyx, server: MockServer
) -> None:
    reply = await client.ai.openai.chat.create_completion(
        messages=MESSAGES, model=MODEL, temperature=0.2, top_p=0.9, max_tokens=50, seed=7, stop=["\n\n"], n=1
    )
    span = telemetry.span()
    assert span.name == f"chat {MODEL}" and span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert span.instrumentation_scope is not None and span.instrumentation_scope.name == "telnyx_ai"
    assert span.instrumentation_scope.schema_url == instrumentation.SCHEMA_URL
    assert reply.usage is not None
    assert attributes(span) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "telnyx",
        "server.address": "127.0.0.1",
        "server.port": int(server.url.rsplit(":", 1)[1]),
        "gen_ai.request.model": MODEL,
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.max_tokens": 50,
        "gen_ai.request.seed": 7,
        "gen_ai.request.stop_sequences": ("\n\n",),
        "gen_ai.response.model": reply.model,
        "gen_ai.response.id": reply.id,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": reply.usage.prompt_tokens,
        "gen_ai.usage.output_tokens": reply.usage.completion_tokens,
    }


async def test_each_call_is_its_own_span_under_the_callers_span(telemetry: Telemetry, client: AsyncTelnyx) -> None:
    tracer = telemetry.tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("handler") as parent:
        for _ in range(3):
            await client.ai.openai.chat.create_completion(messages=MESSAGES, model=MODEL)
        await client.ai.openai.list_models()  # not a GenAI call: no span
    calls = [span for span in telemetry.spans() if span.name != "handler"]
    assert len(calls) == 3 and len({span.context.span_id for span in calls if span.context}) == 3
    assert all(span.parent is not None and span.parent.span_id == parent.get_span_context().span_id for span in calls)


async def test_retries_are_events_of_the_one_span(
    telemetry: Telemetry, client: AsyncTelnyx, server: MockServer
) -> None:
    server.inject(Fault.status(503), times=1)
    server.inject(Fault.reset_before_headers(), times=1)
    await client.ai.openai.chat.create_completion(messages=MESSAGES, model=MODEL)
    span = telemetry.span()
    assert [event.name for event in span.events] == ["telnyx_ai.retry", "telnyx_ai.retry"]
    first, second = (dict(event.attributes or {}) for event in span.events)
    assert (first["http.request.resend_count"], first["error.type"]) == (1, "503")
    assert (second["http.request.resend_count"], second["error.type"]) == (2, "APIConnectionError")
    assert first["telnyx_ai.retry.delay"] >= 0
    assert span.status.status_code is StatusCode.UNSET and "error.type" not in attributes(span)


async def test_a_failed_call_has_its_error_type_on_the_span_and_the_duration(
    telemetry: Telemetry, client: AsyncTelnyx
) -> None:
    with pytest.raises(UnprocessableEntityError):
        await client.ai.openai.chat.create_completion(messages=MESSAGES, model="no-such-model")
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR and "Unknown chat model" in (span.status.description or "")
    assert attributes(span)["error.type"] == "422"
    (duration,) = telemetry.points("gen_ai.client.operation.duration")
    assert dict(duration.attributes)["error.type"] == "422" and duration.count == 1
    assert telemetry.points("gen_ai.client.token.usage") == []


async def test_a_connection_failure_is_named_by_its_class(telemetry: Telemetry, server: MockServer) -> None:
    server.inject(Fault.reset_before_headers(), times=1)
    async with AsyncTelnyx(api_key="test", base_url=server.url, max_retries=0) as client:
        with pytest.raises(APIConnectionError):
            await client.ai.openai.chat.create_completion(messages=MESSAGES, model=MODEL)
    assert attributes(telemetry.span())["error.type"] == "APIConnectionError"


async def test_a_stream_span_ends_with_the_stream_and_records_the_time_to_first_chunk(
    telemetry: Telemetry, client: AsyncTelnyx, server: MockServer
) -> None:
    server.stream = StreamConfig(delay=0.02)
    stream = await client.ai.openai.chat.create_completion(messages=MESSAGES, model=MODEL, stream=True)
    assert telemetry.spans() == []  # still open: the stream is being read
    completion = await stream.get_final_completion()
    span = telemetry.span()
    found = attributes(span)
    assert span.name == f"chat {MODEL}" and found["gen_ai.request.stream"] is True
    assert found["telnyx_ai.stream.outcome"] == "completed"
    assert completion.usage is not None and found["gen_ai.usage.output_tokens"] == completion.usage.completion_tokens
    assert found["gen_ai.response.id"] == completion.id and found["gen_ai.response.finish_reasons"] == ("stop",)
    assert span.start_time is not None and span.end_time is not None
    duration = (span.end_time - span.start_time) / 1e9
    assert 0 < found["gen_ai.response.time_to_first_chunk"] < duration  # the reply took several 20 ms events
    (first_chunk,) = telemetry.points("gen_ai.client.operation.time_to_first_chunk")
    assert first_chunk.sum == pytest.approx(found["gen_ai.response.time_to_first_chunk"])
    (whole,) = telemetry.points("gen_ai.client.operation.duration")
    assert whole.sum > first_chunk.sum


@pytest.mark.parametrize("how", ["closed", "abandoned", "cut", "error_event"])
async def test_a_stream_span_ends_however_the_stream_ends(
    telemetry: Telemetry, client: AsyncTelnyx, server: MockServer, how: str
) -> None:
    server.stream = StreamConfig(reply="word " * 100, delay=0.002)
    if how == "cut":
        server.inject(Fault.truncated_stream(after_events=3), times=1)
    if how == "error_event":
        server.inject(Fault.error_event(after_events=3, error_type="overloaded_error"), times=1)
    stream = await client.ai.openai.chat.create_completion(messages=MESSAGES, model=MODEL, stream=True)
    if how in ("closed", "abandoned"):
        async for _ in stream:
            break
        if how == "closed":
            await stream.close()
        del stream
        for _ in range(100):  # the loop closes the abandoned ``async for``, then the stream is collected
            gc.collect()
            if telemetry.spans():
                break
            await asyncio.sleep(0.01)
    else:
        with pytest.raises((APIConnectionError, APIStreamError)):
            async for _ in stream:
                pass
    found = attributes(telemetry.span())
    expected = {"closed": "closed", "abandoned": "abandoned", "cut": "failed", "error_event": "failed"}[how]
    assert found["telnyx_ai.stream.outcome"] == expected
    assert found.get("error.type") == {"cut": "APIConnectionError", "error_event": "overloaded_error"}.get(how)
    assert found["gen_ai.response.id"]  # what the stream had said before it ended


async def test_no_content_is_recorded_unless_asked(telemetry: Telemetry, client: AsyncTelnyx) -> None:
    await client.ai.openai.chat.create_completion(messages=MESSAGES, model=MODEL)
    stream = await client.ai.anthropic.v1.messages(
        model=MODEL, max_tokens=20, system="Be brief.", messages=MESSAGES[1:], stream=True
    )
    await stream.get_final_message()
    for span in telemetry.spans():
        assert CONTENT_KEYS.isdisjoint(attributes(span)), span.name
        assert "Say hello" not in json.dumps(attributes(span), default=str)


@pytest.mark.parametrize("opt_in", ["argument", "true", "span_only", "SPAN_AND_EVENT"])
async def test_content_is_recorded_when_asked(
    client: AsyncTelnyx, monkeypatch: pytest.MonkeyPatch, opt_in: str
) -> None:
    if opt_in == "argument":
        telemetry = Telemetry(capture_content=True)
    else:
        monkeypatch.setenv(instrumentation.CAPTURE_CONTENT_ENV, opt_in)
        telemetry = Telemetry()
    try:
        reply = await client.ai.openai.chat.create_completion(messages=MESSAGES, model=MODEL)
    finally:
        instrumentation.uninstrument()
    found = attributes(telemetry.span())
    assert json.loads(found["gen_ai.input.messages"]) == [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {"role": "user", "parts": [{"type": "text", "content": "Say hello."}]},
    ]
    assert json.loads(found["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": reply.choices[0].message.content}],
            "finish_reason": "stop",
        }
    ]


@pytest.mark.parametrize("value", ["false", "event_only", ""])
async def test_other_values_of_the_variable_record_no_content(
    client: AsyncTelnyx, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(instrumentation.CAPTURE_CONTENT_ENV, value)
    telemetry = Telemetry()
    try:
        await client.ai.openai.chat.create_completion(messages=MESSAGES, model=MODEL)
    finally:
        instrumentation.uninstrument()
    assert CONTENT_KEYS.isdisjoint(attributes(telemetry.span()))


async def test_tool_calls_and_system_instructions_in_their_parts(client: AsyncTelnyx) -> None:
    telemetry = Telemetry(capture_content=True)
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    tools: Any = [{"name": "forecast", "description": "Weather", "input_schema": schema}]
    history: Any = [
        {"role": "user", "content": "Weather in Lyon?"},
        {
            "role": "assistant",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "forecast", "arguments": '{"city": "Lyon"}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "21 C"},
    ]
    try:
        stream = await anthropic_stream(
            client, model=MODEL, max_tokens=100, system="Use tools.", tools=tools, messages=history[:1]
        )
        message = await stream.get_final_message()
        await client.ai.openai.chat.create_completion(messages=history, model=MODEL)
    finally:
        instrumentation.uninstrument()
    anthropic, chat = (attributes(span) for span in telemetry.spans())
    assert json.loads(anthropic["gen_ai.system_instructions"]) == [{"type": "text", "content": "Use tools."}]
    (block,) = message.content
    assert isinstance(block, ToolUseBlock)
    assert json.loads(anthropic["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": block.id, "name": "forecast", "arguments": block.input}],
            "finish_reason": "tool_use",
        }
    ]
    assert json.loads(chat["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "Weather in Lyon?"}]},
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": "c1", "name": "forecast", "arguments": {"city": "Lyon"}}],
        },
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "response": "21 C"}]},
    ]


async def test_responses_and_anthropic_usage_follow_the_conventions(telemetry: Telemetry, client: AsyncTelnyx) -> None:
    response = await client.ai.openai.create_response(model=MODEL, input="Say hello.")
    stream = await responses_stream(client, model=MODEL, input="Say hello.")
    streamed = await stream.get_final_response()
    message = await client.ai.anthropic.v1.messages(model=MODEL, max_tokens=20, messages=MESSAGES[1:])
    plain, from_stream, anthropic = (attributes(span) for span in telemetry.spans())
    for found, reply in ((plain, response), (from_stream, streamed)):
        assert reply.usage is not None
        assert found["gen_ai.usage.input_tokens"] == reply.usage.input_tokens
        assert found["gen_ai.usage.output_tokens"] == reply.usage.output_tokens
        assert found["gen_ai.response.finish_reasons"] == ("stop",) and found["gen_ai.response.id"] == reply.id
    usage = message.usage
    cached = (usage.cache_creation_input_tokens or 0) + (usage.cache_read_input_tokens or 0)
    assert anthropic["gen_ai.usage.input_tokens"] == usage.input_tokens + cached
    assert anthropic["gen_ai.response.finish_reasons"] == (message.stop_reason,)


async def test_assistant_chat_is_a_chat_span_with_its_conversation(telemetry: Telemetry, client: AsyncTelnyx) -> None:
    assistant = await client.ai.assistants.create(name="Ada", model=MODEL, instructions="Help.")
    await client.ai.assistants.chat(assistant.id, content="Hello", conversation_id="conv-1")
    span = telemetry.span()  # creating the assistant is not a GenAI call
    found = attributes(span)
    assert span.name == "chat"
    assert (found["gen_ai.conversation.id"], found["gen_ai.agent.id"]) == ("conv-1", assistant.id)


async def test_embeddings_spans_and_token_usage(telemetry: Telemetry, client: AsyncTelnyx) -> None:
    reply = await client.ai.openai.embeddings.create_embeddings(input=["a", "b"], model=EMBEDDER)
    await client.ai.openai.embeddings.embed_many([f"text {i}" for i in range(5)], model=EMBEDDER, batch_size=2)
    spans = telemetry.spans()
    assert [span.name for span in spans] == [f"embeddings {EMBEDDER}"] * 4  # one call, then three batches
    found = attributes(spans[0])
    assert found["gen_ai.operation.name"] == "embeddings"
    assert found["gen_ai.usage.input_tokens"] == reply.usage.prompt_tokens
    tokens = telemetry.points("gen_ai.client.token.usage")
    assert {dict(p.attributes)["gen_ai.token.type"] for p in tokens} == {"input"}
    assert sum(p.count for p in tokens) == 4


async def test_the_histograms_use_the_advised_buckets_and_units(telemetry: Telemetry, client: AsyncTelnyx) -> None:
    for _ in range(2):
        await client.ai.openai.chat.create_completion(messages=MESSAGES, model=MODEL)
    (duration,) = telemetry.points("gen_ai.client.operation.duration")
    assert duration.count == 2 and tuple(duration.explicit_bounds) == DURATION_BUCKETS
    tokens = {dict(p.attributes)["gen_ai.token.type"]: p for p in telemetry.points("gen_ai.client.token.usage")}
    assert set(tokens) == {"input", "output"} and tuple(tokens["input"].explicit_bounds) == TOKEN_BUCKETS
    assert dict(tokens["output"].attributes)["gen_ai.response.model"] == MODEL
    data = telemetry.reader.get_metrics_data()
    assert data is not None
    units = {m.name: m.unit for r in data.resource_metrics for s in r.scope_metrics for m in s.metrics}
    assert units == {"gen_ai.client.operation.duration": "s", "gen_ai.client.token.usage": "{token}"}


def test_the_sync_client_is_traced_under_the_callers_span() -> None:
    telemetry = Telemetry()
    try:
        with MockServer.in_thread() as server, Telnyx(api_key="test", base_url=server.url) as client:
            tracer = telemetry.tracer_provider.get_tracer("app")
            with tracer.start_as_current_span("script") as parent:
                client.ai.openai.chat.create_completion(messages=MESSAGES, model=MODEL)
                with client.ai.openai.chat.create_completion(messages=MESSAGES, model=MODEL, stream=True) as stream:
                    for _ in stream:
                        pass
    finally:
        instrumentation.uninstrument()
    calls = [span for span in telemetry.spans() if span.name != "script"]
    assert [attributes(span).get("gen_ai.request.stream", False) for span in calls] == [False, True]
    assert all(span.parent is not None and span.parent.span_id == parent.get_span_context().span_id for span in calls)


async def test_clients_made_before_instrument_are_traced_too(server: MockServer) -> None:
    hooked: list[object] = []
    async with (
        AsyncTelnyx(api_key="test", base_url=server.url) as plain,
        AsyncTelnyx(api_key="test", base_url=server.url, event_hooks={"call_end": [hooked.append]}) as own,
    ):
        telemetry = Telemetry()  # after both clients were made
        try:
            await plain.ai.openai.chat.create_completion(messages=MESSAGES, model=MODEL)
            await own.ai.openai.chat.create_completion(messages=MESSAGES, model=MODEL)
            await plain.with_options(timeout=30).ai.openai.chat.create_completion(messages=MESSAGES, model=MODEL)
        finally:
            instrumentation.uninstrument()
        await plain.ai.openai.chat.create_completion(messages=MESSAGES, model=MODEL)
    assert len(telemetry.spans()) == 3 and len(hooked) == 1  # the client's own hooks still run with tracing


async def test_uninstrument_stops_tracing_and_takes_calls_off_the_observed_path(client: AsyncTelnyx) -> None:
    telemetry = Telemetry()
    assert instrumentation.is_instrumented() and INSTALLED.hooks is not None
    instrumentation.uninstrument()
    assert not instrumentation.is_instrumented() and INSTALLED.hooks is None and INSTALLED.active == []
    await client.ai.openai.chat.create_completion(messages=MESSAGES, model=MODEL)
    assert telemetry.spans() == []


def test_the_auto_instrumentation_loader_finds_and_runs_the_instrumentor(monkeypatch: pytest.MonkeyPatch) -> None:
    from opentelemetry.instrumentation.auto_instrumentation._load import _load_instrumentors
    from opentelemetry.instrumentation.distro import DefaultDistro

    monkeypatch.setenv("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "")
    try:
        _load_instrumentors(DefaultDistro())
        assert instrumentation.is_instrumented()
        assert instrumentation.TelnyxAIInstrumentor().is_instrumented_by_opentelemetry
    finally:
        instrumentation.TelnyxAIInstrumentor().uninstrument()
    monkeypatch.setenv("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "telnyx_ai")
    _load_instrumentors(DefaultDistro())
    assert not instrumentation.is_instrumented()
