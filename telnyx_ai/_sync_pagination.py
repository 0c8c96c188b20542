"""`SyncPaginator` and `SyncPage`: the blocking forms of `AsyncPaginator` and `AsyncPage`.

``for item in paginator`` walks every item of every page (one request per page, made when
the previous page is used up). ``paginator.first_page()`` (or ``.data`` / ``.meta``) gives the
first page alone; it is fetched once and kept. Iterating always starts again from the first
page, like ``async for`` does on the async side. A `SyncPage` fetches the page after it with
``get_next_page()``, and ``iter_pages()`` walks on from it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from ._bridge import Bridge
from ._errors import TelnyxError
from ._pagination import AsyncPage, AsyncPaginator, BasePage, PageMeta
from ._streams.sync_stream import iterate

__all__ = ["SyncPage", "SyncPaginator"]

T = TypeVar("T")


class SyncPage(BasePage[T], Generic[T]):
    """One page of a list, as the sync client returns it: ``page.get_next_page()`` for the next."""

    def _source(self) -> tuple[Bridge, AsyncPage[T]]:
        source: tuple[Bridge, AsyncPage[T]] | None = vars(self).get("_fetched_by")
        if source is None:
            raise TelnyxError("This page was not fetched by a client, so it cannot fetch the next one.")
        return source

    def has_next_page(self) -> bool:
        """Whether there is a page after this one."""
        source: tuple[Bridge, AsyncPage[T]] | None = vars(self).get("_fetched_by")
        return source is not None and source[1].has_next_page()

    def get_next_page(self) -> SyncPage[T]:
        """The page after this one; raises `TelnyxError` when `has_next_page` is False."""
        bridge, page = self._source()
        return sync_page(bridge, bridge.call(page.get_next_page))

    def iter_pages(self) -> Iterator[SyncPage[T]]:
        """This page and every page after it, fetched one at a time as you go."""
        bridge, page = self._source()
        for each in iterate(bridge, page.iter_pages()):
            yield sync_page(bridge, each)


def sync_page(bridge: Bridge, page: AsyncPage[T]) -> SyncPage[T]:
    """``page`` as the sync API hands it out: the same data, its next page fetched through ``bridge``."""
    synced: SyncPage[T] = SyncPage(data=page.data, meta=page.meta)
    state = vars(synced)
    state["_fetched_by"] = (bridge, page)
    if page.request_id is not None:
        state["_request_id"] = page.request_id
    return synced


async def _first_page(paginator: AsyncPaginator[T]) -> AsyncPage[T]:
    return await paginator


class SyncPaginator(Generic[T]):
    """A lazily fetched list: iterate it for every item, or ask for the `first_page`."""

    __slots__ = ("_async", "_bridge", "_first")

    def __init__(self, bridge: Bridge, paginator: AsyncPaginator[T]) -> None:
        self._bridge = bridge
        self._async = paginator
        self._first: SyncPage[T] | None = None

    def __repr__(self) -> str:
        return f"<SyncPaginator first_page={'fetched' if self._first is not None else 'not fetched'}>"

    def first_page(self) -> SyncPage[T]:
        """The first page asked for (``page_number``, default 1), fetched on first use and kept."""
        if self._first is None:
            self._first = sync_page(self._bridge, self._bridge.call(_first_page, self._async))
        return self._first

    @property
    def data(self) -> list[T]:
        """The items of the first page (see `first_page`)."""
        return self.first_page().data

    @property
    def meta(self) -> PageMeta | None:
        """The position of the first page, when the endpoint reports it."""
        return self.first_page().meta

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page.data

    def pages(self) -> Iterator[SyncPage[T]]:
        """Every page in turn, with the same stopping rules as `AsyncPaginator.pages`."""
        for page in iterate(self._bridge, self._async.pages()):
            yield sync_page(self._bridge, page)
