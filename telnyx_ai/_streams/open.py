"""Opening a stream: the request sent through the transport, read by `AsyncStream.open`.

Retries go through `Transport.call` like any request, so a failure before the first event is
retried and one after it never is (the stream is handed out only once its first event arrived).
"""

from __future__ import annotations

from typing import TypeVar

from .._http.transport import Transport
from .._types import NOT_GIVEN, Body, NotGiven, Query, RequestOptions
from .protocol import StreamProtocol
from .stream import AsyncStream

__all__ = ["open_stream"]

T = TypeVar("T")


async def open_stream(
    transport: Transport,
    method: str,
    path: str,
    protocol: StreamProtocol[T],
    *,
    body: Body | None = None,
    query: Query | None = None,
    idempotency_key: str | NotGiven = NOT_GIVEN,
    options: RequestOptions,
) -> AsyncStream[T]:
    """Send ``method path`` asking for events of ``protocol`` (the ``PROTOCOL`` of one of this package's
    protocol modules); the typed stream, once its first event has arrived.

    A retry before the first event resends the same `Request`, so it carries the same ``Idempotency-Key``.
    """
    request = transport.build(
        method, path, options=options, body=body, query=query, stream=True, idempotency_key=idempotency_key
    )
    config = transport.config
    stream_class: type[AsyncStream[T]] = AsyncStream  # not AsyncStream[T] per call: an alias each time
    return await transport.call(
        request,
        lambda response: stream_class.open(
            response,
            request,
            protocol,
            max_event_bytes=config.max_event_bytes,
            max_body_bytes=config.max_response_bytes,
            owner=transport.pool,
        ),
    )
