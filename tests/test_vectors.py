"""Compact vectors: base64 on the wire by default, both encodings decoded, float32 arrays out, on both clients."""

from __future__ import annotations

import asyncio
import base64
import os
import struct
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import numpy as np
import pytest
from aiohttp import web

import telnyx_ai._batch.vectors as vectors_module
from telnyx_ai import APIResponseValidationError, AsyncTelnyx, EmbedManyError, InternalServerError, Telnyx
from telnyx_ai._batch.engine import EmbedJob, embed_all, embed_all_float32
from telnyx_ai._batch.vectors import Float32Rows, WireEmbeddingResponse, read_vectors, to_float32, to_list
from telnyx_ai._batch.wire_format import PROBE_WAIT
from telnyx_ai._http.request import Request
from telnyx_ai._http.response import decode
from telnyx_ai.testing import Fault, MockServer
from telnyx_ai.testing._fixtures import expected_embedding
from telnyx_ai.testing._handlers import embeddings as emulated_embeddings
from telnyx_ai.testing._records import Call
from telnyx_ai.types.openai import OpenAIEmbeddingResponse
from telnyx_ai.types.openai_base64 import OpenAIEmbeddingBase64Response

MODEL = "thenlper/gte-large"
OTHER_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
PATH = "/ai/openai/embeddings"


def packed(values: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()


def expected(texts: list[str], dimensions: int, model: str = MODEL) -> list[list[float]]:
    return [expected_embedding(text, model, dimensions) for text in texts]


def formats(server: MockServer) -> list[object]:
    return [record.json().get("encoding_format") for record in server.requests_to(PATH)]


@pytest.fixture
async def server() -> AsyncIterator[MockServer]:
    async with MockServer() as emulator:
        yield emulator


@pytest.fixture
async def client(server: MockServer) -> AsyncIterator[AsyncTelnyx]:
    async with AsyncTelnyx(api_key="test", base_url=server.url) as c:
        yield c


# -- decoding --------------------------------------------------------------------------------


def test_both_encodings_decode_to_the_servers_float32_values_exactly() -> None:
    values = [0.1, -2.5, 3.0e-8, 1.0e30]
    as_float32 = list(struct.unpack("<4f", struct.pack("<4f", *values)))
    decoded = read_vectors([packed(values), as_float32], "inputs 0-1")
    assert [to_list(vector) for vector in decoded] == [as_float32, as_float32]
    array = to_float32(decoded[0])
    assert array.dtype == np.float32 and array.flags.writeable
    assert array.tolist() == as_float32


@pytest.mark.parametrize(
    ("embeddings", "problem"),
    [
        ([base64.b64encode(b"\0" * 6).decode()], "6 bytes, not whole float32 values"),
        ([packed([1.0, 2.0]), packed([1.0])], "vector 1 has 1 values, vector 0 has 2"),
        ([packed([1.0, 2.0]), [1.0, 2.0, 3.0]], "vector 1 has 3 values, vector 0 has 2"),
        (["not base64!"], "not base64"),
    ],
)
def test_a_vector_of_the_wrong_length_is_a_malformed_reply_naming_the_batch(
    embeddings: list[list[float] | str], problem: str
) -> None:
    with pytest.raises(APIResponseValidationError, match="inputs 64-127") as caught:
        read_vectors(embeddings, "inputs 64-127")
    assert problem in str(caught.value)
    assert caught.value.malformed  # so a batch job tries it again, like a body cut short


def test_garbled_base64_from_the_server_is_a_malformed_reply() -> None:
    # msgspec decodes the base64 while it parses; text that is not base64 is a reply cut or garbled
    # in transit, which a batch job tries again, not a server answering the wrong shape.
    body = b'{"data":[{"embedding":"AAAA$AAA","index":0,"object":"embedding"}],"model":"m","object":"list",'
    body += b'"usage":{"prompt_tokens":1,"total_tokens":1}}'
    request = Request("POST", "http://x/ai/openai/embeddings", None, {}, None, aiohttp.ClientTimeout())
    with pytest.raises(APIResponseValidationError) as caught:
        decode(body, 200, WireEmbeddingResponse, request)
    assert caught.value.malformed
    fine = decode(body.replace(b"AAAA$AAA", packed([1.5]).encode()), 200, WireEmbeddingResponse, request)
    assert fine.data[0].embedding == struct.pack("<f", 1.5)


@dataclass
class Item:
    embedding: list[float] | str
    index: int


@dataclass
class Reply:
    data: list[Item]


class Sender:
    """Answers "item-N" with [N, N + 0.5] in base64; ``bad`` batches first answer a short string; ``widths``
    gives some batches (by first input) another width."""

    def __init__(self, *, bad: set[str] | None = None, widths: dict[str, int] | None = None) -> None:
        self.bad, self.widths, self.calls = set(bad or ()), dict(widths or {}), 0

    async def __call__(self, batch: list[str], retry: int = 0, key: str = "") -> Reply:
        self.calls += 1
        await asyncio.sleep(0)
        if batch[0] in self.bad:
            self.bad.discard(batch[0])
            return Reply([Item(base64.b64encode(b"\0" * 7).decode(), i) for i in range(len(batch))])
        size = self.widths.get(batch[0], 2)
        items = []
        for i, text in enumerate(batch):
            number = float(text.split("-")[1])
            items.append(Item(packed([number, number + 0.5, 0.0][:size] + [0.0] * (size - 3)), i))
        return Reply(items)


def texts(n: int) -> list[str]:
    return [f"item-{i}" for i in range(n)]


async def test_a_batch_with_a_wrong_length_string_is_retried_never_short() -> None:
    sender = Sender(bad={"item-10"})
    vectors = await embed_all(sender, texts(30), EmbedJob(batch_size=10, concurrency=2, max_retries=2))
    assert vectors == [[float(i), i + 0.5] for i in range(30)]
    assert sender.calls == 4  # three batches, one of them twice


async def test_mixed_widths_across_batches_of_an_array_fail_those_rows_and_keep_the_rest() -> None:
    sender = Sender(widths={"item-20": 3})
    with pytest.raises(EmbedManyError) as caught:
        await embed_all_float32(sender, texts(30), EmbedJob(batch_size=10, concurrency=1, max_retries=2))
    assert sorted(caught.value.failed) == list(range(20, 30))
    assert "has 3 values per vector; this job's array has 2" in str(caught.value.failed[20])
    assert sender.calls == 3  # not retried: the server means it
    array = caught.value.results
    assert isinstance(array, np.ndarray) and array.shape == (30, 2)
    assert array[:20].tolist() == [[float(i), i + 0.5] for i in range(20)]
    assert np.isnan(array[20:]).all()


async def test_an_array_of_unknown_length_grows_and_is_trimmed() -> None:
    sender = Sender()
    source = (text for text in texts(2500))  # no len(): the array grows past its first 1024 rows
    array = await embed_all_float32(sender, source, EmbedJob(batch_size=100, concurrency=4, max_retries=0))
    assert array.shape == (2500, 2) and array.dtype == np.float32
    assert array[:, 0].tolist() == [float(i) for i in range(2500)]


async def test_rows_never_filled_are_nan_also_past_the_first_capacity() -> None:
    # The array is allocated unwritten; rows no batch filled become NaN at the end, grown ones too.
    async def send(batch: list[str], retry: int = 0, key: str = "") -> Reply:
        if batch[0] in ("item-0", "item-1500"):
            raise InternalServerError("500 Internal Server Error", status_code=500)
        return await Sender()(batch, retry)

    source = (text for text in texts(2000))
    with pytest.raises(EmbedManyError) as caught:
        await embed_all_float32(send, source, EmbedJob(batch_size=100, concurrency=4, max_retries=0))
    array = caught.value.results
    assert isinstance(array, np.ndarray) and array.shape == (2000, 2)
    failed = sorted(caught.value.failed)
    assert failed == [*range(100), *range(1500, 1600)]
    assert np.isnan(array[failed]).all()
    kept = [i for i in range(2000) if i not in caught.value.failed]
    assert array[kept, 0].tolist() == [float(i) for i in kept]


def test_rows_of_a_batch_with_gaps_or_both_encodings_land_at_their_own_indices() -> None:
    # The block copy is only for consecutive base64 rows; a batch with gaps (an input set apart on its
    # own after a bad batch) and a reply mixing encodings go row by row.
    rows = Float32Rows(7)
    rows.put([0, 2, 5], [struct.pack("<2f", 0, 0.5), [2.0, 2.5], struct.pack("<2f", 5, 5.5)])
    rows.put([3, 4], [struct.pack("<2f", 3, 3.5), struct.pack("<2f", 4, 4.5)])
    array = rows.finish(7)
    assert array.shape == (7, 2) and array.dtype == np.float32 and array.flags.writeable
    assert array[[0, 2, 3, 4, 5]].tolist() == [[0, 0.5], [2, 2.5], [3, 3.5], [4, 4.5], [5, 5.5]]
    assert np.isnan(array[[1, 6]]).all()


def test_a_first_batch_past_the_stated_length_grows_the_array() -> None:
    # An input whose len() said 50 but yielded more: the first batch to finish may be past row 50.
    rows = Float32Rows(50)
    rows.put(list(range(60, 64)), [struct.pack("<2f", i, i + 0.5) for i in range(60, 64)])
    rows.put([70], [[70.0, 70.5]])
    array = rows.finish(71)
    assert array.shape == (71, 2)
    assert array[60:64].tolist() == [[i, i + 0.5] for i in range(60, 64)] and array[70].tolist() == [70, 70.5]
    assert np.isnan(array[:60]).all()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX only")
def test_a_forked_child_writing_the_array_leaves_the_parents_alone() -> None:
    # The array's memory is private, as malloc's is: a child gets a copy-on-write copy.
    rows = Float32Rows(4)
    rows.put([0, 1, 2, 3], [struct.pack("<2f", i, i) for i in range(4)])
    array = rows.finish(4)
    child = os.fork()
    if child == 0:  # pragma: no cover  (the child)
        array[:] = 99.0
        os._exit(0)
    os.waitpid(child, 0)
    assert array[:, 0].tolist() == [0.0, 1.0, 2.0, 3.0]


# -- what is sent, and the server's answers -----------------------------------------------------


async def test_embed_many_asks_for_base64_and_returns_lists_of_the_exact_values(
    server: MockServer, client: AsyncTelnyx
) -> None:
    inputs = [f"doc {n}" for n in range(50)]
    vectors = await client.ai.openai.embeddings.embed_many(inputs, model=MODEL, dimensions=16, batch_size=8)
    assert vectors == expected(inputs, 16)
    assert formats(server) == ["base64"] * 7


async def test_create_embeddings_asks_for_base64_unless_told_and_keeps_its_types(
    server: MockServer, client: AsyncTelnyx
) -> None:
    embeddings = client.ai.openai.embeddings
    default = await embeddings.create_embeddings(input=["a", "b"], model=MODEL, dimensions=8)
    assert type(default) is OpenAIEmbeddingResponse
    assert [item.embedding for item in default.data] == expected(["a", "b"], 8)
    assert default.request_id is not None
    explicit = await embeddings.create_embeddings(input="a", model=MODEL, dimensions=8, encoding_format="base64")
    assert type(explicit) is OpenAIEmbeddingBase64Response
    assert explicit.data[0].embedding == packed(expected_embedding("a", MODEL, 8))
    floats = await embeddings.create_embeddings(input="a", model=MODEL, dimensions=8, encoding_format="float")
    assert floats.data[0].embedding == expected_embedding("a", MODEL, 8)
    chosen = await embeddings.create_embeddings(
        input="a", model=MODEL, dimensions=8, extra_body={"encoding_format": "float"}
    )
    assert chosen.data[0].embedding == expected_embedding("a", MODEL, 8)
    assert formats(server) == ["base64", "base64", "float", "float"]


def base64_asks(server: MockServer) -> int:
    """Requests that asked for base64."""
    return formats(server).count("base64")


async def test_a_server_that_answers_floats_to_base64_is_asked_for_floats_after_its_first_answer(
    server: MockServer,
) -> None:
    server.base64 = "ignore"
    inputs = [f"doc {n}" for n in range(20)]
    async with AsyncTelnyx(api_key="test", base_url=server.url) as client:
        embeddings = client.ai.openai.embeddings
        vectors = await embeddings.embed_many(inputs, model=MODEL, dimensions=8, batch_size=2, concurrency=8)
        assert vectors == expected(inputs, 8)
        assert base64_asks(server) == 1, "a job asks once, then as for floats"
        array = await embeddings.embed_many(inputs, model=MODEL, dimensions=8, batch_size=5, as_numpy=True)
        assert array.tolist() == expected(inputs, 8)
        reply = await client.with_options(timeout=30).ai.openai.embeddings.create_embeddings(
            input=["x", "y"], model=MODEL, dimensions=8
        )
        assert type(reply) is OpenAIEmbeddingResponse and [d.embedding for d in reply.data] == expected(["x", "y"], 8)
        assert reply.request_id is not None
        assert base64_asks(server) == 1, "remembered for the client (its copies too) and the model"
        assert all("encoding_format" not in r.json() for r in server.requests_to(PATH)[1:]), "asked as for floats"

        # Single calls, five at once, on another model: one asks, the others wait for its answer.
        replies = await asyncio.gather(
            *(embeddings.create_embeddings(input=f"z{n}", model=OTHER_MODEL, dimensions=8) for n in range(5))
        )
        assert [r.data[0].embedding for r in replies] == expected([f"z{n}" for n in range(5)], 8, OTHER_MODEL)
        await embeddings.create_embeddings(input="w", model=OTHER_MODEL, dimensions=8)
        assert base64_asks(server) == 2

        # A caller who asks for base64 still gets it asked, whatever was learned.
        await embeddings.embed_many(inputs[:4], model=MODEL, dimensions=8, extra_body={"encoding_format": "base64"})
        assert base64_asks(server) == 3
        server.base64 = "honour"
        explicit = await embeddings.create_embeddings(input="a", model=MODEL, dimensions=8, encoding_format="base64")
        assert explicit.data[0].embedding == packed(expected_embedding("a", MODEL, 8))
        assert base64_asks(server) == 4
    server.base64 = "ignore"
    async with AsyncTelnyx(api_key="test", base_url=server.url) as fresh:  # another client finds out again
        for _ in range(3):
            await fresh.ai.openai.embeddings.create_embeddings(input="x", model=MODEL, dimensions=8)
    assert base64_asks(server) == 5


async def test_an_empty_answer_teaches_nothing(server: MockServer, client: AsyncTelnyx) -> None:
    # No vector in the reply, nothing learned: the next request asks for base64 again and learns then.
    server.base64 = "ignore"
    embeddings = client.ai.openai.embeddings
    answered: list[None] = []

    async def empty_once(call: Call) -> web.StreamResponse:
        if answered:
            return await emulated_embeddings(call)
        answered.append(None)
        usage = {"prompt_tokens": 0, "total_tokens": 0}
        return web.json_response({"object": "list", "data": [], "model": MODEL, "usage": usage})

    server.add_route("POST", PATH, empty_once)
    await embeddings.create_embeddings(input="x", model=MODEL, dimensions=8)
    for _ in range(3):
        await embeddings.create_embeddings(input="y", model=MODEL, dimensions=8)
    assert formats(server) == ["base64", "base64", None, None]


async def test_a_refusal_of_base64_costs_one_failed_request_per_client_and_model(server: MockServer) -> None:
    server.base64 = "reject"
    inputs = [f"doc {n}" for n in range(64)]
    async with AsyncTelnyx(api_key="test", base_url=server.url) as client:
        embeddings = client.ai.openai.embeddings
        vectors = await embeddings.embed_many(inputs, model=MODEL, dimensions=8, batch_size=4, concurrency=16)
        assert vectors == expected(inputs, 8)
        again = await embeddings.embed_many(inputs, model=MODEL, dimensions=8, batch_size=4, as_numpy=True)
        assert again.tolist() == expected(inputs, 8)
        single = await client.with_options(timeout=30).ai.openai.embeddings.create_embeddings(input="x", model=MODEL)
        assert single.data[0].embedding == expected_embedding("x", MODEL)
        records = server.requests_to(PATH)
        assert [r.status for r in records].count(422) == 1
        assert records[0].json()["encoding_format"] == "base64" and records[0].status == 422
        assert all("encoding_format" not in r.json() for r in records[1:])
        await embeddings.embed_many(inputs[:8], model=OTHER_MODEL, batch_size=4)  # another model finds out again
        assert [r.status for r in server.requests_to(PATH)].count(422) == 2
    async with AsyncTelnyx(api_key="test", base_url=server.url) as fresh:  # and so does another client
        await fresh.ai.openai.embeddings.embed_many(inputs[:8], model=MODEL, batch_size=4)
    assert [r.status for r in server.requests_to(PATH)].count(422) == 3


async def test_a_bad_input_is_not_mistaken_for_a_refusal(server: MockServer, client: AsyncTelnyx) -> None:
    server.inject(Fault.status(422), path=PATH)  # the first (base64) request is refused for what it holds
    server.inject(Fault.status(422), path=PATH)  # and so is the same request without base64
    with pytest.raises(EmbedManyError):
        await client.ai.openai.embeddings.embed_many(["a"], model=MODEL, dimensions=4, max_retries=0)
    vectors = await client.ai.openai.embeddings.embed_many(["a", "b"], model=MODEL, dimensions=4)
    assert vectors == expected(["a", "b"], 4)
    assert formats(server)[-1] == "base64"  # base64 was not given up


async def test_a_job_that_must_learn_the_format_sends_its_first_request_alone(
    server: MockServer, client: AsyncTelnyx
) -> None:
    # Held behind a probe and then released at once, the others would arrive as one burst; a rate
    # limit answers that with 429s. So while the format is unknown, the first request goes alone.
    server.set_rate_limit(10_000, burst=1_000, latency=0.3, headers=False)
    inputs = [f"doc {n}" for n in range(64)]
    embeddings = client.ai.openai.embeddings

    async def in_flight_early() -> int:
        job = asyncio.create_task(embeddings.embed_many(inputs, model=MODEL, dimensions=4, batch_size=4))
        while not server.requests_to(PATH):  # noqa: ASYNC110 - polling the records, no event to wait on
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.15)  # well inside the first answer's 0.3 s
        seen = len(server.requests_to(PATH))
        assert await job == expected(inputs, 4)
        assert set(formats(server)) == {"base64"}
        server.requests.clear()
        return seen

    assert await in_flight_early() == 1
    assert await in_flight_early() > 1  # known now: the next job starts at full width


async def test_a_slow_first_answer_holds_a_job_back_at_most_the_probe_wait(server: MockServer) -> None:
    server.set_rate_limit(10_000, burst=1_000, latency=2.0, headers=False)  # far longer than PROBE_WAIT
    async with AsyncTelnyx(api_key="test", base_url=server.url) as client:
        job = asyncio.create_task(
            client.ai.openai.embeddings.embed_many([f"d{n}" for n in range(40)], model=MODEL, batch_size=4)
        )
        await asyncio.sleep(PROBE_WAIT + 0.6)
        assert len(server.requests_to(PATH)) > 1  # the rest went before the first answer
        job.cancel()
        with pytest.raises(asyncio.CancelledError):
            await job


# -- arrays out ------------------------------------------------------------------------------


async def test_as_numpy_returns_one_float32_array_in_input_order(server: MockServer, client: AsyncTelnyx) -> None:
    inputs = [f"doc {n}" for n in range(100)]
    array = await client.ai.openai.embeddings.embed_many(
        inputs, model=MODEL, dimensions=16, batch_size=7, as_numpy=True
    )
    assert isinstance(array, np.ndarray)
    assert array.dtype == np.float32 and array.shape == (100, 16) and array.flags.c_contiguous
    assert array.tolist() == expected(inputs, 16)


async def test_failed_rows_of_an_array_are_nan_and_named(server: MockServer, client: AsyncTelnyx) -> None:
    inputs = [f"doc {n}" for n in range(40)]
    server.inject(Fault.status(500), path=PATH, times=1)
    with pytest.raises(EmbedManyError) as caught:
        await client.ai.openai.embeddings.embed_many(
            inputs, model=MODEL, dimensions=8, batch_size=10, concurrency=1, max_retries=0, as_numpy=True
        )
    array = caught.value.results
    assert isinstance(array, np.ndarray) and array.shape == (40, 8)
    failed = sorted(caught.value.failed)
    assert len(failed) == 10
    assert np.isnan(array[failed]).all()
    kept = [i for i in range(40) if i not in caught.value.failed]
    assert array[kept].tolist() == expected([inputs[i] for i in kept], 8)


async def test_embed_many_iter_as_numpy_yields_float32_rows(client: AsyncTelnyx) -> None:
    inputs = [f"doc {n}" for n in range(30)]
    rows: dict[int, list[float]] = {}
    async for index, row in client.ai.openai.embeddings.embed_many_iter(
        inputs, model=MODEL, dimensions=8, batch_size=4, as_numpy=True
    ):
        assert isinstance(row, np.ndarray) and row.dtype == np.float32 and row.shape == (8,)
        rows[index] = row.tolist()
    assert [rows[i] for i in range(30)] == expected(inputs, 8)


async def test_without_numpy_as_numpy_says_what_to_install_before_any_request(
    server: MockServer, client: AsyncTelnyx, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "numpy", None)  # import numpy now raises ImportError
    monkeypatch.setattr(vectors_module, "_numpy", None)
    embeddings = client.ai.openai.embeddings
    with pytest.raises(ImportError, match=r"pip install 'telnyx-ai\[numpy\]'"):
        await embeddings.embed_many(["a"], model=MODEL, as_numpy=True)
    with pytest.raises(ImportError, match=r"telnyx-ai\[numpy\]"):
        async for _ in embeddings.embed_many_iter(["a"], model=MODEL, as_numpy=True):
            pass
    assert server.requests_to(PATH) == []
    assert await embeddings.embed_many(["a"], model=MODEL, dimensions=4) == expected(["a"], 4)  # lists need no numpy


async def test_as_numpy_must_be_a_bool(client: AsyncTelnyx) -> None:
    with pytest.raises(TypeError, match="'as_numpy' must be True or False, not str"):
        await client.ai.openai.embeddings.embed_many(["a"], model=MODEL, as_numpy="yes")  # type: ignore[call-overload]


def test_the_sync_client_has_the_same_vectors() -> None:
    inputs = [f"doc {n}" for n in range(20)]
    with MockServer.in_thread() as server, Telnyx(api_key="test", base_url=server.url) as client:
        embeddings = client.ai.openai.embeddings
        assert embeddings.embed_many(inputs, model=MODEL, dimensions=8, batch_size=6) == expected(inputs, 8)
        array = embeddings.embed_many(inputs, model=MODEL, dimensions=8, batch_size=6, as_numpy=True)
        assert array.dtype == np.float32 and array.tolist() == expected(inputs, 8)
        rows = dict(embeddings.embed_many_iter(inputs, model=MODEL, dimensions=8, batch_size=6, as_numpy=True))
        assert [rows[i].tolist() for i in range(20)] == expected(inputs, 8)
        reply = embeddings.create_embeddings(input="x", model=MODEL, dimensions=8)
        assert reply.data[0].embedding == expected_embedding("x", MODEL, 8)
        server.base64 = "reject"
        assert embeddings.embed_many(inputs, model=OTHER_MODEL, dimensions=8, batch_size=6) == expected(
            inputs, 8, OTHER_MODEL
        )
        assert [r.status for r in server.requests_to(PATH)].count(422) == 1
        assert set(formats(server)) == {"base64", None}
