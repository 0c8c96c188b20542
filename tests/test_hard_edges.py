"""Hard edges (issue 13): typos and bad values at the call site, limits whatever the server does,
no key in any trace, and what production users expect (proxies, per-tenant copies, request ids).

Wire behaviour is tested against hostile servers on loopback: `MockServer` routes that misbehave
on purpose, or raw asyncio servers for what HTTP cannot express (a garbage status line).
"""

from __future__ import annotations

import asyncio
import datetime
import gc
import time
import traceback
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from aioresponses import aioresponses

from telnyx_ai import (
    APIConnectionError,
    APIResponseValidationError,
    APIStreamError,
    APITimeoutError,
    AsyncTelnyx,
    BadRequestError,
    InternalServerError,
    Telnyx,
    Timeout,
)
from telnyx_ai._http.request import client_timeout
from telnyx_ai._streams.sse import SSEDecoder
from telnyx_ai.testing import Call, MockServer

from .conftest import API_KEY, BASE_URL
from .test_both_clients import Driver

MESSAGES: list[Any] = [{"role": "user", "content": "hi"}]
CHUNK = b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[]}\n\n'
DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer.in_thread() as s:
        yield s


@pytest.fixture(params=["async", "sync"])
def drive(request: pytest.FixtureRequest, server: MockServer) -> Iterator[Driver]:
    server.reset()
    driver = Driver(str(request.param), server.url, max_retries=0)
    yield driver
    driver.close()


# -- 1-3: the call site -----------------------------------------------------------------------


def test_a_misspelled_keyword_is_a_type_error_naming_the_likely_one(drive: Driver, server: MockServer) -> None:
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'temprature'\. Did you mean 'temperature'\?"):
        drive.call("ai.chat.create_completion", messages=MESSAGES, temprature=0.2)
    with pytest.raises(TypeError, match=r"'batchsize'\. Did you mean 'batch_size'\?"):
        drive.call("ai.openai.embeddings.embed_many", ["a"], model="thenlper/gte-large", batchsize=10)
    with pytest.raises(TypeError, match=r"'extra_header'\. Did you mean 'extra_headers'"):
        drive.call("ai.retrieve_models", extra_header={"X": "1"})
    assert server.requests == [], "nothing is sent for a misspelled call"


async def test_dates_go_into_the_query_as_iso_8601(client: AsyncTelnyx, mocked: aioresponses) -> None:
    mocked.get(f"{BASE_URL}/legacy/reporting/usage_reports/speech_to_text?start_date=2026-01-02T03:04:05", payload={})
    when = datetime.datetime(2026, 1, 2, 3, 4, 5)
    await client.legacy.reporting.usage_reports.retrieve_speech_to_text(start_date=when)
    ((_, url),) = mocked.requests
    assert url.query["start_date"] == "2026-01-02T03:04:05"


# -- 4-8: bounded, whatever the server does ---------------------------------------------------


async def test_an_event_of_many_short_data_lines_is_bounded() -> None:
    async with MockServer() as server:

        async def endless_event(call: Call) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await response.prepare(call.request)
            await response.write(CHUNK)
            for _ in range(2_000):  # 2,000 reads of 50 short lines: an event that never ends
                await response.write(b"data: x\n" * 50)
            return response

        server.add_route("POST", "/ai/chat/completions", endless_event)
        async with AsyncTelnyx(api_key="k", base_url=server.url, max_retries=0, max_event_bytes=10_000) as client:
            stream = await client.ai.chat.create_completion(messages=MESSAGES, stream=True)
            with pytest.raises(Exception, match="server-sent event exceeded 10000 bytes"):
                async for _ in stream:
                    pass


async def test_a_trickling_body_hits_the_total_limit_but_a_trickling_stream_does_not() -> None:
    async with MockServer() as server:

        async def trickle(call: Call) -> web.StreamResponse:
            streaming = call.streaming
            response = web.StreamResponse(
                headers={"Content-Type": "text/event-stream" if streaming else "application/json"}
            )
            await response.prepare(call.request)
            pieces = [CHUNK] * 8 + [b"data: [DONE]\n\n"] if streaming else [b" "] * 20 + [b'{"data": []}']
            for piece in pieces:
                await response.write(piece)
                await asyncio.sleep(0.2)
            await response.write_eof()
            return response

        server.add_route("GET", "/ai/models", trickle)
        server.add_route("POST", "/ai/chat/completions", trickle)
        timeout = Timeout(read=1, total=1)
        async with AsyncTelnyx(api_key="k", base_url=server.url, max_retries=0, timeout=timeout) as client:
            started = time.monotonic()
            with pytest.raises(APITimeoutError):
                await client.ai.retrieve_models()
            assert time.monotonic() - started < 3.5  # 1 s limit, loose margin for a loaded machine
            stream = await client.ai.chat.create_completion(messages=MESSAGES, stream=True)
            async with stream:
                assert len([chunk async for chunk in stream]) == 8  # 1.6 s, past the total: never cut


def test_infinity_means_no_limit_and_bad_limits_are_refused() -> None:
    assert Timeout(float("inf")).read is None
    limits = client_timeout(float("inf"))
    assert (limits.sock_read, limits.sock_connect, limits.total) == (None, None, None)
    with pytest.raises(ValueError, match="max_response_bytes must be at least 1"):
        AsyncTelnyx(api_key="k", max_response_bytes=-1)
    with pytest.raises(ValueError, match="max_event_bytes must be at least 1"):
        Telnyx(api_key="k", max_event_bytes=0)
    with pytest.raises(ValueError, match="Timeout read must be a positive number"):
        Timeout(float("nan"))


async def test_an_infinite_timeout_still_sends() -> None:
    async with MockServer() as server, AsyncTelnyx(api_key="k", base_url=server.url, timeout=float("inf")) as client:
        assert (await client.ai.retrieve_models()).data


async def test_deeply_nested_json_becomes_the_sdks_errors_and_5xx_is_still_retried() -> None:
    async with MockServer() as server:
        answers = {"status": 200}

        async def deep(call: Call) -> web.StreamResponse:
            body = b'{"data": [], "extra": ' + DEEP + b"}"
            return web.Response(status=answers["status"], body=body, content_type="application/json")

        async def deep_stream(call: Call) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await response.prepare(call.request)
            event = b"event: error\n" if answers["status"] == 1 else b""
            await response.write(CHUNK + event + b"data: " + DEEP + b"\n\n")
            return response

        server.add_route("GET", "/ai/models", deep)
        server.add_route("POST", "/ai/chat/completions", deep_stream)
        async with AsyncTelnyx(api_key="k", base_url=server.url, max_retries=1) as client:
            with pytest.raises(APIResponseValidationError, match="nested too deeply"):
                await client.ai.retrieve_models()
            answers["status"] = 400
            with pytest.raises(BadRequestError):
                await client.ai.retrieve_models()
            answers["status"] = 503
            server.reset()
            with pytest.raises(InternalServerError):
                await client.ai.retrieve_models()
            assert len(server.requests) == 2, "a 5xx with a deep body is retried"
            for status, error in ((0, APIResponseValidationError), (1, APIStreamError)):
                answers["status"] = status
                stream = await client.ai.chat.create_completion(messages=MESSAGES, stream=True)
                with pytest.raises(error):
                    async for _ in stream:
                        pass


async def test_a_large_error_page_keeps_its_status_and_its_retry() -> None:
    async with MockServer() as server:

        async def huge_503(call: Call) -> web.StreamResponse:
            page = b"<html><title>Service Unavailable</title>" + b"x" * (2 * 1024 * 1024) + b"</html>"
            return web.Response(status=503, body=page, content_type="text/html")

        server.add_route("GET", "/ai/models", huge_503)
        options: dict[str, Any] = {"max_retries": 1, "max_response_bytes": 1024 * 1024}
        async with AsyncTelnyx(api_key="k", base_url=server.url, **options) as client:
            with pytest.raises(InternalServerError) as info:
                await client.ai.retrieve_models()
        assert info.value.status_code == 503
        assert len(server.requests) == 2


# -- 9-13: no key anywhere ---------------------------------------------------------------------


async def _raw_server(answer: bytes) -> tuple[asyncio.Server, str]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer)
        await writer.drain()
        writer.close()

    raw = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = raw.sockets[0].getsockname()[1]
    return raw, f"http://127.0.0.1:{port}/v2"


def _everything_shown(exc: BaseException) -> str:
    """What a user could ever see of ``exc``: its chain, and a traceback printed with every frame's locals."""
    texts = [repr(exc), str(exc), repr(exc.__cause__), repr(exc.__context__), *traceback.format_exception(exc)]
    shown = traceback.TracebackException.from_exception(exc, capture_locals=True)
    # The SDK's frames and aiohttp's, not this test's own (whose locals hold the test's literals).
    shown.stack = traceback.StackSummary.from_list([f for f in shown.stack if "/tests/" not in f.filename])
    texts += shown.format()
    return "".join(texts)


@pytest.mark.parametrize(
    "answer",
    [
        b"garbage instead of a status line\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n",
        b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"data": [',
    ],
    ids=["garbage", "huge-header", "body-cut"],
)
async def test_the_key_is_in_no_exception_chain_or_traceback_with_locals(answer: bytes) -> None:
    raw, url = await _raw_server(answer)
    async with raw, AsyncTelnyx(api_key=API_KEY, base_url=url, max_retries=0) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.ai.retrieve_models()
    assert info.value.__context__ is None
    shown = _everything_shown(info.value)
    assert "aiohttp" in shown  # the cause's class and message are kept ...
    assert API_KEY not in shown  # ... but never the request they held


def test_the_sync_clients_tracebacks_with_locals_hold_no_key() -> None:
    with (
        Telnyx(api_key=API_KEY, base_url="http://127.0.0.1:9/v2", max_retries=0) as client,
        pytest.raises(APIConnectionError) as info,
    ):
        client.ai.retrieve_models()
    assert API_KEY not in _everything_shown(info.value)


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        ("http://user:hunter2@127.0.0.1/v2", "must not carry credentials"),
        ("https://api.telnyx.com/v2?tenant=a", "must not have a query"),
        ("https://api.telnyx.com/v2#frag", "must not have a query or fragment"),
        ("https://api.telnyx.com/ v2", "whitespace or control characters"),
        ("https://api.telnyx.com/v2\n", "whitespace or control characters"),
        ("ftp://api.telnyx.com", "http"),
    ],
)
def test_bad_base_urls_are_refused_at_construction(base_url: str, message: str) -> None:
    for make in (AsyncTelnyx, Telnyx):
        with pytest.raises(ValueError, match=message) as info:
            make(api_key="k", base_url=base_url)
        assert "hunter2" not in str(info.value)


def test_a_dropped_async_client_warns_once_in_the_sdks_words(caplog: pytest.LogCaptureFixture) -> None:
    async def use_and_drop() -> None:
        async with MockServer() as server:
            client = AsyncTelnyx(api_key="k", base_url=server.url)
            await client.ai.retrieve_models()
            del client
            gc.collect()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        asyncio.run(use_and_drop())
    ours = [w for w in caught if issubclass(w.category, ResourceWarning) and "AsyncTelnyx" in str(w.message)]
    assert len(ours) == 1
    assert "async with AsyncTelnyx()" in str(ours[0].message)
    assert "Unclosed client session" not in caplog.text


@pytest.mark.parametrize("kind", ["async", "sync"])
def test_an_empty_data_event_is_a_keep_alive(kind: str) -> None:
    async def keep_alive_stream(call: Call) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(call.request)
        await response.write(b"data:\n\n" + CHUNK + b"data:\n\nretry: 100\n\nid: 7\n\n" + CHUNK + b"data: [DONE]\n\n")
        return response

    with MockServer.in_thread() as server:
        server.add_route("POST", "/ai/chat/completions", keep_alive_stream)
        driver = Driver(kind, server.url, max_retries=0)
        try:
            stream = driver.call("ai.chat.create_completion", messages=MESSAGES, stream=True)
            assert [chunk.id for chunk in driver.chunks(stream)] == ["c1", "c1"]
        finally:
            driver.close()


# -- 14-16: what production users expect --------------------------------------------------------


async def test_the_environments_proxy_is_honoured(
    proxy: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy_url, seen = proxy
    monkeypatch.setenv("HTTP_PROXY", proxy_url.removeprefix("http://"))  # no scheme: http://, as curl assumes
    monkeypatch.delenv("NO_PROXY", raising=False)
    # Nothing is contacted but the proxy: it answers for the (unresolvable) API host itself.
    async with AsyncTelnyx(api_key="k", base_url="http://api.telnyx.example/v2", max_retries=0) as client:
        assert (await client.ai.retrieve_models()).data[0].id == "via-proxy"
    assert seen == ["http://api.telnyx.example/v2/ai/models"]


def test_no_proxy_proxy_none_and_loopback_bypass_the_environments_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://user:pw@proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    proxy_of = lambda **options: AsyncTelnyx(api_key="k", **options)._transport.config.effective_proxy()  # noqa: E731
    assert proxy_of() == "http://user:pw@proxy.example:3128"
    assert proxy_of(base_url="https://internal.example/v2") is None
    assert proxy_of(proxy=None) is None
    assert proxy_of(base_url="http://127.0.0.1:8000") is None  # the emulator keeps working behind a proxy


async def test_a_dead_proxy_is_named_in_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    async with AsyncTelnyx(
        api_key="k", base_url="http://api.telnyx.example/v2", proxy="http://user:hunter2@127.0.0.1:9", max_retries=0
    ) as client:
        with pytest.raises(APIConnectionError, match=r"through the proxy http://\*\*\*@127\.0\.0\.1:9") as info:
            await client.ai.retrieve_models()
    assert "hunter2" not in _everything_shown(info.value)


async def test_an_explicit_proxy_argument(proxy: tuple[str, list[str]]) -> None:
    proxy_url, seen = proxy
    async with AsyncTelnyx(api_key="k", base_url="http://api.telnyx.example/v2", proxy=proxy_url) as client:
        assert (await client.ai.retrieve_models()).data[0].id == "via-proxy"
        assert proxy_url not in repr(client._transport.config)
    assert len(seen) == 1


async def test_with_options_makes_a_per_tenant_copy_that_shares_the_pool() -> None:
    async with MockServer() as one, MockServer() as two, AsyncTelnyx(api_key="key-a", base_url=one.url) as client:
        tenant = client.with_options(
            api_key="key-b", base_url=two.url, default_headers={"X-Tenant": "b"}, default_query={"tenant": "b"}
        )
        await client.ai.retrieve_models()
        await tenant.ai.retrieve_models(extra_query={"trace": "1"})
        assert tenant._transport.pool is client._transport.pool
    (first,), (second,) = one.requests, two.requests
    assert first.headers["Authorization"] == "Bearer key-a" and "X-Tenant" not in first.headers
    assert second.headers["Authorization"] == "Bearer key-b" and second.headers["X-Tenant"] == "b"
    assert second.query == {"tenant": "b", "trace": "1"}


def test_every_attempt_says_its_retry_count_and_streams_give_their_request_id(
    server: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import telnyx_ai._http.retry as retry_module
    from telnyx_ai.testing import Fault

    async def instant(seconds: float) -> None:
        return None

    monkeypatch.setattr(retry_module, "_sleep", instant)
    for make in (AsyncTelnyx, Telnyx):
        server.reset()
        server.inject(Fault.status(503), times=2, path="/ai/chat/completions")
        driver = Driver("sync" if make is Telnyx else "async", server.url, max_retries=2)
        try:
            stream = driver.call("ai.chat.create_completion", messages=MESSAGES, stream=True)
            assert stream.request_id == server.requests[-1].request_id
            driver.chunks(stream)
        finally:
            driver.close()
        assert [r.headers["X-Retry-Count"] for r in server.requests] == ["0", "1", "2"]


# -- error lines that say each thing once (issue 14) --------------------------------------------


async def test_a_cut_body_reads_as_a_cut_not_as_a_400() -> None:
    raw, url = await _raw_server(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
    async with raw, AsyncTelnyx(api_key="k", base_url=url, max_retries=0) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.ai.retrieve_models()
    message = str(info.value)
    assert "Response payload is not completed" in message
    assert "400," not in message and "message=" not in message


@pytest.mark.parametrize("kind", ["async", "sync"])
def test_a_first_stream_event_cut_short_is_retried(kind: str) -> None:
    attempts: list[int] = []

    async def cut_then_whole(call: Call) -> web.StreamResponse:
        attempts.append(1)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(call.request)
        await response.write(b'data: {"id":"c1","obj\n\n' if len(attempts) == 1 else CHUNK + b"data: [DONE]\n\n")
        return response

    with MockServer.in_thread() as server:
        server.add_route("POST", "/ai/chat/completions", cut_then_whole)
        driver = Driver(kind, server.url, max_retries=1)
        try:
            stream = driver.call("ai.chat.create_completion", messages=MESSAGES, stream=True)
            assert [chunk.id for chunk in driver.chunks(stream)] == ["c1"]
        finally:
            driver.close()
    assert len(attempts) == 2


def test_parsed_responses_carry_the_request_id_outside_their_json(server: MockServer) -> None:
    for kind in ("async", "sync"):
        server.reset()
        driver = Driver(kind, server.url, max_retries=0)
        try:
            models = driver.call("ai.retrieve_models")
            reply = driver.call("ai.chat.create_completion", messages=MESSAGES)
        finally:
            driver.close()
        ids = [r.request_id for r in server.requests]
        assert [models.request_id, reply.request_id] == ids
        assert ids[0] and ids[0] != ids[1]
        assert "request_id" not in models.to_dict() and "_request_id" not in reply.to_json()


async def test_the_request_id_is_read_from_whichever_header_came_and_is_none_without_one(
    mocked: aioresponses,
) -> None:
    import pickle

    body = {"data": [], "model": "m", "object": "list", "usage": {"prompt_tokens": 0, "total_tokens": 0}}
    url = f"{BASE_URL}/ai/openai/embeddings"
    mocked.post(url, payload=body, headers={"request-id": "r-9"})
    mocked.post(url, payload=body, headers={"X-Telnyx-Request-Id": "t-1", "request-id": "r-2"})
    mocked.post(url, payload=body)
    async with AsyncTelnyx(api_key=API_KEY, base_url=BASE_URL) as client:
        replies = [await client.ai.openai.embeddings.create_embeddings(input="a", model="m") for _ in range(3)]
    assert [reply.request_id for reply in replies] == ["r-9", "t-1", None]
    assert [reply.request_id for reply in replies] == ["r-9", "t-1", None]  # the same when asked again
    assert replies[0].to_dict() == body and "r-9" not in replies[0].to_json()
    assert pickle.loads(pickle.dumps(replies[1])).to_dict() == body  # the headers kept for the id do not travel


async def test_a_page_carries_its_request_id() -> None:
    async with MockServer(tests=5) as server, AsyncTelnyx(api_key="k", base_url=server.url) as client:
        page = await client.ai.assistants.tests.list(page_size=2)
    assert page.request_id == server.requests[0].request_id != ""


# -- found in review --------------------------------------------------------------------------


async def test_a_stream_outlives_the_client_that_opened_it() -> None:
    async with MockServer() as server:

        async def open_and_drop() -> Any:
            client = AsyncTelnyx(api_key="k", base_url=server.url)
            return await client.ai.chat.create_completion(messages=MESSAGES, stream=True)

        stream = await open_and_drop()
        gc.collect()  # the client is gone; the stream holds its pool
        async with stream:
            assert len([chunk async for chunk in stream]) > 1
        del stream
        gc.collect()


def test_a_sync_client_at_interpreter_exit_gives_no_warning(tmp_path: Any) -> None:
    import subprocess
    import sys

    code = (
        "from telnyx_ai import Telnyx\n"
        "from telnyx_ai.testing import MockServer\n"
        "server = MockServer.in_thread().__enter__()\n"
        "client = Telnyx(api_key='k', base_url=server.url)\n"
        "client.ai.retrieve_models()\n"
    )
    proc = subprocess.run([sys.executable, "-X", "dev", "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "garbage-collected" not in proc.stderr and "unclosed" not in proc.stderr.lower(), proc.stderr


def test_bare_data_lines_count_towards_the_event_limit() -> None:
    decoder = SSEDecoder(max_event_bytes=1000)
    with pytest.raises(Exception, match="exceeded 1000 bytes"):
        for _ in range(1000):
            decoder.feed(b"data\n" * 100)


def test_the_sync_client_refuses_a_session_and_with_options_skips_not_given() -> None:
    from telnyx_ai import NOT_GIVEN

    with pytest.raises(TypeError, match="unexpected keyword argument 'session'"):
        Telnyx(session=object())  # type: ignore[call-arg]
    client = AsyncTelnyx(api_key="k", max_retries=3)
    copy = client.with_options(timeout=NOT_GIVEN, max_retries=NOT_GIVEN)  # type: ignore[arg-type]
    assert (copy.max_retries, copy.timeout) == (3, client.timeout)


def test_a_float_timeout_is_never_cut_by_the_default_total() -> None:
    assert client_timeout(900.0).total == 900.0
    assert client_timeout(5.0).total == 600.0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"base_url": "ftp://u:hunter2@h"}, "http"),
        ({"base_url": "https://u:hunter2@h/ v2"}, "whitespace"),
        ({"proxy": "http://u:hunter2@h:1?x=1"}, "without a query"),
        ({"proxy": "socks5://u:hunter2@h:1"}, "http"),
    ],
)
def test_url_errors_never_repeat_credentials(options: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        AsyncTelnyx(api_key="k", **options)  # type: ignore[arg-type]
    assert "hunter2" not in str(info.value)


def test_rich_never_shows_the_key_or_the_proxy() -> None:
    from rich.console import Console
    from rich.pretty import Pretty

    from telnyx_ai._config import ClientConfig
    from telnyx_ai._http.request import RequestBuilder

    long_key = "KEY-" + "x" * 120  # rich cuts long strings: the cut must stay redacted too
    config = ClientConfig(api_key=long_key, proxy="http://u:hunter2@proxy.example:3128")
    request = RequestBuilder(config).build("GET", "/ai/models", options={})
    console = Console(record=True, width=200)
    console.print(Pretty({"request": request, "headers": request.headers, "config": config}, max_string=40))
    shown = console.export_text()
    assert "xxxxxxxx" not in shown and "hunter2" not in shown
    assert "<redacted>" in shown


async def test_with_raw_response_takes_a_partial(client: AsyncTelnyx, mocked: aioresponses) -> None:
    import functools

    mocked.post(
        f"{BASE_URL}/ai/openai/embeddings",
        payload={
            "data": [{"embedding": [0.5], "index": 0, "object": "embedding"}],
            "model": "m",
            "object": "list",
            "usage": {"prompt_tokens": 1, "total_tokens": 1},
        },
    )
    embed = functools.partial(client.ai.openai.embeddings.create_embeddings, model="m")
    raw = await client.with_raw_response(embed, input="a")
    assert raw.parsed.data[0].embedding == [0.5]


def test_embed_many_batch_retries_say_their_retry_count(server: MockServer, monkeypatch: pytest.MonkeyPatch) -> None:
    import telnyx_ai._batch.scheduler as scheduler
    from telnyx_ai.testing import Fault

    async def instant(seconds: float) -> None:
        return None

    monkeypatch.setattr(scheduler, "wait_before_retry", instant)
    server.reset()
    server.inject(Fault.status(503), times=2, path="/ai/openai/embeddings")
    driver = Driver("async", server.url, max_retries=0)
    try:
        driver.call("ai.openai.embeddings.embed_many", ["a", "b"], model="thenlper/gte-large", batch_size=2)
    finally:
        driver.close()
    assert [r.headers["X-Retry-Count"] for r in server.requests] == ["0", "1", "2"]
