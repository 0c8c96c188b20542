"""The exceptions the SDK raises. Every one derives from `TelnyxError`:

TelnyxError                      configuration and usage mistakes found before any request
└── APIError                     anything that went wrong talking to the API
    ├── APIConnectionError       no usable HTTP response: refused, reset, cut mid-stream
    │   └── APITimeoutError      a connect or read limit ran out
    ├── APIResponseValidationError   a 2xx body that does not decode into its type
    ├── APIStreamError           the server sent an ``error`` event inside a stream
    ├── EmbedManyError           a batch embedding job ended with some inputs failed
    └── APIStatusError           a 4xx/5xx response
        ├── BadRequestError            400
        ├── AuthenticationError        401
        ├── PermissionDeniedError      403
        ├── NotFoundError              404
        ├── ConflictError              409
        ├── UnprocessableEntityError   422
        ├── RateLimitError             429
        └── InternalServerError        >= 500
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

import msgspec
from multidict import CIMultiDict

if TYPE_CHECKING:
    from aiohttp import ClientResponse

    from ._types import Float32Array

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APIStreamError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "EmbedManyError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseInfo",
    "StructuredOutputError",
    "TelnyxError",
    "TransportFailure",
    "UnprocessableEntityError",
    "WebhookVerificationError",
    "connection_error",
    "describe_failure",
    "error_message_from_body",
    "request_id_of",
    "status_error",
]

_INLINED_PARSER_ERROR = re.compile(r"<\w+: \d{3}, message='(.*?)'>")
_SSL_SETTING = re.compile(r" ssl:(<[^>]*>|\w+)")
_REQUEST_ID_HEADERS = ("x-request-id", "x-telnyx-request-id", "request-id")
_MAX_MESSAGE_CHARS = 500


class TelnyxError(Exception):
    """Base of every exception raised by telnyx_ai."""


class WebhookVerificationError(TelnyxError):
    """A webhook delivery that cannot be trusted or read; ``check`` names what failed.

    ``check`` is one of ``"public key"`` (none given, or not an Ed25519 key), ``"signature header"`` or
    ``"timestamp header"`` (missing or garbled), ``"stale timestamp"``, ``"future timestamp"``,
    ``"signature"`` (not made by the key over this body and timestamp), or ``"payload"`` (signed, but not
    a JSON event). The message never quotes the payload.
    """

    check: str

    def __init__(self, message: str, *, check: str) -> None:
        super().__init__(message)
        self.check = check


class ResponseInfo:
    """What an error keeps of the HTTP response: status, reason, headers and URL.

    A copy, not aiohttp's response object, which also carries the request's headers (and so
    the API key) and cannot be pickled.
    """

    __slots__ = ("headers", "reason", "status", "url")

    def __init__(self, *, status: int, reason: str | None, headers: CIMultiDict[str], url: str) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self.url = url

    @classmethod
    def of(cls, response: ClientResponse) -> ResponseInfo:
        return cls(
            status=response.status, reason=response.reason, headers=CIMultiDict(response.headers), url=str(response.url)
        )

    def __repr__(self) -> str:
        return f"<ResponseInfo [{self.status}] {self.url}>"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_response_info, (self.status, self.reason, list(self.headers.items()), self.url))


def _response_info(status: int, reason: str | None, headers: list[tuple[str, str]], url: str) -> ResponseInfo:
    return ResponseInfo(status=status, reason=reason, headers=CIMultiDict(headers), url=url)


def _restore_error(cls: type[APIError], message: str, state: dict[str, Any]) -> APIError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class APIError(TelnyxError):
    """Something went wrong while talking to the API.

    ``method`` and ``url`` name the request; ``body`` is the decoded error body when there is one.
    """

    message: str
    method: str | None
    url: str | None
    body: object | None

    def __init__(
        self, message: str, *, method: str | None = None, url: str | None = None, body: object | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = url
        self.body = body

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructors defeat Exception's default pickling (Ray and multiprocessing
        # ship worker errors back this way): rebuild from the attributes instead.
        return (_restore_error, (type(self), self.message, dict(self.__dict__)))


class APIConnectionError(APIError):
    """The request did not get a complete HTTP response (refused, reset, DNS, cut mid-body)."""

    def __init__(
        self, message: str = "Connection error.", *, method: str | None = None, url: str | None = None
    ) -> None:
        super().__init__(message, method=method, url=url)


class TransportFailure(Exception):
    """The HTTP library's error behind an `APIConnectionError`: its class and message, nothing else.

    aiohttp's own exceptions can hold the request (with its ``Authorization`` header), so they
    are never chained to the SDK's errors; this stands in as ``__cause__`` instead.
    """

    @classmethod
    def of(cls, exc: BaseException) -> TransportFailure:
        kind = type(exc)
        return cls(f"{kind.__module__}.{kind.__qualname__}: {exc}")


class APITimeoutError(APIConnectionError):
    """A connect or read limit ran out before the server answered."""

    def __init__(
        self, message: str = "Request timed out.", *, method: str | None = None, url: str | None = None
    ) -> None:
        super().__init__(message, method=method, url=url)


def connection_error(
    failure: BaseException, *, timed_out: str, broke: str, method: str | None, url: str | None, hint: str = ""
) -> APIConnectionError:
    """The SDK's error for a failure of the HTTP library: `APITimeoutError` for a timeout, else
    `APIConnectionError` saying ``broke: <failure>`` and then ``hint``; the cause is a key-free `TransportFailure`.

    Build it inside the ``except`` block, raise it after: ``failure`` is then neither its cause
    nor its context, and no frame keeps a reference to it.
    """
    error: APIConnectionError
    if isinstance(failure, TimeoutError):
        error = APITimeoutError(timed_out, method=method, url=url)
    else:
        error = APIConnectionError(f"{broke}: {describe_failure(failure)}{hint}", method=method, url=url)
    error.__cause__ = TransportFailure.of(failure)
    return error


class APIResponseValidationError(APIError):
    """A successful response whose body does not match the type it must decode into.

    ``malformed`` is True when the body is not JSON at all (typically cut short in transit),
    as opposed to well-formed JSON of an unexpected shape.
    """

    status_code: int
    malformed: bool

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        method: str | None = None,
        url: str | None = None,
        body: object | None = None,
        malformed: bool = False,
    ) -> None:
        super().__init__(message, method=method, url=url, body=body)
        self.status_code = status_code
        self.malformed = malformed


class StructuredOutputError(APIResponseValidationError):
    """A reply to ``chat.parse`` whose content does not decode as the requested type.

    ``content`` is the model's raw text and ``decode_error`` the reason (also the ``__cause__``): msgspec's
    error, or pydantic's ``ValidationError`` when ``response_format`` is a pydantic model.
    """

    content: str
    decode_error: Exception

    def __init__(self, message: str, *, content: str, decode_error: Exception, body: object | None = None) -> None:
        super().__init__(message, status_code=200, body=body)
        self.content = content
        self.decode_error = decode_error


class APIStreamError(APIError):
    """The server reported an error inside an event stream after it had started.

    ``error_type`` is the kind of error the event named, when it named one: Anthropic's
    ``overloaded_error`` or ``rate_limit_error``, an OpenAI Responses ``code``, a Telnyx error code.
    """

    error_type: str | None

    def __init__(
        self,
        message: str,
        *,
        error_type: str | None = None,
        method: str | None = None,
        url: str | None = None,
        body: object | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url, body=body)
        self.error_type = error_type


class APIStatusError(APIError):
    """The API answered with a 4xx or 5xx status.

    ``message`` is built from the Telnyx error body (``errors[].title/detail``) or, for a
    non-JSON body such as a proxy's HTML page, from its text.
    """

    status_code: int
    response: ResponseInfo | None
    request_id: str | None

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: object | None = None,
        response: ResponseInfo | None = None,
        request_id: str | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url, body=body)
        self.status_code = status_code
        self.response = response
        self.request_id = request_id


class BadRequestError(APIStatusError):
    """400: the request was malformed."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing or wrong."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not do this."""


class NotFoundError(APIStatusError):
    """404: no such resource."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the resource's state."""


class UnprocessableEntityError(APIStatusError):
    """422: the request was well formed but failed validation."""


class RateLimitError(APIStatusError):
    """429: too many requests; retried automatically, honouring Retry-After."""


class InternalServerError(APIStatusError):
    """500 or above: the server failed; retried automatically."""


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE_CHARS else text[: _MAX_MESSAGE_CHARS - 1] + "…"


def _as_dict(value: object) -> dict[str, Any] | None:
    return cast("dict[str, Any]", value) if isinstance(value, dict) else None


def _as_list(value: object) -> list[object] | None:
    return cast("list[object]", value) if isinstance(value, list) else None


def _describe_validation_item(raw_item: object) -> str | None:
    item = _as_dict(raw_item)
    if item is None:
        return None
    msg = item.get("msg") or item.get("message")
    if not isinstance(msg, str):
        return None
    loc = _as_list(item.get("loc"))
    if loc:
        return f"{'.'.join(str(part) for part in loc)}: {msg}"
    return msg


def _describe_telnyx_error(raw_item: object) -> str | None:
    item = _as_dict(raw_item)
    if item is None:
        return None
    title, detail = item.get("title"), item.get("detail")
    parts = [p for p in (title, detail) if isinstance(p, str) and p]
    if not parts:
        return None
    if len(parts) == 2 and parts[0] == parts[1]:
        parts = parts[:1]
    text = ": ".join(parts)
    source = _as_dict(item.get("source"))
    pointer = source.get("pointer") if source else None
    return f"{text} ({pointer})" if isinstance(pointer, str) else text


def error_message_from_body(raw: bytes, decoded_body: object | None) -> str | None:
    """Say what went wrong from an error body: Telnyx ``errors``, FastAPI ``detail``, or plain text."""
    decoded = _as_dict(decoded_body)
    if decoded is not None:
        errors = _as_list(decoded.get("errors"))
        if errors is not None:
            found = [d for d in map(_describe_telnyx_error, errors) if d]
            if found:
                return _clip("; ".join(found))
        detail = decoded.get("detail")
        if isinstance(detail, str) and detail:
            return _clip(detail)
        details = _as_list(detail)
        if details:
            found = [d for d in map(_describe_validation_item, details) if d]
            if found:
                return _clip("; ".join(found))
        for key in ("message", "error", "title"):
            value = decoded.get(key)
            if isinstance(value, str) and value:
                return _clip(value)
            if _as_dict(value) is not None:
                nested = error_message_from_body(b"", value)
                if nested:
                    return nested
        return None
    if decoded_body is not None:
        return None
    text = raw.decode("utf-8", "replace")
    if "<" in text and ">" in text:
        # An HTML page from a proxy or load balancer: keep its title or headline.
        for tag in ("title", "h1"):
            start = text.lower().find(f"<{tag}")
            if start != -1:
                start = text.find(">", start) + 1
                end = text.lower().find(f"</{tag}>", start)
                if start > 0 and end > start and text[start:end].strip():
                    return _clip(text[start:end])
        return None
    return _clip(text) if text.strip() else None


def _decode_error_body(raw: bytes) -> object | None:
    if not raw:
        return None
    try:
        decoded: object = msgspec.json.decode(raw)
    except (msgspec.DecodeError, RecursionError):  # not JSON, or nested too deeply to be a real error body
        return None
    return decoded


def _status_message(headline: str, reason: str | None, detail: str) -> str:
    """``503 Service Unavailable: <detail>``, without saying the status or reason twice when the
    detail already starts with them (an HTML page titled "502 Bad Gateway", a body saying "Service Unavailable")."""
    status = headline.split(" ", 1)[0]
    folded = detail.casefold()
    if folded.startswith(status):
        return detail
    if reason and folded.startswith(reason.casefold()):
        return f"{status} {detail}"
    return f"{headline}: {detail}"


def describe_failure(exc: BaseException) -> str:
    """A transport failure in words, without the HTTP library's status-like wrapping.

    aiohttp renders a cut body as ``('Response payload is not completed', <TransferEncodingError:
    400, message='Not enough data...'>)``, which reads like a 400 from the server; this gives
    ``Response payload is not completed: Not enough data...``.
    """
    args = exc.args
    if len(args) == 2 and isinstance(args[0], str) and isinstance(args[1], BaseException):
        return f"{args[0]}: {describe_failure(args[1])}"
    message = getattr(exc, "message", None)
    text = message if isinstance(message, str) and message else str(exc)
    # The same wrapping inlined into a message: "... completed: <ContentLengthError: 400, message='...'>".
    text = _INLINED_PARSER_ERROR.sub(r"\1", text)
    # aiohttp names the TLS setting of a connection it could not open: "ssl:<ssl.SSLContext object at 0x...>",
    # noise in an error (and there even for http://); the host and port say which connection it was.
    return _SSL_SETTING.sub("", text) or type(exc).__name__


def request_id_of(headers: Any) -> str | None:
    """The server's id for a request, from whichever request-id header its response carries."""
    for value in map(headers.get, _REQUEST_ID_HEADERS):
        if value is not None:
            return str(value)
    return None


def status_error(
    status: int,
    raw: bytes,
    *,
    reason: str | None,
    headers: Any,
    response: ClientResponse | None,
    method: str,
    url: str,
) -> APIStatusError:
    """Build the exception for an error response, picking its class by status code."""
    decoded = _decode_error_body(raw)
    detail = error_message_from_body(raw, decoded)
    headline = f"{status} {reason}" if reason else str(status)
    message = _status_message(headline, reason, detail) if detail else f"{headline} from {method} {url}"
    request_id = request_id_of(headers) if headers else None
    cls = _STATUS_CLASSES.get(status) or (InternalServerError if status >= 500 else APIStatusError)
    return cls(
        message,
        status_code=status,
        body=decoded if decoded is not None else raw.decode("utf-8", "replace"),
        response=ResponseInfo.of(response) if response is not None else None,
        request_id=request_id,
        method=method,
        url=url,
    )


class EmbedManyError(APIError):
    """Some inputs of a batch embedding job still failed after retries.

    Nothing that succeeded is thrown away: ``results[i]`` is input ``i``'s vector, or ``None``
    where it failed (``embed_many_iter`` keeps no results, so there it is ``None``), and
    ``failed`` maps each failed input index to its cause. Resubmit just those to finish the job.
    With ``as_numpy=True``, ``results`` is the (N, D) float32 array, a failed input's row all NaN.
    """

    results: list[list[float] | None] | Float32Array | None
    failed: dict[int, BaseException]
    total: int
    """How many inputs the job had to embed."""

    def __init__(
        self, *, results: list[list[float] | None] | Float32Array | None, failed: dict[int, BaseException], total: int
    ) -> None:
        first = failed[min(failed)]
        super().__init__(
            f"{len(failed)} of {total} inputs could not be embedded (first failure, input {min(failed)}: {first}). "
            "The error's .failed maps indices to causes; .results keeps what succeeded."
        )
        self.results = results
        self.failed = failed
        self.total = total
