"""`AsyncPaginator`: await it for the first page, iterate it for every item of every page.

Pages are requested with ``page[number]`` / ``page[size]`` until the server says there are
no more. Iteration also stops on an empty or short page, on a page whose number is not the
one asked for, and on a page identical to the one before: a server that misreports its
totals (or ignores the page parameter) can never make it loop forever.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ._errors import TelnyxError
from ._http.transport import Transport
from ._models import APIResponse, BaseModel
from ._types import NotGiven, RequestOptions

__all__ = ["AsyncPage", "AsyncPaginator", "BasePage", "PageMeta", "paginate"]

T = TypeVar("T")


class PageMeta(BaseModel):
    """Where a page sits in the whole list."""

    page_number: int | None = None
    page_size: int | None = None
    total_pages: int | None = None
    total_results: int | None = None


FetchPage = Callable[[int], Awaitable["AsyncPage[T]"]]


@dataclass(frozen=True, slots=True)
class PageCursor(Generic[T]):
    """Where a fetched page sits, kept on it (outside its fields) so it can fetch the page after it."""

    fetch: FetchPage[T]
    number: int
    requested_size: int | None
    previous: list[T] | None
    """The items of the page before it: a server that ignores the page number repeats them."""


class BasePage(APIResponse, Generic[T]):
    """One page of a list: its items and, when the endpoint gives it, its position."""

    data: list[T] = []
    meta: PageMeta | None = None

    def __iter__(self) -> Iterator[T]:
        """This page's items (``page.data``)."""
        return iter(self.data)

    def _cursor(self) -> PageCursor[T] | None:
        cursor: PageCursor[T] | None = vars(self).get("_page_cursor")
        return cursor

    def _is_new(self) -> bool:
        """Whether this page holds items, and not the same ones as the page before it."""
        cursor = self._cursor()
        return bool(self.data) and (cursor is None or self.data != cursor.previous)

    def has_next_page(self) -> bool:
        """Whether there is a page after this one: by ``meta`` when the endpoint gives it, else by a full page.

        False too for a page with no items or the same items as the page before it.
        """
        cursor = self._cursor()
        return cursor is not None and self._is_new() and not is_last_page(self, cursor.number, cursor.requested_size)

    def _next_cursor(self) -> PageCursor[T]:
        cursor = self._cursor()
        if cursor is None:
            raise TelnyxError("This page was not fetched by a client, so it cannot fetch the next one.")
        if not self.has_next_page():
            raise TelnyxError("This is the last page: check has_next_page() before calling get_next_page().")
        return cursor


class AsyncPage(BasePage[T], Generic[T]):
    """One page of a list, as the async client returns it: ``await page.get_next_page()`` for the next."""

    async def get_next_page(self) -> AsyncPage[T]:
        """The page after this one; raises `TelnyxError` when `has_next_page` is False."""
        cursor = self._next_cursor()
        return await cursor.fetch(cursor.number + 1)

    async def iter_pages(self) -> AsyncIterator[AsyncPage[T]]:
        """This page and every page after it, fetched one at a time as you go."""
        page: AsyncPage[T] = self
        while page._is_new():
            yield page
            if not page.has_next_page():
                return
            page = await page.get_next_page()


def with_cursor(page: BasePage[T], cursor: PageCursor[T]) -> None:
    """Give a fetched ``page`` the cursor `has_next_page` and `get_next_page` use."""
    vars(page)["_page_cursor"] = cursor


class AsyncPaginator(Generic[T]):
    """A lazily fetched list. ``await`` it for the first page; ``async for`` walks every item."""

    __slots__ = ("_fetch", "_first_number", "_page_size")

    def __init__(self, fetch: FetchPage[T], *, first_page: int = 1, page_size: int | None = None) -> None:
        if first_page < 1:
            raise ValueError(f"page_number must be 1 or more, got {first_page}.")
        self._fetch = fetch
        self._first_number = first_page
        self._page_size = page_size

    def __await__(self) -> Generator[Any, None, AsyncPage[T]]:
        return self._fetch(self._first_number).__await__()

    def __aiter__(self) -> AsyncIterator[T]:
        return self._items()

    async def _items(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.data:
                yield item

    async def pages(self) -> AsyncIterator[AsyncPage[T]]:
        """Every page in turn, from the first one asked for."""
        first = await self._fetch(self._first_number)
        async for page in first.iter_pages():
            yield page


def is_last_page(page: BasePage[Any], number: int, requested_size: int | None) -> bool:
    """Whether no page should be asked for after ``page`` (page ``number``)."""
    meta = page.meta
    size = requested_size
    if meta is not None:
        if meta.page_number is not None and meta.page_number != number:
            return True  # the server did not serve the page we asked for
        if meta.total_pages is not None:
            return number >= meta.total_pages
        # The server's page size wins: it may cap what was asked for.
        size = meta.page_size or size
    return size is not None and len(page.data) < size


def paginate(
    transport: Transport,
    path: str,
    item_type: type[T],
    *,
    query: Mapping[str, object],
    page_number: int | NotGiven,
    page_size: int | NotGiven,
    options: RequestOptions,
    number_param: str = "page[number]",
    size_param: str = "page[size]",
    bare_array: bool = False,
) -> AsyncPaginator[T]:
    """A paginator over a ``GET`` list. ``bare_array`` is for endpoints that return a JSON array, not a page."""
    size = None if isinstance(page_size, NotGiven) else page_size
    first = 1 if isinstance(page_number, NotGiven) else page_number
    page_type: Any = list[item_type] if bare_array else AsyncPage[item_type]  # type: ignore[valid-type]

    async def fetch(number: int, previous: list[T] | None = None) -> AsyncPage[T]:
        page_query = {**query, size_param: page_size}
        if number != 1 or not isinstance(page_number, NotGiven):
            page_query[number_param] = number
        result = await transport.request("GET", path, cast_to=page_type, query=page_query, options=options)
        page: AsyncPage[T] = AsyncPage(data=result) if bare_array else result  # pyright: ignore[reportUnknownVariableType]
        with_cursor(page, PageCursor(fetch_after(page), number, size, previous))
        return page

    def fetch_after(page: AsyncPage[T]) -> FetchPage[T]:
        return lambda number: fetch(number, page.data)

    return AsyncPaginator(fetch, first_page=first, page_size=size)
