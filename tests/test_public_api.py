"""The public surface: the exact names `telnyx_ai` exports, and what importing it costs."""

from __future__ import annotations

import subprocess
import sys

import telnyx_ai

EXPORTED = [
    "DEFAULT_BASE_URL",
    "NOT_GIVEN",
    "SSE_RELAY_HEADERS",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APIStreamError",
    "APITimeoutError",
    "AsyncPage",
    "AsyncPaginator",
    "AsyncStream",
    "AsyncTelnyx",
    "AuthenticationError",
    "BadRequestError",
    "BaseModel",
    "CallEndEvent",
    "CallInfo",
    "ClientChanges",
    "ClientOptions",
    "ConflictError",
    "EmbedManyError",
    "EmbedProgress",
    "EventHooks",
    "InternalServerError",
    "NotFoundError",
    "NotGiven",
    "PageMeta",
    "PermissionDeniedError",
    "ProgressCallback",
    "RateController",
    "RateLimitError",
    "RawResponse",
    "RequestEvent",
    "RequestOptions",
    "ResponseEvent",
    "RetryEvent",
    "Stream",
    "StreamEndEvent",
    "StreamOutcome",
    "StructuredOutputError",
    "SyncPage",
    "SyncPaginator",
    "Telnyx",
    "TelnyxError",
    "Timeout",
    "UnprocessableEntityError",
    "WebhookVerificationError",
    "__version__",
    "to_jsonable",
    "tool_result",
    "webhooks",
    "write_audio",
]


def test_the_exported_names_are_pinned() -> None:
    assert telnyx_ai.__all__ == EXPORTED


def test_every_exported_name_resolves() -> None:
    for name in EXPORTED:
        assert getattr(telnyx_ai, name) is not None


def test_names_loaded_on_first_use_are_the_defining_modules_objects() -> None:
    from telnyx_ai._batch.engine import RateController
    from telnyx_ai._pagination import AsyncPage
    from telnyx_ai._streams.relay import SSE_RELAY_HEADERS
    from telnyx_ai._streams.stream import AsyncStream
    from telnyx_ai.types.chat import tool_result

    assert telnyx_ai.AsyncStream is AsyncStream
    assert telnyx_ai.AsyncPage is AsyncPage
    assert telnyx_ai.RateController is RateController
    assert telnyx_ai.SSE_RELAY_HEADERS is SSE_RELAY_HEADERS
    assert telnyx_ai.tool_result is tool_result


def test_importing_the_package_loads_nothing_it_does_not_need() -> None:
    code = (
        "import sys, telnyx_ai\n"
        "telnyx_ai.AsyncTelnyx(api_key='k')\n"
        "heavy = ['tenacity', 'anyio', 'rich', 'telnyx_ai._sync_client', 'telnyx_ai._sync', 'telnyx_ai.testing',"
        " 'telnyx_ai.resources.ai', 'telnyx_ai.resources.assistants', 'telnyx_ai.instrumentation', 'opentelemetry',"
        " 'telnyx_ai._streams', 'telnyx_ai._batch', 'telnyx_ai._pagination', 'telnyx_ai.types', 'difflib']\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_resources_load_on_first_use() -> None:
    code = (
        "import sys, telnyx_ai\n"
        "client = telnyx_ai.AsyncTelnyx(api_key='k')\n"
        "client.ai.chat\n"
        "print('telnyx_ai.resources.chat' in sys.modules, 'telnyx_ai.resources.assistants' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True False"
