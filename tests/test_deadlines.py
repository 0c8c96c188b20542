"""The one timer per loop for streams' deadlines (`telnyx_ai._streams.deadlines`: the idle limit, a relay's
heartbeat): each stream still fails at its own deadline, whatever the others' limits, a stream that had data
gets the rest of its limit, dead entries do not pile up, and neither streams nor loops are kept alive."""

from __future__ import annotations

import asyncio
import gc
import time
import weakref
from typing import Any

import pytest

from telnyx_ai import APITimeoutError, AsyncTelnyx, Timeout
from telnyx_ai._streams.deadlines import Deadlines, deadlines
from telnyx_ai.testing import MockServer, StreamConfig

from .test_stream_lifecycle import CHUNK, MESSAGES, pinging


class _Stream:
    """A stand-in stream: waiting for data since it was made (or since ``since``), failing as a stream does."""

    def __init__(self, watch: Deadlines, limit: float) -> None:
        self.limit = limit
        self.since: float | None = watch.now()
        self.closed = False
        self.failed_at: float | None = None
        self.checks = 0
        watch.add(self, watch.now() + limit)

    def _deadline_alive(self) -> bool:
        return not self.closed

    def _deadline_due(self, now: float) -> float | None:
        self.checks += 1
        waited = 0.0 if self.since is None else now - self.since
        if waited < self.limit:
            return self.limit - waited
        self.failed_at = now
        return None


async def test_each_stream_fails_at_its_own_deadline_whatever_the_others_limits() -> None:
    watch = Deadlines(asyncio.get_running_loop())
    started = watch.now()
    slow = _Stream(watch, 5.0)  # armed first, for the later deadline
    quick = _Stream(watch, 0.1)
    middle = _Stream(watch, 0.3)
    await asyncio.sleep(0.5)
    assert quick.failed_at is not None and middle.failed_at is not None
    assert 0.1 <= quick.failed_at - started < 0.25
    assert 0.3 <= middle.failed_at - started < 0.45
    assert slow.failed_at is None and slow.checks == 0  # not looked at before its own deadline


async def test_a_stream_that_had_data_gets_the_rest_of_its_limit() -> None:
    watch = Deadlines(asyncio.get_running_loop())
    stream = _Stream(watch, 0.2)
    await asyncio.sleep(0.1)
    stream.since = watch.now()  # data came; the next wait starts now
    await asyncio.sleep(0.15)
    assert stream.failed_at is None and stream.checks == 1  # checked at the first deadline, given the rest
    await asyncio.sleep(0.15)
    assert stream.failed_at is not None
    assert 0.2 <= stream.failed_at - stream.since < 0.3


async def test_a_stream_not_waiting_is_given_its_whole_limit_again() -> None:
    watch = Deadlines(asyncio.get_running_loop())
    stream = _Stream(watch, 0.1)
    stream.since = None  # reading nothing: the consumer is busy, not the server silent
    await asyncio.sleep(0.35)
    assert stream.failed_at is None and stream.checks >= 2


async def test_closed_streams_entries_do_not_pile_up() -> None:
    watch = Deadlines(asyncio.get_running_loop())
    for _ in range(1000):
        stream = _Stream(watch, 600.0)
        stream.closed = True
        watch.forget()
    kept = _Stream(watch, 600.0)
    quick = _Stream(watch, 0.05)
    quick.closed = True  # due before all others: dropped when its deadline comes
    watch.forget()
    held = len(watch._entries)  # pyright: ignore[reportPrivateUsage]
    assert held < 200  # dropped all at once whenever most of the heap was dead
    await asyncio.sleep(0.15)
    streams = [entry[2]() for entry in watch._entries]  # pyright: ignore[reportPrivateUsage]
    assert len(streams) == held - 1 and quick not in streams and kept in streams
    assert kept.failed_at is None and quick.checks == 0  # a closed stream is not asked


async def test_the_watch_holds_streams_weakly() -> None:
    watch = Deadlines(asyncio.get_running_loop())
    stream = _Stream(watch, 0.05)
    gone = weakref.ref(stream)
    del stream
    gc.collect()
    assert gone() is None
    await asyncio.sleep(0.1)  # its deadline passes without error
    assert not watch._entries  # pyright: ignore[reportPrivateUsage]


def test_one_watch_per_loop_and_a_loop_is_not_kept_alive_by_it() -> None:
    async def watch_of_this_loop() -> tuple[Deadlines, Deadlines, weakref.ReferenceType[Any]]:
        loop = asyncio.get_running_loop()
        return deadlines(loop), deadlines(loop), weakref.ref(loop)

    first, again, loop_ref = asyncio.run(watch_of_this_loop())
    assert first is again
    second, _, _ = asyncio.run(watch_of_this_loop())
    assert second is not first
    del second
    gc.collect()
    assert loop_ref() is None


async def test_streams_with_different_limits_on_one_client_each_time_out_on_time() -> None:
    stream_config = StreamConfig(reply="x" * 400, chunks=400, delay=0.01)  # data every 10 ms for 4 s
    async with MockServer(stream=stream_config) as server:
        server.add_route("POST", "/ai/openai/chat/completions", pinging(CHUNK, b": ping\n\n", every=0.05, count=200))
        async with AsyncTelnyx(api_key="t", base_url=server.url, max_retries=0) as client:
            steady = await client.ai.chat.create_completion(messages=MESSAGES, stream=True)  # default limit
            pinged: Any = await client.ai.openai.chat.create_completion(
                messages=MESSAGES, stream=True, timeout=Timeout(read=5, stream_idle=0.3)
            )
            started = time.monotonic()

            async def read_all(stream: Any) -> int:
                return sum([1 async for _ in stream])

            steady_task = asyncio.ensure_future(read_all(steady))
            with pytest.raises(APITimeoutError, match=r"No data event for 0\.3 s"):
                await read_all(pinged)
            assert 0.25 < time.monotonic() - started < 1.5
            assert not steady_task.done()  # the other stream reads on
            assert await steady_task > 100
