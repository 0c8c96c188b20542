"""``chat.parse`` with a pydantic model (issue 21.6): pydantic's schema goes out as ``guided_json``, pydantic
validates the reply, its errors become `StructuredOutputError`; msgspec types stay on their own path."""

from __future__ import annotations

import enum
import json
from typing import Any

import pydantic
import pytest

from telnyx_ai import AsyncTelnyx, StructuredOutputError, Telnyx
from telnyx_ai.testing import MockServer, StreamConfig, expected_json
from telnyx_ai.types.chat import ChatMessageParam, ParsedChatCompletion

MESSAGES: list[ChatMessageParam] = [{"role": "user", "content": "Book a table for two in Lyon"}]


class Seating(enum.Enum):
    inside = "inside"
    terrace = "terrace"


class Guest(pydantic.BaseModel):
    name: str
    vegetarian: bool = False


class Booking(pydantic.BaseModel):
    city: str
    guests: list[Guest]
    party_size: int = pydantic.Field(ge=1, le=12)
    seating: Seating
    note: str | None = None


@pytest.fixture
async def server() -> MockServer:
    async with MockServer() as s:
        yield s  # type: ignore[misc]


async def test_a_pydantic_model_is_described_and_validated_by_pydantic(server: MockServer) -> None:
    async with AsyncTelnyx(api_key="test", base_url=server.url) as client:
        completion = await client.ai.chat.parse(messages=MESSAGES, response_format=Booking)
    sent = server.requests[0].json()
    assert sent["guided_json"] == Booking.model_json_schema()
    parsed = completion.choices[0].message.parsed
    assert isinstance(parsed, Booking) and isinstance(parsed.guests[0], Guest)
    assert parsed == Booking.model_validate_json(expected_json(Booking.model_json_schema()))
    assert parsed.seating is Seating.inside and 1 <= parsed.party_size <= 12
    # The whole reply still writes itself out, the pydantic value as its JSON data.
    written = json.loads(completion.to_json())
    assert written["choices"][0]["message"]["parsed"] == parsed.model_dump(mode="json")
    assert completion.to_dict()["choices"][0]["message"]["parsed"] == parsed.model_dump(mode="json")


def test_the_sync_client_parses_into_pydantic_too() -> None:
    with MockServer.in_thread() as server, Telnyx(api_key="test", base_url=server.url) as client:
        completion = client.ai.chat.parse(messages=MESSAGES, response_format=Guest)
        assert isinstance(completion.choices[0].message.parsed, Guest)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("not JSON at all", "Invalid JSON"),
        ('{"city": "Lyon", "guests": [], "party_size": 40, "seating": "inside"}', "less than or equal to 12"),
        ('{"city": "Lyon", "guests": [], "party_size": 2, "seating": "roof"}', "Input should be 'inside' or 'terrace'"),
        ('{"city": "Lyon", "party_size": 2, "seating": "inside"}', "guests\n  Field required"),
    ],
)
async def test_content_pydantic_refuses_raises_structured_output_error(
    server: MockServer, content: str, reason: str
) -> None:
    server.stream = StreamConfig(reply=content)
    async with AsyncTelnyx(api_key="test", base_url=server.url) as client:
        with pytest.raises(StructuredOutputError, match="Choice 0's content is not a valid Booking") as caught:
            await client.ai.chat.parse(messages=MESSAGES, response_format=Booking)
    assert isinstance(caught.value.decode_error, pydantic.ValidationError)
    assert caught.value.__cause__ is caught.value.decode_error
    assert caught.value.content == content and reason in str(caught.value.decode_error)


def test_a_parsed_pydantic_reply_goes_through_fastapi_types() -> None:
    adapter = pydantic.TypeAdapter(ParsedChatCompletion[Booking])
    body = {"id": "c", "choices": [{"message": {"content": "{}", "parsed": {
        "city": "Lyon", "guests": [{"name": "Ada"}], "party_size": 2, "seating": "terrace"}}}]}  # fmt: skip
    reply = adapter.validate_python(body)
    parsed = reply.choices[0].message.parsed
    assert isinstance(parsed, Booking) and parsed.guests == [Guest(name="Ada")]
    assert json.loads(adapter.dump_json(reply))["choices"][0]["message"]["parsed"]["seating"] == "terrace"
    definitions: dict[str, Any] = adapter.json_schema(mode="serialization")["$defs"]
    message = definitions["ParsedChatCompletionMessage_Booking_"]["properties"]
    assert message["parsed"] == {"anyOf": [{"$ref": "#/$defs/Booking"}, {"type": "null"}], "default": None}
    assert set(definitions["Booking"]["properties"]) == {"city", "guests", "party_size", "seating", "note"}


async def test_a_type_neither_can_describe_is_refused_before_any_request(server: MockServer) -> None:
    class Plain:
        pass

    async with AsyncTelnyx(api_key="test", base_url=server.url) as client:
        with pytest.raises(TypeError, match=r"response_format must be a type msgspec can describe .* or a pydantic"):
            await client.ai.chat.parse(messages=MESSAGES, response_format=Plain)
    assert server.requests == []
