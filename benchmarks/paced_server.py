"""A chat stream server that paces its chunks, for many streams at once (`benchmarks.many_streams`).

``python -m benchmarks.paced_server --interval 0.04`` prints ``http://127.0.0.1:PORT`` and serves any POST
as a chat completion stream (chunked transfer encoding, keep-alive): the first chunk at once, then one
every ``interval`` seconds (``--spread``: the first of those within an interval, at the least busy tick),
then ``data: [DONE]``. A path starting ``/chunks/N/`` asks for N chunks
(default 200). ``GET /stats`` answers how well it kept its schedule since the last ``/stats``: how late its
chunks went out (p50, p99, max, in ms) and its own CPU time, so a run whose server fell behind is
known as such rather than blamed on the client.

Pacing is a timer wheel: one tick per millisecond, ``interval`` ms per turn; a stream sits in the slot
of the tick its request arrived in, so each of its chunks is due exactly ``interval`` after the last,
to within a tick, and a tick writes to every stream in its slot with one ``write`` each. Written on the
bare asyncio transport (no aiohttp): the server's CPU per chunk must stay well below the client's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import sys
import time
from functools import cache

from .fixtures import stream_events

__all__ = ["DEFAULT_CHUNKS", "frames", "main", "serve"]

DEFAULT_CHUNKS = 200
TICK = 0.001
_HEADERS = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
    b"Transfer-Encoding: chunked\r\nx-request-id: req-bench-paced\r\n\r\n"
)
_LAST_CHUNK = b"0\r\n\r\n"


@cache
def frames(chunks: int) -> tuple[bytes, ...]:
    """What goes on the wire for a stream of ``chunks``: the first write (headers and chunk 0), one write per
    later chunk, and the last (``[DONE]`` and the end of the chunked body), each in chunked encoding."""
    events, _ = stream_events(chunks)
    coded = [b"%x\r\n%s\r\n" % (len(event), event) for event in events]
    done = coded.pop() + _LAST_CHUNK
    coded[0] = _HEADERS + coded[0]
    coded[-1] += done  # [DONE] goes with the last chunk: the stream ends when its last chunk is due
    return tuple(coded)


class _Schedule:
    """How late the chunks went out: per tick, the delay of its last write, weighted by the chunks it wrote."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.late: list[tuple[float, int]] = []
        self.cpu = time.process_time()
        self.chunks = 0

    def add(self, late: float, chunks: int) -> None:
        self.late.append((late, chunks))
        self.chunks += chunks

    def report(self) -> dict[str, float]:
        ordered = sorted(self.late)
        total = sum(n for _, n in ordered)

        def quantile(q: float) -> float:
            need, seen = q * total, 0
            for late, n in ordered:
                seen += n
                if seen >= need:
                    return late * 1e3
            return 0.0

        return {
            "chunks": self.chunks,
            "late_p50_ms": quantile(0.5),
            "late_p99_ms": quantile(0.99),
            "late_max_ms": ordered[-1][0] * 1e3 if ordered else 0.0,
            "cpu_s": time.process_time() - self.cpu,
        }


class _Stream:
    __slots__ = ("frames", "sent", "transport")

    def __init__(self, transport: asyncio.Transport, chunks: tuple[bytes, ...]) -> None:
        self.transport = transport
        self.frames = chunks
        self.sent = 0


class _Wheel:
    """The streams in flight, by the tick (within one interval) their chunks are due on."""

    def __init__(self, loop: asyncio.AbstractEventLoop, interval: float, schedule: _Schedule, spread: bool) -> None:
        self.loop = loop
        self.spread = spread
        self.slots: list[list[_Stream]] = [[] for _ in range(max(1, round(interval / TICK)))]
        self.schedule = schedule
        self.start = loop.time()
        self.tick = 0
        loop.call_at(self.start + TICK, self._turn)

    def add(self, stream: _Stream) -> None:
        """Send the first chunk now and the next ones every interval from now (spread: from the tick
        with the fewest streams, so that chunks arrive one at a time rather than in bursts)."""
        stream.transport.write(stream.frames[0])
        stream.sent = 1
        if len(stream.frames) > 1:
            slots = self.slots
            slot = min(slots, key=len) if self.spread else slots[self.tick % len(slots)]
            slot.append(stream)

    def _turn(self) -> None:
        loop = self.loop
        now = loop.time()
        # Every tick that is due (several if the loop was held up), each slot in turn.
        while self.start + (self.tick + 1) * TICK <= now:
            self.tick += 1
            due = self.start + self.tick * TICK
            slot = self.slots[self.tick % len(self.slots)]
            if slot:
                keep: list[_Stream] = []
                for stream in slot:
                    if stream.transport.is_closing():
                        continue
                    stream.transport.write(stream.frames[stream.sent])
                    stream.sent += 1
                    if stream.sent < len(stream.frames):
                        keep.append(stream)
                self.schedule.add(loop.time() - due, len(slot))
                slot[:] = keep
        loop.call_at(self.start + (self.tick + 1) * TICK, self._turn)


class _Connection(asyncio.Protocol):
    """One keep-alive connection: requests in, one stream (or the stats) out per request."""

    def __init__(self, wheel: _Wheel) -> None:
        self.wheel = wheel
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return  # the body is still on its way
            self.buffer = self.buffer[end + 4 + length :]
            self._answer(head.split(" ", 2))

    def _answer(self, request_line: list[str]) -> None:
        assert self.transport is not None
        method, path = request_line[0], request_line[1] if len(request_line) > 1 else "/"
        if path == "/stats":
            body = json.dumps(self.wheel.schedule.report()).encode()
            self.wheel.schedule.reset()
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
            self.transport.write(head + body)
            return
        if method != "POST":
            self.transport.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        chunks = DEFAULT_CHUNKS
        if path.startswith("/chunks/"):
            chunks = int(path.split("/")[2])
        self.wheel.add(_Stream(self.transport, frames(chunks)))


async def serve(interval: float, announce: object = print, port: int = 0, *, spread: bool = False) -> None:
    """Serve until cancelled; ``announce`` is called with the base URL once listening. ``spread``: each new
    stream takes the tick with the fewest streams (its second chunk comes within an interval, not after one)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # a socket per stream
    loop = asyncio.get_running_loop()
    wheel = _Wheel(loop, interval, _Schedule(), spread)
    server = await loop.create_server(lambda: _Connection(wheel), "127.0.0.1", port, backlog=4096)
    host, bound = server.sockets[0].getsockname()[:2]
    announce(f"http://{host}:{bound}")  # type: ignore[operator]
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.paced_server", description=__doc__.split("\n\n")[0])
    parser.add_argument("--interval", type=float, default=0.04, help="seconds between a stream's chunks")
    parser.add_argument("--cpu", type=int, help="pin the server to this CPU")
    parser.add_argument("--spread", action="store_true", help="spread the streams' chunks over the interval")
    args = parser.parse_args(argv)
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.interval, lambda url: print(url, flush=True), spread=args.spread))
    return 0


if __name__ == "__main__":
    sys.exit(main())
