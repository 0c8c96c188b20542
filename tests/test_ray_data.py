"""embed_many on Ray Data: a local Ray instance, one client per worker, rows kept in order."""

from __future__ import annotations

import pickle
from collections.abc import Iterator

import pytest
import ray
import ray.data

from telnyx_ai import AsyncTelnyx, Telnyx
from telnyx_ai.ray_data import TelnyxEmbedder
from telnyx_ai.testing import MockServer, expected_embedding

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
            fn_constructor_kwargs={"model": MODEL, "api_key": "test", "base_url": server.url, "request_batch_size": 16},
            batch_size=50,
            concurrency=2,
        )
        out = sorted(dataset.take_all(), key=lambda row: int(row["id"]))
        assert [int(row["id"]) for row in out] == list(range(300))
        for row in out:
            assert list(row["embedding"]) == expected_embedding(str(row["text"]), MODEL)
        sent = [text for record in server.requests_to("/ai/openai/embeddings") for text in record.json()["input"]]
        assert sorted(sent) == sorted(row["text"] for row in rows)


@pytest.mark.usefixtures("local_ray")
def test_four_workers_share_one_rate_limit() -> None:
    # 4 workers, one server at 100 requests/s, 0.05 s each: 400 requests, ideal 4 s once they run.
    # Margins are loose (Ray and the server share two cores here, and four independent slow starts
    # overshoot together); they catch workers that ignore the limit, not a few points of 429s.
    with MockServer.in_thread() as server:
        limiter = server.set_rate_limit(100, latency=0.05, retry_after=None, path="/ai/openai/embeddings")
        rows = [{"id": i, "text": f"shared row {i}"} for i in range(1600)]
        settings = {"model": MODEL, "api_key": "test", "base_url": server.url, "request_batch_size": 4}
        dataset = ray.data.from_items(rows).map_batches(
            TelnyxEmbedder, fn_constructor_kwargs=settings, batch_size=100, concurrency=4, num_cpus=0.25
        )
        assert sorted(int(row["id"]) for row in dataset.take_all()) == list(range(1600))
        span = limiter.decisions[-1][0] - limiter.decisions[0][0]
    share = limiter.refused / (limiter.accepted + limiter.refused)
    print(f"4 workers: {span:.1f} s for an ideal of 4.0 s, {share:.1%} answered 429")
    assert limiter.accepted == 400
    assert share < 0.4
    assert span < 4.0 * 3.0


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
