"""``client.ai.assistants``: AI assistants and everything attached to them."""

from __future__ import annotations

from functools import cached_property

from ..._resource import AsyncResource
from .tests import AsyncTests

__all__ = ["AsyncAssistants"]


class AsyncAssistants(AsyncResource):
    @cached_property
    def tests(self) -> AsyncTests:
        return AsyncTests(self._transport)
