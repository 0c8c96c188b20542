"""Hardening: redirects, TLS defaults, plain-http warnings, bounded responses, hostile bodies."""

from __future__ import annotations

import logging

import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from telnyx_ai import APIResponseValidationError, APIStatusError, AsyncTelnyx, TelnyxError
from telnyx_ai._errors import error_message_from_body, status_error
from telnyx_ai.testing import Call, MockServer, json_response
from telnyx_ai.testing._fixtures import model_metadata


async def test_redirects_are_not_followed_so_the_key_never_reaches_another_host() -> None:
    async with MockServer() as target, MockServer() as origin:

        async def redirect(call: Call) -> web.StreamResponse:
            return web.Response(status=307, headers={"Location": f"{target.url}/ai/models"})

        origin.add_route("GET", "/ai/models", redirect)
        async with AsyncTelnyx(api_key="secret-key", base_url=origin.url, max_retries=0) as client:
            with pytest.raises(APIStatusError) as info:
                await client.ai.retrieve_models()
        assert info.value.status_code == 307
        assert target.requests == []


async def test_tls_verification_is_on_by_default() -> None:
    async with AsyncTelnyx(api_key="k") as client:
        connector = client._transport.pool.session().connector
        assert connector is not None
        assert connector._ssl is True  # type: ignore[attr-defined]  # aiohttp: True means verify with default CAs


def test_plain_http_to_a_remote_host_warns(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="telnyx_ai"):
        AsyncTelnyx(api_key="k", base_url="http://api.example.com/v2")
        AsyncTelnyx(api_key="k", base_url="http://127.0.0.1:8000")
        AsyncTelnyx(api_key="k", base_url="http://localhost:8000")
        AsyncTelnyx(api_key="k", base_url="http://[::1]:8000")
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert "api.example.com" in warnings[0]
    assert "unencrypted" in warnings[0]


async def test_a_body_over_the_limit_raises_instead_of_filling_memory() -> None:
    async with MockServer() as server:

        async def huge(call: Call) -> web.StreamResponse:
            return json_response({"data": [model_metadata("x" * 5000)]})

        server.add_route("GET", "/ai/models", huge)
        async with AsyncTelnyx(api_key="k", base_url=server.url, max_retries=0, max_response_bytes=1000) as client:
            with pytest.raises(APIResponseValidationError, match="limit of 1000"):
                await client.ai.retrieve_models()


async def test_a_chunked_body_over_the_limit_raises_too() -> None:
    async with MockServer() as server:

        async def chunked(call: Call) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Type": "application/json"})
            response.enable_chunked_encoding()
            await response.prepare(call.request)
            for _ in range(100):
                await response.write(b" " * 100)
            await response.write(b"{}")
            await response.write_eof()
            return response

        server.add_route("GET", "/ai/models", chunked)
        async with AsyncTelnyx(api_key="k", base_url=server.url, max_retries=0, max_response_bytes=5000) as client:
            with pytest.raises(APIResponseValidationError, match="exceeded the client's limit of 5000"):
                await client.ai.retrieve_models()


async def test_a_stream_line_over_the_limit_raises() -> None:
    async with MockServer() as server:

        async def endless_line(call: Call) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await response.prepare(call.request)
            await response.write(b'data: {"choices": []}\n\n')
            for _ in range(50):
                await response.write(b"data: " + b"x" * 1000)
            return response

        server.add_route("POST", "/ai/chat/completions", endless_line)
        async with AsyncTelnyx(api_key="k", base_url=server.url, max_retries=0, max_event_bytes=10_000) as client:
            stream = await client.ai.chat.create_completion(messages=[{"role": "user", "content": "x"}], stream=True)
            with pytest.raises(TelnyxError, match="exceeded 10000 bytes"):
                async for _ in stream:
                    pass


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000), st.integers(min_value=400, max_value=599))
def test_arbitrary_error_bodies_give_a_status_error_with_a_message(raw: bytes, status: int) -> None:
    error = status_error(status, raw, reason="Reason", headers={}, response=None, method="GET", url="https://x.test/a")
    assert isinstance(error, APIStatusError)
    assert error.status_code == status
    assert error.message.startswith(str(status))


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(
                st.sampled_from(["errors", "detail", "title", "message", "error", "loc", "msg", "source", "pointer"])
                | st.text(max_size=5),
                inner,
                max_size=4,
            )
        ),
        max_leaves=20,
    )
)
def test_arbitrary_json_error_shapes_never_crash_the_message_builder(body: object) -> None:
    message = error_message_from_body(b"{}", body)
    assert message is None or isinstance(message, str)


async def test_a_compressed_body_is_limited_by_its_decoded_size() -> None:
    import gzip

    async with MockServer() as server:
        inflated = b'{"data": [], "pad": "' + b"x" * 2_000_000 + b'"}'

        async def bomb(call: Call) -> web.StreamResponse:
            return web.Response(
                body=gzip.compress(inflated),
                headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
            )

        server.add_route("GET", "/ai/models", bomb)
        async with AsyncTelnyx(api_key="k", base_url=server.url, max_retries=0, max_response_bytes=100_000) as client:
            with pytest.raises(APIResponseValidationError, match="limit of 100000"):
                await client.ai.retrieve_models()
        async with AsyncTelnyx(api_key="k", base_url=server.url, max_retries=0) as client:
            assert (await client.ai.retrieve_models()).data == []
