"""A call with event hooks: the same attempts as `Transport.call`, each one told to the hooks.

`Transport.call` comes here only when the client or `telnyx_ai.instrumentation` installed hooks; a call
without any never does. The retry policy is the same one (`retry.py`); the hooks see each attempt sent,
its response headers, each retry scheduled and the call's end. A stream's own end is reported by the
stream itself, through the ``watch_end`` method it offers (`telnyx_ai._streams.stream`).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

import aiohttp

from .._config import ClientConfig
from .._errors import APIError
from .._hooks import INSTALLED, CallEndEvent, CallInfo, Hooks, RequestEvent, ResponseEvent, RetryEvent, emit
from .._logging import redact_headers
from .request import Request
from .retry import retry_after, should_retry

__all__ = ["observed_call"]

T = TypeVar("T")


class Send(Protocol):
    """`Transport.send`: one attempt, the response once its headers arrived."""

    def __call__(self, request: Request, *, retry: int = 0) -> Awaitable[aiohttp.ClientResponse]: ...


def call_info(request: Request, base_url: str) -> CallInfo:
    """What the hooks are told about ``request``'s call."""
    url = request.url
    payload = request.payload
    return CallInfo(
        method=request.method,
        url=url,
        path=url[len(base_url) :] if url.startswith(base_url) else url,
        stream=request.headers.get("Accept") == "text/event-stream",
        started=time.perf_counter(),
        content=payload if isinstance(payload, bytes) else None,
    )


async def observed_call(
    own: Hooks | None,
    request: Request,
    read: Callable[[aiohttp.ClientResponse], Awaitable[T]],
    send: Send,
    config: ClientConfig,
) -> T:
    """``request``'s attempts as `Transport.call` makes them, with the client's ``own`` hooks, then the
    installed ones (`INSTALLED`), told of each step."""
    installed = INSTALLED.hooks
    hooks = own.then(installed) if own is not None else installed
    if hooks is None:  # uninstalled meanwhile
        hooks = Hooks({})
    call = call_info(request, config.base_url)
    attempts = 0

    async def attempt() -> T:
        nonlocal attempts
        attempts += 1
        if hooks.request:
            emit(hooks.request, RequestEvent(call, attempts, redact_headers(request.headers_for(attempts - 1))))
        sent = time.perf_counter()
        response = await send(request, retry=attempts - 1)
        if hooks.response:
            elapsed = time.perf_counter() - sent
            emit(hooks.response, ResponseEvent(call, attempts, response.status, response.headers, elapsed))
        return await read(response)

    def retrying(failure: APIError, retry_number: int, delay: float) -> None:
        if hooks.retry:
            emit(hooks.retry, RetryEvent(call, retry_number, failure, delay))

    async def all_attempts() -> T:  # as in Transport.call: retried outside the except block (no error context)
        try:
            return await attempt()
        except APIError as exc:
            retries = config.max_retries if request.resendable else 0
            if retries <= 0 or not should_retry(exc):
                raise
            failure = exc
        return await retry_after(failure, attempt, max_retries=retries, on_retry=retrying)

    try:
        result = await all_attempts()
    except BaseException as exc:  # cancellation too: the hooks hear of every end
        if hooks.call_end:
            emit(hooks.call_end, CallEndEvent(call, attempts, None, exc, time.perf_counter() - call.started))
        raise
    ended = time.perf_counter()
    watch_end: Callable[[Hooks, CallInfo, float], None] | None = (
        getattr(result, "watch_end", None) if call.stream else None
    )
    if hooks.call_end:
        reply = None if watch_end is not None else result
        emit(hooks.call_end, CallEndEvent(call, attempts, reply, None, ended - call.started))
    if watch_end is not None:  # a stream, handed out after its first event: it reports its own end
        watch_end(hooks, call, ended)
    return result
