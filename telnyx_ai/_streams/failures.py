"""The errors a stream raises for what its events say: an error event, or an event that does not decode."""

from __future__ import annotations

import msgspec

from .._errors import APIConnectionError, APIError, APIResponseValidationError, APIStreamError, error_message_from_body
from .protocol import error_type_of
from .sse import SSEDecoder

__all__ = ["body_ended", "invalid_event", "stream_error"]


def body_ended(sse: SSEDecoder, end: str, *, method: str, url: str) -> APIError:
    """The error of a body that ended before the stream's ``end`` event: an event found too large to hold
    (the events before it were handed out first), or else a cut."""
    try:
        sse.raise_if_overflowed()
    except APIError as exc:
        return exc
    return APIConnectionError(f"The connection closed before the stream finished (no {end}).", method=method, url=url)


def stream_error(data: bytes, *, method: str, url: str) -> APIStreamError:
    """The error an error event reports, with the kind of error it names (``overloaded_error``...)."""
    body = _loads(data)
    message = error_message_from_body(data, body) or "The server reported an error during the stream."
    return APIStreamError(message, error_type=error_type_of(body), method=method, url=url, body=body)


def invalid_event(data: bytes, exc: Exception, *, status: int, method: str, url: str) -> Exception:
    """The error for an event whose data ``exc`` failed to decode.

    An error body in a plain event is an `APIStreamError`. Otherwise `APIResponseValidationError`:
    ``malformed`` (worth another attempt before the first event) only for JSON cut short, never for an
    event that is whole but not valid UTF-8 or not of its type.
    """
    body = _loads(data)
    message = error_message_from_body(data, body)
    if message is not None and b'"error"' in data:
        return APIStreamError(message, error_type=error_type_of(body), method=method, url=url, body=body)
    malformed = isinstance(exc, msgspec.DecodeError) and not isinstance(exc, msgspec.ValidationError)
    bad_text = _invalid_utf8(data) if malformed else None
    if bad_text is not None:
        what, malformed = f"is not valid UTF-8: {bad_text}", False
    elif isinstance(exc, RecursionError):
        what = "is JSON nested too deeply to decode"
    else:
        what = f"did not match its type: {exc}"
    return APIResponseValidationError(
        f"A stream event {what}", malformed=malformed, status_code=status, method=method, url=url, body=body
    )


def _invalid_utf8(data: bytes) -> str | None:
    """What is wrong with ``data`` as UTF-8, or None when it is valid (or only cut at its very end, as a
    truncated event is)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.end == len(data):
            return None
        return f"byte {data[exc.start]:#04x} at position {exc.start} ({exc.reason})"
    return None


def _loads(data: bytes) -> object:
    try:
        return msgspec.json.decode(data)
    except (msgspec.DecodeError, RecursionError):
        return data.decode("utf-8", "replace")
