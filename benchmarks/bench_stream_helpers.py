"""What the stream helpers cost per chunk, against plain iteration of the same 20,000-chunk stream.

    python benchmarks/bench_stream_helpers.py [--chunks 20000] [--repeat 7]

A child process serves the benchmark's SSE fixture (benchmarks/fixtures.py) on 127.0.0.1, so
the client's CPU time (``time.process_time``) is its own. Each case reads the whole stream:

* ``plain``: ``async for chunk in stream`` joining the content (what scenario 3 does);
* ``text_stream``: ``"".join`` of ``stream.text_stream``;
* ``to_sse``: every relay frame ``to_sse()`` yields, counted;
* ``final``: ``await stream.get_final_completion()``.

Cases are interleaved, the best of ``--repeat`` is kept, and only ratios to ``plain`` are
printed next to the per-chunk times. Nothing is asserted: the numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiohttp import web

from benchmarks.fixtures import build
from telnyx_ai import AsyncStream, AsyncTelnyx
from telnyx_ai.types.chat import ChatCompletionChunk, ChatMessageParam

MESSAGES: list[ChatMessageParam] = [{"role": "user", "content": "stream please"}]
PATH = "/sse/v2/ai/openai/chat/completions"


def serve(port: int, chunks: int) -> None:
    body = build(stream_chunks=chunks).routes[PATH].body

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=body, content_type="text/event-stream")

    app = web.Application()
    app.router.add_post(PATH, answer)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


async def plain(stream: AsyncStream[ChatCompletionChunk]) -> int:
    parts: list[str] = []
    async for chunk in stream:
        for choice in chunk.choices:
            if choice.delta.content:
                parts.append(choice.delta.content)
    return len("".join(parts))


async def text_stream(stream: AsyncStream[ChatCompletionChunk]) -> int:
    return len("".join([text async for text in stream.text_stream]))


async def to_sse(stream: AsyncStream[ChatCompletionChunk]) -> int:
    return sum([len(frame) async for frame in stream.to_sse()])


async def final(stream: AsyncStream[ChatCompletionChunk]) -> int:
    return len((await stream.get_final_completion()).choices[0].message.content or "")


CASES: dict[str, Callable[[AsyncStream[ChatCompletionChunk]], Awaitable[int]]] = {
    "plain": plain,
    "text_stream": text_stream,
    "to_sse": to_sse,
    "final": final,
}


async def measure(url: str, repeat: int) -> dict[str, float]:
    best = dict.fromkeys(CASES, float("inf"))
    async with AsyncTelnyx(api_key="bench", base_url=url + "/sse/v2", max_retries=0) as client:
        for case in CASES.values():  # warm-up
            await case(await client.ai.openai.chat.create_completion(messages=MESSAGES, stream=True))
        for _ in range(repeat):
            for name, case in CASES.items():
                started = time.process_time()
                stream = await client.ai.openai.chat.create_completion(messages=MESSAGES, stream=True)
                await case(stream)
                best[name] = min(best[name], time.process_time() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = multiprocessing.get_context("spawn").Process(target=serve, args=(port, args.chunks), daemon=True)
    server.start()
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        best = asyncio.run(measure(f"http://127.0.0.1:{port}", args.repeat))
    finally:
        server.terminate()
        server.join()
    print(f"{args.chunks} chunks, best of {args.repeat}, CPU per chunk and ratio to plain iteration:")
    for name, seconds in best.items():
        print(f"  {name:12} {seconds / args.chunks * 1e6:6.2f} us  {seconds / best['plain']:.2f}x")


if __name__ == "__main__":
    main()
