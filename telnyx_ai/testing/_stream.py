"""Answering with Server-Sent Events, shaped by `StreamConfig`; the call's fault, if any, gets each event first."""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from ._records import Call
from ._responses import DONE, EventStream
from ._state import StreamConfig

__all__ = ["send_events"]


async def send_events(
    call: Call,
    payloads: list[bytes],
    config: StreamConfig,
    *,
    names: Sequence[str | None] | None = None,
    done: bool = True,
    protocol: str = "chat",
) -> web.StreamResponse:
    """Stream ``payloads`` (JSON bytes) as SSE, then ``[DONE]`` (unless ``done`` is False: the last payload
    ends the stream), letting the call's fault break it if it has one. ``names`` are the events' SSE
    names; ``protocol`` tells faults how this protocol's error events and tool-call fragments look.

    A client that goes away mid-stream is counted in the call's state, and the handler ends quietly.
    """
    fault = call.fault
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    events = [*payloads, DONE] if done else list(payloads)
    stream = EventStream(
        call.request,
        response,
        config,
        len(events),
        config.write_size,
        config.write_delay,
        names=names,
        protocol=protocol,
    )
    try:
        await response.prepare(request=call.request)
        if config.bom:
            await response.write(b"\xef\xbb\xbf")
        if fault is not None:
            await fault.on_stream_start(stream)
        for number, data in enumerate(events):
            sent = data if fault is None else await fault.on_event(stream, number, data)
            if sent is None:
                break
            await stream.send(number, sent)
    except ConnectionError:
        call.client_left()
    return response
