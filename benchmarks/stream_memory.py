"""What one open stream holds, by the line that allocated it (tracemalloc), for a many-streams contender.

    python -m benchmarks.stream_memory NAME [--streams 50] [--chunks 100] [--interval 0.02] [--top 15]

Starts `benchmarks.paced_server`, opens ``--streams`` streams at once with contender ``NAME`` (a key of
`benchmarks.many_streams.CONTENDERS`), and near their end, with every stream still open and most of its
chunks read, compares a tracemalloc snapshot with one taken before the streams started. Prints the bytes per
open stream in all and by allocation site: where the RSS per open stream of the many-streams table goes.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tracemalloc

from .contenders import by_name
from .many_streams import CONTENDERS, REPO

__all__ = ["main", "per_stream"]


async def _snapshots(
    name: str, root: str, streams: int, chunks: int, interval: float
) -> tuple[tracemalloc.Snapshot, ...]:
    contender_name, how, _ = CONTENDERS[name]
    contender = by_name(contender_name).load()
    await contender.open(root, f"/chunks/{chunks}", streams)
    read = getattr(contender, how)
    await asyncio.gather(*(read() for _ in range(2)))  # imports, caches, the code paths
    tracemalloc.start(1)
    before = tracemalloc.take_snapshot()
    tasks = [asyncio.ensure_future(read()) for _ in range(streams)]
    await asyncio.sleep((chunks - 2) * interval)  # every stream open, nearly all its chunks read
    during = tracemalloc.take_snapshot()
    await asyncio.gather(*tasks)
    tracemalloc.stop()
    await contender.close()
    return before, during


def per_stream(name: str, root: str, streams: int, chunks: int, interval: float) -> list[tuple[str, float]]:
    """(allocation site, bytes per open stream), largest first, the total first of all."""
    before, during = asyncio.run(_snapshots(name, root, streams, chunks, interval))
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__)]
    stats = during.filter_traces(ignore).compare_to(before.filter_traces(ignore), "lineno")
    total = sum(stat.size_diff for stat in stats)
    sites = [(str(stat.traceback[0]), stat.size_diff / streams) for stat in stats if stat.size_diff > 0]
    return [("total", total / streams), *sorted(sites, key=lambda site: -site[1])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stream_memory", description=__doc__.split("\n\n")[0])
    parser.add_argument("name", choices=list(CONTENDERS))
    parser.add_argument("--streams", type=int, default=50)
    parser.add_argument("--chunks", type=int, default=100)
    parser.add_argument("--interval", type=float, default=0.02)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)
    command = [sys.executable, "-m", "benchmarks.paced_server", "--interval", str(args.interval)]
    server = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        root = server.stdout.readline().strip()
        sites = per_stream(args.name, root, args.streams, args.chunks, args.interval)
    finally:
        server.terminate()
        server.wait(10)
    print(f"{args.name}: bytes per open stream after about {args.chunks - 2} of {args.chunks} chunks")
    for site, size in sites[: args.top + 1]:
        print(f"{size:10.0f}  {site}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
