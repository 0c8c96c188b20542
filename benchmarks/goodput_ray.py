"""The goodput benchmark's Ray rows: 4 Ray Data workers (`telnyx_ai.ray_data.TelnyxEmbedder`) sharing one rate limit.

Each worker builds its own client and paces through the shared controller (a small Ray actor), against
the same rate-limited emulator as `benchmarks.goodput`'s other contenders. A second row kills one worker
process (SIGKILL, by the pid it wrote at start) once the server has accepted half the requests: Ray
restarts the worker and runs its block again, and the job must still return every row exactly once (the
chunks the dead worker had embedded are served by the shared actor, not sent again).

The settings are the ones the embeddings guide recommends (docs/pages/embeddings.md, "Ray Data"): two
blocks at a time per worker, so one block's last round trip overlaps the next one's requests, and no more
than two tasks queued per worker.

Ray starts once per process (`start`, on 2 of this host's cores) and its workers take a few seconds to
import; so the workers wait for each other before the first request, and the Ray rows are timed from the
server's first request to its last answer, not from the call.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from telnyx_ai.ray_data import TelnyxEmbedder

__all__ = ["RAY_ROWS", "PidNotingEmbedder", "available", "contenders", "start", "stop"]

WORKERS = 4
BLOCK_ROWS = 2048
"""Rows per ``map_batches`` call: 128 requests of 16, so a worker's tail (its last answers) is short next to its block."""
REPO = Path(__file__).resolve().parent.parent

RAY_ROWS = ("Ray Data, 4 workers", "Ray Data, 4 workers, one killed half-way")


class PidNotingEmbedder(TelnyxEmbedder):
    """`TelnyxEmbedder` that writes its process id into ``pid_dir``, so the benchmark can kill that very process,
    and waits (up to a minute) until all ``workers`` have started, so none runs alone while the others import."""

    def __init__(self, *, pid_dir: str, workers: int, **settings: Any) -> None:
        super().__init__(**settings)
        Path(pid_dir, str(os.getpid())).touch()
        deadline = time.monotonic() + 60
        while len(os.listdir(pid_dir)) < workers and time.monotonic() < deadline:
            time.sleep(0.01)


def available() -> bool:
    try:
        import ray.data  # noqa: F401
    except ImportError:
        return False
    return True


def start() -> None:
    """A local Ray instance for the Ray rows (idempotent); workers import this checkout's ``benchmarks``."""
    import ray
    import ray.data

    if not ray.is_initialized():
        logging.getLogger("ray").setLevel(logging.WARNING)  # no progress lines in the benchmark's table
        ray.data.DataContext.get_current().enable_progress_bars = False
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
            runtime_env={"env_vars": {"PYTHONPATH": str(REPO)}},
        )


def stop() -> None:
    import ray

    if ray.is_initialized():
        ray.shutdown()


def _kill_one_worker_half_way(
    pid_dir: Path, half: Callable[[], bool], done: threading.Event, killed: list[int]
) -> None:
    """Once ``half()`` says the server accepted half the requests, SIGKILL one worker the run started."""
    while not done.is_set():
        if half():
            pids = sorted(int(path.name) for path in pid_dir.iterdir())
            if pids:
                os.kill(pids[0], signal.SIGKILL)  # a process this run's Ray started, by its own id
                killed.append(pids[0])
                return
        time.sleep(0.02)


Contender = Callable[[str, list[list[str]]], Awaitable[int]]


def _ray(kill: bool, accepted: Callable[[], int], block_rows: int) -> Contender:
    async def run(url: str, batches: list[list[str]]) -> int:
        import ray.data

        from benchmarks.goodput import BATCH, DIMENSIONS, MODEL

        start()
        rows = [{"id": n, "text": text} for n, text in enumerate(text for batch in batches for text in batch)]
        with tempfile.TemporaryDirectory(prefix="goodput-ray-") as pid_dir:
            settings = {
                "model": MODEL,
                "api_key": f"bench-{time.monotonic_ns()}",  # a fresh shared controller per run
                "base_url": url,
                "request_batch_size": BATCH,
                "dimensions": DIMENSIONS,
                "pid_dir": pid_dir,
                "workers": WORKERS,
            }
            dataset = ray.data.from_items(rows).map_batches(
                PidNotingEmbedder,
                fn_constructor_kwargs=settings,
                # At least 4 blocks per worker, so a small run (--scale) still has work left to kill a worker in.
                batch_size=min(block_rows, max(64, len(rows) // (WORKERS * 4))),
                # Two blocks at a time per worker (see the guide): a block's last round trip is not idle time.
                compute=ray.data.ActorPoolStrategy(
                    size=WORKERS,
                    max_concurrent_calls_per_actor=2,
                    max_tasks_in_flight_per_actor=2,
                    enable_true_multi_threading=True,
                ),
                num_cpus=0.25,
            )
            done, killed = threading.Event(), list[int]()
            killer = None
            if kill:
                half = len(batches) // 2
                killer = threading.Thread(
                    target=_kill_one_worker_half_way,
                    args=(Path(pid_dir), lambda: accepted() >= half, done, killed),
                    daemon=True,
                )
                killer.start()
            try:
                out = await asyncio.to_thread(dataset.take_all)
            finally:
                done.set()
                if killer is not None:
                    killer.join(5)
            if kill and not killed:
                raise RuntimeError("the job ended before a worker could be killed half-way")
        embedded = [int(row["id"]) for row in out if len(row["embedding"]) == DIMENSIONS]
        if len(embedded) != len(set(embedded)):
            raise AssertionError("a row came back twice")
        return len(rows) - len(set(embedded))

    return run


def contenders(accepted: Callable[[], int], block_rows: int = BLOCK_ROWS) -> dict[str, Contender]:
    """The Ray rows; ``accepted()`` is how many requests the server has accepted so far (for the kill)."""
    if not available():
        return {}
    return {RAY_ROWS[0]: _ray(False, accepted, block_rows), RAY_ROWS[1]: _ray(True, accepted, block_rows)}
