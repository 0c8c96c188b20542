"""The apps of examples/ loaded for tests, and their chat page (examples/web_chat's, also served by
examples/fastapi_app) driven in headless Chromium."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType

from telnyx_ai.testing import MockServer, StreamConfig

from ._chromium import Chromium, Tab

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load_example(name: str) -> ModuleType:
    """``examples/<name>/app.py`` as the module ``<name>_app``, registered as an import would register it
    (pydantic resolves an app's annotations through ``sys.modules``)."""
    spec = importlib.util.spec_from_file_location(f"{name}_app", EXAMPLES / name / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@contextlib.asynccontextmanager
async def chat_page(browser: Chromium, app_url: str) -> AsyncIterator[Tab]:
    """The page at ``app_url``, ready to ``ask``; closed after (unless the test closed it)."""
    page = await browser.open(app_url + "/")
    await page.wait_for("document.readyState === 'complete' && typeof ask === 'function'")
    try:
        yield page
    finally:
        with contextlib.suppress(RuntimeError):
            await page.close()


async def ask(tab: Tab, question: str, *more: str) -> str:
    """Ask on the page (``more``: the page's further arguments, such as the wire format): its end state,
    ``done`` or ``error``, once the reply has finished."""
    await tab.evaluate(f"ask({', '.join(json.dumps(a) for a in (question, *more))})")
    return str(await tab.wait_for("['done', 'error'].includes(answer.dataset.state) && answer.dataset.state"))


async def close_mid_reply(tab: Tab, server: MockServer, question: str) -> float:
    """Close the tab while a long reply streams: the seconds until ``server`` saw its upstream stream closed."""
    server.stream = StreamConfig(reply="word " * 400, delay=0.02)  # about 8 s of streaming
    await tab.evaluate(f"ask({json.dumps(question)})")
    await tab.wait_for("window.tokenTimes.length >= 3")
    closed = time.monotonic()
    await tab.close()
    for _ in range(1000):
        if server.disconnects:
            break
        await asyncio.sleep(0.005)
    after = time.monotonic() - closed
    assert server.disconnects == 1 and server.requests[0].disconnected
    print(f"\nupstream closed {after * 1000:.0f} ms after the tab")
    return after


async def shows_the_cut(tab: Tab, question: str, reply: str) -> None:
    """Ask while the server cuts the reply: the page ends in the error state, the partial answer kept."""
    assert await ask(tab, question) == "error"
    text = await tab.evaluate("answer.textContent")
    assert text != reply and reply.startswith(text) and text
    assert str(await tab.evaluate("statusLine.textContent")).startswith("Error: ")
