"""`with_raw_response`: call any operation and get the HTTP status and headers with the parsed body.

The operation runs on a fresh copy of its resource whose transport reports every attempt's
response to this one call (`Transport.observed`): nothing is shared with other calls. The clients'
``call_with_raw_response(lambda c: ...)`` does the same for a call written out in full on a copy of
the client, which every type checker types like a direct call (mypy does not infer a ``TypedDict``
literal passed through `with_raw_response`'s ParamSpec).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, Generic, ParamSpec, TypeVar

from aiohttp import ClientResponse
from multidict import CIMultiDictProxy

from ._errors import TelnyxError
from ._http.transport import ResponseObserver
from ._resource import AsyncResource

__all__ = ["NO_REQUEST", "RawResponse", "bound_operation", "observed_resource", "raw_response", "with_raw_response"]

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


_NOT_AN_OPERATION = "with_raw_response needs an operation of this client, which sends an HTTP request."
NO_REQUEST = (
    "call_with_raw_response needs a call that sends one request through the client it is given: "
    "lambda c: c.ai.chat.create_completion(...), not the outer client."
)


def bound_operation(operation: Callable[..., Any], resource_type: type) -> tuple[Any, Callable[..., Any]]:
    """The resource ``operation`` is a method of (an instance of ``resource_type``) and its plain function.

    A ``functools.partial`` of such a method works too: its arguments are kept.
    """
    if isinstance(operation, functools.partial):
        return _bound_partial(operation, resource_type)  # pyright: ignore[reportUnknownArgumentType]
    resource: object = getattr(operation, "__self__", None)
    function: Callable[..., Any] | None = getattr(operation, "__func__", None)
    if not isinstance(resource, resource_type) or function is None:
        raise TelnyxError(
            f"{_NOT_AN_OPERATION} Pass the method itself (client.ai.retrieve_models), or use "
            "call_with_raw_response(lambda c: ...) for anything else."
        )
    return resource, function


def _bound_partial(partial: functools.partial[Any], resource_type: type) -> tuple[Any, Callable[..., Any]]:
    resource, function = bound_operation(partial.func, resource_type)

    def with_partials_arguments(bound_to: object, /, *args: Any, **kwargs: Any) -> Any:
        return function(bound_to, *partial.args, *args, **{**partial.keywords, **kwargs})

    return resource, with_partials_arguments


def observed_resource(resource: object, observer: ResponseObserver) -> AsyncResource:
    """A fresh resource of the same class whose requests report each attempt's response to ``observer``."""
    if not isinstance(resource, AsyncResource):
        raise TelnyxError(_NOT_AN_OPERATION)
    return type(resource)(resource._transport.observed(observer))  # pyright: ignore[reportPrivateUsage]


def raw_response(
    attempts: list[ClientResponse | None], parsed: T, *, missing: str = _NOT_AN_OPERATION
) -> RawResponse[T]:
    """The last response among ``attempts`` (one entry per attempt, None where it got none) with ``parsed``."""
    last = next((response for response in reversed(attempts) if response is not None), None)
    if last is None:
        raise TelnyxError(missing)
    return RawResponse(
        status_code=last.status,
        headers=last.headers,
        url=str(last.url),
        parsed=parsed,
        retries_taken=len(attempts) - 1,
    )


async def with_raw_response(
    operation: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs
) -> RawResponse[T]:
    """Await ``operation(*args, **kwargs)``; return its result with the final response's status and headers."""
    resource, function = bound_operation(operation, AsyncResource)
    attempts: list[ClientResponse | None] = []
    parsed: T = await function(observed_resource(resource, attempts.append), *args, **kwargs)
    return raw_response(attempts, parsed)
