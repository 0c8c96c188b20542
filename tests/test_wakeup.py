"""The sync bridge's wake-ups, both ways.

The caller's: one reusable eventfd per thread, never woken by a call it gave up on. The loop's: on
asyncio's selector loop (no task factory, not in debug mode) the caller makes the call's task itself and
rings the bridge's eventfd; anything else goes through ``call_soon_threadsafe`` and a callback.
"""

# pyright: reportPrivateUsage=false
# (these tests look inside the bridge on purpose: which path a call took is not visible from outside)

from __future__ import annotations

import asyncio
import contextvars
import functools
import gc
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from telnyx_ai import _bridge
from telnyx_ai._bridge import Bridge
from telnyx_ai._errors import TelnyxError
from telnyx_ai._wakeup import Wakeup, wakeup_for_this_thread

needs_eventfd = pytest.mark.skipif(not hasattr(os, "eventfd"), reason="eventfd is Linux-only; other systems use a lock")


async def _nothing() -> None:
    pass


@pytest.fixture
def bridge() -> Iterator[Bridge]:
    b = Bridge(_nothing)
    yield b
    b.close()


@needs_eventfd
def test_a_thread_reuses_its_wakeup_call_after_call() -> None:
    first = wakeup_for_this_thread()
    first.release()
    second = wakeup_for_this_thread()
    second.release()
    assert second is first


@needs_eventfd
def test_a_call_made_while_the_thread_waits_gets_its_own() -> None:
    outer = wakeup_for_this_thread()
    inner = wakeup_for_this_thread()  # e.g. from a signal handler that runs during the outer wait
    assert inner is not outer
    inner.release()
    outer.release()
    assert wakeup_for_this_thread() is outer
    outer.release()


@needs_eventfd
def test_a_retired_wakeup_is_not_handed_out_again() -> None:
    old = wakeup_for_this_thread()
    old.retire()
    old.release()
    new = wakeup_for_this_thread()
    new.release()
    assert new is not old


@pytest.mark.parametrize("make", [Wakeup, wakeup_for_this_thread], ids=["lock", "this-thread"])
def test_set_from_another_thread_wakes_the_waiter(make: type[Wakeup]) -> None:
    wakeup = make()
    try:
        assert wakeup.wait(0.01) is False  # nothing set yet
        threading.Timer(0.05, wakeup.set).start()
        assert wakeup.wait(5) is True
        threading.Timer(0.05, wakeup.set).start()
        assert wakeup.wait() is True  # and again: each set wakes one wait
        assert wakeup.wait(0.01) is False
    finally:
        wakeup.release()


def test_calls_from_many_threads_each_get_their_own_result(bridge: Bridge) -> None:
    async def echo(n: int) -> int:
        await asyncio.sleep(0.001 * (n % 3))
        return n

    results: dict[int, list[int]] = {}

    def worker(k: int) -> None:  # wake-ups of the loop that land together are read at once: none is lost
        results[k] = [bridge.call(echo, k * 100 + i) for i in range(90)]

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == {k: [k * 100 + i for i in range(90)] for k in range(8)}


@pytest.mark.skipif(sys.platform == "win32", reason="needs pthread_kill")
def test_a_late_wakeup_from_an_abandoned_call_does_not_end_the_next_one(
    bridge: Bridge, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_bridge, "_CANCEL_WAIT", 0.05)
    release_stubborn = threading.Event()

    async def stubborn() -> str:
        """Ignores its cancellation and ends later: its wake-up comes after the caller gave up."""
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            await asyncio.get_running_loop().run_in_executor(None, release_stubborn.wait, 5)
        return "stubborn"

    async def slow() -> str:
        await asyncio.sleep(0.5)
        return "slow"

    main = threading.main_thread().ident
    assert threading.get_ident() == main and main is not None
    timer = threading.Timer(0.2, signal.pthread_kill, (main, signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            bridge.call(stubborn)
    finally:
        timer.cancel()
    # The abandoned task finishes (and sets its wake-up) while the next call is still running.
    threading.Timer(0.1, release_stubborn.set).start()
    started = time.monotonic()
    assert bridge.call(slow) == "slow"
    assert time.monotonic() - started >= 0.45  # woken by its own task, not by the stubborn one's


@needs_eventfd
def test_a_forked_child_does_not_share_its_parents_wakeup() -> None:
    parent = wakeup_for_this_thread()
    parent.release()
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: waits on its own wake-up, which the parent's set must not reach
        try:
            child = wakeup_for_this_thread()
            os.write(ready_w, b"x")
            os._exit(0 if child.wait(1.0) is False else 1)
        except BaseException:
            os._exit(2)
    os.close(ready_w)
    assert os.read(ready_r, 1) == b"x"
    os.close(ready_r)
    mine = wakeup_for_this_thread()
    assert mine is parent
    mine.set()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0  # the child was not woken by the parent's set
    assert mine.wait(0) is True  # and the parent's wake-up is still its own
    mine.release()


def test_a_signal_whose_handler_returns_does_not_end_the_call(bridge: Bridge) -> None:
    async def slow() -> str:
        await asyncio.sleep(0.3)
        return "done"

    seen: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: seen.append(signum))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.1)
        assert bridge.call(slow) == "done"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert seen == [signal.SIGALRM]  # the handler ran, and the call waited on


def test_an_interrupt_after_the_task_was_queued_does_not_wake_the_next_call(
    bridge: Bridge, monkeypatch: pytest.MonkeyPatch
) -> None:
    wake_loop = bridge._wake_loop  # pyright: ignore[reportPrivateUsage]
    assert wake_loop is not None
    interrupted: list[bool] = []

    def then_interrupt() -> None:
        wake_loop()  # the task is queued and its loop woken: Ctrl-C lands just after
        if not interrupted:
            interrupted.append(True)
            raise KeyboardInterrupt

    monkeypatch.setattr(bridge, "_wake_loop", then_interrupt)

    finished: list[str] = []

    async def echo(value: str, delay: float) -> str:
        await asyncio.sleep(delay)
        finished.append(value)
        return value

    outcomes: list[object] = []

    def in_a_fresh_thread() -> None:  # its own wake-up, untouched by earlier tests
        try:
            bridge.call(echo, "first", 0.1)  # ends while "second" still runs
        except KeyboardInterrupt:
            outcomes.append("interrupted")
        outcomes.append(bridge.call(echo, "second", 0.3))
        outcomes.append(bridge.call(echo, "third", 0.01))

    t = threading.Thread(target=in_a_fresh_thread)
    t.start()
    t.join(10)
    assert outcomes == ["interrupted", "second", "third"]
    assert finished == ["second", "third"]  # the interrupted call's task was cancelled, not left to run


@needs_eventfd
def test_the_cancel_wait_works_past_descriptor_1023() -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1200:  # room for 1,100 more descriptors (raising a soft limit up to the hard one is allowed)
        resource.setrlimit(resource.RLIMIT_NOFILE, (1200, hard))
    held = [os.dup(0) for _ in range(1100)]
    try:
        box: list[bool] = []

        def in_a_new_thread() -> None:  # a new thread gets a new eventfd, numbered past the held ones
            wakeup = wakeup_for_this_thread()
            box.append(wakeup.wait(0.01))
            wakeup.release()

        t = threading.Thread(target=in_a_new_thread)
        t.start()
        t.join(5)
        assert box == [False]
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


# The loop's wake-up: how a call is handed over.

request_tag: contextvars.ContextVar[str] = contextvars.ContextVar("request_tag", default="unset")


def _where(seen: dict[str, Any]) -> Awaitable[None]:
    """A plain function returning a coroutine: records the thread it is *called* on, then the task's."""
    seen["called_on"] = threading.get_ident()

    async def inside() -> None:
        task = asyncio.current_task()
        assert task is not None
        seen["ran_on"] = threading.get_ident()
        seen["task_name"] = task.get_name()
        seen["tag"] = request_tag.get()

    return inside()


def test_the_task_is_made_by_the_caller_and_run_by_the_loop(bridge: Bridge) -> None:
    assert bridge._wake_loop is not None, "asyncio's own loop takes the shortcut"
    seen: dict[str, Any] = {}
    bridge.call(_where, seen)
    assert seen["task_name"] == _bridge._TASK_NAME  # made by `_submit`, not by the fallback callback
    assert seen["called_on"] == seen["ran_on"] == bridge._thread_id  # the function itself runs on the loop


def test_the_callers_context_reaches_the_call(bridge: Bridge) -> None:
    seen: dict[str, Any] = {}
    token = request_tag.set("from-the-caller")
    try:
        bridge.call(_where, seen)
    finally:
        request_tag.reset(token)
    assert seen["tag"] == "from-the-caller"


def test_debug_mode_makes_the_task_on_the_loop_thread(bridge: Bridge) -> None:
    # In debug mode asyncio refuses call_soon from another thread: the shortcut would raise there.
    bridge._loop.set_debug(True)
    seen: dict[str, Any] = {}
    bridge.call(_where, seen)
    assert seen["task_name"] != _bridge._TASK_NAME
    assert seen["called_on"] == seen["ran_on"] == bridge._thread_id


def test_a_loop_with_a_task_factory_keeps_its_factory(monkeypatch: pytest.MonkeyPatch) -> None:
    made_on: list[int] = []

    def factory(loop: asyncio.AbstractEventLoop, coro: Any) -> asyncio.Task[Any]:
        made_on.append(threading.get_ident())
        return asyncio.Task(coro, loop=loop)

    real_new_loop = asyncio.new_event_loop

    def new_loop_with_factory() -> asyncio.AbstractEventLoop:
        loop = real_new_loop()
        loop.set_task_factory(factory)
        return loop

    monkeypatch.setattr(asyncio, "new_event_loop", new_loop_with_factory)
    b = Bridge(_nothing)
    try:
        seen: dict[str, Any] = {}
        b.call(_where, seen)
        assert made_on == [b._thread_id]  # the factory made the task, on the loop thread
        assert seen["ran_on"] == b._thread_id
    finally:
        b.close()


def test_a_task_factory_set_later_sees_every_later_call(bridge: Bridge) -> None:
    seen: dict[str, Any] = {}
    bridge.call(_where, seen)
    assert seen["task_name"] == _bridge._TASK_NAME  # no factory yet: the shortcut

    made: list[str] = []

    def factory(loop: asyncio.AbstractEventLoop, coro: Any) -> asyncio.Task[Any]:
        made.append(threading.current_thread().name)
        return asyncio.Task(coro, loop=loop)

    bridge._loop.set_task_factory(factory)  # as a tracer might, once the loop runs
    bridge.call(_where, seen)
    bridge.call(_where, seen)
    assert made == ["telnyx-ai-sync-loop", "telnyx-ai-sync-loop"]


def test_another_kind_of_loop_gets_no_shortcut() -> None:
    class SelfPipeButNotAsyncios:  # a self-pipe writer alone does not make asyncio's selector loop
        def _write_to_self(self) -> None:
            raise AssertionError("not to be used")

        def get_task_factory(self) -> None:
            return None

    assert _bridge._task_shortcut(cast("asyncio.AbstractEventLoop", SelfPipeButNotAsyncios())) is None

    class OwnCallSoon(asyncio.SelectorEventLoop):  # its call_soon may not be a plain deque append
        def call_soon(  # type: ignore[override]  # (a pass-through; the exact signature is beside the point)
            self, callback: Any, *args: Any, context: contextvars.Context | None = None
        ) -> Any:
            return super().call_soon(callback, *args, context=context)

    loop = OwnCallSoon()
    try:
        assert _bridge._task_shortcut(loop) is None
    finally:
        loop.close()


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts descriptors in /proc")
def test_closed_bridges_leave_no_descriptor_behind() -> None:
    warm = Bridge(_nothing)  # anything made once per thread (this thread's own wake-up) exists now
    warm.call(_nothing)
    warm.close()
    gc.collect()  # earlier tests' leftovers closed now, not in the middle of the count
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(20):
        b = Bridge(_nothing)
        b.call(_nothing)
        b.close()
    assert len(os.listdir("/proc/self/fd")) <= before  # each bridge that kept one would add 1 to 4


@needs_eventfd
def test_each_wake_up_of_the_loop_is_cleared(bridge: Bridge) -> None:
    wake_loop = bridge._wake_loop
    assert isinstance(wake_loop, functools.partial)  # the bridge's eventfd, not the self-pipe
    fd = wake_loop.args[0]
    for _ in range(5):
        bridge.call(_nothing)
    bridge.call(asyncio.sleep, 0.01)  # the loop has had turns after the last wake-up
    with pytest.raises(BlockingIOError):  # read, or the loop would wake on it again and again
        os.eventfd_read(fd)


def test_without_an_eventfd_the_self_pipe_wakes_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_descriptors(*args: object) -> int:
        raise OSError(24, "Too many open files")

    monkeypatch.setattr(os, "eventfd", no_descriptors)
    b = Bridge(_nothing)
    try:
        assert not isinstance(b._wake_loop, functools.partial)  # the loop's own _write_to_self
        seen: dict[str, Any] = {}
        for _ in range(3):
            b.call(_where, seen)
        assert seen["task_name"] == _bridge._TASK_NAME
    finally:
        b.close()


def test_a_stopped_loop_raises_and_leaves_nothing_behind(bridge: Bridge, caplog: pytest.LogCaptureFixture) -> None:
    bridge._loop.call_soon_threadsafe(bridge._loop.stop)
    bridge._thread.join(10)
    assert bridge._loop.is_closed()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(TelnyxError, match="event loop thread has stopped"):
            bridge.call(_nothing)
        gc.collect()
    assert not [w for w in caught if "never awaited" in str(w.message)]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # no "Task was destroyed but it is pending"


@needs_eventfd
def test_a_call_after_the_loop_stopped_writes_to_no_descriptor(bridge: Bridge, tmp_path: Path) -> None:
    wake_loop = bridge._wake_loop
    assert isinstance(wake_loop, functools.partial)
    fd = wake_loop.args[0]
    bridge._loop.call_soon_threadsafe(bridge._loop.stop)  # not close(): the client still looks open
    bridge._thread.join(10)
    unrelated = os.open(tmp_path / "unrelated", os.O_RDWR | os.O_CREAT)
    reused = os.dup2(unrelated, fd)  # a file opened now may get the closed eventfd's number
    os.close(unrelated)
    try:
        with pytest.raises(TelnyxError, match="event loop thread has stopped"):
            bridge.call(_nothing)
        assert os.pread(reused, 64, 0) == b""
    finally:
        os.close(reused)


_SYSTEM_EXIT_IN_A_CALL = """
import pytest
from telnyx_ai._bridge import Bridge
from telnyx_ai._errors import TelnyxError

async def nothing() -> None:
    pass

async def leave() -> None:
    raise SystemExit(3)

bridge = Bridge(nothing)
with pytest.raises(SystemExit):
    bridge.call(leave)
bridge._thread.join(10)
assert not bridge._thread.is_alive()
with pytest.raises(TelnyxError, match="event loop thread has stopped"):
    bridge.call(nothing)
print("ok")
"""


def test_a_call_that_raises_system_exit_stops_the_loop_and_later_calls_fail_fast() -> None:
    # In a process of its own: on 3.11 the SystemExit, which ends the loop thread as it should, leaves
    # the interpreter's `ast` unusable afterwards ("AST constructor recursion depth mismatch"), and
    # pytest rewrites every module it imports later with `ast`.
    done = subprocess.run([sys.executable, "-c", _SYSTEM_EXIT_IN_A_CALL], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_cleanup_scheduled_from_inside_a_calls_locked_section_does_not_deadlock(bridge: Bridge) -> None:
    # A garbage collection inside `call`'s locked section may run a stream's finalizer, which schedules
    # the stream's close with `call_soon` on the same bridge, from the same thread.
    ran = threading.Event()

    def nested() -> None:
        with bridge._gate.lock:
            bridge.call_soon(ran.set)

    t = threading.Thread(target=nested, daemon=True)  # a deadlocked one must not keep pytest from exiting
    t.start()
    t.join(5)
    assert not t.is_alive()
    assert ran.wait(5)
