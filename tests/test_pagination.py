"""Paginated lists: await for the first page, iterate across pages, never loop forever."""

from __future__ import annotations

import re
from typing import Any

from aioresponses import aioresponses
from yarl import URL

from telnyx_ai import AsyncTelnyx

from .conftest import BASE_URL

TESTS_URL = re.compile(re.escape(f"{BASE_URL}/ai/assistants/tests") + r"(\?.*)?$")


def make_test(n: int) -> dict[str, Any]:
    return {
        "test_id": f"t-{n}",
        "name": f"test {n}",
        "telnyx_conversation_channel": "web_chat",
        "rubric": [{"name": "polite", "criteria": "says hello"}],
        "created_at": "2026-01-01T00:00:00Z",
    }


def page(numbers: list[int], *, page_number: int, total_pages: int, page_size: int = 2) -> dict[str, Any]:
    meta = {"page_number": page_number, "page_size": page_size, "total_pages": total_pages, "total_results": 5}
    return {"data": [make_test(n) for n in numbers], "meta": meta}


def sent_queries(mocked: aioresponses) -> list[dict[str, str]]:
    return [dict(URL(str(url)).query) for (_, url), calls in mocked.requests.items() for _ in calls]


async def test_iterates_every_item_of_every_page(client: AsyncTelnyx, mocked: aioresponses) -> None:
    mocked.get(TESTS_URL, payload=page([1, 2], page_number=1, total_pages=3))
    mocked.get(TESTS_URL, payload=page([3, 4], page_number=2, total_pages=3))
    mocked.get(TESTS_URL, payload=page([5], page_number=3, total_pages=3))
    names = [t.test_id async for t in client.ai.assistants.tests.list(test_suite="smoke", page_size=2)]
    assert names == ["t-1", "t-2", "t-3", "t-4", "t-5"]
    queries = sent_queries(mocked)
    assert queries == [
        {"test_suite": "smoke", "page[size]": "2"},
        {"test_suite": "smoke", "page[size]": "2", "page[number]": "2"},
        {"test_suite": "smoke", "page[size]": "2", "page[number]": "3"},
    ]


async def test_await_gives_the_first_page(client: AsyncTelnyx, mocked: aioresponses) -> None:
    mocked.get(TESTS_URL, payload=page([1, 2], page_number=1, total_pages=3))
    first = await client.ai.assistants.tests.list()
    assert [t.name for t in first.data] == ["test 1", "test 2"]
    assert first.meta is not None and first.meta.total_pages == 3
    assert sum(len(c) for c in mocked.requests.values()) == 1


async def test_explicit_start_page_is_sent(client: AsyncTelnyx, mocked: aioresponses) -> None:
    mocked.get(TESTS_URL, payload=page([3, 4], page_number=2, total_pages=2))
    items = [t.test_id async for t in client.ai.assistants.tests.list(page_number=2)]
    assert items == ["t-3", "t-4"]
    assert sent_queries(mocked) == [{"page[number]": "2"}]


async def test_stops_on_an_empty_page(client: AsyncTelnyx, mocked: aioresponses) -> None:
    mocked.get(TESTS_URL, payload={"data": [make_test(1), make_test(2)]})
    mocked.get(TESTS_URL, payload={"data": []})
    items = [t async for t in client.ai.assistants.tests.list()]
    assert len(items) == 2
    assert len(sent_queries(mocked)) == 2


async def test_server_that_ignores_the_page_number_cannot_cause_a_loop(
    client: AsyncTelnyx, mocked: aioresponses
) -> None:
    mocked.get(TESTS_URL, payload=page([1, 2], page_number=1, total_pages=10_000_000), repeat=True)
    items = [t.test_id async for t in client.ai.assistants.tests.list()]
    assert items == ["t-1", "t-2"]
    assert len(sent_queries(mocked)) == 2


async def test_repeated_identical_pages_without_meta_stop(client: AsyncTelnyx, mocked: aioresponses) -> None:
    mocked.get(TESTS_URL, payload={"data": [make_test(1), make_test(2)]}, repeat=True)
    items = [t.test_id async for t in client.ai.assistants.tests.list()]
    assert items == ["t-1", "t-2"]
    assert len(sent_queries(mocked)) == 2


async def test_short_page_is_the_last(client: AsyncTelnyx, mocked: aioresponses) -> None:
    mocked.get(TESTS_URL, payload={"data": [make_test(1)]}, repeat=True)
    items = [t async for t in client.ai.assistants.tests.list(page_size=5)]
    assert len(items) == 1
    assert len(sent_queries(mocked)) == 1


async def test_pages_iterator_yields_whole_pages(client: AsyncTelnyx, mocked: aioresponses) -> None:
    mocked.get(TESTS_URL, payload=page([1, 2], page_number=1, total_pages=2))
    mocked.get(TESTS_URL, payload=page([3, 4], page_number=2, total_pages=2))
    pages = [p async for p in client.ai.assistants.tests.list().pages()]
    assert [[t.test_id for t in p.data] for p in pages] == [["t-1", "t-2"], ["t-3", "t-4"]]


async def test_a_server_capping_the_page_size_loses_no_items(client: AsyncTelnyx, mocked: aioresponses) -> None:
    # Asked for 250 per page; the server serves 2 per page and says there are 3 pages.
    mocked.get(TESTS_URL, payload=page([1, 2], page_number=1, total_pages=3))
    mocked.get(TESTS_URL, payload=page([3, 4], page_number=2, total_pages=3))
    mocked.get(TESTS_URL, payload=page([5], page_number=3, total_pages=3))
    items = [t.test_id async for t in client.ai.assistants.tests.list(page_size=250)]
    assert items == ["t-1", "t-2", "t-3", "t-4", "t-5"]
