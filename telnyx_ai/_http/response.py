"""Reading a response: the one place a body is read (under the size cap), checked and decoded.

Plain functions of an aiohttp response and the `Request` it answers: the transport picks
which reader a call needs (`read_decoded`, `read_media`); streams call `raise_for_status`
and `read_body` before they start.
"""

from __future__ import annotations

import contextlib
from typing import TypeVar, cast

import aiohttp
import msgspec

from .._errors import APIConnectionError, APIResponseValidationError, connection_error, status_error
from .._models import APIResponse, decoder_for
from .request import Request

__all__ = ["decode", "raise_for_status", "read_body", "read_decoded", "read_media"]

T = TypeVar("T")


def _too_large(message: str, response: aiohttp.ClientResponse, request: Request) -> APIResponseValidationError:
    return APIResponseValidationError(message, status_code=response.status, method=request.method, url=request.url)


async def read_body(response: aiohttp.ClientResponse, request: Request, limit: int, *, truncate: bool = False) -> bytes:
    """The whole body, at most ``limit`` bytes after decompression; the connection goes back to the pool.

    Past the limit it is an error, or with ``truncate`` (error bodies, where the status is what
    matters) the first ``limit`` bytes, the rest left unread and the connection dropped.
    """
    try:
        length = response.content_length
        if length is not None and length <= limit and "Content-Encoding" not in response.headers:
            return await response.read()  # the usual case: the length is known and within the cap
        return await _read_limited(response, request, limit, truncate, length)
    except (TimeoutError, aiohttp.ClientError) as exc:
        error = _broken_read(exc, request)
    finally:
        response.release()
    raise error  # outside the except block, so aiohttp's exception is not its context either


def _broken_read(exc: BaseException, request: Request) -> APIConnectionError:
    # Only the SDK's error is kept: aiohttp's exception can hold the request's headers.
    return connection_error(
        exc,
        timed_out=f"{request.method} {request.url} timed out while reading the response.",
        broke=f"The connection broke while reading the response from {request.url}",
        method=request.method,
        url=request.url,
    )


async def _read_limited(
    response: aiohttp.ClientResponse, request: Request, limit: int, truncate: bool, length: int | None
) -> bytes:
    if length is not None and length > limit and not truncate:
        raise _too_large(f"The response body is {length} bytes, over the client's limit of {limit}.", response, request)
    # Chunked, compressed or too long: count what is actually decoded, not what the header says.
    parts: list[bytes] = []
    size = 0
    async for part in response.content.iter_any():
        size += len(part)
        if size > limit:
            if not truncate:
                raise _too_large(f"The response body exceeded the client's limit of {limit} bytes.", response, request)
            parts.append(part[: len(part) - (size - limit)])
            response.close()  # the rest is never read, so the connection cannot be reused
            break
        parts.append(part)
    return b"".join(parts)


async def raise_for_status(response: aiohttp.ClientResponse, request: Request, limit: int) -> None:
    """Raise the `APIStatusError` subclass for a 3xx, 4xx or 5xx answer, with (up to ``limit`` bytes of) its body."""
    if response.status < 300:
        return
    raw = await read_body(response, request, limit, truncate=True)
    raise status_error(
        response.status,
        raw,
        reason=response.reason,
        headers=response.headers,
        response=response,
        method=request.method,
        url=request.url,
    )


def decode(raw: bytes, status: int, cast_to: type[T], request: Request) -> T:
    """``raw`` as a ``cast_to`` (bytes pass through); a body of the wrong shape is `APIResponseValidationError`."""
    if cast_to is bytes:
        return raw  # type: ignore[return-value]
    try:
        return decoder_for(cast_to).decode(raw)
    except RecursionError:
        raise APIResponseValidationError(
            f"The response to {request.method} {request.url} is JSON nested too deeply to decode.",
            status_code=status,
            method=request.method,
            url=request.url,
            body=raw[:2000].decode("utf-8", "replace"),
        ) from None
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        lenient = getattr(cast_to, "decode_leniently", None)  # a reply that keeps items of unknown types
        if lenient is not None and isinstance(exc, msgspec.ValidationError):
            with contextlib.suppress(msgspec.ValidationError, msgspec.DecodeError):
                return cast("T", lenient(raw))
        name = getattr(cast_to, "__name__", cast_to)
        raise APIResponseValidationError(
            f"The response to {request.method} {request.url} did not match the expected {name}: {exc}",
            status_code=status,
            method=request.method,
            url=request.url,
            body=raw[:2000].decode("utf-8", "replace"),
            # msgspec.ValidationError (a subclass) means valid JSON of the wrong shape, except for a
            # base64 field whose text is garbled (cut in transit, like a short body).
            malformed=not isinstance(exc, msgspec.ValidationError) or str(exc).startswith("Invalid base64"),
        ) from exc


async def read_decoded(
    response: aiohttp.ClientResponse, request: Request, cast_to: type[T] | None, limit: int
) -> T | None:
    """Check the status, read the body and decode it into ``cast_to`` (None: read and drop it)."""
    length = response.content_length
    if response.status < 300 and length is not None and length <= limit and "Content-Encoding" not in response.headers:
        # The usual answer is read here rather than through `read_body`: one coroutine less a call.
        raw, error = b"", None
        try:
            raw = await response.read()
        except (TimeoutError, aiohttp.ClientError) as exc:
            error = _broken_read(exc, request)
        finally:
            response.release()
        if error is not None:
            raise error  # outside the except block, so aiohttp's exception is not its context either
    else:
        await raise_for_status(response, request, limit)
        raw = await read_body(response, request, limit)
    return None if cast_to is None else _with_request_id(decode(raw, response.status, cast_to, request), response)


async def read_media(response: aiohttp.ClientResponse, request: Request, json_type: type[T], limit: int) -> T | bytes:
    """The raw bytes, or ``json_type`` when the server says the answer is JSON (its Content-Type decides)."""
    await raise_for_status(response, request, limit)
    raw = await read_body(response, request, limit)
    content_type = response.content_type
    if content_type == "application/json" or content_type.endswith("+json"):
        return _with_request_id(decode(raw, response.status, json_type, request), response)
    return raw


def _with_request_id(value: T, response: aiohttp.ClientResponse) -> T:
    if isinstance(value, APIResponse):
        vars(value)["_request_id"] = response.headers  # the id is looked up in them when first asked for
    return value
