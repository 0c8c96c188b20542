"""A whole reply holding an output item or content block of a type this version does not know keeps it
as an `UnknownItem` instead of failing: a server adding item types breaks no reply."""

from __future__ import annotations

import msgspec
import pytest
from aioresponses import aioresponses

from telnyx_ai import APIResponseValidationError, AsyncTelnyx
from telnyx_ai.types.anthropic import TextBlock
from telnyx_ai.types.responses import ResponseOutputMessage
from telnyx_ai.types.stream_events import UnknownItem

from .conftest import BASE_URL

SEARCH = {"type": "web_search_call", "id": "ws_1", "status": "completed"}
SERVER_TOOL = {"type": "server_tool_use", "id": "srv_1", "name": "web_search", "input": {"query": "SIP"}}


async def test_a_response_keeps_an_output_item_of_an_unknown_type(client: AsyncTelnyx, mocked: aioresponses) -> None:
    text = {"type": "message", "id": "m", "content": [{"type": "output_text", "text": "SIP sets up calls."}]}
    mocked.post(
        f"{BASE_URL}/ai/openai/responses",
        payload={"id": "r1", "output": [SEARCH, text]},
        headers={"x-request-id": "req-9"},
    )
    response = await client.ai.openai.create_response(input="What is SIP?")
    first, second = response.output
    assert isinstance(first, UnknownItem) and first.kind == "web_search_call" and first.data == SEARCH
    assert isinstance(second, ResponseOutputMessage) and response.output_text == "SIP sets up calls."
    assert response.request_id == "req-9"


async def test_a_message_keeps_a_block_of_an_unknown_type_and_sends_it_back(
    client: AsyncTelnyx, mocked: aioresponses
) -> None:
    body = {"id": "msg_1", "content": [SERVER_TOOL, {"type": "text", "text": "Session Initiation Protocol."}]}
    mocked.post(f"{BASE_URL}/ai/anthropic/v1/messages", payload=body)
    message = await client.ai.anthropic.v1.messages(
        model="m", max_tokens=64, messages=[{"role": "user", "content": "SIP?"}]
    )
    block, text = message.content
    assert isinstance(block, UnknownItem) and block.kind == "server_tool_use"
    assert isinstance(text, TextBlock)
    assert message.to_param()["content"][0] == SERVER_TOOL  # sent back as it came


async def test_a_reply_wrong_in_another_way_still_fails(client: AsyncTelnyx, mocked: aioresponses) -> None:
    mocked.post(f"{BASE_URL}/ai/openai/responses", payload={"id": 5, "output": [SEARCH]})
    with pytest.raises(APIResponseValidationError, match=r"Expected `str`, got `int` - at `\$.id`"):
        await client.ai.openai.create_response(input="x")


def test_an_event_holding_a_block_of_an_unknown_type_is_an_unknown_event_not_an_error() -> None:
    # The stream tells "a known event holding an unknown block" from "a broken event" by msgspec's error
    # text (an "Invalid value" at a nested ".type"): this pins that text.
    from telnyx_ai._streams.anthropic import PROTOCOL
    from telnyx_ai.types.anthropic import RawContentBlockStartEvent
    from telnyx_ai.types.stream_events import UnknownEvent

    data = b'{"type":"content_block_start","index":0,"content_block":{"type":"mcp_tool_use","id":"x"}}'
    with pytest.raises(msgspec.ValidationError) as caught:
        msgspec.json.decode(data, type=RawContentBlockStartEvent)
    assert str(caught.value).startswith("Invalid value") and str(caught.value).endswith(".type`")
    decoded = PROTOCOL.decode(data, "content_block_start")
    assert isinstance(decoded, UnknownEvent) and decoded.type == "content_block_start"
    assert decoded.data["content_block"]["type"] == "mcp_tool_use"
