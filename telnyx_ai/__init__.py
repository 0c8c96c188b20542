"""telnyx_ai: an asyncio-first client for the Telnyx AI API.

from telnyx_ai import AsyncTelnyx

async with AsyncTelnyx() as client:
    stream = await client.ai.chat.create_completion(messages=[...], stream=True)
    async with stream:
        async for chunk in stream:
            print(chunk.choices[0].delta.content or "", end="")
"""

from ._client import DEFAULT_BASE_URL, AsyncTelnyx
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
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    TelnyxError,
    UnprocessableEntityError,
)
from ._models import BaseModel
from ._pagination import AsyncPage, AsyncPaginator, PageMeta
from ._raw_response import RawResponse
from ._streaming import AsyncStream
from ._types import NOT_GIVEN, NotGiven, RequestOptions, Timeout
from ._version import __version__

__all__ = [
    "DEFAULT_BASE_URL",
    "NOT_GIVEN",
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
    "ConflictError",
    "InternalServerError",
    "NotFoundError",
    "NotGiven",
    "PageMeta",
    "PermissionDeniedError",
    "RateLimitError",
    "RawResponse",
    "RequestOptions",
    "TelnyxError",
    "Timeout",
    "UnprocessableEntityError",
    "__version__",
]
