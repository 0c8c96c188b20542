"""Compact vectors: a batch job's client CPU and peak memory, floats against base64 and float32 arrays.

``python -m benchmarks.vectors [--scale F] [--only NAME] [--out DIR]`` embeds ``50,000 * scale`` inputs
at 1,024 dimensions, 64 per request and 16 in flight, against a local aiohttp server in a child
process (its CPU is not counted) that either honours ``encoding_format: "base64"`` or ignores it
(answers floats). Each (server, contender) runs in a fresh process (``--job``) so its peak RSS
(``VmHWM``) is its own. Contenders: the float floor (aiohttp + msgspec, lists), openai-python's default
(base64, lists; when installed), telnyx_ai's ``embed_many`` default and with ``as_numpy=True``.
Reports client CPU per 1,000 vectors, its ratio to the floor's against the same server, peak RSS and
the RSS before the job (the interpreter with its imports); appends the table to ``results.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import struct
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

__all__ = ["CONTENDERS", "main", "measure", "serve"]

DIM = 1024
BATCH = 64
IN_FLIGHT = 16
INPUTS = 50_000
MODEL = "thenlper/gte-large"
RESULTS = Path(__file__).resolve().parent / "results"
REPO = Path(__file__).resolve().parent.parent


def _vectors(seed: int = 7) -> list[list[float]]:
    """BATCH vectors of float32-exact values (multiples of 1/4096), so both encodings carry the same numbers."""
    rng = random.Random(seed)
    return [[rng.randrange(-4096, 4096) / 4096 for _ in range(DIM)] for _ in range(BATCH)]


def _bodies() -> dict[tuple[str, int], bytes]:
    """Canned replies by (encoding, batch size): the server only picks one."""
    vectors = _vectors()
    bodies: dict[tuple[str, int], bytes] = {}
    for size in range(1, BATCH + 1):
        for encoding in ("float", "base64"):
            data = [
                {
                    "object": "embedding",
                    "index": i,
                    "embedding": vectors[i]
                    if encoding == "float"
                    else base64.b64encode(struct.pack(f"<{DIM}f", *vectors[i])).decode(),
                }
                for i in range(size)
            ]
            usage = {"prompt_tokens": size, "total_tokens": size}
            body = {"object": "list", "data": data, "model": MODEL, "usage": usage}
            bodies[encoding, size] = json.dumps(body).encode()
    return bodies


def serve(honour: bool, ready: Callable[[str], None]) -> None:
    """Serve embeddings on a free port until killed; ``ready`` gets the base URL."""
    import msgspec
    from aiohttp import web

    bodies = _bodies()

    async def embeddings(request: web.Request) -> web.Response:
        body = msgspec.json.decode(await request.read())
        encoding = "base64" if honour and body.get("encoding_format") == "base64" else "float"
        return web.Response(body=bodies[encoding, len(body["input"])], content_type="application/json")

    async def main() -> None:
        app = web.Application()
        for path in ("/v2/ai/openai/embeddings", "/openai/v1/embeddings"):
            app.router.add_post(path, embeddings)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        ready(f"http://127.0.0.1:{port}")
        await asyncio.Event().wait()

    asyncio.run(main())


def _rss(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


# -- contenders: each embeds the texts and returns the sum of the first value of every vector --------

Job = Callable[[str, list[str]], Awaitable[float]]


def _floor_reply_type() -> type:
    """The floor's response type: floats only, the fields it reads (defined here: msgspec is imported lazily)."""
    import msgspec

    item = msgspec.defstruct("Item", [("embedding", list[float]), ("index", int)])
    return msgspec.defstruct("Reply", [("data", list[item])])  # type: ignore[valid-type]


async def _floor(url: str, texts: list[str]) -> float:
    import aiohttp
    import msgspec

    decode = msgspec.json.Decoder(_floor_reply_type()).decode
    encode = msgspec.json.Encoder().encode
    results: list[list[float] | None] = [None] * len(texts)
    gate = asyncio.Semaphore(IN_FLIGHT)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=IN_FLIGHT)) as session:

        async def one(start: int) -> None:
            batch = texts[start : start + BATCH]
            async with (
                gate,
                session.post(
                    f"{url}/v2/ai/openai/embeddings",
                    data=encode({"input": batch, "model": MODEL, "encoding_format": "float"}),
                    headers={"Content-Type": "application/json"},
                ) as response,
            ):
                response.raise_for_status()
                reply = decode(await response.read())
            for item in reply.data:
                results[start + item.index] = item.embedding

        await asyncio.gather(*(one(start) for start in range(0, len(texts), BATCH)))
    return sum(vector[0] for vector in results if vector is not None)


async def _openai(url: str, texts: list[str]) -> float:
    import openai

    results: list[list[float] | None] = [None] * len(texts)
    gate = asyncio.Semaphore(IN_FLIGHT)
    async with openai.AsyncOpenAI(api_key="bench", base_url=f"{url}/openai/v1") as client:

        async def one(start: int) -> None:
            async with gate:
                reply = await client.embeddings.create(input=texts[start : start + BATCH], model=MODEL)
            for item in reply.data:
                results[start + item.index] = item.embedding

        await asyncio.gather(*(one(start) for start in range(0, len(texts), BATCH)))
    return sum(vector[0] for vector in results if vector is not None)


async def _telnyx_ai(url: str, texts: list[str]) -> float:
    from telnyx_ai import AsyncTelnyx

    async with AsyncTelnyx(api_key="bench", base_url=f"{url}/v2") as client:
        vectors = await client.ai.openai.embeddings.embed_many(texts, model=MODEL, concurrency=IN_FLIGHT)
    return sum(vector[0] for vector in vectors)


async def _telnyx_ai_numpy(url: str, texts: list[str]) -> float:
    from telnyx_ai import AsyncTelnyx

    async with AsyncTelnyx(api_key="bench", base_url=f"{url}/v2") as client:
        array = await client.ai.openai.embeddings.embed_many(texts, model=MODEL, concurrency=IN_FLIGHT, as_numpy=True)
    if array.shape != (len(texts), DIM) or str(array.dtype) != "float32":
        raise SystemExit(f"telnyx_ai_numpy: got an array of {array.shape} {array.dtype}")
    return float(array[:, 0].astype("float64").sum())


CONTENDERS: dict[str, tuple[Job, str]] = {
    "floor": (_floor, "aiohttp + msgspec, floats, lists"),
    "openai": (_openai, "openai-python default (base64, lists)"),
    "telnyx_ai": (_telnyx_ai, "embed_many default (base64, lists)"),
    "telnyx_ai_numpy": (_telnyx_ai_numpy, "embed_many as_numpy=True"),
}


def measure(name: str, url: str, inputs: int) -> dict[str, Any]:
    """Run one contender in this process: its CPU, wall time and memory, checked against the expected sum."""
    job = CONTENDERS[name][0]
    if name == "openai":
        import openai  # noqa: F401  (imported before the baseline, like the others' packages)
    import aiohttp  # noqa: F401

    import telnyx_ai  # noqa: F401

    if name == "telnyx_ai_numpy":
        import numpy  # noqa: F401
    texts = [f"document number {n}" for n in range(inputs)]
    baseline = _rss("VmRSS")
    cpu, wall = time.process_time(), time.perf_counter()
    total = asyncio.run(job(url, texts))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    vectors = _vectors()
    expected = sum(vectors[n % BATCH][0] for n in range(inputs))
    if abs(total - expected) > 1e-6 * max(1.0, abs(expected)):
        raise SystemExit(f"{name}: the vectors' sum {total} is not the expected {expected}")
    return {"cpu": cpu, "wall": wall, "peak_rss": _rss("VmHWM"), "baseline_rss": baseline, "inputs": inputs}


def _start_server(honour: bool) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "benchmarks.vectors", "--serve", "honour" if honour else "ignore"]
    pin = ["taskset", "-c", "0"] if (os.cpu_count() or 1) >= 2 and _has("taskset") else []
    server = subprocess.Popen([*pin, *command], cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    return server, server.stdout.readline().strip()


def _has(program: str) -> bool:
    return any((Path(d) / program).exists() for d in os.environ.get("PATH", "").split(os.pathsep))


def _available(name: str) -> bool:
    module = {"openai": "openai", "telnyx_ai_numpy": "numpy"}.get(name)
    if module is None:
        return True
    import importlib.util

    return importlib.util.find_spec(module) is not None


def run(scale: float, only: set[str] | None = None) -> list[dict[str, Any]]:
    inputs = max(BATCH, int(INPUTS * scale))
    pin = ["taskset", "-c", "1"] if (os.cpu_count() or 1) >= 2 and _has("taskset") else []
    rows: list[dict[str, Any]] = []
    for honour in (True, False):
        server, url = _start_server(honour)
        try:
            for name in CONTENDERS:
                if (only and name not in only) or not _available(name):
                    continue
                command = [*pin, sys.executable, "-m", "benchmarks.vectors", "--job", name, url, str(inputs)]
                done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=900, check=False)
                if done.returncode != 0:
                    raise SystemExit(f"{name} failed:\n{done.stderr[-2000:]}")
                result = json.loads(done.stdout.strip().splitlines()[-1])
                rows.append({"server": "honours base64" if honour else "ignores base64", "name": name, **result})
        finally:
            server.kill()
            server.wait()
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    inputs = rows[0]["inputs"] if rows else 0
    array_mib = inputs * DIM * 4 / 2**20
    lines = [
        "",
        f"## Compact vectors: {inputs:,} inputs x {DIM} dims through embed_many ({BATCH} per request, {IN_FLIGHT} in flight)",
        "",
        f"The float32 array is {array_mib:.0f} MiB. CPU is the client process's; x floor is against the same server.",
        "",
        "| server | contender | CPU ms / 1,000 vectors | x floor | peak RSS MiB | RSS before MiB |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        floor = next((r for r in rows if r["server"] == row["server"] and r["name"] == "floor"), None)
        per_k = row["cpu"] / row["inputs"] * 1e6
        ratio = f"{per_k / (floor['cpu'] / floor['inputs'] * 1e6):.2f}x" if floor else "-"
        label = CONTENDERS[row["name"]][1]
        lines.append(
            f"| {row['server']} | {label} | {per_k:.1f} | {ratio} | {row['peak_rss'] / 2**20:.0f} "
            f"| {row['baseline_rss'] / 2**20:.0f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.vectors", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the 50,000 inputs")
    parser.add_argument("--only", action="append", default=[], help="contender names (the floor always runs)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--serve", choices=["honour", "ignore"], help=argparse.SUPPRESS)
    parser.add_argument("--job", nargs=3, metavar=("NAME", "URL", "INPUTS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve == "honour", lambda url: print(url, flush=True))
        return 0
    if args.job:
        name, url, inputs = args.job
        print(json.dumps(measure(name, url, int(inputs))))
        return 0
    only = set(args.only) | {"floor"} if args.only else None
    rows = run(args.scale, only)
    text = markdown(rows)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "vectors.json").write_text(json.dumps(rows, indent=1) + "\n")
    with open(args.out / "results.md", "a", encoding="utf-8") as report:
        report.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
