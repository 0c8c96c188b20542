"""Headless Chromium driven over the DevTools protocol, with aiohttp's websocket client (no selenium).

Chromium is Debian's ``chromium`` package (``./scripts/test`` installs it); it listens for
DevTools on a loopback port it picks itself and writes to ``DevToolsActivePort``. The browser is
stopped by its own PID.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp

FLAGS = [
    "--headless",
    "--no-sandbox",  # running as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
]


def chromium_binary() -> str:
    """Where Chromium is: $TELNYX_AI_CHROMIUM or ``chromium`` on PATH."""
    for candidate in (os.environ.get("TELNYX_AI_CHROMIUM"), shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    raise RuntimeError("Chromium is not installed: run ./scripts/test (it installs Debian's chromium package).")


class Chromium:
    """One headless browser; `open` gives a `Tab` to drive."""

    def __init__(self) -> None:
        self._profile = tempfile.TemporaryDirectory(prefix="telnyx-ai-chromium-")
        self._process: asyncio.subprocess.Process | None = None
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Chromium:
        profile = Path(self._profile.name)
        self._process = await asyncio.create_subprocess_exec(
            chromium_binary(),
            *FLAGS,
            f"--user-data-dir={profile}",
            "about:blank",
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        port_file = profile / "DevToolsActivePort"
        for _ in range(300):
            if port_file.exists() and len(lines := port_file.read_text().split()) >= 2:
                break
            if self._process.returncode is not None:
                raise RuntimeError(f"Chromium exited with {self._process.returncode}")
            await asyncio.sleep(0.05)
        else:
            raise RuntimeError("Chromium did not open its DevTools port within 15 s")
        self._session = aiohttp.ClientSession()
        self._ws = await self._session.ws_connect(f"ws://127.0.0.1:{lines[0]}{lines[1]}", max_msg_size=0)
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()
        if self._process is not None and self._process.returncode is None:
            os.killpg(self._process.pid, signal.SIGTERM)  # the browser's own process group, by its PID
            try:
                await asyncio.wait_for(self._process.wait(), 10)
            except TimeoutError:
                os.killpg(self._process.pid, signal.SIGKILL)
                await self._process.wait()
        self._profile.cleanup()

    async def _read(self) -> None:
        assert self._ws is not None
        async for message in self._ws:
            reply = message.json()
            waiter = self._waiting.pop(reply.get("id", -1), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(reply)

    async def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        """Send one DevTools command and wait for its result (raises on a protocol error)."""
        assert self._ws is not None
        number = next(self._ids)
        waiter = self._waiting[number] = asyncio.get_running_loop().create_future()
        command: dict[str, Any] = {"id": number, "method": method, "params": params or {}}
        if session is not None:
            command["sessionId"] = session
        await self._ws.send_json(command)
        reply = await asyncio.wait_for(waiter, 15)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        result: dict[str, Any] = reply["result"]
        return result

    async def open(self, url: str) -> Tab:
        target = (await self.send("Target.createTarget", {"url": url}))["targetId"]
        session = (await self.send("Target.attachToTarget", {"targetId": target, "flatten": True}))["sessionId"]
        return Tab(self, target, session)


class Tab:
    """A page: evaluate JavaScript in it, wait for a condition, close it."""

    def __init__(self, browser: Chromium, target: str, session: str) -> None:
        self._browser = browser
        self.target = target
        self._session = session

    async def evaluate(self, expression: str) -> Any:
        result = await self._browser.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}, self._session
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 10.0) -> Any:
        """Poll ``expression`` until it is truthy; its value."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{expression} stayed falsy for {timeout} s")
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        await self._browser.send("Target.closeTarget", {"targetId": self.target})
