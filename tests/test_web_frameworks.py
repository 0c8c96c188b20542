"""SDK objects in web frameworks (issue 21.1): FastAPI answers with their JSON, pydantic checks, writes and
documents them from the msgspec types, ``json.dumps`` takes `to_jsonable`, and the request id never leaks."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import aiohttp
import pydantic
import pytest
from fastapi import FastAPI
from fastapi.encoders import jsonable_encoder

from telnyx_ai import AsyncPage, AsyncTelnyx, BaseModel, to_jsonable
from telnyx_ai.testing import MockServer
from telnyx_ai.types.assistant_tests import AssistantTestResponse
from telnyx_ai.types.chat import ChatCompletion, CompletionUsage

from ._uvicorn import serve

FIELDS_OF_A_COMPLETION = {"id", "object", "created", "model", "choices", "usage"}


@pytest.fixture
async def completion() -> ChatCompletion:
    async with MockServer() as server, AsyncTelnyx(api_key="test", base_url=server.url) as client:
        reply = await client.ai.chat.create_completion(messages=[{"role": "user", "content": "Hello"}])
    assert reply.request_id  # the emulator sends x-request-id: it must stay out of every JSON below
    return reply


@pytest.fixture
async def page() -> AsyncPage[AssistantTestResponse]:
    async with MockServer() as server, AsyncTelnyx(api_key="test", base_url=server.url) as client:
        return await client.ai.assistants.tests.list(page_size=2)


def _no_request_id(text: str, reply: ChatCompletion) -> None:
    assert reply.request_id is not None
    assert "_request_id" not in text and reply.request_id not in text


def test_dict_and_json_dumps_give_the_wire_json(completion: ChatCompletion) -> None:
    assert dict(completion) == completion.to_dict()
    text = json.dumps(completion, default=to_jsonable)
    assert json.loads(text) == completion.to_dict() == json.loads(completion.to_json())
    assert set(json.loads(text)) <= FIELDS_OF_A_COMPLETION and json.loads(text)["choices"]
    _no_request_id(text, completion)
    nested = json.dumps({"replies": [completion], "n": 1}, default=to_jsonable)
    assert json.loads(nested) == {"replies": [completion.to_dict()], "n": 1}


def test_to_jsonable_refuses_what_it_cannot_write() -> None:
    with pytest.raises(TypeError, match="Object of type object is not JSON serializable"):
        json.dumps({"x": object()}, default=to_jsonable)


def test_jsonable_encoder_gives_the_object_json(
    completion: ChatCompletion, page: AsyncPage[AssistantTestResponse]
) -> None:
    encoded = jsonable_encoder(completion)
    assert encoded == completion.to_dict()
    _no_request_id(json.dumps(encoded), completion)
    assert jsonable_encoder(page) == page.to_dict() and len(page.to_dict()["data"]) == 2
    assert jsonable_encoder({"reply": completion}) == {"reply": completion.to_dict()}


class Answer(pydantic.BaseModel):
    completion: ChatCompletion
    usage: CompletionUsage | None = None


def test_a_pydantic_field_checks_writes_and_reads_an_sdk_type(completion: ChatCompletion) -> None:
    answer = Answer(completion=completion)
    assert answer.completion is completion  # an instance passes as it is: no copy, no re-validation
    dumped = json.loads(answer.model_dump_json())
    assert dumped == {"completion": completion.to_dict(), "usage": None}
    _no_request_id(answer.model_dump_json(), completion)
    assert answer.model_dump() == {"completion": completion.to_dict(), "usage": None}
    again = Answer.model_validate_json(answer.model_dump_json())
    assert isinstance(again.completion, ChatCompletion) and again.completion == completion
    from_dict = Answer.model_validate({"completion": completion.to_dict(), "usage": {"prompt_tokens": 3}})
    assert from_dict.usage == CompletionUsage(prompt_tokens=3)
    with pytest.raises(pydantic.ValidationError, match=r"not a valid ChatCompletion: Expected `str`, got `int`"):
        Answer.model_validate({"completion": {"id": 7, "choices": []}})
    with pytest.raises(pydantic.ValidationError, match=r"Expected `int`, got `str` - at `\$.prompt_tokens`"):
        Answer.model_validate({"completion": completion.to_dict(), "usage": {"prompt_tokens": "many"}})


@pytest.mark.parametrize("mode", ["validation", "serialization"])
def test_the_json_schema_shows_the_msgspec_fields(mode: Any) -> None:
    schema = Answer.model_json_schema(mode=mode)
    definitions = schema["$defs"]
    assert schema["properties"]["completion"] == {"$ref": "#/$defs/ChatCompletion"}
    reply = definitions["ChatCompletion"]
    assert set(reply["properties"]) == FIELDS_OF_A_COMPLETION
    assert "required" not in reply  # the contract leaves every field of a reply optional (issue 22, point 3)
    assert reply["properties"]["id"]["default"] == ""
    assert reply["properties"]["choices"] == {"items": {"$ref": "#/$defs/Choice"}, "title": "Choices", "type": "array"}
    assert reply["properties"]["object"]["default"] == "chat.completion"
    assert reply["description"].startswith("A whole reply")
    assert definitions["Choice"]["properties"]["message"] == {"$ref": "#/$defs/ChatCompletionMessage"}
    assert definitions["CompletionUsage"]["properties"]["total_tokens"]["type"] == "integer"
    assert definitions["FunctionCall"]["properties"]["arguments"] == {
        "default": "",
        "title": "Arguments",
        "type": "string",
    }


class Node(BaseModel):
    name: str
    children: list[Node] = []


def test_a_type_that_contains_itself() -> None:
    adapter = pydantic.TypeAdapter(Node)
    tree = adapter.validate_python({"name": "a", "children": [{"name": "b", "children": [{"name": "c"}]}]})
    assert tree == Node(name="a", children=[Node(name="b", children=[Node(name="c")])])
    assert json.loads(adapter.dump_json(tree)) == tree.to_dict()
    schema = adapter.json_schema()
    assert schema["$defs"]["Node"]["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}


def test_a_generic_page(page: AsyncPage[AssistantTestResponse]) -> None:
    adapter = pydantic.TypeAdapter(AsyncPage[AssistantTestResponse])
    assert json.loads(adapter.dump_json(page)) == page.to_dict()
    again = adapter.validate_json(adapter.dump_json(page))
    assert isinstance(again.data[0], AssistantTestResponse) and again.data == page.data
    schema = adapter.json_schema(mode="serialization")
    assert schema["properties"]["data"]["items"] == {"$ref": "#/$defs/AssistantTestResponse"}
    assert set(schema["$defs"]["AssistantTestResponse"]["properties"]) >= {"test_id", "name", "rubric"}


# -- FastAPI over HTTP ------------------------------------------------------------------------------


def _app(completion: ChatCompletion) -> FastAPI:
    app = FastAPI()

    @app.get("/plain")
    async def plain():  # type: ignore[no-untyped-def]  # no annotation: FastAPI's jsonable_encoder
        return completion

    @app.get("/annotated")
    async def annotated() -> ChatCompletion:
        return completion

    @app.get("/response-model", response_model=ChatCompletion)
    async def response_model() -> Any:
        return completion

    @app.post("/answer")
    async def answer(body: Answer) -> Answer:
        return Answer(completion=body.completion, usage=body.completion.usage)

    return app


async def test_fastapi_answers_with_the_object_json(completion: ChatCompletion) -> None:
    async with serve(_app(completion)) as url, aiohttp.ClientSession() as http:
        for path in ("/plain", "/annotated", "/response-model"):
            async with http.get(url + path) as response:
                assert response.status == 200, await response.text()
                text = await response.text()
            assert json.loads(text) == completion.to_dict(), path
            _no_request_id(text, completion)
        async with http.post(url + "/answer", json={"completion": completion.to_dict()}) as response:
            assert response.status == 200, await response.text()
            assert await response.json() == {"completion": completion.to_dict(), "usage": completion.to_dict()["usage"]}
        async with http.post(url + "/answer", json={"completion": {"id": 7, "choices": []}}) as response:
            assert response.status == 422
            assert "Expected `str`, got `int` - at `$.id`" in (await response.json())["detail"][0]["msg"]
        async with http.get(url + "/openapi.json") as response:
            document = await response.json()
    schemas = document["components"]["schemas"]
    assert set(schemas["ChatCompletion"]["properties"]) == FIELDS_OF_A_COMPLETION
    ok = document["paths"]["/annotated"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/ChatCompletion"}
    assert schemas["Choice"]["properties"]["message"] == {"$ref": "#/components/schemas/ChatCompletionMessage"}


def test_pydantic_is_not_imported_unless_the_program_does() -> None:
    code = """
import asyncio, json, sys
import telnyx_ai
from telnyx_ai import AsyncTelnyx
from telnyx_ai.testing import MockServer

async def main():
    async with MockServer() as server, AsyncTelnyx(api_key="test", base_url=server.url) as client:
        reply = await client.ai.chat.create_completion(messages=[{"role": "user", "content": "Hi"}])
        stream = await client.ai.chat.create_completion(messages=[{"role": "user", "content": "Hi"}], stream=True)
        async with stream:
            await stream.get_final_text()
        reply.to_dict(), reply.to_json(), dict(reply), json.dumps(reply, default=telnyx_ai.to_jsonable)

asyncio.run(main())
print(sorted(m for m in ("pydantic", "pydantic_core", "fastapi", "telnyx_ai._pydantic") if m in sys.modules))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "[]"
