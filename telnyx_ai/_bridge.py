"""The runtime under the sync `Telnyx` client: one event loop in a background thread.

A `Bridge` owns an asyncio loop running in a daemon thread. Each blocking call hands a
coroutine function to that loop and blocks until the task wakes it (`_wakeup`), so any
number of threads share one `AsyncTelnyx` and its connection pool. On asyncio's own selector loop
(no task factory, not in debug mode) the caller makes the task itself and wakes the loop through an
eventfd of the bridge's own on Linux, the loop's self-pipe elsewhere (`_task_shortcut`): the call
starts in the turn of the loop that wakes. The caller's thread may
itself run an event loop (a Jupyter cell, an async handler calling sync code): it is simply
blocked for the call, never re-entered.

Why an explicit loop thread and not ``anyio.from_thread.start_blocking_portal``: both do the
same job, but the portal wraps every call in a task group, a cancel scope and a
``concurrent.futures.Future``; handing the task over directly measured 2-3x cheaper per hop
(35-75 µs against 85-130 µs on a 2-CPU dev machine; see ``benchmarks/bench_sync_bridge.py``;
making the task on the caller's thread then halved the bare hop again), and it lets an
interrupted caller wait for the cancelled task to unwind before re-raising.

Lifetime: `close` closes the pool, stops the loop, shuts its executor down and joins the
thread. A `weakref.finalize` does the same for a bridge nobody closed (it runs when the last
client, resource, stream or paginator using it is collected, or at interpreter exit).

``os.fork()``: the loop thread does not exist in the child, and the pool's sockets are the
parent's. A bridge used in a forked child raises `TelnyxError` asking for a new client; its
finalizer does nothing there, so the child never touches the parent's connections.
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
import weakref
from asyncio.selector_events import BaseSelectorEventLoop
from collections.abc import Awaitable, Callable
from typing import Any, Generic, ParamSpec, TypeVar, cast

from ._errors import TelnyxError
from ._logging import logger
from ._wakeup import Wakeup, wakeup_for_this_thread

__all__ = ["Bridge", "SyncResource"]

P = ParamSpec("P")
T = TypeVar("T")
R = TypeVar("R")

_CLOSE_TIMEOUT = 10.0
"""Seconds `close` waits for the pool to close and for the thread to end."""
_CANCEL_WAIT = 2.0
"""Seconds an interrupted call waits for its task to unwind (so its connection is dropped)."""

_fork_generation = 0


def _after_fork_in_child() -> None:
    global _fork_generation
    _fork_generation += 1


os.register_at_fork(after_in_child=_after_fork_in_child)


class _Call:
    """One blocking call: the task on the loop, and the wake-up the caller waits on until it ends."""

    __slots__ = ("done", "error", "result", "task")

    def __init__(self, done: Wakeup) -> None:
        self.done = done
        self.task: asyncio.Task[Any] | None = None
        self.result: Any = None
        self.error: BaseException | None = None

    def start(self, fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """Create the task; runs on the loop thread (see `Bridge._submit` for the shortcut)."""
        try:
            self.task = asyncio.ensure_future(self.run(fn, args, kwargs))
        except BaseException as exc:
            self.error = exc
            self.done.set()

    async def run(self, fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """The call, then the caller woken from inside the task: no done-callback, so no extra turn of the loop.

        ``fn`` is called here, on the loop thread, even when the task was made on the caller's.
        """
        try:
            self.result = await fn(*args, **kwargs)
        except asyncio.CancelledError:
            self.error = TelnyxError("The call was cancelled: the client was closed or the caller interrupted it.")
            raise
        except BaseException as exc:
            self.error = exc
            if not isinstance(exc, Exception):  # KeyboardInterrupt, SystemExit: the loop's to see, as before
                raise
        finally:
            self.done.set()

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()


_TASK_NAME = "telnyx-ai-sync-call"
"""Every bridged call's task name: a given name spares asyncio formatting ``Task-<n>`` per call."""


def _task_shortcut(loop: asyncio.AbstractEventLoop) -> tuple[Callable[[], None], int] | None:
    """How a caller wakes the loop after making its task on the caller's own thread, and the eventfd
    behind that wake-up (-1: the loop's self-pipe), or None when the caller must not make tasks.

    Only asyncio's selector loop with asyncio's own ``call_soon``: `asyncio.Task` queues its first step
    with it, which there appends to a deque, as ``call_soon_threadsafe`` does before it writes to the
    self-pipe. Another loop (uvloop) gets ``call_soon_threadsafe`` and a callback, and so does every call
    while the loop has a task factory or is in debug mode (`Bridge._submit` checks those per call). On
    Linux the wake-up is an eventfd of the bridge's own, read once per wake; the self-pipe takes two reads
    and raises BlockingIOError in Python to find it empty.
    """
    write_to_self: Callable[[], None] | None = getattr(loop, "_write_to_self", None)
    if (
        write_to_self is None
        or not isinstance(loop, BaseSelectorEventLoop)
        or type(loop).call_soon is not asyncio.BaseEventLoop.call_soon
    ):
        return None
    if not hasattr(os, "eventfd"):
        return write_to_self, -1
    try:
        fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
    except OSError:  # out of descriptors: the self-pipe does the same job
        return write_to_self, -1
    loop.add_reader(fd, _drain_eventfd, fd)  # before the loop runs: no other thread touches it yet
    return functools.partial(os.eventfd_write, fd, 1), fd


def _drain_eventfd(fd: int) -> None:
    try:  # noqa: SIM105 (once per call: a bare try costs less than contextlib.suppress)
        os.eventfd_read(fd)
    except BlockingIOError:  # not expected (this is its only reader): nothing to clear
        pass


class _Gate:
    """Whether the loop still takes calls, and the lock that callers and the loop thread check it under.

    The loop thread shuts it as soon as the loop stops, however it stopped (`Bridge.close`, the finalizer
    at exit, a call that raised SystemExit): after that no caller is between making its task and waking
    the loop, so the wake-up's eventfd can be closed, and no call is queued on a loop that will not run it.
    Re-entrant, so a finalizer that schedules cleanup (`Bridge.call_soon`) from a garbage collection inside
    a call's locked section does not deadlock its own thread.
    """

    __slots__ = ("lock", "open")

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.open = True

    def shut(self) -> None:
        with self.lock:
            self.open = False


def _run_loop(loop: asyncio.AbstractEventLoop, wake_fd: int, gate: _Gate) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        gate.shut()
        try:
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            if tasks:
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            asyncio.set_event_loop(None)
            _close_loop(loop, wake_fd)


def _close_loop(loop: asyncio.AbstractEventLoop, wake_fd: int) -> None:
    """Close the loop, and the bridge's eventfd first if it has one (``wake_fd`` -1: none)."""
    if wake_fd >= 0:
        loop.remove_reader(wake_fd)
        os.close(wake_fd)
    loop.close()


def _shutdown(
    loop: asyncio.AbstractEventLoop,
    thread: threading.Thread,
    on_close: Callable[[], Awaitable[None]],
    generation: int,
) -> None:
    """Close the pool, stop the loop and join its thread. Holds no reference to the bridge."""
    if generation != _fork_generation or loop.is_closed() or not thread.is_alive():
        return  # a forked child, or already stopped

    async def close_then_stop() -> None:
        try:
            await on_close()
        finally:
            loop.stop()

    if threading.current_thread() is thread:
        # Collected on the loop thread itself: it cannot wait for itself, so just schedule.
        _keep(loop.create_task(close_then_stop()))
        return
    try:
        asyncio.run_coroutine_threadsafe(close_then_stop(), loop).result(_CLOSE_TIMEOUT)
    except Exception:  # the loop is stopped either way below
        logger.debug("Closing the sync client's connection pool failed", exc_info=True)
        loop.call_soon_threadsafe(loop.stop)
    thread.join(_CLOSE_TIMEOUT)


class Bridge:
    """Runs coroutines on a private event loop thread for blocking callers.

    ``on_close`` is awaited on the loop when the bridge closes (it closes the connection pool).
    """

    __slots__ = (
        "__weakref__",
        "_closed",
        "_finalizer",
        "_gate",
        "_generation",
        "_loop",
        "_thread",
        "_thread_id",
        "_wake_loop",
    )

    def __init__(self, on_close: Callable[[], Awaitable[None]]) -> None:
        self._loop = asyncio.new_event_loop()
        shortcut = _task_shortcut(self._loop)
        self._wake_loop: Callable[[], None] | None
        self._wake_loop, wake_fd = shortcut if shortcut is not None else (None, -1)
        self._gate = _Gate()
        self._thread = threading.Thread(
            target=_run_loop, args=(self._loop, wake_fd, self._gate), name="telnyx-ai-sync-loop", daemon=True
        )
        try:
            self._thread.start()
        except BaseException:  # no thread (RuntimeError: can't start new thread): nothing else will close these
            _close_loop(self._loop, wake_fd)
            raise
        self._thread_id = self._thread.ident
        self._generation = _fork_generation
        self._closed = False
        self._finalizer = weakref.finalize(self, _shutdown, self._loop, self._thread, on_close, self._generation)

    @property
    def closed(self) -> bool:
        return self._closed

    def _check_caller(self) -> None:
        if self._generation != _fork_generation:
            raise TelnyxError(
                "This sync Telnyx client was created before os.fork(): its loop thread and sockets belong to "
                "the parent process. Create a new client in the child."
            )
        if threading.get_ident() == self._thread_id:
            raise TelnyxError(
                "A blocking Telnyx call was made from the client's own event loop thread, which would deadlock. "
                "Inside async code, use AsyncTelnyx and await it."
            )

    def call(self, fn: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn(*args, **kwargs)`` on the loop and block until it returns or raises.

        An exception in the caller while waiting (KeyboardInterrupt) cancels the task.
        """
        self._check_caller()
        done = wakeup_for_this_thread()
        woken = False
        try:
            call = _Call(done)
            gate = self._gate
            with gate.lock:  # the loop cannot stop taking calls between this check and the scheduling
                if self._closed:
                    raise TelnyxError("This client is closed; create a new one.")
                if not gate.open:
                    raise TelnyxError("This client's event loop thread has stopped; create a new client.")
                try:
                    self._submit(call, fn, args, kwargs)
                except BaseException:  # an interrupt after the task was made: it must not run on unseen
                    if call.task is not None:
                        self._loop.call_soon_threadsafe(call.cancel)
                    raise
            try:
                woken = done.wait()
            except BaseException:
                if not self._loop.is_closed():
                    self._loop.call_soon_threadsafe(call.cancel)
                    woken = done.wait(_CANCEL_WAIT)
                raise
        finally:
            if not woken:  # an interrupt, maybe after the task was queued: it may still set this wake-up
                done.retire()
            done.release()
        error = call.error
        if error is not None:
            try:
                raise error
            finally:
                del error, call
        return call.result  # type: ignore[no-any-return]

    def _submit(
        self, call: _Call, fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        """Queue the call's task on the loop and wake the loop (under the gate's lock, the gate open)."""
        loop = self._loop
        wake = self._wake_loop
        # Debug mode checks that only the loop's thread queues callbacks; a task factory (set at any
        # time, by a tracer say) must make every task, on the loop's thread as it would expect.
        if wake is None or loop.get_debug() or loop.get_task_factory() is not None:
            loop.call_soon_threadsafe(call.start, fn, args, kwargs)
            return
        # The task is made here, on the caller's thread: its first step is queued as call_soon_threadsafe
        # queues a callback, then the loop is woken. The step then runs in the turn of the loop that wakes,
        # not one turn later behind a callback that makes the task (a turn is a few µs and an epoll call).
        # If an interrupt lands in between, the coroutine may already be queued: `call` cancels the task,
        # and the coroutine is never closed here, off the loop's thread.
        call.task = asyncio.Task(call.run(fn, args, kwargs), loop=loop, name=_TASK_NAME)
        wake()

    def call_soon(self, fn: Callable[[], object], /) -> None:
        """Schedule ``fn()`` (awaited if it returns an awaitable) without waiting; for cleanup from any thread."""
        if self._generation != _fork_generation:
            return
        gate = self._gate
        with gate.lock:
            if self._closed or not gate.open:
                return
            self._loop.call_soon_threadsafe(_run_detached, fn)

    def close(self) -> None:
        """Close the connection pool and stop the loop thread. Safe to call twice."""
        if self._closed:
            return
        if self._generation != _fork_generation:  # a forked child: nothing here to stop (nor a lock to trust)
            self._closed = True
            return
        if threading.get_ident() == self._thread_id:
            raise TelnyxError("A sync Telnyx client cannot be closed from its own event loop thread.")
        with self._gate.lock:
            self._closed = True
        self._finalizer()


_detached: set[asyncio.Future[Any]] = set()
"""Strong references to cleanup tasks until they finish (the loop keeps only weak ones)."""


def _keep(task: asyncio.Future[Any]) -> None:
    _detached.add(task)
    task.add_done_callback(_detached.discard)


def _run_detached(fn: Callable[[], object]) -> None:
    try:
        result = fn()
        if isinstance(result, Awaitable):
            _keep(asyncio.ensure_future(cast("Awaitable[object]", result)))
    except Exception:
        logger.debug("A cleanup step on the sync client's loop failed", exc_info=True)


class SyncResource(Generic[R]):
    """Base of the generated sync resources: the async twin and the bridge that runs it."""

    def __init__(self, bridge: Bridge, resource: R) -> None:
        self._bridge = bridge
        self._async = resource

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"
