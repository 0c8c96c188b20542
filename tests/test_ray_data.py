"""embed_many on Ray Data: a local Ray instance, one client per worker, rows kept in order."""

from __future__ import annotations

import pickle
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import ray
import ray.data

from telnyx_ai import AsyncTelnyx, EmbedManyError, Telnyx
from telnyx_ai.ray_data import NAMESPACE, SharedRate, TelnyxEmbedder, _RateKeeper  # pyright: ignore[reportPrivateUsage]
from telnyx_ai.testing import Fault, MockServer, expected_embedding

from ._rate_server import rate_limited_server

MODEL = "thenlper/gte-large"


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        yield
    finally:
        ray.shutdown()


@pytest.mark.usefixtures("local_ray")
def test_map_batches_embeds_every_row_exactly_once() -> None:
    with MockServer.in_thread() as server:
        rows = [{"id": i, "text": f"row number {i}"} for i in range(300)]
        dataset = ray.data.from_items(rows).map_batches(
            TelnyxEmbedder,
            fn_constructor_kwargs={
                "model": MODEL,
                "api_key": "test",
                "base_url": server.url,
                "request_batch_size": 16,
                "dimensions": 8,
            },
            batch_size=50,
            concurrency=2,
        )
        out = sorted(dataset.take_all(), key=lambda row: int(row["id"]))
        assert [int(row["id"]) for row in out] == list(range(300))
        for row in out:
            assert list(row["embedding"]) == expected_embedding(str(row["text"]), MODEL, 8)
        sent = [text for record in server.requests_to("/ai/openai/embeddings") for text in record.json()["input"]]
        assert sorted(sent) == sorted(row["text"] for row in rows)


@pytest.mark.usefixtures("local_ray")
def test_four_workers_share_one_rate_limit() -> None:
    # 4 workers, one server at 100 requests/s, 0.05 s each: 400 requests, ideal 4 s once they run.
    # They pace through one shared controller (measured about 1.1x ideal, 0-1 % 429s); the margins
    # are loose (Ray and the server share two cores here) but catch workers that pace on their own
    # (9-24 % 429s) or ignore the limit. The server runs in a process of its own (tests/_rate_server.py).
    with rate_limited_server(100, latency=0.05, path="/ai/openai/embeddings") as server:
        rows = [{"id": i, "text": f"shared row {i}"} for i in range(1600)]
        settings = {"model": MODEL, "api_key": "test", "base_url": server.url, "request_batch_size": 4}
        dataset = ray.data.from_items(rows).map_batches(
            TelnyxEmbedder, fn_constructor_kwargs=settings, batch_size=100, concurrency=4, num_cpus=0.25
        )
        assert sorted(int(row["id"]) for row in dataset.take_all()) == list(range(1600))
        decided = server.decisions()
    print(f"4 workers: {decided.span:.1f} s for an ideal of 4.0 s, {decided.share_refused:.1%} answered 429")
    assert decided.accepted == 400
    assert decided.share_refused < 0.08
    assert decided.span < 4.0 * 1.75


@pytest.mark.usefixtures("local_ray")
def test_the_workers_go_on_when_the_shared_actor_dies() -> None:
    # The actor is killed mid-job: the workers make a new one (seeded with the rate they knew) and finish.
    with rate_limited_server(100, latency=0.05, path="/ai/openai/embeddings") as server:
        rows = [{"id": i, "text": f"row {i}"} for i in range(800)]
        settings = {"model": MODEL, "api_key": "test", "base_url": server.url, "request_batch_size": 4}
        name = SharedRate(f"{server.url}|test|{MODEL}").name
        killed, stop = threading.Event(), threading.Event()

        def kill_the_actor() -> None:
            while not (killed.is_set() or stop.is_set()):
                if server.decisions().accepted >= 60:
                    ray.kill(ray.get_actor(name, namespace=NAMESPACE))
                    killed.set()
                time.sleep(0.05)

        killer = threading.Thread(target=kill_the_actor, daemon=True)
        killer.start()
        try:
            dataset = ray.data.from_items(rows).map_batches(
                TelnyxEmbedder, fn_constructor_kwargs=settings, batch_size=100, concurrency=2, num_cpus=0.25
            )
            assert sorted(int(row["id"]) for row in dataset.take_all()) == list(range(800))
        finally:
            stop.set()
            killer.join()
        decided = server.decisions()
    assert killed.is_set(), "the actor was killed while the job ran"
    assert decided.accepted == 200
    assert decided.share_refused < 0.25


def test_clients_refuse_to_be_pickled_and_say_what_to_do() -> None:
    with pytest.raises(TypeError, match="in each process"):
        pickle.dumps(AsyncTelnyx(api_key="k"))
    client = Telnyx(api_key="k")
    try:
        with pytest.raises(TypeError, match="build a client in each process"):
            pickle.dumps(client)
    finally:
        client.close()


def test_the_embedder_class_itself_pickles_without_a_client() -> None:
    # Ray ships the class and its constructor arguments, never a live client.
    restored = pickle.loads(pickle.dumps(TelnyxEmbedder))
    assert restored is TelnyxEmbedder


@pytest.mark.usefixtures("local_ray")
def test_the_shared_actor_outlives_the_worker_that_created_it() -> None:
    # Ray ends an actor with its creator unless it is detached: a worker killed mid-job must not take the
    # shared pace with it (the others would stall while a new actor starts).
    @ray.remote(num_cpus=0)
    class Creator:
        def connect(self, key: str) -> str:
            rate = SharedRate(key)
            rate._connect()  # pyright: ignore[reportPrivateUsage]
            return rate.name

    key = f"http://127.0.0.1:1|creator-{time.monotonic_ns()}|{MODEL}"
    creator: Any = Creator.remote()  # pyright: ignore[reportAttributeAccessIssue]
    name = ray.get(creator.connect.remote(key))
    ray.kill(creator)
    time.sleep(0.5)
    permits, _, _ = ray.get(ray.get_actor(name, namespace=NAMESPACE).grant.remote(3, ([], [], None, [])))
    assert len(permits) == 3
    ray.kill(ray.get_actor(name, namespace=NAMESPACE))


@pytest.mark.usefixtures("local_ray")
def test_the_shared_actor_ends_when_its_lease_runs_out() -> None:
    # No worker asked for the lease's length: the actor ends itself (a detached actor would otherwise stay).
    keeper: Any = ray.remote(_RateKeeper).options(num_cpus=0, max_concurrency=1).remote(None, 0.5)  # pyright: ignore[reportUnknownMemberType]
    assert len(ray.get(keeper.grant.remote(2, ([0.05], [], None, []))))
    time.sleep(1.5)
    with pytest.raises(ray.exceptions.RayActorError):
        ray.get(keeper.grant.remote(1, ([], [], None, [])), timeout=10)


def _fresh_settings(server: MockServer, **settings: Any) -> dict[str, Any]:
    """The embedder's settings with a key of its own: a shared actor (and what it holds) for this test only."""
    key = f"test-{time.monotonic_ns()}"
    return {"model": MODEL, "api_key": key, "base_url": server.url, "dimensions": 8, **settings}


@pytest.mark.usefixtures("local_ray")
def test_a_block_run_again_is_served_what_the_first_attempt_embedded() -> None:
    # The first attempt at a block fails on one request (a 401, not retried), as a worker killed mid-block
    # would stop; the attempt Ray makes next sends only that chunk again, and returns every row once.
    with MockServer.in_thread() as server:
        settings = _fresh_settings(server, request_batch_size=16, request_concurrency=1)
        block = {"id": list(range(100)), "text": [f"block row {n}" for n in range(100)]}
        server.inject(Fault.status(401), times=1, path="/ai/openai/embeddings")
        first = TelnyxEmbedder(**settings)
        with pytest.raises(EmbedManyError) as failed:
            first(block)
        assert len(failed.value.failed) == 16
        sent_first = len(server.requests_to("/ai/openai/embeddings"))
        assert sent_first == 7  # 6 chunks of 16 and one of 4, the first refused

        again = TelnyxEmbedder(**settings)  # as in the worker Ray starts in place of the dead one
        out = again(block)
        resent = [record.json()["input"] for record in server.requests_to("/ai/openai/embeddings")[sent_first:]]
        assert resent == [block["text"][:16]]  # only the chunk that failed: nothing is paid twice
        assert [list(vector) for vector in out["embedding"]] == [
            expected_embedding(text, MODEL, 8) for text in block["text"]
        ]
        assert out["id"] == block["id"]
        # The block is done: the actor let its chunks go, so a third attempt would pay again.
        assert ray.get(ray.get_actor(again.rate.name, namespace=NAMESPACE).recall.remote([])) == {}
        kept = ray.get(ray.get_actor(again.rate.name, namespace=NAMESPACE).recall.remote(again._chunks(block["text"])))  # pyright: ignore[reportPrivateUsage]
        assert kept == {}
        ray.kill(ray.get_actor(again.rate.name, namespace=NAMESPACE))


@ray.remote(num_cpus=0)
class _Worker:
    """A Ray worker running one task over two batches, as Ray Data does with a block larger than ``batch_size``."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.embedder = TelnyxEmbedder(**settings)

    def block(self, first: dict[str, list[Any]], second: dict[str, list[Any]]) -> list[list[float]]:
        return [list(v) for batch in (first, second) for v in self.embedder(batch)["embedding"]]

    def chunks(self, batch: dict[str, list[Any]]) -> list[str]:
        return self.embedder._chunks(batch["text"])  # pyright: ignore[reportPrivateUsage]


@pytest.mark.usefixtures("local_ray")
def test_a_task_run_again_after_its_worker_died_sends_nothing_twice() -> None:
    # A task's first batch is done, the worker dies (here: once the task returned, before its next task),
    # and Ray runs the whole task again elsewhere: both batches are served by the actor, no request is sent.
    with MockServer.in_thread() as server:
        settings = _fresh_settings(server, request_batch_size=8)
        first = {"id": list(range(40)), "text": [f"task row {n}" for n in range(40)]}
        second = {"id": list(range(40, 45)), "text": [f"task row {n}" for n in range(40, 45)]}
        expected = [expected_embedding(text, MODEL, 8) for text in first["text"] + second["text"]]
        worker: Any = _Worker.remote(settings)  # pyright: ignore[reportAttributeAccessIssue]
        assert ray.get(worker.block.remote(first, second)) == expected
        sent = len(server.requests_to("/ai/openai/embeddings"))
        assert sent == 6  # 5 chunks of 8, and the 5 rows of the second batch
        ray.kill(worker)

        again: Any = _Worker.remote(settings)  # pyright: ignore[reportAttributeAccessIssue]
        assert ray.get(again.block.remote(first, second)) == expected
        assert len(server.requests_to("/ai/openai/embeddings")) == sent, "the task was paid for once"

        # The worker's next task says this one ended: its chunks are let go, and a third run pays again.
        third = {"id": [99], "text": ["another task"]}
        ray.get(again.block.remote(third, third))
        actor = ray.get_actor(SharedRate(f"{server.url}|{settings['api_key']}|{MODEL}").name, namespace=NAMESPACE)
        assert ray.get(actor.recall.remote(ray.get(again.chunks.remote(first)))) == {}
        ray.kill(actor)
