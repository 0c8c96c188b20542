"""The aiohttp privates the SDK relies on still exist in the installed aiohttp (and it is in range)."""

from __future__ import annotations

import asyncio
import tomllib
from pathlib import Path

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
