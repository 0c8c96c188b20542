"""Log every call's status and latency with event hooks, count retries, and trace with OpenTelemetry."""

import asyncio
import logging
from collections import Counter

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from telnyx_ai import AsyncTelnyx, CallEndEvent, EventHooks, ResponseEvent, RetryEvent, StreamEndEvent, instrumentation

logging.basicConfig(level=logging.INFO)
log = logging.getLogger("app")
retries: Counter[str] = Counter()


def log_response(event: ResponseEvent) -> None:
    log.info("%s %s -> %s (%s)", event.call.method, event.call.path, event.status_code, event.request_id)


def count_retry(event: RetryEvent) -> None:
    retries[event.call.path] += 1


def log_end(event: CallEndEvent) -> None:
    log.info("%s took %.1f ms over %d attempt(s)", event.call.path, event.elapsed * 1000, event.attempts)


def log_stream(event: StreamEndEvent) -> None:
    log.info("stream %s after %.1f ms", event.outcome, event.elapsed * 1000)


hooks: EventHooks = {
    "response": [log_response],
    "retry": [count_retry],
    "call_end": [log_end],
    "stream_end": [log_stream, lambda event: print("stream:", event.outcome)],
}


async def main() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentation.instrument(tracer_provider=provider)
    async with AsyncTelnyx(event_hooks=hooks) as client:
        reply = await client.ai.openai.chat.create_completion(messages=[{"role": "user", "content": "Hi"}])
        print(reply.choices[0].message.content)
        stream = await client.ai.openai.chat.create_completion(
            messages=[{"role": "user", "content": "Hi again"}], stream=True
        )
        async with stream:
            async for chunk in stream:
                print(chunk.choices[0].delta.content or "" if chunk.choices else "", end="")
        print()
    instrumentation.uninstrument()
    for span in exporter.get_finished_spans():
        print(span.name, dict(span.attributes or {}).get("gen_ai.usage.output_tokens"))
    print(dict(retries))


if __name__ == "__main__":
    asyncio.run(main())
