"""The benchmark harness at toy size: every scenario once, for the contenders this venv has.

The canned fixtures come from an aiohttp server in a thread (no nginx needed); only the floor
and telnyx_ai contenders run, so neither openai, the official telnyx SDK nor matplotlib is needed.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import multiprocessing
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from aiohttp import web

import telnyx_ai
from benchmarks.contenders import floats, vectors_sum
from benchmarks.fixtures import DIM, Fixtures, build
from benchmarks.report import format_markdown, summarize, write_reports
from benchmarks.runner import Config, Sizes, run, select
from benchmarks.scenarios import SCENARIOS, run_job, scenario
from benchmarks.server import aiohttp_app, nginx_config

STREAM_CHUNKS = 50
REQUESTS = 5
CONTENDERS = ["floor", "floor_timeouts", "telnyx_ai", "floor_sync", "floor_sync_aiohttp"] + (
    ["telnyx_ai_sync"] if hasattr(telnyx_ai, "Telnyx") else []
)


@pytest.fixture(scope="module")
def fixtures() -> Fixtures:
    return build(stream_chunks=STREAM_CHUNKS)


@pytest.fixture(scope="module")
def root(fixtures: Fixtures) -> Iterator[str]:
    """``http://127.0.0.1:PORT`` of an aiohttp server, on its own loop in a thread, serving the fixtures."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(aiohttp_app(fixtures), handle_signals=False)
    started = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", 0).start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, name="bench-fixture-server", daemon=True)
    thread.start()
    assert started.wait(10), "the fixture server did not start"
    host, port = runner.addresses[0][:2]
    yield f"http://{host}:{port}"
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def _config(root: str) -> Config:
    counts = {sc.key: REQUESTS for sc in SCENARIOS} | {"stream": STREAM_CHUNKS}
    return Config(
        root=root,
        sizes=Sizes(counts=counts, stream_chunks=STREAM_CHUNKS),
        repeats=1,
        time_limit=30.0,
        contenders=CONTENDERS,
        isolate=False,
        cold_warmup=False,
        log=lambda line: None,
    )


def test_fixture_sums_match_the_bodies(fixtures: Fixtures) -> None:
    for prefix, vectors in (("", 1), ("/e16", 16)):
        body = msgspec.json.decode(fixtures.routes[f"{prefix}/v2/ai/openai/embeddings"].body)
        assert len(body["data"]) == vectors
        assert all(len(item["embedding"]) == DIM for item in body["data"])
        assert vectors_sum(item["embedding"] for item in body["data"]) == fixtures.embed_sums[vectors]
    body64 = msgspec.json.decode(fixtures.routes["/e16b/v2/ai/openai/embeddings"].body)
    assert vectors_sum(floats(item["embedding"]) for item in body64["data"]) == fixtures.embed16_base64_sum
    assert math.isclose(fixtures.embed16_base64_sum, fixtures.embed_sums[16], rel_tol=1e-5)  # the same vectors
    stream = fixtures.routes["/sse/v2/ai/chat/completions"]
    assert stream.content_type == "text/event-stream"
    assert stream.body.count(b"\n\n") == STREAM_CHUNKS + 1
    assert stream.body.endswith(b"data: [DONE]\n\n")


def test_every_scenario_runs_with_checks_passing(root: str, tmp_path: Path) -> None:
    raw = run(_config(root))
    measured = [sc for sc in SCENARIOS if sc.kind != "derived"]
    assert set(raw["samples"]) == {sc.key for sc in measured}
    for sc in measured:
        results = raw["samples"][sc.key]
        assert "floor" in results or "floor_sync" in results
        for name, runs in results.items():
            assert len(runs) == 1, (sc.key, name)
            result = runs[0]
            assert "error" not in result, (sc.key, name, result)
            want = STREAM_CHUNKS if sc.op.endswith("stream") else (1 if sc.kind == "cold" else REQUESTS)
            assert result["units"] == result["target"] == want, (sc.key, name, result)
            assert result["cpu_s"] > 0 and result["wall_s"] > 0 and result["maxrss_kb"] > 0

    summary = summarize(raw, list(SCENARIOS))
    assert summary["errors"] == []
    table = format_markdown(summary)
    assert "| # | Scenario | Contender |" in table
    for sc in SCENARIOS:
        assert f"\n| {sc.number} | " in table, sc.key
    assert "**telnyx_ai AsyncTelnyx**" in table
    assert "1.00\u00d7" in table  # the floor against itself
    floor_cpu = next(r["cpu_s"] for r in summary["scenarios"][0]["rows"] if r["contender"] == "floor")
    sync_rows = next(sc["rows"] for sc in summary["scenarios"] if sc["key"] == "sync_seq")
    sync_cpu = next(r["cpu_s"] for r in sync_rows if r["contender"] == "telnyx_ai_sync")
    bridged_cpu = next(r["cpu_s"] for r in sync_rows if r["contender"] == "floor_sync_aiohttp")
    assert f"telnyx_ai Telnyx (sync) {sync_cpu / floor_cpu:.2f}\u00d7" in table  # scenario 7 against 1's floor
    assert (
        f"telnyx_ai Telnyx (sync) against floor: aiohttp + msgspec from a thread (the same aiohttp floor, "
        f"called through `asyncio.run_coroutine_threadsafe` from the caller's thread): "
        f"{sync_cpu / bridged_cpu:.2f}\u00d7 CPU per request."
    ) in table

    written = write_reports(summary, tmp_path, chart=False)
    assert [p.name for p in written] == ["results.md", "results.json"]
    loaded = json.loads((tmp_path / "results.json").read_text())
    rss_row = next(sc for sc in loaded["scenarios"] if sc["key"] == "rss_conc")["rows"][0]
    assert rss_row["rss_mib"] > 0 and rss_row["cpu_s"] is None


def test_a_wrong_answer_fails_the_job(root: str) -> None:
    expected = build(stream_chunks=STREAM_CHUNKS).expected()
    job = {"contender": "telnyx_ai", "root": root, "count": 2, "time_limit": 10.0}
    wrong = expected | {"embed1_sum": expected["embed1_sum"] + 1.0, "stream_text_len": 1}
    for key in ("embed_seq", "stream"):
        result = run_job(job | {"scenario": key, "expected": wrong, "concurrency": 1})
        assert "AssertionError" in result.get("error", ""), (key, result)
    assert scenario("2").key == "embed_conc"


def test_only_selects_scenarios_and_keeps_the_floors() -> None:
    scenarios, contenders = select(["rss_conc,telnyx_ai"])
    assert [s.key for s in scenarios] == ["embed_conc", "rss_conc"]
    assert sorted(contenders) == ["floor", "floor_sync", "floor_sync_aiohttp", "floor_timeouts", "telnyx_ai"]
    with pytest.raises(SystemExit):
        select(["no-such-thing"])


def test_nginx_config_answers_post_from_static_files(tmp_path: Path) -> None:
    text = nginx_config(root=tmp_path / "fixtures", work=tmp_path, port=12345)
    assert "listen 127.0.0.1:12345" in text
    assert "error_page 405 =200 $uri;" in text
    assert "access_log off;" in text
    assert "default_type text/event-stream;" in text


def test_goodput_scenario_runs_and_reports(tmp_path: Path) -> None:
    """The goodput scenario at toy size: one case, embed_many only, its table appended to results.md."""
    from benchmarks import goodput

    small = goodput.Case("toy", "R 400/s, L 0.01 s", 400, 0.01, 320)
    assert goodput.Case("d", "", 200, 0.2, 0, schedule=((4.0, 50), (10.0, 200))).ideal(2000) == pytest.approx(14.5)
    parent, child = multiprocessing.Pipe()
    server = threading.Thread(target=goodput._serve, args=(child,), daemon=True)  # pyright: ignore[reportPrivateUsage]
    server.start()
    url = parent.recv()
    outcome = goodput.run_case(
        small, "embed_many (default)", goodput.contenders()["embed_many (default)"], parent, url, 1.0
    )
    parent.send(None)
    server.join(10)
    assert outcome.requests - outcome.refused == 20 and outcome.lost == 0
    assert outcome.ratio > 0.5 and sum(b[1] for b in outcome.bins) == 20
    assert outcome.timeline and outcome.timeline[0].rate > 0, "embed_many's controller was traced"
    report = goodput._markdown([outcome], 1.0)  # pyright: ignore[reportPrivateUsage]
    assert "| R 400/s, L 0.01 s | embed_many (default) |" in report


def test_goodput_drop_cases_report_each_drop() -> None:
    from benchmarks import goodput

    twice = next(case for case in goodput.CASES if case.key == "drop2_ra")
    assert goodput.drops(twice) == [(3.0, 6.0, 200.0), (9.0, 12.0, 200.0)]
    assert twice.ideal(2000) == pytest.approx(14.5)
    bins = [(n * goodput.BIN, 100 if 6.0 <= n * goodput.BIN < 7.0 else 25, 1) for n in range(40)]
    outcome = goodput.Outcome("drop2_ra", twice.title, "x", 20.0, 14.5, 100, 40, 0, bins)
    goodput._after_drop(twice, outcome)  # pyright: ignore[reportPrivateUsage]
    assert outcome.late_429_share == pytest.approx(1 / 26)
    assert outcome.recovered_after is None, "the second return never reached 90 % of the rate"


def test_goodput_ray_rows_run_at_toy_size() -> None:
    """Both Ray rows on a toy case: 4 workers sharing the rate, then one of them killed half-way (SIGKILL)."""
    from benchmarks import goodput, goodput_ray

    small = goodput.Case("toy", "R 100/s, L 0.05 s", 100, 0.05, 960)
    parent, child = multiprocessing.Pipe()
    server = threading.Thread(target=goodput._serve, args=(child,), daemon=True)  # pyright: ignore[reportPrivateUsage]
    server.start()
    url = parent.recv()
    try:
        rows = goodput_ray.contenders(goodput._asker(parent), block_rows=64)  # pyright: ignore[reportPrivateUsage]
        for name in goodput_ray.RAY_ROWS:
            outcome = goodput.run_case(small, name, rows[name], parent, url, 1.0)
            assert outcome.lost == 0, (name, outcome)
            assert outcome.requests - outcome.refused >= 60, "every request answered (a killed worker's block twice)"
    finally:
        parent.send(None)
        server.join(10)
        goodput_ray.stop()


def test_vectors_scenario_runs_and_reports(tmp_path: Path) -> None:
    """The compact-vectors scenario at toy size, in this process: both servers, floor and telnyx_ai."""
    from benchmarks import vectors

    def start(honour: bool) -> str:
        urls: list[str] = []
        ready = threading.Event()

        def announce(url: str) -> None:
            urls.append(url)
            ready.set()

        threading.Thread(target=vectors.serve, args=(honour, announce), daemon=True).start()
        assert ready.wait(10)
        return urls[0]

    rows = []
    for honour in (True, False):
        url = start(honour)
        for name in ("floor", "telnyx_ai", "telnyx_ai_numpy"):
            result = vectors.measure(name, url, 200)  # raises if the vectors' sum is wrong
            rows.append({"server": "honours base64" if honour else "ignores base64", "name": name, **result})
    report = vectors.markdown(rows)
    assert "| honours base64 | embed_many as_numpy=True |" in report
    assert "| ignores base64 | aiohttp + msgspec, floats, lists |" in report
    assert "1.00x" in report


def test_the_footprint_measures_import_time_and_size() -> None:
    from benchmarks.footprint import measure, table

    rows = measure(1, {"telnyx_ai": "telnyx-ai", "no_such_client": "no-such-client"})
    assert list(rows) == ["telnyx_ai"]  # a client the venv lacks is left out
    row = rows["telnyx_ai"]
    assert row["import_ms"] > 0 and row["package_kib"] > 100
    assert row["with_dependencies_kib"] > row["package_kib"] and row["dependencies"] >= 4  # aiohttp, msgspec, ...
    assert "| telnyx_ai |" in table(rows, 1)


def test_the_decode_benchmark_decodes_alike_with_both_types() -> None:
    from benchmarks.decode import markdown, run

    rows = run(repeats=1)  # it checks itself that both decoders give the same data
    assert [name for name, _, _ in rows] == ["chat completion", "2,000 stream chunks", "16 x 1024 floats"]
    assert all(sdk > 0 and plain > 0 for _, sdk, plain in rows)
    assert markdown(rows, 1).count("\n| ") == 4  # the header and three rows


def test_the_tracing_benchmark_runs_every_mode_and_reports(root: str, tmp_path: Path) -> None:
    from benchmarks import tracing

    # The stream fixture here is 50 chunks; in otel_sdk mode the job checks one span per call.
    rows = tracing.timings(root, repeats=1, scale=0.005)
    table = "\n".join(rows)
    assert rows[2] == "| scenario | unit | off | hooks | otel_noop | otel_sdk |"
    assert len(rows) == 4 + len(tracing.SCENARIOS) and "(1.00x)" in table


def test_the_paced_server_paces_each_stream_and_reports_its_schedule() -> None:
    """Three streams of 5 chunks, 50 ms apart: each chunk arrives about one interval after the last."""
    import aiohttp

    from benchmarks import paced_server
    from benchmarks.fixtures import stream_events

    async def main() -> tuple[list[list[float]], list[bytes], dict[str, float]]:
        urls: list[str] = []
        listening = asyncio.Event()

        def announce(url: str) -> None:
            urls.append(url)
            listening.set()

        server = asyncio.ensure_future(paced_server.serve(0.05, announce))
        await asyncio.wait_for(listening.wait(), 10)
        async with aiohttp.ClientSession() as session:

            async def one() -> tuple[list[float], bytes]:
                arrivals: list[float] = []
                body = b""
                async with session.post(f"{urls[0]}/chunks/5/v2/ai/chat/completions", data=b"{}") as response:
                    assert response.headers["Content-Type"] == "text/event-stream"
                    async for piece in response.content.iter_any():
                        arrivals.append(time.perf_counter())
                        body += piece
                return arrivals, body

            got = await asyncio.gather(*(one() for _ in range(3)))
            async with session.get(f"{urls[0]}/stats") as response:
                stats = await response.json()
        server.cancel()
        return [a for a, _ in got], [b for _, b in got], stats

    arrivals, bodies, stats = asyncio.run(main())
    frames, _ = stream_events(5)
    assert bodies == [b"".join(frames)] * 3
    for times in arrivals:
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        assert len(times) == 5 and all(gap > 0.03 for gap in gaps), gaps  # 50 ms apart, give or take a tick
    assert stats["chunks"] == 3 * 4  # the first chunk goes out with the headers, not on a tick
    assert stats["late_p99_ms"] >= 0 and stats["cpu_s"] >= 0


def test_many_streams_scenario_runs_checks_and_reports() -> None:
    """The many-streams scenario at toy size: its server and job processes, every telnyx_ai and floor row."""
    from benchmarks import many_streams

    names = ["floor", "floor_timeouts", "floor_sse", "telnyx_ai", "telnyx_ai_sse"]
    raw = many_streams.run(streams=6, chunks=4, interval=0.01, repeats=1, names=names, log=lambda line: None)
    summary = many_streams.summarize(raw)
    assert summary["errors"] == []
    assert list(summary["rows"]) == names
    for name, row in summary["rows"].items():
        assert row["cpu_us_per_chunk"] > 0 and row["ttfc_p99_ms"] > 0, (name, row)
    assert summary["rows"]["floor"]["cpu_us_per_chunk_x_floor"] == 1.0
    job = raw["jobs"]["telnyx_ai_sse"][0]
    assert [r["results"] for r in job["rounds"]] == [[list(many_streams.expected("relay", 4))]] * 2
    for name, row in summary["rows"].items():
        assert 0 <= row["gc_to_p99_ms"] <= row["gc_ms"], (name, row)
    table = many_streams.markdown(summary)
    assert "| telnyx_ai, to_sse() |" in table and "1.00x" in table and "GC ms to p99 / all" in table


def test_many_streams_rejects_a_short_stream() -> None:
    from benchmarks import many_streams

    rounds = [{"finished": 2, "results": [[3, 10]], "cpu_s": 1.0, "chunks": 6, "ttfc_s": [0.1], "span_s": [0.2]}] * 2
    job = {"name": "floor", "rounds": rounds, "server": {"late_p99_ms": 0.0}}
    summary = many_streams.summarize(
        {"streams": 2, "chunks": 4, "interval_s": 0.01, "repeats": 1, "jobs": {"floor": [job]}}
    )
    assert summary["rows"] == {} and "expected (4," in summary["errors"][0]


def test_many_streams_counts_the_collector_before_the_p99_first_chunk_and_in_all() -> None:
    from benchmarks import many_streams

    round_ = {
        "finished": 1,
        "results": [list(many_streams.expected("stream", 4))],
        "cpu_s": 1.0,
        "chunks": 4,
        "ttfc_s": [i / 1000 for i in range(1, 101)],  # 1 to 100 ms: the p99 is 99 ms
        "span_s": [0.03],
        "gc_pauses_s": [(0.010, 0.002), (0.098, 0.003), (0.5, 0.007)],  # two before it, one after
        "rss_before_kb": 5,
        "rss_peak_kb": 10,
    }
    job = {"name": "floor", "rounds": [round_, round_], "server": {"late_p99_ms": 0.0}}
    summary = many_streams.summarize(
        {"streams": 1, "chunks": 4, "interval_s": 0.01, "repeats": 1, "jobs": {"floor": [job]}}
    )
    row = summary["rows"]["floor"]
    assert (row["ttfc_p99_ms"], row["gc_to_p99_ms"], row["gc_ms"]) == pytest.approx((99.0, 5.0, 12.0))
    assert "| 5 / 12 |" in many_streams.markdown(summary)


def test_the_stream_open_benchmark_opens_and_reads_each_stream() -> None:
    # In a process of its own: it replaces Transport.send with a canned answer.
    for extra in ([], ["--sse"]):
        command = [sys.executable, "-m", "benchmarks.stream_open", "--streams", "3", *extra]
        done = subprocess.run(
            command,
            cwd=Path(__file__).resolve().parent.parent,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]


async def test_the_asyncio_reads_variant_differs_from_telnyx_ai_in_the_read_size_alone(
    root: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `telnyx_ai_256k` is the SDK with asyncio's own read size: its rows next to telnyx_ai's show what the
    # read cap is worth. It sets a module global, so the test puts it back.
    from asyncio import selector_events

    from benchmarks.contenders import by_name, cold_start_contenders
    from telnyx_ai._http import aiohttp_compat

    capped = aiohttp_compat.READ_SIZE
    monkeypatch.setattr(aiohttp_compat, "READ_SIZE", capped)
    sizes: dict[str, object] = {}
    for name in ("telnyx_ai", "telnyx_ai_256k"):
        contender = by_name(name).load()
        await contender.open(root, "", 1)
        try:
            assert await contender.chat() > 0
            session = contender._client._transport.pool.current
            (protocol, _), *_ = [entry for entries in session.connector._conns.values() for entry in entries]
            sizes[name] = protocol.transport.max_size
        finally:
            await contender.close()
    default = selector_events._SelectorSocketTransport.max_size  # pyright: ignore[reportAttributeAccessIssue]
    assert sizes == {"telnyx_ai": capped, "telnyx_ai_256k": default}
    assert default > capped
    assert cold_start_contenders(["floor", "telnyx_ai", "telnyx_ai_256k"]) == ["floor", "telnyx_ai"]
