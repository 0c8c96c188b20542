"""Instructions the SDK spends opening a stream, from memory: the stream-open path without the network.

    python -m benchmarks.stream_open --instructions [--sse]   # needs valgrind (apt-get install valgrind)

``create_completion(stream=True)`` with `Transport.send` answering a canned response at once (the first read
holds the one chunk and ``[DONE]``, as `benchmarks.paced_server` sends a one-chunk stream), the chunk read with
``async for`` (``--sse``: through ``to_sse()``), the stream closed, one turn of the loop. Each count is one
process opening ``--streams`` streams and one opening three times as many, under callgrind, the difference per
stream: start-up cancels out. Deterministic with a fixed ``PYTHONHASHSEED`` (set here) when nothing else runs
under callgrind at the same time. What it counts is the SDK's own work per stream (request build, idempotency
key, stream object, first batch, close): the part of `benchmarks.call_instructions --many-streams --open`
that is not aiohttp's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
REPEATS = 7
WARM = 200


def _patch_send() -> None:
    from multidict import CIMultiDict, CIMultiDictProxy

    from telnyx_ai._http.transport import Transport

    from .fixtures import stream_events

    events, _ = stream_events(1)
    body = b"".join(events)
    headers = CIMultiDictProxy(CIMultiDict({"Content-Type": "text/event-stream", "x-request-id": "r"}))

    class Content:
        def __init__(self) -> None:
            self.reads = [body]

        async def readany(self) -> bytes:
            return self.reads.pop() if self.reads else b""

        def at_eof(self) -> bool:
            return not self.reads

        def set_exception(self, exc: BaseException) -> None:
            pass

    class Response:
        status = 200

        def __init__(self) -> None:
            self.headers = headers
            self.content = Content()

        def close(self) -> None:
            pass

        def release(self) -> None:
            pass

    async def send(self: Transport, request: Any, *, retry: int = 0) -> Any:
        self.pool.session()
        return Response()

    Transport.send = send  # type: ignore[method-assign]


async def _open_all(streams: int, sse: bool) -> None:
    from telnyx_ai import AsyncTelnyx

    from .contenders import MESSAGES
    from .fixtures import CHAT_MODEL

    client = AsyncTelnyx(api_key="k", base_url="http://127.0.0.1:1/v2")
    chat = client.ai.openai.chat

    want = 2 if sse else 1  # the chunk (and, relayed, data: [DONE])

    async def one() -> None:
        stream = await chat.create_completion(messages=MESSAGES, model=CHAT_MODEL, stream=True)  # type: ignore[arg-type]
        got = 0
        async with stream:
            if sse:
                async for _ in stream.to_sse():
                    got += 1
            else:
                async for _ in stream:
                    got += 1
        if got != want:
            raise SystemExit(f"a stream gave {got} items, expected {want}")
        await asyncio.sleep(0)  # a turn of the loop, as between real reads

    for _ in range(WARM):
        await one()
    for _ in range(REPEATS * streams):
        await one()
    await client.close()


def _count(streams: int, sse: bool, out: Path) -> int:
    command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, "-m", __spec__.name]
    command += ["--job", str(streams)] + (["--sse"] if sse else [])
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=True)
    for line in done.stderr.splitlines():
        if "Collected :" in line:
            return int(line.split()[-1])
    raise RuntimeError(f"no count from callgrind: {done.stderr[-500:]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stream_open", description=__doc__.split("\n\n")[0])
    parser.add_argument("--instructions", action="store_true", help="count under callgrind (else: run once)")
    parser.add_argument("--sse", action="store_true", help="read through to_sse()")
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--job", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.job is not None or not args.instructions:
        _patch_send()
        asyncio.run(_open_all(args.job or args.streams, args.sse))
        return 0
    with tempfile.TemporaryDirectory() as work:
        low = _count(args.streams, args.sse, Path(work) / "low")
        high = _count(3 * args.streams, args.sse, Path(work) / "high")
    per = (high - low) / (2 * args.streams * REPEATS)
    print(f"stream open ({'to_sse()' if args.sse else 'async for'}): {per:,.0f} instructions per stream")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
