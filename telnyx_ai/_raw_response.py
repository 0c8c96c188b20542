"""`with_raw_response`: call any operation and get the HTTP status and headers with the parsed body."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from contextlib import contextmanager
from typing import Generic, ParamSpec, TypeVar

from aiohttp import ClientResponse
from multidict import CIMultiDictProxy

from ._errors import TelnyxError
from ._transport import captured_responses

__all__ = ["RawResponse", "with_raw_response", "with_raw_response_sync"]

P = ParamSpec("P")
T = TypeVar("T")


class RawResponse(Generic[T]):
    """The final HTTP response of a call (after any retries) and the value it decoded into."""

    __slots__ = ("headers", "parsed", "retries_taken", "status_code", "url")

    def __init__(
        self, *, status_code: int, headers: CIMultiDictProxy[str], url: str, parsed: T, retries_taken: int
    ) -> None:
        self.status_code = status_code
        self.headers = headers
        self.url = url
        self.parsed = parsed
        self.retries_taken = retries_taken

    def parse(self) -> T:
        """The decoded body (the value the operation returns when called directly)."""
        return self.parsed

    def __repr__(self) -> str:
        return f"<RawResponse [{self.status_code}] {self.url}>"


@contextmanager
def _capturing() -> Generator[list[ClientResponse | None], None, None]:
    # Responses received in this context (and in tasks started from it, on any thread) land here.
    captured: list[ClientResponse | None] = []
    token = captured_responses.set(captured)
    try:
        yield captured
    finally:
        captured_responses.reset(token)


def _raw(captured: list[ClientResponse | None], parsed: T) -> RawResponse[T]:
    # One entry per attempt; attempts that got no response (a reset, a timeout) are None.
    last = next((response for response in reversed(captured) if response is not None), None)
    if last is None:
        raise TelnyxError("with_raw_response needs an operation of this client, which sends an HTTP request.")
    return RawResponse(
        status_code=last.status, headers=last.headers, url=str(last.url), parsed=parsed, retries_taken=len(captured) - 1
    )


async def with_raw_response(
    operation: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs
) -> RawResponse[T]:
    """Await ``operation(*args, **kwargs)``; return its result with the final response's status and headers."""
    with _capturing() as captured:
        parsed = await operation(*args, **kwargs)
    return _raw(captured, parsed)


def with_raw_response_sync(operation: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> RawResponse[T]:
    """The blocking form: the sync client hands its calls to its loop thread with this context."""
    with _capturing() as captured:
        parsed = operation(*args, **kwargs)
    return _raw(captured, parsed)
