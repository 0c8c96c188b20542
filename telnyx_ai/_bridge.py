"""The runtime under the sync `Telnyx` client: one event loop in a background thread.

A `Bridge` owns an asyncio loop running in a daemon thread. Each blocking call hands a
coroutine function to that loop and blocks until the task wakes it (`_wakeup`), so any
number of threads share one `AsyncTelnyx` and its connection pool. The caller's thread may
itself run an event loop (a Jupyter cell, an async handler calling sync code): it is simply
blocked for the call, never re-entered.

Why an explicit loop thread and not ``anyio.from_thread.start_blocking_portal``: both do the
same job, but the portal wraps every call in a task group, a cancel scope and a
``concurrent.futures.Future``; handing the task over with ``call_soon_threadsafe`` and a direct wake-up
measured 2-3x cheaper per hop (35-75 µs against 85-130 µs on a 2-CPU dev machine; see
``benchmarks/bench_sync_bridge.py``), and it lets an interrupted caller wait for the
cancelled task to unwind before re-raising.

Lifetime: `close` closes the pool, stops the loop, shuts its executor down and joins the
thread. A `weakref.finalize` does the same for a bridge nobody closed (it runs when the last
client, resource, stream or paginator using it is collected, or at interpreter exit).

``os.fork()``: the loop thread does not exist in the child, and the pool's sockets are the
parent's. A bridge used in a forked child raises `TelnyxError` asking for a new client; its
finalizer does nothing there, so the child never touches the parent's connections.
"""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
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
        # Runs on the loop thread.
        try:
            self.task = asyncio.ensure_future(self.run(fn(*args, **kwargs)))
        except BaseException as exc:
            self.error = exc
            self.done.set()

    async def run(self, awaitable: Awaitable[Any]) -> None:
        """The call, then the caller woken from inside the task: no done-callback, so no extra turn of the loop."""
        try:
            self.result = await awaitable
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


def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
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

    __slots__ = ("__weakref__", "_closed", "_finalizer", "_generation", "_lock", "_loop", "_thread", "_thread_id")

    def __init__(self, on_close: Callable[[], Awaitable[None]]) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=_run_loop, args=(self._loop,), name="telnyx-ai-sync-loop", daemon=True)
        self._thread.start()
        self._thread_id = self._thread.ident
        self._generation = _fork_generation
        self._lock = threading.Lock()
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
            with self._lock:  # close() cannot stop the loop between this check and the scheduling
                if self._closed:
                    raise TelnyxError("This client is closed; create a new one.")
                try:
                    self._loop.call_soon_threadsafe(call.start, fn, args, kwargs)
                except RuntimeError as exc:  # the loop is closed: its thread is gone
                    raise TelnyxError("This client's event loop thread has stopped; create a new client.") from exc
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

    def call_soon(self, fn: Callable[[], object], /) -> None:
        """Schedule ``fn()`` (awaited if it returns an awaitable) without waiting; for cleanup from any thread."""
        if self._generation != _fork_generation:
            return
        with self._lock:
            if self._closed:
                return
            self._loop.call_soon_threadsafe(_run_detached, fn)

    def close(self) -> None:
        """Close the connection pool and stop the loop thread. Safe to call twice."""
        if self._closed:
            return
        if self._generation == _fork_generation and threading.get_ident() == self._thread_id:
            raise TelnyxError("A sync Telnyx client cannot be closed from its own event loop thread.")
        with self._lock:
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
