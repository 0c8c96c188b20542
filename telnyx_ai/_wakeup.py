"""How the sync bridge's loop thread wakes a caller blocked on its call.

A ``threading.Lock`` released by the loop thread wakes the caller while the loop thread still holds
the GIL: the woken caller preempts it, finds the GIL taken, and sleeps again until the loop goes
back to waiting. That is three thread switches for one wake-up (six per call with the hand-over),
about a fifth of a small sync call's time when both threads share a CPU. On Linux the caller
blocks in ``os.eventfd_read`` instead, and the loop thread wakes it with ``os.eventfd_write``:
both run without the GIL, so the caller wakes up holding it and the call costs two switches.

One eventfd serves every call of a thread, one call at a time. A wake-up that may still come for a
call the caller gave up on (an interrupt the task did not unwind from in time) would end the
thread's next wait early, so that eventfd is retired and closed once nothing can write to it. A
forked child drops the one it inherited: the kernel object is shared with the parent's.
"""

from __future__ import annotations

import os
import select
import threading

__all__ = ["Wakeup", "wakeup_for_this_thread"]


class Wakeup:
    """A one-shot wake-up: ``set`` from the loop thread, ``wait`` in the caller's."""

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()

    def set(self) -> None:
        self._lock.release()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until `set` (True) or ``timeout`` seconds pass (False)."""
        if timeout is None:
            return self._lock.acquire()
        return self._lock.acquire(timeout=timeout)

    def retire(self) -> None:
        """The caller gave up waiting: this wake-up is never waited on again."""

    def release(self) -> None:
        """The call is over (woken or retired): the wake-up may serve the thread's next call."""


class _EventfdWakeup(Wakeup):
    """`Wakeup` on a Linux eventfd, reused by one thread's calls (see the module docstring)."""

    __slots__ = ("_fd", "in_use")

    def __init__(self) -> None:  # no super().__init__: no lock here
        self._fd = -1
        self._fd = os.eventfd(0, os.EFD_CLOEXEC)
        self.in_use = False

    def set(self) -> None:
        os.eventfd_write(self._fd, 1)

    def wait(self, timeout: float | None = None) -> bool:
        if timeout is not None:
            poller = select.poll()  # not select.select: it refuses descriptors past 1023
            poller.register(self._fd, select.POLLIN)
            if not poller.poll(timeout * 1000):  # retried after a signal whose handler returns (PEP 475)
                return False
        while True:
            try:
                os.eventfd_read(self._fd)
                return True
            except InterruptedError:  # a signal whose handler returned (one that raises got through)
                continue

    def retire(self) -> None:
        if getattr(_local, "wakeup", None) is self:
            _local.wakeup = None

    def release(self) -> None:
        self.in_use = False

    def __del__(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)


_local = threading.local()
_HAS_EVENTFD = hasattr(os, "eventfd")


def _forget_after_fork() -> None:
    """A forked child shares its parent's eventfds: its calls must not wake, or be woken by, the parent's."""
    _local.wakeup = None


if _HAS_EVENTFD:
    os.register_at_fork(after_in_child=_forget_after_fork)


def wakeup_for_this_thread() -> Wakeup:
    """The calling thread's reusable eventfd wake-up, or a fresh lock one (other systems, a nested call)."""
    if not _HAS_EVENTFD:
        return Wakeup()
    wakeup: _EventfdWakeup | None = getattr(_local, "wakeup", None)
    try:
        if wakeup is None:
            wakeup = _local.wakeup = _EventfdWakeup()
        elif wakeup.in_use:  # a call made while this thread waits on another (a signal handler): its own
            return _EventfdWakeup()
    except OSError:  # out of file descriptors: the lock works without one
        return Wakeup()
    wakeup.in_use = True
    return wakeup
