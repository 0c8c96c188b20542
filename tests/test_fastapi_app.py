"""examples/fastapi_app over HTTP (uvicorn on loopback) and in headless Chromium, with the pytest plugin's
fixtures: SDK objects returned as they are, a ``response_model``, a pydantic model holding an SDK type, and
the ``to_sse()`` relay read by the page, cut, and abandoned by a closed tab."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest

from telnyx_ai import AsyncTelnyx
from telnyx_ai.testing import CHAT_MODELS, Fault, MockServer, StreamConfig, expected_reply, reply_pieces

from ._chromium import Chromium, Tab
from ._examples import ask, chat_page, close_mid_reply, load_example, shows_the_cut
from ._uvicorn import serve

QUESTION = "Which codecs does WebRTC use?"
REPLY = expected_reply([{"role": "user", "content": QUESTION}])


@pytest.fixture
async def app_url(telnyx_async_client: AsyncTelnyx) -> AsyncIterator[str]:
    """The example app on uvicorn, its client the plugin's (bound to the plugin's emulator)."""
    async with serve(load_example("fastapi_app").create_app(client=telnyx_async_client)) as url:
        yield url


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_a_reply_is_the_sdk_object_json(
    app_url: str, http: aiohttp.ClientSession, telnyx_server: MockServer
) -> None:
    async with http.post(app_url + "/reply", json={"message": QUESTION}) as response:
        assert response.status == 200, await response.text()
        body = await response.json()
    assert body["choices"][0]["message"] == {
        "role": "assistant",
        "content": REPLY,
        "tool_calls": None,
        "reasoning_content": None,
    }
    assert body["choices"][0]["index"] == 0  # every field, defaults too, as an OpenAI-compatible reader expects
    assert body["id"] and body["usage"]["total_tokens"] > 0 and "_request_id" not in body
    [sent] = telnyx_server.requests
    assert sent.json()["messages"] == [{"role": "user", "content": QUESTION}]
    assert sent.request_id not in json.dumps(body)


async def test_models_go_through_a_response_model(app_url: str, http: aiohttp.ClientSession) -> None:
    async with http.get(app_url + "/models") as response:
        body = await response.json()
    assert [model["id"] for model in body["data"] if model["id"] in CHAT_MODELS] == list(CHAT_MODELS)


async def test_an_sdk_type_inside_the_apps_own_model(app_url: str, http: aiohttp.ClientSession) -> None:
    async with http.post(app_url + "/answer", json={"message": QUESTION}) as response:
        body = await response.json()
    assert body["text"] == REPLY
    assert set(body["usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens"}


async def test_the_openapi_document_shows_the_sdk_fields(app_url: str, http: aiohttp.ClientSession) -> None:
    async with http.get(app_url + "/openapi.json") as response:
        document = await response.json()
    schemas = document["components"]["schemas"]
    assert {"id", "choices", "usage", "model"} <= set(schemas["ChatCompletion"]["properties"])
    assert schemas["Answer"]["properties"]["usage"]["anyOf"][0] == {"$ref": "#/components/schemas/CompletionUsage"}
    reply = document["paths"]["/reply"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert reply == {"$ref": "#/components/schemas/ChatCompletion"}
    assert "ModelsResponse" in schemas


async def test_the_relay_over_http(app_url: str, http: aiohttp.ClientSession) -> None:
    async with http.get(app_url + "/chat", params={"message": QUESTION}) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        text = (await response.read()).decode()
    frames = [frame for frame in text.split("\n\n") if frame]
    assert frames[-1] == "data: [DONE]"
    chunks = [json.loads(frame.removeprefix("data: ")) for frame in frames[:-1] if frame.startswith("data: ")]
    pieces = [c["choices"][0]["delta"].get("content") for c in chunks if c["choices"]]
    assert [p for p in pieces if p] == reply_pieces(REPLY)


async def test_a_failure_before_the_first_chunk_is_a_502(
    app_url: str, http: aiohttp.ClientSession, telnyx_server: MockServer
) -> None:
    telnyx_server.inject(Fault.status(400))
    async with http.get(app_url + "/chat", params={"message": QUESTION}) as response:
        assert response.status == 502
        assert (await response.json())["detail"]


# -- the relay in headless Chromium ----------------------------------------------------------------


@pytest.fixture
async def tab(app_url: str) -> AsyncIterator[Tab]:
    async with Chromium() as browser, chat_page(browser, app_url) as page:
        yield page


async def test_the_page_renders_the_relayed_reply(tab: Tab, telnyx_server: MockServer) -> None:
    telnyx_server.stream = StreamConfig(delay=0.01)
    assert await ask(tab, QUESTION) == "done"
    assert await tab.evaluate("answer.textContent") == REPLY
    assert await tab.evaluate("window.tokenTimes.length") == len(REPLY.split())


async def test_a_cut_upstream_shows_the_error_state(tab: Tab, telnyx_server: MockServer) -> None:
    telnyx_server.inject(Fault.truncated_stream(after_events=4))
    await shows_the_cut(tab, QUESTION, REPLY)


async def test_closing_the_tab_closes_the_upstream_stream(tab: Tab, telnyx_server: MockServer) -> None:
    assert await close_mid_reply(tab, telnyx_server, QUESTION) < 1.5  # target 0.5 s; loose for a shared machine
