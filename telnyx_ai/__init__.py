"""telnyx_ai: an asyncio-first client for the Telnyx AI API.

```python
from telnyx_ai import AsyncTelnyx

async with AsyncTelnyx() as client:
    stream = await client.ai.openai.chat.create_completion(messages=[...], stream=True)
    async with stream:
        async for chunk in stream:
            print(chunk.choices[0].delta.content or "", end="")
```
"""

import importlib
from typing import TYPE_CHECKING

from ._client import AsyncTelnyx
from ._config import DEFAULT_BASE_URL, ClientChanges, ClientOptions
from ._errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APIStreamError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    EmbedManyError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    StructuredOutputError,
    TelnyxError,
    UnprocessableEntityError,
    WebhookVerificationError,
)
from ._hooks import (
    CallEndEvent,
    CallInfo,
    EventHooks,
    RequestEvent,
    ResponseEvent,
    RetryEvent,
    StreamEndEvent,
    StreamOutcome,
)
from ._models import BaseModel, to_jsonable
from ._raw_response import RawResponse
from ._types import NOT_GIVEN, NotGiven, RequestOptions, Timeout
from ._version import __version__

if TYPE_CHECKING:
    from . import webhooks
    from ._batch.engine import EmbedProgress, ProgressCallback, RateController
    from ._files import write_audio
    from ._pagination import AsyncPage, AsyncPaginator, PageMeta
    from ._streams.relay import SSE_RELAY_HEADERS
    from ._streams.stream import AsyncStream
    from ._streams.sync_stream import Stream
    from ._sync_client import Telnyx
    from ._sync_pagination import SyncPage, SyncPaginator
    from .types.chat import tool_result

# What a first client does not need loads on first use, so that ``import telnyx_ai`` stays short: the
# sync client (async-only programs never import it), streams, pages, batch jobs and their types load
# with the first call that uses them (or on first access here).
_LAZY = {
    "write_audio": "._files",  # loads anyio, which only file work needs
    "Telnyx": "._sync_client",
    "Stream": "._streams.sync_stream",
    "SyncPage": "._sync_pagination",
    "SyncPaginator": "._sync_pagination",
    "AsyncStream": "._streams.stream",
    "SSE_RELAY_HEADERS": "._streams.relay",
    "AsyncPage": "._pagination",
    "AsyncPaginator": "._pagination",
    "PageMeta": "._pagination",
    "EmbedProgress": "._batch.engine",
    "ProgressCallback": "._batch.engine",
    "RateController": "._batch.engine",
    "tool_result": ".types.chat",
}


def __getattr__(name: str) -> object:
    if name == "webhooks":  # ``telnyx_ai.webhooks.verify(...)`` after a plain ``import telnyx_ai``
        return importlib.import_module(".webhooks", __name__)
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = [
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
