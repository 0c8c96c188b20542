"""Pages that fetch their successor (``has_next_page``, ``get_next_page``, ``iter_pages``, both clients) and
uploads given as ``(filename, content, content_type)`` (issue 21.5), against the emulator."""

from __future__ import annotations

import pytest
from aiohttp import web

from telnyx_ai import AsyncPage, AsyncTelnyx, SyncPage, Telnyx, TelnyxError
from telnyx_ai.testing import Call, MockServer, json_response
from telnyx_ai.types.assistant_tests import AssistantTestResponse

MODEL = "deepgram/nova-3"


@pytest.fixture
async def server() -> MockServer:
    async with MockServer(tests=5) as s:
        yield s  # type: ignore[misc]


def _names(page: AsyncPage[AssistantTestResponse] | SyncPage[AssistantTestResponse]) -> list[str]:
    return [test.name for test in page.data]


async def test_an_async_page_fetches_the_next_one(server: MockServer) -> None:
    async with AsyncTelnyx(api_key="test", base_url=server.url) as client:
        first = await client.ai.assistants.tests.list(page_size=2)
        assert first.has_next_page()
        second = await first.get_next_page()
        third = await second.get_next_page()
        assert [_names(p) for p in (first, second, third)] == [
            ["Emulator test 001", "Emulator test 002"],
            ["Emulator test 003", "Emulator test 004"],
            ["Emulator test 005"],
        ]
        assert second.has_next_page() and not third.has_next_page()
        with pytest.raises(TelnyxError, match=r"This is the last page: check has_next_page\(\)"):
            await third.get_next_page()
        assert third.request_id == server.requests[-1].request_id
        from_second = [_names(p) async for p in second.iter_pages()]
        assert from_second == [_names(second), _names(third)]
    queries = [r.query.get("page[number]") for r in server.requests]
    assert queries == [None, "2", "3", "3"]  # iter_pages starts from the page it has: one request for the rest


def test_a_sync_page_fetches_the_next_one() -> None:
    with MockServer.in_thread(tests=5) as server, Telnyx(api_key="test", base_url=server.url) as client:
        tests = client.ai.assistants.tests.list(page_size=2)
        first = tests.first_page()
        assert isinstance(first, SyncPage) and first.has_next_page()
        second = first.get_next_page()
        assert isinstance(second, SyncPage) and _names(second) == ["Emulator test 003", "Emulator test 004"]
        assert [_names(p) for p in first.iter_pages()] == [_names(p) for p in tests.pages()]
        last = list(tests.pages())[-1]
        assert not last.has_next_page() and last.request_id
        with pytest.raises(TelnyxError, match="This is the last page"):
            last.get_next_page()


async def test_a_page_made_by_hand_has_no_next_page() -> None:
    page: AsyncPage[int] = AsyncPage(data=[1, 2])
    assert not page.has_next_page()
    with pytest.raises(TelnyxError, match="not fetched by a client"):
        await page.get_next_page()
    assert [p.data async for p in page.iter_pages()] == [[1, 2]]


async def test_a_server_that_ignores_the_page_number_stops_the_walk(server: MockServer) -> None:
    test = {"test_id": "t", "name": "n", "telnyx_conversation_channel": "web_chat", "rubric": [], "created_at": "x"}

    async def same_page(call: Call) -> web.StreamResponse:
        return json_response({"data": [test]})

    server.add_route("GET", "/ai/assistants/tests", same_page)
    async with AsyncTelnyx(api_key="test", base_url=server.url) as client:
        first = await client.ai.assistants.tests.list(page_size=1)
        second = await first.get_next_page()
        assert second.data == first.data and not second.has_next_page()
        assert [p async for p in first.iter_pages()] == [first]


async def test_an_upload_tuple_names_its_content_type(server: MockServer) -> None:
    async with AsyncTelnyx(api_key="test", base_url=server.url) as client:
        heard = await client.ai.audio.transcribe(file=("note.bin", b"two espressos", "audio/ogg"), model=MODEL)
        guessed = await client.ai.audio.transcribe(file=("note.ogg", b"one tea"), model=MODEL)
    assert heard.text == "two espressos" and guessed.text == "one tea"
    named, inferred = (r.body for r in server.requests)
    assert b'filename="note.bin"' in named and b"Content-Type: audio/ogg" in named
    assert b'filename="note.ogg"' in inferred and b"Content-Type: audio/ogg" in inferred


@pytest.mark.parametrize(
    ("file", "error", "message"),
    [
        (
            ("a.wav",),
            ValueError,
            r"a file tuple is \(filename, content\) or \(filename, content, content_type\), got 1",
        ),
        (("a.wav", b"x", "audio/wav", {}), ValueError, "got 4 items"),
        ((b"x", b"y"), TypeError, "the filename and the content type must be strings"),
        (("a.wav", b"x", 3), TypeError, "the filename and the content type must be strings"),
    ],
)
async def test_a_malformed_upload_tuple_fails_before_any_request(
    server: MockServer, file: object, error: type[Exception], message: str
) -> None:
    async with AsyncTelnyx(api_key="test", base_url=server.url) as client:
        with pytest.raises(error, match=message):
            await client.ai.audio.transcribe(file=file, model=MODEL)  # type: ignore[arg-type]
    assert server.requests == []
