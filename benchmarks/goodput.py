"""Goodput under a rate limit: how close a batch embedding job comes to the server's rate.

``python -m benchmarks.goodput [--scale F] [--out DIR] [--no-chart]`` serves the emulator's rate-limit
mode (`MockServer.set_rate_limit`: a token bucket, burst 10, a latency per accepted request, 429s
otherwise) from a child process, and embeds ``32,000 * scale`` inputs at 16 per request with each
contender: ``embed_many`` at its default ceiling and at 64/256/512, and openai-python with an
``asyncio.Semaphore(64)`` at ``max_retries`` 2 and 8 (when installed). Per run: time / ideal (ideal
= requests / R, integrated over a changing R), the share of requests answered 429 and the inputs
given up. The rate-drop case also gets the 429 share from 5 s after the drop and the time from the
limit's return to 90 % of it, and a chart of accepted requests per second over time. Writes
``goodput.json`` and ``goodput.png`` and appends its table to ``results.md`` in ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

__all__ = ["CASES", "Case", "Outcome", "contenders", "main", "run_case"]

MODEL = "thenlper/gte-large"
DIMENSIONS = 8  # the emulator's vectors are cheap at this size: the server's CPU is not what is measured
BATCH = 16
BIN = 0.5
RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Case:
    """A rate-limited server: R requests/s, L s per accepted request, and changes of R at given times."""

    key: str
    title: str
    rate: float
    latency: float
    inputs: int
    retry_after: float | None = None
    schedule: tuple[tuple[float, float], ...] = ()
    """``(seconds after the first request, new rate)``."""

    def ideal(self, requests: int) -> float:
        """Seconds to send ``requests`` at exactly the allowed rate, following the schedule."""
        clock, left, rate = 0.0, float(requests), self.rate
        for at, new_rate in self.schedule:
            can = (at - clock) * rate
            if can >= left:
                break
            left, clock, rate = left - can, at, new_rate
        return clock + left / rate


CASES = [
    Case("r200", "R 200/s, L 0.2 s", 200, 0.2, 32_000),
    Case("r200_ra", "R 200/s, L 0.2 s, Retry-After: 1", 200, 0.2, 32_000, retry_after=1.0),
    Case("drop", "R 200/s, L 0.2 s; 50/s from 4 s to 10 s", 200, 0.2, 32_000, schedule=((4.0, 50), (10.0, 200))),
    Case("r100", "R 100/s, L 0.05 s", 100, 0.05, 8_000),
]


@dataclass
class Outcome:
    case: str
    title: str
    contender: str
    seconds: float
    ideal: float
    requests: int
    refused: int
    lost: int
    bins: list[tuple[float, int, int]] = field(default_factory=list[tuple[float, int, int]])
    late_429_share: float | None = None
    recovered_after: float | None = None

    @property
    def ratio(self) -> float:
        return self.seconds / self.ideal

    @property
    def share_429(self) -> float:
        return self.refused / max(1, self.requests)


# -- the server, in its own process -------------------------------------------------------------


def _serve(conn: Connection) -> None:
    import threading

    from telnyx_ai.testing import MockServer

    with MockServer.in_thread() as server:
        conn.send(server.url)
        while (command := conn.recv()) is not None:
            if command[0] == "limit":
                case: Case = command[1]
                limiter = server.set_rate_limit(
                    case.rate, latency=case.latency, retry_after=case.retry_after, headers=False
                )
                server.requests.clear()
                for at, rate in case.schedule:
                    threading.Timer(at, limiter.set_rate, (rate,)).start()
                conn.send("ok")
            else:
                limiter = server.rate_limit
                assert limiter is not None
                conn.send((limiter.accepted, limiter.refused, limiter.throughput(BIN)))
                server.requests.clear()


# -- contenders ---------------------------------------------------------------------------------

Contender = Callable[[str, list[list[str]]], Awaitable[int]]
"""Embeds the batches against the server at the URL; returns the inputs given up."""


def _embed_many(ceiling: int | None) -> Contender:
    async def run(url: str, batches: list[list[str]]) -> int:
        from telnyx_ai import AsyncTelnyx, EmbedManyError

        texts = [text for batch in batches for text in batch]
        async with AsyncTelnyx(api_key="bench", base_url=url, max_connections=512) as client:
            try:
                await client.ai.openai.embeddings.embed_many(
                    texts, model=MODEL, dimensions=DIMENSIONS, batch_size=BATCH, concurrency=ceiling
                )
            except EmbedManyError as exc:
                return len(exc.failed)
        return 0

    return run


def _openai(max_retries: int) -> Contender:
    async def run(url: str, batches: list[list[str]]) -> int:
        import openai

        client = openai.AsyncOpenAI(api_key="bench", base_url=f"{url}/ai/openai", max_retries=max_retries)
        gate = asyncio.Semaphore(64)

        async def one(batch: list[str]) -> int:
            async with gate:
                try:
                    await client.embeddings.create(
                        input=batch, model=MODEL, dimensions=DIMENSIONS, encoding_format="float"
                    )
                except openai.APIError:
                    return len(batch)
            return 0

        try:
            return sum(await asyncio.gather(*(one(batch) for batch in batches)))
        finally:
            await client.close()

    return run


def contenders() -> dict[str, Contender]:
    found: dict[str, Contender] = {
        "embed_many (default)": _embed_many(None),
        "embed_many, ceiling 64": _embed_many(64),
        "embed_many, ceiling 256": _embed_many(256),
        "embed_many, ceiling 512": _embed_many(512),
    }
    try:
        import openai  # noqa: F401
    except ImportError:
        return found
    found["openai-python, Semaphore(64), max_retries 2"] = _openai(2)
    found["openai-python, Semaphore(64), max_retries 8"] = _openai(8)
    return found


# -- running ------------------------------------------------------------------------------------


def _after_drop(case: Case, outcome: Outcome) -> None:
    """The rate-drop case's two targets: the 429 share 5 s after the drop, and the time back to 90 %."""
    (drop_at, _), (back_at, rate) = case.schedule
    late = [(a, r) for start, a, r in outcome.bins if drop_at + 5 <= start < back_at]
    accepted, refused = sum(a for a, _ in late), sum(r for _, r in late)
    outcome.late_429_share = refused / max(1, accepted + refused)
    for start, a, _ in outcome.bins:
        if start >= back_at and a / BIN >= 0.9 * rate:
            outcome.recovered_after = start + BIN - back_at
            break


def run_case(case: Case, name: str, contender: Contender, conn: Connection, url: str, scale: float) -> Outcome:
    inputs = max(BATCH, round(case.inputs * scale))
    texts = [f"goodput input {n} of {case.key}" for n in range(inputs)]
    batches = [texts[i : i + BATCH] for i in range(0, inputs, BATCH)]
    conn.send(("limit", case))
    assert conn.recv() == "ok"
    started = time.perf_counter()
    lost = asyncio.run(contender(url, batches))
    seconds = time.perf_counter() - started
    conn.send(("stats",))
    accepted, refused, bins = conn.recv()
    outcome = Outcome(
        case.key, case.title, name, seconds, case.ideal(len(batches)), accepted + refused, refused, lost, bins
    )
    if case.schedule:
        _after_drop(case, outcome)
    return outcome


def _markdown(outcomes: list[Outcome], scale: float) -> str:
    lines = [
        "",
        "## Goodput under a rate limit",
        "",
        f"`python -m benchmarks.goodput --scale {scale:g}`: the emulator's rate-limit mode (token bucket, burst 10) in",
        f"its own process; {BATCH} inputs per request; ideal time = requests \u00f7 R. Targets: ≤ 1.15\u00d7 ideal, ≤ 5 % 429,",
        "nothing lost; in the drop case, < 5 % 429 from 5 s after the drop, ≥ 90 % of R within 10 s of its return.",
        "",
        "| Server | Contender | time \u00f7 ideal | 429 share | inputs lost | drop: 429 from +5 s | back to 90 % after |",
        "|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        late = "" if o.late_429_share is None else f"{o.late_429_share:.1%}"
        back = (
            ""
            if not o.bins or o.case != "drop"
            else ("never" if o.recovered_after is None else f"{o.recovered_after:.1f} s")
        )
        lines.append(
            f"| {o.title} | {o.contender} | {o.ratio:.2f}\u00d7 | {o.share_429:.1%} | {o.lost} | {late} | {back} |"
        )
    lines += ["", "![throughput over time, rate-drop case](goodput.png)", ""]
    return "\n".join(lines)


def _chart(outcomes: list[Outcome], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    drop = next(case for case in CASES if case.key == "drop")
    fig, ax = plt.subplots(figsize=(10, 4))
    for o in outcomes:
        if o.case == "drop":
            ax.plot([b[0] for b in o.bins], [b[1] / BIN for b in o.bins], label=o.contender, linewidth=1.2)
    limit_x, limit_y, rate = [0.0], [drop.rate], drop.rate
    for at, new_rate in drop.schedule:
        limit_x += [at, at]
        limit_y += [rate, new_rate]
        rate = new_rate
    limit_x.append(max((b[0] for o in outcomes for b in o.bins), default=20.0))
    limit_y.append(rate)
    ax.plot(limit_x, limit_y, color="black", linestyle="--", label="the limit")
    ax.set_xlabel("seconds")
    ax.set_ylabel("requests answered per second")
    ax.set_title(f"{drop.title}: accepted requests per second ({BIN:g} s bins)", fontsize=10, loc="left")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(scale: float, only: set[str] | None = None) -> list[Outcome]:
    """Every case for every contender (or those named in ``only``); the server runs in a child process."""
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(child,), daemon=True)
    server.start()
    try:
        url = parent.recv()
        outcomes: list[Outcome] = []
        for case in CASES:
            for name, contender in contenders().items():
                if only and not ({case.key, name} & only):
                    continue
                outcome = run_case(case, name, contender, parent, url, scale)
                print(
                    f"{case.key:8} {name:46} {outcome.ratio:5.2f}x  429 {outcome.share_429:6.1%}  lost {outcome.lost}"
                )
                outcomes.append(outcome)
        parent.send(None)
    finally:
        server.join(10)
        if server.is_alive():
            server.terminate()
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.goodput", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the inputs (the drop case's times stay)")
    parser.add_argument("--only", action="append", default=[], help="case keys or contender names")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--no-chart", action="store_true")
    args = parser.parse_args(argv)
    outcomes = run(args.scale, set(args.only) or None)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "goodput.json").write_text(
        json.dumps([asdict(o) | {"ratio": o.ratio, "share_429": o.share_429} for o in outcomes], indent=1) + "\n"
    )
    with open(args.out / "results.md", "a", encoding="utf-8") as report:
        report.write(_markdown(outcomes, args.scale))
    if not args.no_chart and any(o.case == "drop" for o in outcomes):
        _chart(outcomes, args.out / "goodput.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
