"""OpenTelemetry tracing and metrics for every client, following the GenAI semantic conventions.

```python
from telnyx_ai import instrumentation

instrumentation.instrument()  # the global tracer and meter providers, or pass your own
```

Each chat call (chat completions, OpenAI Responses, Anthropic Messages, assistant chat) and each
embeddings call becomes one CLIENT span, ``chat {model}`` or ``embeddings {model}``, with the request's
model and parameters, the response's model, id and finish reasons, token usage and ``error.type``; retries
are span events; a stream's span ends with the stream and records its time to first chunk. The
``gen_ai.client.operation.duration``, ``gen_ai.client.token.usage`` and
``gen_ai.client.operation.time_to_first_chunk`` histograms are recorded. Other operations get no span.

Message contents are recorded only when asked: ``capture_content=True``, or
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`` (``span_only`` and ``span_and_event`` too).

Needs ``opentelemetry-api`` (``pip install 'telnyx-ai[otel]'``); ``import telnyx_ai`` never loads it. The
``opentelemetry-instrument`` command finds `TelnyxAIInstrumentor` by its entry point, ``telnyx_ai``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Collection
from typing import Any, Final

try:
    from opentelemetry import metrics, trace
except ImportError as exc:  # pragma: no cover - exercised by hand, without the extra
    raise ImportError(
        "telnyx_ai.instrumentation needs the OpenTelemetry API: pip install 'telnyx-ai[otel]' "
        "(or pip install opentelemetry-api)."
    ) from exc

from .._hooks import INSTALLED
from .._version import __version__
from ._tracing import GenAITelemetry

__all__ = ["CAPTURE_CONTENT_ENV", "SCHEMA_URL", "TelnyxAIInstrumentor", "instrument", "is_instrumented", "uninstrument"]

CAPTURE_CONTENT_ENV: Final = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
"""The environment variable that opts in to recording message contents (``true``, ``span_only`` or
``span_and_event``); ``instrument(capture_content=...)`` overrides it."""
SCHEMA_URL: Final = "https://opentelemetry.io/schemas/1.41.0"
"""The semantic conventions version the spans and metrics follow."""

_OWNER: Final = "opentelemetry"
_CAPTURE_VALUES: Final = frozenset({"true", "span_only", "span_and_event"})
_lock = threading.Lock()


def instrument(
    *,
    tracer_provider: trace.TracerProvider | None = None,
    meter_provider: metrics.MeterProvider | None = None,
    capture_content: bool | None = None,
) -> None:
    """Trace every client's GenAI calls (those made before this call and after) and record their metrics.

    ``tracer_provider`` and ``meter_provider`` default to OpenTelemetry's global ones. ``capture_content``
    records message contents (prompts, replies, tool arguments) on the spans; by default it follows
    ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``, and is off when that is unset. Calling it
    again replaces the previous settings.
    """
    if capture_content is None:
        capture_content = os.environ.get(CAPTURE_CONTENT_ENV, "").strip().lower() in _CAPTURE_VALUES
    tracer = trace.get_tracer("telnyx_ai", __version__, tracer_provider, schema_url=SCHEMA_URL)
    meter = metrics.get_meter("telnyx_ai", __version__, meter_provider, schema_url=SCHEMA_URL)
    telemetry = GenAITelemetry(tracer, meter, capture_content=capture_content)
    with _lock:
        INSTALLED.install(_OWNER, telemetry.hooks())


def uninstrument() -> None:
    """Stop tracing: calls made from now on record nothing (spans already started still end)."""
    with _lock:
        INSTALLED.install(_OWNER, None)


def is_instrumented() -> bool:
    """True between `instrument` and `uninstrument`."""
    return INSTALLED.installed(_OWNER)


class TelnyxAIInstrumentor:
    """The OpenTelemetry instrumentor interface over `instrument` and `uninstrument`.

    ``opentelemetry-instrument`` (auto-instrumentation) loads it through the ``opentelemetry_instrumentor``
    entry point and calls ``instrument()``; ``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=telnyx_ai`` leaves it out.
    It needs only ``opentelemetry-api``: the SDK's own hooks replace the patching that
    ``opentelemetry-instrumentation``'s ``BaseInstrumentor`` exists for.
    """

    def instrument(self, **kwargs: Any) -> None:
        """`instrument` with ``tracer_provider``, ``meter_provider`` and ``capture_content`` from ``kwargs``
        (the others the auto-instrumentation passes, such as ``skip_dep_check``, mean nothing here)."""
        instrument(
            tracer_provider=kwargs.get("tracer_provider"),
            meter_provider=kwargs.get("meter_provider"),
            capture_content=kwargs.get("capture_content"),
        )

    def uninstrument(self, **kwargs: Any) -> None:
        """`uninstrument`."""
        uninstrument()

    def instrumentation_dependencies(self) -> Collection[str]:
        """The libraries this instruments: this one, which is installed whenever this runs."""
        return ()

    @property
    def is_instrumented_by_opentelemetry(self) -> bool:
        return is_instrumented()
