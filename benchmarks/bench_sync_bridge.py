"""What the sync client's thread hop costs: sync vs async against the embedded emulator.

    python benchmarks/bench_sync_bridge.py [--calls 2000] [--chunks 5000] [--repeat 5]

Prints the best of ``--repeat`` runs for each case and the sync/async ratios:

* N sequential small calls (``client.ai.retrieve_models()``);
* one streamed reply of many chunks, read through `Stream` vs `AsyncStream`;
* the bare bridge hop (`Bridge.call` of a no-op coroutine) vs anyio's blocking portal,
  the measurement behind choosing an explicit loop thread.

The emulator runs in its own thread in every case, so both clients pay the same for it.
Nothing is asserted: the numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable

from anyio.from_thread import start_blocking_portal

from telnyx_ai import AsyncTelnyx, Telnyx
from telnyx_ai._bridge import Bridge
from telnyx_ai.testing import MockServer, StreamConfig
from telnyx_ai.types.chat import ChatMessageParam

MESSAGES: list[ChatMessageParam] = [{"role": "user", "content": "stream please"}]


def _best(repeat: int, run: Callable[[], float]) -> float:
    return min(run() for _ in range(repeat))


def sync_calls(url: str, n: int) -> float:
    with Telnyx(api_key="bench", base_url=url, max_retries=0) as client:
        client.ai.retrieve_models()
        started = time.perf_counter()
        for _ in range(n):
            client.ai.retrieve_models()
        return time.perf_counter() - started


def async_calls(url: str, n: int) -> float:
    async def main() -> float:
        async with AsyncTelnyx(api_key="bench", base_url=url, max_retries=0) as client:
            await client.ai.retrieve_models()
            started = time.perf_counter()
            for _ in range(n):
                await client.ai.retrieve_models()
            return time.perf_counter() - started

    return asyncio.run(main())


def sync_stream(url: str) -> tuple[float, int]:
    with Telnyx(api_key="bench", base_url=url, max_retries=0) as client:
        started = time.perf_counter()
        with client.ai.openai.chat.create_completion(messages=MESSAGES, stream=True) as stream:
            count = sum(1 for _ in stream)
        return time.perf_counter() - started, count


def async_stream(url: str) -> tuple[float, int]:
    async def main() -> tuple[float, int]:
        async with AsyncTelnyx(api_key="bench", base_url=url, max_retries=0) as client:
            started = time.perf_counter()
            stream = await client.ai.openai.chat.create_completion(messages=MESSAGES, stream=True)
            async with stream:
                count = 0
                async for _ in stream:
                    count += 1
            return time.perf_counter() - started, count

    return asyncio.run(main())


async def _noop() -> None:
    return None


def bridge_hop(n: int) -> float:
    async def close() -> None:
        return None

    bridge = Bridge(close)
    try:
        bridge.call(_noop)
        started = time.perf_counter()
        for _ in range(n):
            bridge.call(_noop)
        return (time.perf_counter() - started) / n
    finally:
        bridge.close()


def portal_hop(n: int) -> float:
    with start_blocking_portal() as portal:
        portal.call(_noop)
        started = time.perf_counter()
        for _ in range(n):
            portal.call(_noop)
        return (time.perf_counter() - started) / n


def main() -> None:
    parser = argparse.ArgumentParser(description="sync vs async client overhead")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--chunks", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n, repeat = args.calls, args.repeat

    reply = " ".join(f"w{i}" for i in range(args.chunks))
    with MockServer.in_thread(stream=StreamConfig(reply=reply, chunks=args.chunks)) as server:
        s = _best(repeat, lambda: sync_calls(server.url, n))
        a = _best(repeat, lambda: async_calls(server.url, n))
        print(f"{n} sequential calls   sync {s * 1e3:8.1f} ms  async {a * 1e3:8.1f} ms  ratio {s / a:5.2f}")
        print(
            f"  per call            sync {s / n * 1e6:8.1f} µs  async {a / n * 1e6:8.1f} µs  (+{(s - a) / n * 1e6:.1f} µs)"
        )

        chunks = 0

        def timed(fn: Callable[[str], tuple[float, int]]) -> float:
            nonlocal chunks
            elapsed, chunks = fn(server.url)
            return elapsed

        s = _best(repeat, lambda: timed(sync_stream))
        a = _best(repeat, lambda: timed(async_stream))
        print(f"stream of {chunks} chunks sync {s * 1e3:8.1f} ms  async {a * 1e3:8.1f} ms  ratio {s / a:5.2f}")

    hops = max(n * 5, 5000)
    b = _best(repeat, lambda: bridge_hop(hops))
    p = _best(repeat, lambda: portal_hop(hops))
    print(f"bare hop             bridge {b * 1e6:6.1f} µs  anyio portal {p * 1e6:6.1f} µs  ratio {p / b:5.2f}")


if __name__ == "__main__":
    main()
