"""``client.ai.assistants.tests``: scripted conversations that grade an assistant."""

from __future__ import annotations

from typing import Unpack

from ..._pagination import AsyncPaginator, paginate
from ..._resource import AsyncResource
from ..._types import NOT_GIVEN, NotGiven, RequestOptions
from ...types.assistant_tests import AssistantTestResponse

__all__ = ["AsyncTests"]


class AsyncTests(AsyncResource):
    def list(
        self,
        *,
        destination: str | NotGiven = NOT_GIVEN,
        page_number: int | NotGiven = NOT_GIVEN,
        page_size: int | NotGiven = NOT_GIVEN,
        telnyx_conversation_channel: str | NotGiven = NOT_GIVEN,
        test_suite: str | NotGiven = NOT_GIVEN,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[AssistantTestResponse]:
        """Every test, page by page: ``await`` for the first page, ``async for`` for all."""
        query = {
            "destination": destination,
            "telnyx_conversation_channel": telnyx_conversation_channel,
            "test_suite": test_suite,
        }
        return paginate(
            self._transport,
            "/ai/assistants/tests",
            AssistantTestResponse,
            query=query,
            page_number=page_number,
            page_size=page_size,
            options=options,
        )
