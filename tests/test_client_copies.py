"""Configuration people expect (issue 21.5): ``with_options`` merges headers and query like openai-python,
every setting that does not size the pool can change on a copy, and the ones that do say so."""

from __future__ import annotations

import pytest

from telnyx_ai import APIError, APIResponseValidationError, AsyncTelnyx, Telnyx
from telnyx_ai.testing import MockServer, StreamConfig


@pytest.fixture
async def server() -> MockServer:
    async with MockServer() as s:
        yield s  # type: ignore[misc]


async def test_default_headers_and_query_are_merged(server: MockServer) -> None:
    async with AsyncTelnyx(
        api_key="k", base_url=server.url, default_headers={"X-Team": "a", "X-Env": "prod"}, default_query={"a": "1"}
    ) as client:
        copy = client.with_options(default_headers={"x-team": "b", "X-Trace": "t"}, default_query={"b": "2"})
        await copy.ai.retrieve_models()
        await client.ai.retrieve_models()
    sent_by_copy, sent_by_client = server.requests
    assert sent_by_copy.headers["X-Team"] == "b" and sent_by_copy.headers.getall("X-Team") == ["b"]
    assert sent_by_copy.headers["X-Env"] == "prod" and sent_by_copy.headers["X-Trace"] == "t"
    assert sent_by_copy.query == {"a": "1", "b": "2"}
    assert sent_by_client.headers["X-Team"] == "a" and "X-Trace" not in sent_by_client.headers  # unchanged
    assert sent_by_client.query == {"a": "1"}


async def test_set_default_headers_and_query_replace_them(server: MockServer) -> None:
    async with AsyncTelnyx(
        api_key="k", base_url=server.url, default_headers={"X-Team": "a"}, default_query={"a": "1"}
    ) as client:
        copy = client.with_options(set_default_headers={"X-Only": "1"}, set_default_query={})
        await copy.ai.retrieve_models()
        with pytest.raises(TypeError, match=r"takes default_headers \(merged\) or set_default_headers \(replacing\)"):
            client.with_options(default_headers={"a": "b"}, set_default_headers={})
    [sent] = server.requests
    assert "X-Team" not in sent.headers and sent.headers["X-Only"] == "1"
    assert sent.query == {}
    assert sent.headers["Authorization"] == "Bearer k"  # the SDK's own headers stay


async def test_limits_change_on_a_copy(server: MockServer) -> None:
    server.stream = StreamConfig(reply="word " * 50)
    async with AsyncTelnyx(api_key="k", base_url=server.url, max_retries=0) as client:
        tight = client.with_options(max_response_bytes=64, max_event_bytes=64)
        with pytest.raises(APIResponseValidationError, match="over the client's limit of 64"):
            await tight.ai.retrieve_models()
        with pytest.raises(APIError, match="64"):
            tight_stream = await tight.ai.chat.create_completion(
                messages=[{"role": "user", "content": "Hi"}], stream=True
            )
            async with tight_stream:
                await tight_stream.get_final_text()
        assert (await client.ai.retrieve_models()).data
        stream = await client.ai.chat.create_completion(messages=[{"role": "user", "content": "Hi"}], stream=True)
        async with stream:
            assert (await stream.get_final_text()).strip()
        assert tight._transport.pool is client._transport.pool  # pyright: ignore[reportPrivateUsage]


async def test_a_copy_takes_another_proxy_or_none(proxy: tuple[str, list[str]]) -> None:
    proxy_url, seen = proxy
    async with MockServer() as server, AsyncTelnyx(api_key="k", base_url="http://api.telnyx.example/v2") as client:
        proxied = client.with_options(proxy=proxy_url)
        assert (await proxied.ai.retrieve_models()).data[0].id == "via-proxy"
        assert seen == ["http://api.telnyx.example/v2/ai/models"]
        direct = proxied.with_options(proxy=None, base_url=server.url)
        assert (await direct.ai.retrieve_models()).data[0].id != "via-proxy"
        assert len(seen) == 1 and len(server.requests) == 1


@pytest.mark.parametrize("name", ["max_connections", "session"])
def test_pool_settings_cannot_change_on_a_copy(name: str) -> None:
    client = AsyncTelnyx(api_key="k")
    with pytest.raises(TypeError, match=rf"with_options\(\) cannot change {name}: .*Create another client instead"):
        client.with_options(**{name: 8})  # type: ignore[arg-type]
    with Telnyx(api_key="k") as sync_client, pytest.raises(TypeError, match=f"cannot change {name}"):
        sync_client.with_options(**{name: 8})  # type: ignore[arg-type]


def test_a_misspelled_change_names_the_setting() -> None:
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'max_retry'\. Did you mean 'max_retries'"):
        AsyncTelnyx(api_key="k").with_options(max_retry=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument 'set_default_headers'"):
        AsyncTelnyx(api_key="k", set_default_headers={})  # type: ignore[call-arg]
