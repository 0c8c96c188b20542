"""Goodput under a rate limit: how close a batch embedding job comes to the server's rate.

``python -m benchmarks.goodput [--scale F] [--only CASE|CONTENDER] [--repeats N] [--trace] [--out DIR]
[--no-chart]`` serves the emulator's rate-limit mode (`MockServer.set_rate_limit`: a token bucket,
burst 10, a latency per accepted request, 429s otherwise) from a child process, and embeds
``32,000 * scale`` inputs at 16 per request with each contender: ``embed_many`` at its default
ceiling and at 64/256/512, openai-python with an ``asyncio.Semaphore(64)`` at ``max_retries`` 2 and 8
(when installed), and 4 Ray Data workers sharing one rate limit, with and without a worker killed
half-way (when Ray is installed; `benchmarks.goodput_ray`). Per run: time / ideal (ideal = requests /
R, integrated over a changing R), the share of requests answered 429 and the inputs given up. The
rate-drop cases (the limit falls to 50/s and comes back, once or twice, with or without Retry-After;
the schedule counts from the first request) also get the 429 share late in each drop and the time
from the limit's return to 90 % of it, and a chart of accepted requests per second over time.
``--trace`` prints, for the drop cases, embed_many's controller over time next to the server's
counts (`TracedRate`): where the time goes. Writes ``goodput.json`` and ``goodput.png`` and appends
its table to ``results.md`` in ``--out``.
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

from benchmarks import goodput_ray
from telnyx_ai import RateController
from telnyx_ai.testing import RateLimiter

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


DROP = ((4.0, 50.0), (10.0, 200.0))
DROP_TWICE = ((3.0, 50.0), (6.0, 200.0), (9.0, 50.0), (12.0, 200.0))
CASES = [
    Case("r200", "R 200/s, L 0.2 s", 200, 0.2, 32_000),
    Case("r200_ra", "R 200/s, L 0.2 s, Retry-After: 1", 200, 0.2, 32_000, retry_after=1.0),
    Case("drop", "R 200/s, L 0.2 s; 50/s from 4 s to 10 s", 200, 0.2, 32_000, schedule=DROP),
    Case("drop_ra", "R 200/s, L 0.2 s, Retry-After: 1; 50/s from 4 s to 10 s", 200, 0.2, 32_000, 1.0, DROP),
    Case(
        "drop2_ra",
        "R 200/s, L 0.2 s, Retry-After: 1; 50/s from 3 s to 6 s and 9 s to 12 s",
        200,
        0.2,
        32_000,
        1.0,
        DROP_TWICE,
    ),
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
    timeline: list[Pace] = field(default_factory=list["Pace"])
    """embed_many's controller over time, in the same bins as ``bins`` (see `TracedRate`)."""

    @property
    def ratio(self) -> float:
        return self.seconds / self.ideal

    @property
    def share_429(self) -> float:
        return self.refused / max(1, self.requests)


# -- the controller, traced ----------------------------------------------------------------------


@dataclass
class Pace:
    """What embed_many's controller did in one bin: its mean pace, its ceiling and the pre-drop rate it
    remembers at the bin's end, and its cuts."""

    start: float
    rate: float
    ceiling: float | None
    former: float | None
    cuts: int


class TracedRate(RateController):
    """The default controller, noting its pace every 0.05 s and each cut: where a drop's time goes."""

    def __init__(self) -> None:
        super().__init__()
        self.notes: list[tuple[float, bool, float, float | None, float | None]] = []
        self._next_note = 0.0

    def _note(self, cut: bool) -> None:
        former: float | None = getattr(self, "_former_rate", None)
        self.notes.append((self.clock(), cut, self.rate, self.ceiling_rate, former))

    def reserve(self) -> tuple[int, float]:
        booked = super().reserve()
        if self.clock() >= self._next_note:
            self._note(cut=False)
            self._next_note = self.clock() + 0.05
        return booked

    def throttled(self, epoch: int) -> None:
        cuts = self.cuts
        super().throttled(epoch)
        if self.cuts != cuts:
            self._note(cut=True)

    def timeline(self) -> list[Pace]:
        """The notes in `BIN` bins from the first."""
        if not self.notes:
            return []
        start = self.notes[0][0]
        paces: list[Pace] = []
        for at, cut, rate, ceiling, former in self.notes:
            number = int((at - start) // BIN)
            while len(paces) <= number:
                paces.append(Pace(len(paces) * BIN, 0.0, None, None, 0))
            pace = paces[number]
            pace.rate = rate if not pace.rate else (pace.rate + rate) / 2
            pace.ceiling, pace.former, pace.cuts = ceiling, former, pace.cuts + cut
        return paces


_traces: list[TracedRate] = []
"""The controller of the last embed_many run (`run_case` takes it)."""


def timeline_table(outcome: Outcome) -> str:
    """Server bins and controller bins side by side: accepted/s, refused/s, the pace, the ceiling, cuts."""
    rows = [
        f"{outcome.case} / {outcome.contender}: {outcome.ratio:.2f}x ideal",
        "    t   acc/s  429/s   pace  ceiling  former  cuts",
    ]
    paces = {round(p.start / BIN): p for p in outcome.timeline}
    for start, accepted, refused in outcome.bins:
        pace = paces.get(round(start / BIN))
        shown = "" if pace is None else f"{pace.rate:6.0f}  {_n(pace.ceiling):>7}  {_n(pace.former):>6}  {pace.cuts:4d}"
        rows.append(f"{start:5.1f}  {accepted / BIN:6.0f} {refused / BIN:6.0f}  {shown}")
    return "\n".join(rows)


def _n(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


# -- the server, in its own process -------------------------------------------------------------


def _follow_schedule(limiter: RateLimiter, schedule: tuple[tuple[float, float], ...]) -> None:
    """Change the limit at the schedule's times, counted from the first request (a Ray job starts late)."""
    while not limiter.decisions:
        time.sleep(0.001)
    first = time.monotonic()
    for at, rate in schedule:
        time.sleep(max(0.0, first + at - time.monotonic()))
        limiter.set_rate(rate)


def _serve(conn: Connection) -> None:
    """The rate-limited emulator; answers the parent's commands: ``limit``, ``accepted`` (so far) and ``stats``."""
    import threading

    from telnyx_ai.testing import MockServer

    with MockServer.in_thread() as server:
        conn.send(server.url)
        while (command := conn.recv()) is not None:
            limiter = server.rate_limit
            if command[0] == "limit":
                case: Case = command[1]
                limiter = server.set_rate_limit(
                    case.rate, latency=case.latency, retry_after=case.retry_after, headers=False
                )
                server.requests.clear()
                threading.Thread(target=_follow_schedule, args=(limiter, case.schedule), daemon=True).start()
                conn.send("ok")
            elif command[0] == "accepted":
                conn.send(0 if limiter is None else limiter.accepted)
            else:
                assert limiter is not None
                span = limiter.decisions[-1][0] if limiter.decisions else 0.0
                conn.send((limiter.accepted, limiter.refused, limiter.throughput(BIN), span))
                server.requests.clear()


# -- contenders ---------------------------------------------------------------------------------

Contender = Callable[[str, list[list[str]]], Awaitable[int]]
"""Embeds the batches against the server at the URL; returns the inputs given up."""


def _embed_many(ceiling: int | None) -> Contender:
    async def run(url: str, batches: list[list[str]]) -> int:
        from telnyx_ai import AsyncTelnyx, EmbedManyError

        texts = [text for batch in batches for text in batch]
        rate = TracedRate()  # the default controller, noting what it does
        _traces[:] = [rate]
        async with AsyncTelnyx(api_key="bench", base_url=url, max_connections=512) as client:
            try:
                await client.ai.openai.embeddings.embed_many(
                    texts, model=MODEL, dimensions=DIMENSIONS, batch_size=BATCH, concurrency=ceiling, rate=rate
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


def contenders(accepted: Callable[[], int] | None = None) -> dict[str, Contender]:
    """Every contender installed here; the Ray rows only with ``accepted`` (the server's count so far)."""
    found: dict[str, Contender] = {
        "embed_many (default)": _embed_many(None),
        "embed_many, ceiling 64": _embed_many(64),
        "embed_many, ceiling 256": _embed_many(256),
        "embed_many, ceiling 512": _embed_many(512),
    }
    try:
        import openai  # noqa: F401
    except ImportError:
        pass
    else:
        found["openai-python, Semaphore(64), max_retries 2"] = _openai(2)
        found["openai-python, Semaphore(64), max_retries 8"] = _openai(8)
    if accepted is not None:
        found |= goodput_ray.contenders(accepted)
    return found


# -- running ------------------------------------------------------------------------------------


def drops(case: Case) -> list[tuple[float, float, float]]:
    """``(drop at, back at, the rate it returns to)`` for each time the schedule lowers the limit and raises it again."""
    found: list[tuple[float, float, float]] = []
    rate = case.rate
    for (at, new_rate), (back_at, back_rate) in zip(case.schedule, case.schedule[1:], strict=False):
        if new_rate < rate and back_rate > new_rate:
            found.append((at, back_at, back_rate))
        rate = new_rate
    return found


def _after_drop(case: Case, outcome: Outcome) -> None:
    """The rate-drop cases' two targets: the 429 share late in each drop (from 5 s after it, or half-way
    through a shorter one) and the time from each return to 90 % of the rate (the worst return)."""
    late: list[tuple[int, int]] = []
    recovered: list[float | None] = []
    for drop_at, back_at, rate in drops(case):
        settled = drop_at + min(5.0, (back_at - drop_at) / 2)
        late += [(a, r) for start, a, r in outcome.bins if settled <= start < back_at]
        recovered.append(
            next(
                (start + BIN - back_at for start, a, _ in outcome.bins if start >= back_at and a / BIN >= 0.9 * rate),
                None,
            )
        )
    accepted, refused = sum(a for a, _ in late), sum(r for _, r in late)
    outcome.late_429_share = refused / max(1, accepted + refused)
    outcome.recovered_after = None if None in recovered else max(r for r in recovered if r is not None)


def run_case(case: Case, name: str, contender: Contender, conn: Connection, url: str, scale: float) -> Outcome:
    inputs = max(BATCH, round(case.inputs * scale))
    texts = [f"goodput input {n} of {case.key}" for n in range(inputs)]
    batches = [texts[i : i + BATCH] for i in range(0, inputs, BATCH)]
    conn.send(("limit", case))
    assert conn.recv() == "ok"
    _traces.clear()
    started = time.perf_counter()
    lost = asyncio.run(contender(url, batches))
    seconds = time.perf_counter() - started
    conn.send(("stats",))
    accepted, refused, bins, span = conn.recv()
    if name in goodput_ray.RAY_ROWS:  # Ray's start-up left out: from the first request to the last answer
        seconds = span + case.latency
    outcome = Outcome(
        case.key, case.title, name, seconds, case.ideal(len(batches)), accepted + refused, refused, lost, bins
    )
    if case.schedule:
        _after_drop(case, outcome)
    if _traces:
        outcome.timeline = _traces[0].timeline()
    return outcome


def _markdown(outcomes: list[Outcome], scale: float) -> str:
    lines = [
        "",
        "## Goodput under a rate limit",
        "",
        f"`python -m benchmarks.goodput --scale {scale:g}`: the emulator's rate-limit mode (token bucket, burst 10) in",
        f"its own process; {BATCH} inputs per request; ideal time = requests \u00f7 R. Targets: ≤ 1.15\u00d7 ideal, ≤ 5 % 429,",
        "nothing lost; in the drop cases, < 5 % 429 late in a drop (from 5 s after it, or half-way through a shorter",
        "one), ≥ 90 % of R within 10 s of its return (the slowest return).",
        "",
        "| Server | Contender | time \u00f7 ideal | 429 share | inputs lost | drop: late 429 | back to 90 % after |",
        "|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        late = "" if o.late_429_share is None else f"{o.late_429_share:.1%}"
        back = (
            ""
            if not o.bins or o.late_429_share is None
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


RAY_CASES = {"r200": goodput_ray.RAY_ROWS, "drop_ra": goodput_ray.RAY_ROWS[:1]}
"""The cases the Ray rows run in (Ray is slow to start on two cores): steady, with a worker killed, and the drop."""


def _selected(only: set[str] | None, accepted: Callable[[], int]) -> list[tuple[Case, str, Contender]]:
    """The (case, contender) pairs to run: ``only`` names cases, contenders or both (each kind narrows its own)."""
    found = contenders(accepted)
    cases = [case for case in CASES if only and case.key in only] or CASES
    names = [name for name in found if only and name in only] or list(found)
    return [
        (case, name, found[name])
        for case in cases
        for name in names
        if name not in goodput_ray.RAY_ROWS or name in RAY_CASES.get(case.key, ())
    ]


def _asker(conn: Connection) -> Callable[[], int]:
    """How many requests the server has accepted so far (asked from another thread while a contender runs)."""

    def accepted() -> int:
        conn.send(("accepted",))
        count: int = conn.recv()
        return count

    return accepted


def run(scale: float, only: set[str] | None = None, repeats: int = 1, trace: bool = False) -> list[Outcome]:
    """Every case for every contender (or those named in ``only``), ``repeats`` times in turn; the server
    runs in a child process. ``trace`` prints embed_many's controller over time in the drop cases."""
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(child,), daemon=True)
    server.start()
    try:
        url = parent.recv()
        outcomes: list[Outcome] = []
        for _ in range(repeats):
            for case, name, contender in _selected(only, _asker(parent)):
                outcome = run_case(case, name, contender, parent, url, scale)
                print(
                    f"{case.key:8} {name:46} {outcome.ratio:5.2f}x  429 {outcome.share_429:6.1%}  lost {outcome.lost}",
                    flush=True,
                )
                if trace and case.schedule and outcome.timeline:
                    print(timeline_table(outcome), flush=True)
                outcomes.append(outcome)
        parent.send(None)
    finally:
        if goodput_ray.available():
            goodput_ray.stop()
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
    parser.add_argument("--repeats", type=int, default=1, help="run every row this many times, in turn")
    parser.add_argument("--trace", action="store_true", help="print embed_many's pace over time in the drop cases")
    args = parser.parse_args(argv)
    outcomes = run(args.scale, set(args.only) or None, args.repeats, args.trace)
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
