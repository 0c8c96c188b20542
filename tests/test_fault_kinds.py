"""Fault kinds are classes: each owns its behaviour, so a new kind is one subclass and nothing else."""

from __future__ import annotations

import inspect
import pickle
from collections.abc import AsyncIterator
from typing import Any, get_args

import pytest
from aiohttp import web

from telnyx_ai import APIConnectionError, APIError, APIStatusError, AsyncTelnyx
from telnyx_ai.testing import Fault, FaultKind, MockServer, _faults, json_response
from telnyx_ai.testing._responses import EventStream

MESSAGES: Any = [{"role": "user", "content": "Hi"}]


# -- kinds defined here, as a test (or a later issue) would add one -------------------------------


class Teapot(Fault):
    """Answers 418 before the handler runs."""

    kind = "teapot"

    async def before_handler(self, request: web.Request) -> web.StreamResponse:
        return json_response(
            {"errors": [{"code": "418", "title": "I'm a teapot", "detail": "short and stout"}]}, status=418
        )


class NoModels(Fault):
    """Replaces the handler's finished body."""

    kind = "no_models"

    async def on_body(self, request: web.Request, response: web.Response) -> web.StreamResponse:
        return json_response({"object": "list", "data": []}, status=response.status)


class HangUpAfterFirstEvent(Fault):
    """Writes a comment after the first event, then ends the stream without ``[DONE]``."""

    kind = "hang_up_after_first_event"

    @property
    def stream_only(self) -> bool:
        return True

    async def on_event(self, stream: EventStream, number: int, data: bytes) -> bytes | None:
        if number < 1:
            return data
        await stream.write(b": bye\n\n")
        return None


@pytest.fixture
async def server() -> AsyncIterator[MockServer]:
    async with MockServer() as mock:
        yield mock


@pytest.fixture
async def client(server: MockServer) -> AsyncIterator[AsyncTelnyx]:
    async with AsyncTelnyx(api_key="test-key", base_url=server.url, max_retries=0) as telnyx:
        yield telnyx


async def test_a_kind_defined_in_one_class_answers_before_the_handler(server: MockServer, client: AsyncTelnyx) -> None:
    server.inject(Teapot())
    with pytest.raises(APIStatusError) as info:
        await client.ai.retrieve_models()
    assert info.value.status_code == 418
    assert server.fault_counts == {"teapot": 1}
    assert server.requests[0].fault == Teapot() and server.requests[0].status == 418
    assert server.served == 0


async def test_a_kind_can_be_drawn_at_random_by_its_name(server: MockServer, client: AsyncTelnyx) -> None:
    server.set_fault_rates({"teapot": 1.0}, seed=1)
    with pytest.raises(APIStatusError):
        await client.ai.retrieve_models()
    assert Fault.of_kind("teapot") == Teapot()


async def test_a_kind_can_replace_the_body(server: MockServer, client: AsyncTelnyx) -> None:
    server.inject(NoModels())
    assert (await client.ai.retrieve_models()).data == []
    assert server.requests[0].status == 200 and server.fault_counts["no_models"] == 1


async def test_a_kind_can_end_a_stream(server: MockServer, client: AsyncTelnyx) -> None:
    injection = server.inject(HangUpAfterFirstEvent())
    await client.ai.chat.create_completion(messages=MESSAGES)  # not a stream: the fault waits
    assert server.pending_faults == [injection]
    stream = await client.ai.chat.create_completion(messages=MESSAGES, stream=True)
    received = 0
    with pytest.raises(APIConnectionError, match="no \\[DONE\\]"):
        async with stream:
            async for _ in stream:
                received += 1
    assert received == 1 and server.fault_counts["hang_up_after_first_event"] == 1


# -- the kinds stay plain values --------------------------------------------------------------------


def test_fault_kind_names_every_built_in_kind() -> None:
    built_in = [
        cls.kind
        for _, cls in inspect.getmembers(_faults, inspect.isclass)
        if issubclass(cls, Fault) and cls is not Fault and cls.__module__ == _faults.__name__
    ]
    assert sorted(built_in) == sorted(get_args(FaultKind))
    assert _faults.fault_kinds()[: len(built_in)] == list(get_args(FaultKind))


@pytest.mark.parametrize("kind", get_args(FaultKind))
def test_every_kind_is_an_immutable_comparable_picklable_value(kind: str) -> None:
    fault = Fault.of_kind(kind)
    assert fault.kind == kind
    assert fault == Fault.of_kind(kind) and hash(fault) == hash(Fault.of_kind(kind))
    assert pickle.loads(pickle.dumps(fault)) == fault
    others = [Fault.of_kind(other) for other in get_args(FaultKind) if other != kind]
    assert fault not in others
    with pytest.raises(AttributeError):
        fault.kind = "other"  # type: ignore[misc]


def test_kind_names_are_unique_and_the_base_is_not_a_fault() -> None:
    with pytest.raises(TypeError, match="must be a new name"):

        class AnotherStatus(Fault):
            kind = "status"

    with pytest.raises(TypeError, match="has no kind"):
        Fault()
    with pytest.raises(ValueError, match="Unknown fault kind 'nope'"):
        Fault.of_kind("nope")


@pytest.mark.parametrize(
    ("fault", "streaming", "status"),
    [
        (Fault.status(503), False, 503),
        (Fault.reset_before_headers(), False, None),
        (Fault.reset_before_headers(), True, None),
        (Fault.reset_after_headers(), False, 200),
        (Fault.reset_after_headers(), True, 200),
        (Fault.truncated_json(), False, 200),
        (Fault.truncated_json(), True, 200),
        (Fault.truncated_stream(), True, 200),
        (Fault.error_event(), True, 200),
        (Fault.stall(0.0), False, 200),
        (Fault.stall(0.0, after_events=1), True, 200),
        (Fault.trickle(0.0, chunk_size=64), False, 200),
        (Fault.trickle(0.0, chunk_size=64), True, 200),
        (Fault.cut_in_tool_call(), True, 200),
    ],
)
async def test_each_built_in_kind_records_the_status_it_sent(
    server: MockServer, client: AsyncTelnyx, fault: Fault, streaming: bool, status: int | None
) -> None:
    server.inject(fault)
    try:
        if streaming:
            stream = await client.ai.chat.create_completion(messages=MESSAGES, stream=True)
            async with stream:
                async for _ in stream:
                    pass
        else:
            await client.ai.chat.create_completion(messages=MESSAGES)
    except APIError:
        pass  # what the client makes of each fault is tested in test_testing_server.py
    (record,) = server.requests
    assert (record.fault, record.status, server.served) == (fault, status, 0)
