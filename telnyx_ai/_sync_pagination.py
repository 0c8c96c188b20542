"""`SyncPaginator`: the blocking form of `AsyncPaginator`.

``for item in paginator`` walks every item of every page (one request per page, made when
the previous page is used up). ``paginator.first_page()`` (or ``.data`` / ``.meta``) gives the
first page alone; it is fetched once and kept. Iterating always starts again from the first
page, like ``async for`` does on the async side.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from ._bridge import Bridge
from ._pagination import AsyncPage, AsyncPaginator, PageMeta
from ._streams.sync_stream import iterate

__all__ = ["SyncPage", "SyncPaginator"]

T = TypeVar("T")

SyncPage = AsyncPage
"""A page is plain data, so the sync API returns the same class: ``data`` and ``meta``."""


async def _first_page(paginator: AsyncPaginator[T]) -> AsyncPage[T]:
    return await paginator


class SyncPaginator(Generic[T]):
    """A lazily fetched list: iterate it for every item, or ask for the `first_page`."""

    __slots__ = ("_async", "_bridge", "_first")

    def __init__(self, bridge: Bridge, paginator: AsyncPaginator[T]) -> None:
        self._bridge = bridge
        self._async = paginator
        self._first: AsyncPage[T] | None = None

    def __repr__(self) -> str:
        return f"<SyncPaginator first_page={'fetched' if self._first is not None else 'not fetched'}>"

    def first_page(self) -> SyncPage[T]:
        """The first page asked for (``page_number``, default 1), fetched on first use and kept."""
        if self._first is None:
            self._first = self._bridge.call(_first_page, self._async)
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
        return iterate(self._bridge, self._async.pages())
