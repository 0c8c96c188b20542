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
        self._lock = threading.Lock()

    def decisions(self) -> Decisions:
        with self._lock:
            self._conn.send("decisions")
            accepted, refused, span = self._conn.recv()
        return Decisions(accepted, refused, span)


@contextmanager
def rate_limited_server(rate: float, *, latency: float, path: str) -> Generator[RateLimitedServer]:
    """A `MockServer` with ``set_rate_limit(rate, latency=latency, retry_after=None, path=path)``, in a child."""
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(child, rate, latency, path), daemon=True
    )
    process.start()
    try:
        if not parent.poll(60):
            raise RuntimeError("the rate-limited server did not start within 60 s")
        yield RateLimitedServer(parent.recv(), parent)
        parent.send(None)
        process.join(10)
    finally:
        if process.is_alive():
            process.terminate()
            process.join(10)
        parent.close()


def _serve(conn: Connection, rate: float, latency: float, path: str) -> None:
    from telnyx_ai.testing import MockServer

    with MockServer.in_thread() as server:
        limiter = server.set_rate_limit(rate, latency=latency, retry_after=None, path=path)
        conn.send(server.url)
        while conn.recv() is not None:
            decided = limiter.decisions
            span = decided[-1][0] - decided[0][0] if decided else 0.0
            conn.send((limiter.accepted, limiter.refused, span))
