"""The pytest plugin users get with the package (issue 21.7): its fixtures need no set-up code and work with
pytest-asyncio in auto and strict modes and with anyio's plugin. Each case runs pytest in a subprocess."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

COMMON = """
import pytest

from telnyx_ai import AsyncTelnyx, Telnyx
from telnyx_ai.testing import Fault, MockServer, expected_reply

MESSAGES = [{"role": "user", "content": "Hi"}]
SEEN = []


def test_a_sync_test(telnyx_client: Telnyx, telnyx_server: MockServer) -> None:
    reply = telnyx_client.ai.chat.create_completion(messages=MESSAGES)
    assert reply.choices[0].message.content == expected_reply(MESSAGES)
    assert [r.path for r in telnyx_server.requests] == ["/ai/chat/completions"]
"""

ASYNC_TESTS = """
{marker}
async def test_an_async_test(telnyx_async_client: AsyncTelnyx, telnyx_server: MockServer) -> None:
    telnyx_server.inject(Fault.status(503), times=1)  # retried by the client
    reply = await telnyx_async_client.ai.chat.create_completion(messages=MESSAGES)
    assert reply.choices[0].message.content == expected_reply(MESSAGES)
    assert len(telnyx_server.requests) == 2
    SEEN.append(telnyx_async_client)


{marker}
async def test_each_test_gets_a_fresh_server_and_a_closed_client_after(
    telnyx_async_client: AsyncTelnyx, telnyx_server: MockServer
) -> None:
    assert telnyx_server.requests == [] and SEEN and SEEN[0].is_closed
    stream = await telnyx_async_client.ai.chat.create_completion(messages=MESSAGES, stream=True)
    async with stream:
        assert await stream.get_final_text() == expected_reply(MESSAGES)
"""


def _run(pytester: pytest.Pytester, marker: str, *args: str, extra: str = "") -> pytest.RunResult:
    pytester.makepyfile(test_user=COMMON + ASYNC_TESTS.format(marker=marker) + extra)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def test_pytest_asyncio_auto_mode(pytester: pytest.Pytester) -> None:
    result = _run(pytester, "", "--asyncio-mode=auto")
    result.assert_outcomes(passed=3)


def test_pytest_asyncio_strict_mode(pytester: pytest.Pytester) -> None:
    result = _run(pytester, "@pytest.mark.asyncio", "--asyncio-mode=strict")
    result.assert_outcomes(passed=3)


ANYIO_BACKEND = """

@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
"""


def test_anyio_plugin_alone(pytester: pytest.Pytester) -> None:
    result = _run(pytester, "@pytest.mark.anyio", "-p", "no:asyncio", extra=ANYIO_BACKEND)
    result.assert_outcomes(passed=3)


# "-p anyio" registers anyio's plugin again, first: its fixture hook then runs inside pytest-asyncio's,
# which would take the fixture to its own loop if the plugin did not hand anyio an unmarked one.
@pytest.mark.parametrize("order", [[], ["-p", "anyio"]], ids=["entry-point-order", "anyio-first"])
def test_anyio_plugin_beside_pytest_asyncio_in_strict_mode(pytester: pytest.Pytester, order: list[str]) -> None:
    result = _run(pytester, "@pytest.mark.anyio", "--asyncio-mode=strict", *order, extra=ANYIO_BACKEND)
    result.assert_outcomes(passed=3)


def test_the_names_leave_room_for_the_users_own_and_the_plugin_can_be_turned_off(pytester: pytest.Pytester) -> None:
    own = """
import pytest


@pytest.fixture
def client() -> str:
    return "mine"


@pytest.fixture
def server() -> str:
    return "mine too"


def test_both(client: str, server: str, telnyx_server: object) -> None:
    assert (client, server) == ("mine", "mine too") and telnyx_server is not None
"""
    pytester.makepyfile(test_own=own)
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
    off = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:telnyx_ai")
    off.assert_outcomes(errors=1)
    off.stdout.fnmatch_lines(["*fixture 'telnyx_server' not found*"])
