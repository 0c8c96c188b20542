"""The aiohttp privates the SDK relies on still exist in the installed aiohttp (and it is in range)."""

from __future__ import annotations

import asyncio
import time
import tomllib
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.client_proto import ResponseHandler
from packaging.requirements import Requirement

from telnyx_ai._http.aiohttp_compat import PRIVATE_ATTRIBUTES, connection_counts, disable_silent_retry

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_the_installed_aiohttp_is_in_the_supported_range() -> None:
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    (pin,) = [Requirement(d) for d in dependencies if d.startswith("aiohttp")]
    assert pin.specifier.contains(aiohttp.__version__), (aiohttp.__version__, str(pin.specifier))
    assert "<4" in str(pin.specifier), "the compat module is checked against aiohttp 3.x only"


@pytest.mark.parametrize(("owner", "name"), [(o, n) for o, names in PRIVATE_ATTRIBUTES.items() for n in names])
async def test_each_private_attribute_exists(owner: type, name: str) -> None:
    async with aiohttp.ClientSession() as session:
        instances = {
            aiohttp.ClientSession: session,
            aiohttp.BaseConnector: session.connector,
            ResponseHandler: ResponseHandler(asyncio.get_running_loop()),
        }
        assert hasattr(instances[owner], name), f"aiohttp {aiohttp.__version__} has no {owner.__name__}.{name}"


async def test_the_helpers_work_on_this_aiohttp() -> None:
    release = asyncio.Event()

    async def slow_body(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"first part")
        await release.wait()
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/slow", slow_body)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        async with aiohttp.ClientSession() as session:
            disable_silent_retry(session)
            assert getattr(session, "_retry_connection") is False  # noqa: B009
            assert session.connector is not None
            async with session.get(f"http://127.0.0.1:{port}/slow") as response:
                assert connection_counts(session.connector) == (1, 0)
                release.set()
                await response.read()
            assert connection_counts(session.connector) == (0, 1)
    finally:
        await runner.cleanup()


_EMPTY_EMBEDDINGS = b'{"data": [], "model": "m", "object": "list", "usage": {"prompt_tokens": 0, "total_tokens": 0}}'


async def _raw_heads(send: Callable[[str], Awaitable[None]]) -> list[bytes]:
    """The raw request heads a loopback server receives while ``send(base_url)`` runs; each request is
    answered with an empty list of embeddings."""
    heads: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.lower().split(b"\r\n")
                length = next((int(line[15:]) for line in lines if line.startswith(b"content-length:")), 0)
                await reader.readexactly(length)
                heads.append(head)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
                writer.write(b"Content-Length: %d\r\n\r\n%s" % (len(_EMPTY_EMBEDDINGS), _EMPTY_EMBEDDINGS))
                await writer.drain()
        except asyncio.IncompleteReadError:  # the client closed its connection
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        await send(f"http://127.0.0.1:{port}/v2")
    finally:
        server.close()
        await server.wait_closed()
    return heads


def _watch_header_updates(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """What each request's `update_headers` did: (its class, whether it handed aiohttp the headers to loop over).

    `HeadersRequest` passes None to aiohttp's method on its fast path; an aiohttp that stopped calling
    ``update_headers`` (or a session without ``request_class``) would leave the list empty or the class wrong.
    """
    seen: list[tuple[str, bool]] = []
    aiohttps = aiohttp.ClientRequest.update_headers

    def watched(self: aiohttp.ClientRequest, headers: object) -> None:
        seen.append((type(self).__name__, headers is not None))
        aiohttps(self, headers)  # type: ignore[arg-type]

    monkeypatch.setattr(aiohttp.ClientRequest, "update_headers", watched)
    return seen


def _header_lines(head: bytes) -> list[tuple[str, str]]:
    lines = head.decode().split("\r\n")[1:]
    return [(name.lower(), value.strip()) for name, value in (line.split(":", 1) for line in lines if line)]


async def test_headers_request_sends_every_header_once_with_the_host_first(monkeypatch: pytest.MonkeyPatch) -> None:
    from telnyx_ai import AsyncTelnyx

    updates = _watch_header_updates(monkeypatch)

    async def send(base_url: str) -> None:
        async with AsyncTelnyx(api_key="k-secret", base_url=base_url, default_headers={"X-Team": "a"}) as client:
            await client.ai.openai.embeddings.create_embeddings(input="hi", model="m")

    (head,) = await _raw_heads(send)
    lines = _header_lines(head)
    names = [name for name, _ in lines]
    assert names[0] == "host" and lines[0][1].startswith("127.0.0.1:")
    assert len(names) == len(set(names)), names  # nothing twice
    sent = dict(lines)
    assert sent["authorization"] == "Bearer k-secret" and sent["x-team"] == "a" and sent["x-retry-count"] == "0"
    assert sent["content-type"] == "application/json" and sent["accept"] == "application/json"
    assert len(sent["idempotency-key"]) == 36 and sent["user-agent"].startswith("telnyx-ai-python/")
    assert updates == [("HeadersRequest", False)]  # the copy in C, not aiohttp's loop


async def test_headers_request_lets_a_host_header_replace_the_derived_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from telnyx_ai import AsyncTelnyx

    updates = _watch_header_updates(monkeypatch)

    async def send(base_url: str) -> None:
        async with AsyncTelnyx(api_key="k", base_url=base_url) as client:
            await client.ai.openai.embeddings.create_embeddings(
                input="hi", model="m", extra_headers={"Host": "api.example.test"}
            )

    (head,) = await _raw_heads(send)
    hosts = [value for name, value in _header_lines(head) if name == "host"]
    assert hosts == ["api.example.test"]
    assert updates == [("HeadersRequest", True)]  # aiohttp's own loop, which knows what a Host header means


async def test_request_function_is_the_coroutine_behind_request_and_falls_back_to_it() -> None:
    from telnyx_ai._http.aiohttp_compat import request_function

    async with aiohttp.ClientSession() as session:
        direct = request_function(session)
        assert getattr(direct, "__func__", None) is aiohttp.ClientSession._request  # pyright: ignore[reportPrivateUsage]

    class WithoutPrivate:  # what a future aiohttp without `_request` looks like from here
        def request(self, method: str, url: str) -> str:
            return f"{method} {url}"

    fallback = request_function(WithoutPrivate())  # type: ignore[arg-type]
    assert fallback("GET", "/x") == "GET /x"  # type: ignore[comparison-overlap]


async def test_request_function_keeps_a_replaced_request(monkeypatch: pytest.MonkeyPatch) -> None:
    from telnyx_ai._http.aiohttp_compat import request_function

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # aiohttp discourages it, but a caller may pass one in

        class Logged(aiohttp.ClientSession):
            def request(self, *args: Any, **kwargs: Any) -> Any:
                return super().request(*args, **kwargs)

        async with Logged() as logged, aiohttp.ClientSession() as patched:
            assert getattr(request_function(logged), "__func__", None) is Logged.request
            marker = object()
            monkeypatch.setattr(patched, "request", marker)  # a test's patch of one session
            assert request_function(patched) is marker


def test_the_read_timeouts_clock_follows_a_patched_loop_time() -> None:
    from telnyx_ai._http.aiohttp_compat import LazyReadTimeout

    loop = asyncio.new_event_loop()
    try:
        assert LazyReadTimeout(loop)._clock is time.monotonic  # pyright: ignore[reportPrivateUsage]
        loop.time = lambda: 5.0  # type: ignore[method-assign]  # a test's fake clock
        assert LazyReadTimeout(loop)._clock() == 5.0  # pyright: ignore[reportPrivateUsage]
    finally:
        loop.close()


async def test_a_patch_of_aiohttp_made_after_the_first_request_still_sees_every_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from telnyx_ai import AsyncTelnyx

    seen: list[str] = []
    original = aiohttp.ClientSession._request  # pyright: ignore[reportPrivateUsage]

    async def traced(self: aiohttp.ClientSession, method: str, url: object, **kwargs: object) -> object:
        seen.append(f"{method} {url}")
        return await original(self, method, url, **kwargs)  # type: ignore[arg-type]

    async def send(base_url: str) -> None:
        async with AsyncTelnyx(api_key="k", base_url=base_url) as client:
            await client.ai.openai.embeddings.create_embeddings(input="a", model="m")
            monkeypatch.setattr(aiohttp.ClientSession, "_request", traced)  # as a tracer or a mock patches it
            await client.ai.openai.embeddings.create_embeddings(input="b", model="m")

    heads = await _raw_heads(send)
    assert (
        len(heads) == 2 and len(seen) == 1 and seen[0].startswith("POST ") and seen[0].endswith("/ai/openai/embeddings")
    )
