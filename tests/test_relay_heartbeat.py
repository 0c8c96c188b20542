"""The relay's heartbeat: one deadline at a time per relay (on the loop's one timer for streams), pings in upstream silences, and a real cancellation still cancels.

The relay is driven with a queue standing in for upstream (a wait on it can be cancelled and resumed, as a
stream's read can), and once end to end against the emulator. On asyncio's own loop: the timer checks look at
what the loop holds.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

import pytest

from telnyx_ai import AsyncTelnyx, Timeout
from telnyx_ai._streams.deadlines import Deadlines, deadlines
from telnyx_ai._streams.relay import DONE_FRAME, PING_FRAME, relay
from telnyx_ai.testing import Fault, MockServer
from telnyx_ai.types.chat import ChatMessageParam

PERIOD = 0.05


class Upstream:
    """What the relay reads: frames put in a queue (None ends it), and whether it was closed."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.closed = False

    async def next_frames(self) -> bytes | None:
        return await self.queue.get()

    async def close(self) -> None:
        self.closed = True

    def relay(self, heartbeat: float | None = PERIOD) -> AsyncGenerator[bytes, None]:
        return relay(self.next_frames, self.close, heartbeat)


class HeartbeatTimers:
    """Every deadline the relay's heartbeat sets on the running loop's one timer for streams (`Deadlines.add`,
    wrapped): the loop's timer is shared, so a heartbeat's "timer" is its entry there."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.loop = asyncio.get_running_loop()
        self.deadlines = deadlines(self.loop)
        self.handles: list[Any] = []  # the heartbeats that set a deadline, once per deadline
        add = Deadlines.add

        def counting(deadlines: Deadlines, watched: Any, deadline: float) -> None:
            add(deadlines, watched, deadline)
            if type(watched).__qualname__ == "_Heartbeat":
                self.handles.append(watched)

        monkeypatch.setattr(Deadlines, "add", counting)

    def pending(self) -> list[Any]:
        """The heartbeats whose deadline is still due to be acted on (neither reached nor dropped)."""
        entries: list[Any] = self.deadlines._entries  # pyright: ignore[reportPrivateUsage]
        live = [entry[2]() for entry in entries]
        return [beat for beat in live if beat in self.handles and beat._deadline_alive()]


async def test_pings_come_every_period_of_a_long_silence_and_nothing_is_lost(monkeypatch: pytest.MonkeyPatch) -> None:
    timers = HeartbeatTimers(monkeypatch)
    period = 0.1
    upstream = Upstream()
    upstream.queue.put_nowait(b"data: 1\n\n")
    loop = asyncio.get_running_loop()
    start = loop.time()
    received: list[tuple[float, bytes]] = []
    async for frame in upstream.relay(period):
        received.append((loop.time(), frame))
        if frame == PING_FRAME and len(received) == 7:  # six pings of silence, then upstream speaks again
            upstream.queue.put_nowait(b"data: 2\n\n")
            upstream.queue.put_nowait(None)
    frames = [frame for _, frame in received]
    assert frames == [b"data: 1\n\n"] + [PING_FRAME] * 6 + [b"data: 2\n\n", DONE_FRAME]
    ping_times = [at - start for at, frame in received if frame == PING_FRAME]
    # The n-th ping after about n periods of silence: never before, and not a period late.
    for n, at in enumerate(ping_times, start=1):
        assert n * period - 0.005 <= at < (n + 1) * period, ping_times
    assert upstream.closed
    assert timers.pending() == []


async def test_no_ping_while_data_keeps_flowing_and_the_timer_is_not_set_per_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    timers = HeartbeatTimers(monkeypatch)
    upstream = Upstream()
    reads = 40
    period = 0.2  # a silence that long would take a loop stalled for 0.2 s, even on a busy machine

    async def feed() -> None:
        for n in range(reads):  # every tenth of a period for four periods
            upstream.queue.put_nowait(b"data: %d\n\n" % n)
            await asyncio.sleep(period / 10)
        upstream.queue.put_nowait(None)

    feeder = asyncio.create_task(feed())
    frames = [frame async for frame in upstream.relay(period)]
    await feeder
    assert PING_FRAME not in frames
    assert frames == [b"data: %d\n\n" % n for n in range(reads)] + [DONE_FRAME]
    # Re-armed only when it fires (about once a period), not once per read.
    assert 1 <= len(timers.handles) <= reads // 3
    assert timers.pending() == []


async def test_an_outside_cancel_during_a_wait_propagates_and_closes_upstream(monkeypatch: pytest.MonkeyPatch) -> None:
    timers = HeartbeatTimers(monkeypatch)
    upstream = Upstream()
    received: list[bytes] = []

    async def consume() -> None:
        async for frame in upstream.relay():
            received.append(frame)

    task = asyncio.create_task(consume())
    await asyncio.sleep(PERIOD * 3.5)  # a few pings in
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()
    assert 1 <= received.count(PING_FRAME) <= 4
    assert upstream.closed
    assert timers.pending() == []


async def test_an_outside_cancel_as_the_heartbeat_fires_is_not_taken_for_a_ping() -> None:
    """The consumer's cancel lands in the same loop turn as the heartbeat's own: the relay must not swallow it."""
    upstream = Upstream()
    waits = 0

    async def next_frames() -> bytes | None:
        nonlocal waits
        waits += 1
        task = asyncio.current_task()
        assert task is not None
        future: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()
        # Runs when the heartbeat cancels the wait, before the task wakes up: an outside cancel at that moment.
        future.add_done_callback(lambda f: task.cancel() if f.cancelled() else None)
        return await future

    async def consume() -> list[bytes]:
        return [frame async for frame in relay(next_frames, upstream.close, PERIOD)]

    task = asyncio.create_task(consume())
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 2.0)
    assert task.cancelled() and waits == 1
    assert upstream.closed


async def test_the_timer_is_gone_however_the_relay_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    timers = HeartbeatTimers(monkeypatch)
    # Closed early by its consumer, with data still flowing.
    upstream = Upstream()
    for n in range(3):
        upstream.queue.put_nowait(b"data: %d\n\n" % n)
    frames = upstream.relay()
    assert await anext(frames) == b"data: 0\n\n"
    await frames.aclose()
    assert upstream.closed and timers.handles and timers.pending() == []

    # Failed upstream: one error frame, no timer left behind.
    async def broken() -> bytes | None:
        await asyncio.sleep(PERIOD / 5)
        raise ConnectionResetError("gone")

    closed: list[bool] = []

    async def close() -> None:
        closed.append(True)

    got: list[bytes] = []
    with pytest.raises(ConnectionResetError):
        async for frame in relay(broken, close, PERIOD):
            got.append(frame)
    assert len(got) == 1 and got[0].startswith(b"event: error\n") and closed == [True]
    assert timers.pending() == []


MESSAGES: list[ChatMessageParam] = [{"role": "user", "content": "keep the browser waiting"}]


async def eventually(check: Callable[[], bool], seconds: float = 1.0) -> bool:
    for _ in range(int(seconds * 100)):
        if check():
            return True
        await asyncio.sleep(0.01)
    return check()


@pytest.fixture
async def server() -> AsyncIterator[MockServer]:
    async with MockServer() as s:
        yield s


async def test_cancelling_a_relay_between_pings_closes_the_real_stream(server: MockServer) -> None:
    server.inject(Fault.stall(5.0, after_events=1))
    async with AsyncTelnyx(api_key="test", base_url=server.url, max_retries=0, timeout=Timeout(read=10.0)) as client:
        stream = await client.ai.chat.create_completion(messages=MESSAGES, stream=True)
        received: list[bytes] = []

        async def consume() -> None:
            async for frame in stream.to_sse(heartbeat=PERIOD):
                received.append(frame)

        task = asyncio.create_task(consume())
        await asyncio.sleep(PERIOD * 4.5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert received[0].startswith(b"data: {") and received.count(PING_FRAME) >= 1
        assert stream.closed
        assert await eventually(lambda: server.disconnects == 1)  # the server sees the connection go
