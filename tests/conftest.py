"""Shared fixtures: a client with a fake key, and aioresponses for request-building tests."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import ClientResponse, web
from aioresponses import aioresponses
from aioresponses import core as aioresponses_core

from telnyx_ai import AsyncTelnyx
from telnyx_ai._http import retry as retry_module
from telnyx_ai.testing import json_response
from telnyx_ai.testing._fixtures import model_metadata

from ._aiohttp_app import serve_app

BASE_URL = "https://api.telnyx.test/v2"
API_KEY = "KEY-super-secret-0123456789"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--uvloop",
        action="store_true",
        help="run the async tests on uvloop's event loop instead of asyncio's (scripts/test does, for a core subset)",
    )


class _Uvloop:
    """Gives pytest-asyncio uvloop's loop factory, so every async test runs on a uvloop loop."""

    @staticmethod
    def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> dict[str, Any]:
        import uvloop

        return {"uvloop": uvloop.new_event_loop}


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--uvloop"):
        config.pluginmanager.register(_Uvloop(), "telnyx_ai_tests_uvloop")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TELNYX_API_KEY", "TELNYX_BASE_URL", "TELNYX_LOG"):
        monkeypatch.delenv(name, raising=False)


class _ResponseWithStreamWriter(ClientResponse):
    """aioresponses 0.7.9 predates aiohttp 3.14's required ``stream_writer``; supply a stand-in.

    See https://github.com/pnuckowski/aioresponses/issues/289.
    """

    def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", SimpleNamespace(output_size=0))
        super().__init__(method, url, **kwargs)


@pytest.fixture
def instant_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries without their waits (the policy still picks each delay; nothing sleeps through it)."""

    async def instant(seconds: float) -> None:
        pass

    monkeypatch.setattr(retry_module, "_sleep", instant)


@pytest.fixture
def mocked(monkeypatch: pytest.MonkeyPatch) -> Iterator[aioresponses]:
    if "stream_writer" in inspect.signature(ClientResponse.__init__).parameters:
        monkeypatch.setattr(aioresponses_core, "ClientResponse", _ResponseWithStreamWriter)
    with aioresponses() as m:
        yield m


@pytest.fixture
async def client() -> AsyncIterator[AsyncTelnyx]:
    async with AsyncTelnyx(api_key=API_KEY, base_url=BASE_URL, max_retries=0) as c:
        yield c


@pytest.fixture
async def proxy() -> AsyncIterator[tuple[str, list[str]]]:
    """A forward proxy on loopback that answers every request itself and records the target URL."""
    seen: list[str] = []

    async def forward(request: web.Request) -> web.StreamResponse:
        seen.append(str(request.url))
        return json_response({"data": [model_metadata("via-proxy")]})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", forward)
    async with serve_app(app) as url:
        yield url, seen
