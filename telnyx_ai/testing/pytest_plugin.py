"""pytest fixtures for code that uses telnyx_ai, registered when the package is installed (``pytest11``).

A test asks for them by name and needs no set-up code:

```python
from telnyx_ai.testing import expected_reply


async def test_greeting(telnyx_async_client, telnyx_server):
    reply = await telnyx_async_client.ai.openai.chat.create_completion(messages=[{"role": "user", "content": "Hi"}])
    assert reply.choices[0].message.content == expected_reply([{"role": "user", "content": "Hi"}])
    assert len(telnyx_server.requests) == 1
```

- ``telnyx_server``: a fresh `MockServer` for each test, running in a thread of its own, so it
  serves both clients and whatever event loop the test runs on;
- ``telnyx_async_client``: an `AsyncTelnyx` bound to it (async tests: pytest-asyncio in auto or
  strict mode, or anyio's pytest plugin on its asyncio backend);
- ``telnyx_client``: a `Telnyx` bound to it, for sync tests.

The names start with ``telnyx_`` so they clash with nobody's ``client`` or ``server``; override one
by defining a fixture of the same name. ``pytest -p no:telnyx_ai`` turns the plugin off.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .. import AsyncTelnyx, Telnyx
    from ._server import MockServer

__all__ = ["telnyx_async_client", "telnyx_client", "telnyx_server"]

API_KEY = "test"
"""The key the clients send; the emulator accepts any bearer token."""


@pytest.fixture
def telnyx_server() -> Iterator[MockServer]:
    """A fresh emulator for this test (its own thread and loop): recorded requests, faults, `stream` settings."""
    from ._server import MockServer

    with MockServer.in_thread() as server:
        yield server


@pytest.fixture
def telnyx_client(telnyx_server: MockServer) -> Iterator[Telnyx]:
    """A sync `Telnyx` client bound to ``telnyx_server``, closed after the test."""
    from .. import Telnyx

    with Telnyx(api_key=API_KEY, base_url=telnyx_server.url) as client:
        yield client


def _async_client_fixture() -> Callable[[MockServer], AsyncIterator[AsyncTelnyx]]:
    # A new function object each time: pytest-asyncio marks the function it is given, and anyio
    # tests need one it has not marked (see pytest_fixture_setup below).
    async def telnyx_async_client(telnyx_server: MockServer) -> AsyncIterator[AsyncTelnyx]:
        """An `AsyncTelnyx` client bound to ``telnyx_server``, on the test's event loop, closed after it."""
        from .. import AsyncTelnyx

        async with AsyncTelnyx(api_key=API_KEY, base_url=telnyx_server.url) as client:
            # Bound to this loop now, so a test running on another loop gets the client's clear error.
            client._transport.pool.session()  # pyright: ignore[reportPrivateUsage]
            yield client

    return telnyx_async_client


def _registered() -> Any:
    try:  # pytest-asyncio in strict mode runs only the async fixtures it has marked
        import pytest_asyncio
    except ImportError:  # anyio's plugin (or another) runs it as a plain async fixture
        return pytest.fixture(_async_client_fixture())
    return pytest_asyncio.fixture(_async_client_fixture())


telnyx_async_client = _registered()
_for_anyio = _async_client_fixture()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> Generator[None, Any, Any]:
    """In an anyio test, hand anyio's plugin the unmarked fixture, so it runs on the test's own loop."""
    ours = fixturedef.argname == "telnyx_async_client" and fixturedef.func.__module__ == __name__
    if not (ours and "anyio_backend" in request.fixturenames):
        return (yield)
    marked = fixturedef.func
    fixturedef.func = _for_anyio  # type: ignore[misc]
    try:
        return (yield)
    finally:
        fixturedef.func = marked  # type: ignore[misc]
