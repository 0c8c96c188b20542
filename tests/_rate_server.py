"""The emulator's rate-limit mode in a process of its own, for tests whose clients run in other processes (Ray).

In the test process the server's thread shares the GIL with pytest. After some thousand tests a pause
there (a full collection of a large heap) holds the server back for half a second; the requests that
waited are then decided in one burst, and the token bucket refuses most of them. Those 429s were made by
the test process, not by the clients, so a test that counts 429s runs its server here instead.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Generator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

_ANSWER_WITHIN = 60.0
"""Seconds to wait for the server to start or answer: a server that died fails the test, not hangs it."""


@dataclass(frozen=True)
class Decisions:
    """What the server's token bucket decided so far."""

    accepted: int
    refused: int
    span: float
    """Seconds from its first decision to its last."""

    @property
    def share_refused(self) -> float:
        return self.refused / max(1, self.accepted + self.refused)


class RateLimitedServer:
    """A running server process: its URL, and its decisions on request (from any thread)."""

    def __init__(self, url: str, conn: Connection) -> None:
        self.url = url
        self._conn = conn
        self._lock = threading.Lock()  # one question and its answer at a time on the pipe

    def decisions(self) -> Decisions:
        with self._lock:
            self._conn.send("decisions")
            accepted, refused, span = _receive(self._conn)
        return Decisions(int(accepted), int(refused), float(span))

    def stop(self) -> None:
        with self._lock:
            self._conn.send(None)


@contextmanager
def rate_limited_server(rate: float, *, latency: float, path: str) -> Generator[RateLimitedServer]:
    """A `MockServer` with ``set_rate_limit(rate, latency=latency, retry_after=None, path=path)``, in a child."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_serve, args=(child, rate, latency, path), daemon=True)
    process.start()
    child.close()  # the child's copy: a server that dies is then an EOFError here, not a wait
    try:
        server = RateLimitedServer(str(_receive(parent)), parent)
        yield server
        server.stop()
        process.join(10)
    finally:
        if process.is_alive():
            process.terminate()
            process.join(10)
        parent.close()


def _receive(conn: Connection) -> Any:
    if not conn.poll(_ANSWER_WITHIN):
        raise RuntimeError(f"the rate-limited server did not answer within {_ANSWER_WITHIN:g} s")
    return conn.recv()


def _serve(conn: Connection, rate: float, latency: float, path: str) -> None:
    from telnyx_ai.testing import MockServer

    with MockServer.in_thread() as server:
        limiter = server.set_rate_limit(rate, latency=latency, retry_after=None, path=path)
        conn.send(server.url)
        while conn.recv() is not None:
            decided = limiter.decisions
            span = decided[-1][0] - decided[0][0] if decided else 0.0
            conn.send((limiter.accepted, limiter.refused, span))
