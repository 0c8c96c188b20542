"""What goes on the wire: URL, path encoding, query, headers, JSON body, per-call extras."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from aioresponses import aioresponses
from aioresponses.core import RequestCall
from yarl import URL

from telnyx_ai import AsyncTelnyx, TelnyxError, Timeout

from .conftest import API_KEY, BASE_URL

EMBEDDINGS = {
    "data": [{"embedding": [0.5, 0.25], "index": 0, "object": "embedding"}],
    "model": "m",
    "object": "list",
    "usage": {"prompt_tokens": 1, "total_tokens": 1},
}


def only_call(mocked: aioresponses) -> tuple[str, URL, RequestCall]:
    assert len(mocked.requests) == 1, mocked.requests
    (method, url), calls = next(iter(mocked.requests.items()))
    assert len(calls) == 1
    return method, url, calls[0]


def sent_json(call: RequestCall) -> Any:
    return msgspec.json.decode(call.kwargs["data"])


async def test_json_body_leaves_out_arguments_not_given(client: AsyncTelnyx, mocked: aioresponses) -> None:
    mocked.post(f"{BASE_URL}/ai/openai/embeddings", payload=EMBEDDINGS)
    result = await client.ai.openai.embeddings.create_embeddings(input=["a"], model="m")
    method, url, call = only_call(mocked)
    assert (method, str(url)) == ("POST", f"{BASE_URL}/ai/openai/embeddings")
    # dimensions and user are left out; encoding_format is the SDK's own choice (base64, decoded for the caller).
    assert sent_json(call) == {"input": ["a"], "model": "m", "encoding_format": "base64"}
    assert call.kwargs["headers"]["Content-Type"] == "application/json"
    assert call.kwargs["headers"]["Authorization"] == f"Bearer {API_KEY}"
    assert call.kwargs["headers"]["User-Agent"].startswith("telnyx-ai-python/")
    assert result.data[0].embedding == [0.5, 0.25]


async def test_a_generated_body_holds_the_fields_given_required_first(
    client: AsyncTelnyx, mocked: aioresponses
) -> None:
    # Only what the caller passed goes out (a False or a 0 is passed), required fields first, then the
    # others in the spec's order, with extra_body merged over them.
    mocked.post(f"{BASE_URL}/ai/chat/completions", payload={"id": "c", "choices": []})
    await client.ai.chat.create_completion(
        temperature=0,
        messages=[{"role": "user", "content": "Hi"}],
        stream=False,
        max_tokens=5,
        extra_body={"temperature": 0.5, "new_field": [1]},
    )
    _, _, call = only_call(mocked)
    assert call.kwargs["data"] == (
        b'{"messages":[{"role":"user","content":"Hi"}],"max_tokens":5,"stream":false,"temperature":0.5,"new_field":[1]}'
    )


async def test_extra_body_query_headers_and_timeout(client: AsyncTelnyx, mocked: aioresponses) -> None:
    mocked.post(f"{BASE_URL}/ai/openai/embeddings?trace=1", payload=EMBEDDINGS)
    await client.ai.openai.embeddings.create_embeddings(
        input="a",
        model="m",
        dimensions=2,
        extra_body={"model": "override", "new_field": True},
        extra_query={"trace": 1},
        extra_headers={"X-Trace": "abc"},
        timeout=Timeout(read=7, connect=2),
    )
    _, url, call = only_call(mocked)
    assert url.query["trace"] == "1"
    assert sent_json(call) == {
        "input": "a",
        "model": "override",
        "dimensions": 2,
        "new_field": True,
        "encoding_format": "base64",
    }
    assert call.kwargs["headers"]["X-Trace"] == "abc"
    assert call.kwargs["timeout"].sock_read == 7
    assert call.kwargs["timeout"].sock_connect == 2
    assert call.kwargs["timeout"].total == 600.0  # a whole non-streaming attempt: ten minutes by default


async def test_default_timeout_is_5s_connect_60s_read_10_min_total(client: AsyncTelnyx, mocked: aioresponses) -> None:
    mocked.get(f"{BASE_URL}/ai/models", payload={"data": []})
    await client.ai.retrieve_models()
    _, _, call = only_call(mocked)
    timeout = call.kwargs["timeout"]
    assert (timeout.sock_connect, timeout.sock_read, timeout.total) == (5.0, 60.0, 600.0)


async def test_a_stream_has_no_total_limit(client: AsyncTelnyx, mocked: aioresponses) -> None:
    body = b'data: {"id":"1","choices":[],"created":1,"model":"m","object":"chat.completion.chunk"}\n\ndata: [DONE]\n\n'
    mocked.post(f"{BASE_URL}/ai/chat/completions", body=body, content_type="text/event-stream")
    stream = await client.ai.chat.create_completion(messages=[{"role": "user", "content": "x"}], stream=True)
    async with stream:
        assert [chunk.id async for chunk in stream] == ["1"]
    _, _, call = only_call(mocked)
    timeout = call.kwargs["timeout"]
    assert (timeout.sock_connect, timeout.sock_read, timeout.total) == (5.0, 60.0, None)


async def test_a_stream_asks_for_events_whatever_the_callers_headers_say(mocked: aioresponses) -> None:
    body = b'data: {"id":"1","choices":[],"created":1,"model":"m","object":"chat.completion.chunk"}\n\ndata: [DONE]\n\n'
    mocked.post(f"{BASE_URL}/ai/chat/completions", body=body, content_type="text/event-stream", repeat=True)
    mocked.get(f"{BASE_URL}/ai/models", payload={"data": []})
    async with AsyncTelnyx(api_key=API_KEY, base_url=BASE_URL, default_headers={"X-App": "a"}) as client:
        for extra in ({}, {"Accept": "application/json", "X-Call": "c"}, {"accept": "application/json"}):
            stream = await client.ai.chat.create_completion(
                messages=[{"role": "user", "content": "x"}], stream=True, extra_headers=extra
            )
            async with stream:
                assert [chunk.id async for chunk in stream] == ["1"]
        await client.ai.retrieve_models()  # the shared headers were not changed for the streams
    models = mocked.requests[("GET", URL(f"{BASE_URL}/ai/models"))]
    assert models[0].kwargs["headers"]["Accept"] == "application/json"
    sent = [call.kwargs["headers"] for call in mocked.requests[("POST", URL(f"{BASE_URL}/ai/chat/completions"))]]
    assert [h["Accept"] for h in sent] == ["text/event-stream"] * 3
    assert all(name == "Accept" for h in sent for name in h if name.lower() == "accept")  # one, whatever its case
    assert all(h["Content-Type"] == "application/json" and h["X-App"] == "a" for h in sent)
    assert "X-Call" not in sent[0] and sent[1]["X-Call"] == "c"
    assert sent[0]["Idempotency-Key"] != sent[1]["Idempotency-Key"]


async def test_float_timeout_sets_both_limits(mocked: aioresponses) -> None:
    mocked.get(f"{BASE_URL}/ai/models", payload={"data": []})
    async with AsyncTelnyx(api_key="k", base_url=BASE_URL, timeout=3.5) as c:
        await c.ai.retrieve_models()
    _, _, call = only_call(mocked)
    assert (call.kwargs["timeout"].sock_connect, call.kwargs["timeout"].sock_read) == (3.5, 3.5)


@pytest.mark.parametrize(
    ("conversation_id", "encoded"),
    [
        ("../x?y#z", "..%2Fx%3Fy%23z"),
        ("..", "%2E%2E"),
        (".", "%2E"),
        ("a b/c", "a%20b%2Fc"),
        ("é", "%C3%A9"),
    ],
)
async def test_path_parameters_stay_inside_their_segment(
    client: AsyncTelnyx, mocked: aioresponses, conversation_id: str, encoded: str
) -> None:
    url = URL(f"{BASE_URL}/ai/conversations/{encoded}", encoded=True)
    mocked.get(url, payload={"data": None})
    await client.ai.conversations.retrieve(conversation_id)
    _, sent, _ = only_call(mocked)
    assert sent.raw_path == f"/v2/ai/conversations/{encoded}"


async def test_empty_path_parameter_fails_before_any_request(client: AsyncTelnyx, mocked: aioresponses) -> None:
    with pytest.raises(ValueError, match="conversation_id"):
        await client.ai.conversations.retrieve("")
    assert mocked.requests == {}


async def test_missing_required_argument_fails_before_any_request(client: AsyncTelnyx, mocked: aioresponses) -> None:
    with pytest.raises(TypeError, match="model"):
        await client.ai.openai.embeddings.create_embeddings(input="a")  # type: ignore[call-arg]
    assert mocked.requests == {}


@pytest.mark.parametrize("value", ["a\r\nInjected: 1", "a\nb", "a\0b"])
async def test_header_values_with_line_breaks_are_rejected(
    client: AsyncTelnyx, mocked: aioresponses, value: str
) -> None:
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        await client.ai.retrieve_models(extra_headers={"X-Bad": value})
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        AsyncTelnyx(api_key="k", default_headers={"X-Bad": value})
    assert mocked.requests == {}


async def test_query_values_are_rendered_for_the_wire(client: AsyncTelnyx, mocked: aioresponses) -> None:
    mocked.get(f"{BASE_URL}/ai/models?flag=true&off=false&n=3&tags=a&tags=b", payload={"data": []})
    await client.ai.retrieve_models(extra_query={"flag": True, "off": False, "n": 3, "tags": ["a", "b"], "skip": None})
    _, url, _ = only_call(mocked)
    assert url.query.getall("tags") == ["a", "b"]
    assert url.query["flag"] == "true"
    assert "skip" not in url.query


async def test_default_headers_are_sent_and_can_be_overridden_per_call(mocked: aioresponses) -> None:
    mocked.get(f"{BASE_URL}/ai/models", payload={"data": []}, repeat=True)
    async with AsyncTelnyx(api_key="k", base_url=BASE_URL, default_headers={"X-App": "one"}) as c:
        await c.ai.retrieve_models()
        await c.ai.retrieve_models(extra_headers={"X-App": "two"})
    calls = next(iter(mocked.requests.values()))
    assert [call.kwargs["headers"]["X-App"] for call in calls] == ["one", "two"]


def test_missing_api_key_names_the_environment_variable() -> None:
    with pytest.raises(TelnyxError, match="TELNYX_API_KEY"):
        AsyncTelnyx()


def test_key_and_base_url_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELNYX_API_KEY", "from-env")
    monkeypatch.setenv("TELNYX_BASE_URL", "http://127.0.0.1:9/v9")
    c = AsyncTelnyx()
    assert c.base_url == "http://127.0.0.1:9/v9"
    assert AsyncTelnyx(base_url="https://x.test").base_url == "https://x.test"
    assert AsyncTelnyx(api_key="k").base_url == "http://127.0.0.1:9/v9"


def test_default_base_url() -> None:
    assert AsyncTelnyx(api_key="k").base_url == "https://api.telnyx.com/v2"


@pytest.mark.parametrize("bad", ["api.telnyx.com/v2", "ftp://x", "https://"])
def test_malformed_base_url_is_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        AsyncTelnyx(api_key="k", base_url=bad)


def test_invalid_settings_are_rejected_with_what_to_do() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        AsyncTelnyx(api_key="k", max_retries=-1)
    with pytest.raises(ValueError, match="max_connections"):
        AsyncTelnyx(api_key="k", max_connections=0)
    with pytest.raises(ValueError, match="Timeout read"):
        Timeout(read=0)


async def test_with_options_shares_the_pool_and_changes_only_what_is_asked(mocked: aioresponses) -> None:
    mocked.get(f"{BASE_URL}/ai/models", payload={"data": []}, repeat=True)
    async with AsyncTelnyx(api_key="k", base_url=BASE_URL, default_headers={"X-App": "a"}) as c:
        fast = c.with_options(timeout=1.0, max_retries=0)
        assert (fast.max_retries, c.max_retries) == (0, 2)
        assert fast.base_url == c.base_url
        await c.ai.retrieve_models()
        await fast.ai.retrieve_models()
        assert fast._transport.pool is c._transport.pool
        assert c._transport.pool.session() is fast._transport.pool.session()
        calls = next(iter(mocked.requests.values()))
        assert calls[1].kwargs["headers"]["X-App"] == "a"
        assert calls[1].kwargs["timeout"].sock_read == 1.0
    assert fast.is_closed


async def test_with_raw_response_gives_status_headers_and_parsed_body(
    client: AsyncTelnyx, mocked: aioresponses
) -> None:
    mocked.get(f"{BASE_URL}/ai/models", payload={"data": []}, headers={"x-request-id": "abc"})
    raw = await client.with_raw_response(client.ai.retrieve_models)
    assert raw.status_code == 200
    assert raw.headers["x-request-id"] == "abc"
    assert raw.parse().data == []
    assert raw.retries_taken == 0
    assert "/ai/models" in repr(raw)


async def test_with_raw_response_counts_retries(mocked: aioresponses, monkeypatch: pytest.MonkeyPatch) -> None:
    import telnyx_ai._http.retry as retry_module

    async def no_sleep(seconds: float) -> None:
        return None

    monkeypatch.setattr(retry_module, "_sleep", no_sleep)
    mocked.post(f"{BASE_URL}/ai/openai/embeddings", status=503, body="")
    mocked.post(f"{BASE_URL}/ai/openai/embeddings", payload=EMBEDDINGS, headers={"x-request-id": "second"})
    async with AsyncTelnyx(api_key="k", base_url=BASE_URL) as c:
        raw = await c.with_raw_response(c.ai.openai.embeddings.create_embeddings, input="a", model="m")
    assert (raw.status_code, raw.retries_taken, raw.headers["x-request-id"]) == (200, 1, "second")
    assert raw.parsed.data[0].embedding == [0.5, 0.25]


async def test_custom_user_agent_and_accept_survive_with_options(mocked: aioresponses) -> None:
    mocked.get(f"{BASE_URL}/ai/models", payload={"data": []}, repeat=True)
    headers = {"User-Agent": "myapp/1.0", "X-App": "a"}
    async with AsyncTelnyx(api_key="k", base_url=BASE_URL, default_headers=headers) as c:
        await c.ai.retrieve_models()
        await c.with_options(max_retries=0).ai.retrieve_models()
    calls = next(iter(mocked.requests.values()))
    assert [call.kwargs["headers"]["User-Agent"] for call in calls] == ["myapp/1.0", "myapp/1.0"]


async def test_with_raw_response_counts_retries_after_connection_failures(
    mocked: aioresponses, monkeypatch: pytest.MonkeyPatch
) -> None:
    import aiohttp

    import telnyx_ai._http.retry as retry_module

    async def no_sleep(seconds: float) -> None:
        return None

    monkeypatch.setattr(retry_module, "_sleep", no_sleep)
    mocked.get(f"{BASE_URL}/ai/models", exception=aiohttp.ServerDisconnectedError())
    mocked.get(f"{BASE_URL}/ai/models", exception=TimeoutError())
    mocked.get(f"{BASE_URL}/ai/models", payload={"data": []})
    async with AsyncTelnyx(api_key="k", base_url=BASE_URL) as c:
        raw = await c.with_raw_response(c.ai.retrieve_models)
    assert (raw.status_code, raw.retries_taken) == (200, 2)


async def test_with_raw_response_sees_only_its_own_call(mocked: aioresponses) -> None:
    import asyncio

    mocked.get(f"{BASE_URL}/ai/models", payload={"data": []}, headers={"x-request-id": "plain"})
    mocked.get(f"{BASE_URL}/ai/models", payload={"data": []}, headers={"x-request-id": "raw"})
    async with AsyncTelnyx(api_key="k", base_url=BASE_URL) as c:
        # A plain call running at the same time, in the same task tree, is not captured.
        plain, raw = await asyncio.gather(c.ai.retrieve_models(), c.with_raw_response(c.ai.retrieve_models))
        assert plain.data == []
        assert (raw.headers["x-request-id"], raw.retries_taken) == ("raw", 0)
        # The client's own resources are untouched by the observed copy.
        assert c.ai._transport.observer is None


async def test_with_raw_response_rejects_what_is_not_an_operation() -> None:
    async def not_an_operation() -> int:
        return 1

    async with AsyncTelnyx(api_key="k", base_url=BASE_URL) as c:
        with pytest.raises(TelnyxError, match="needs an operation of this client"):
            await c.with_raw_response(not_an_operation)
