"""Answering with Server-Sent Events, shaped by `StreamConfig`; the call's fault, if any, gets each event first."""

from __future__ import annotations

from aiohttp import web

from ._records import Call
from ._responses import DONE, EventStream
from ._state import StreamConfig

__all__ = ["send_events"]


async def send_events(call: Call, payloads: list[bytes], config: StreamConfig) -> web.StreamResponse:
    """Stream ``payloads`` (JSON bytes) as SSE, then ``[DONE]``, letting the call's fault break it if it has one.

    A client that goes away mid-stream is counted in the call's state, and the handler ends quietly.
    """
    fault = call.fault
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    events = [*payloads, DONE]
    stream = EventStream(call.request, response, config, len(events), config.write_size, config.write_delay)
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
