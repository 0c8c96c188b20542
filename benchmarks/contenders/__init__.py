"""The clients being compared, each doing the same calls and the same correctness work.

An async contender offers ``open(root, variant, concurrency)``, ``embed() -> float`` (the sum of
every float it received, after checking each vector's length), ``chat() -> int`` (the reply's
text length), ``stream(first=None) -> (chunks, text length)`` (``first`` is called when the first chunk
is in hand; the text is counted, not kept) and ``close()``; the floor and telnyx_ai also offer
``relay(first=None) -> (chunks, bytes)``, the stream re-framed as SSE. A sync contender offers
``open``, ``embed`` and ``close``. ``cold_start`` is Python source that imports the SDK and
builds its first client; the runner times it in a fresh interpreter.

This module imports no SDK: a worker process loads only the contender it runs.
"""

from __future__ import annotations

import base64
import importlib
import importlib.util
import sys
from array import array
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from ..fixtures import DIM

__all__ = [
    "API_KEY",
    "CONTENDERS",
    "EMBED_INPUT",
    "MESSAGES",
    "Spec",
    "by_name",
    "count_frames",
    "floats",
    "unavailable",
    "vectors_sum",
]

API_KEY = "bench-key-not-secret"
EMBED_INPUT = "The quick brown fox jumps over the lazy dog"
MESSAGES = [
    {"role": "system", "content": "You are a terse assistant."},
    {"role": "user", "content": "Tell me about foxes."},
]


class CheckError(AssertionError):
    """A contender returned something other than the canned response."""


def floats(embedding: list[float] | str) -> list[float]:
    """A vector as floats: a base64 string (little-endian float32, S1c) decoded as a user would."""
    if isinstance(embedding, str):
        values = array("f", base64.b64decode(embedding))
        if sys.byteorder == "big":
            values.byteswap()
        return values.tolist()
    return embedding


async def count_frames(frames: AsyncIterator[bytes], first: Callable[[], None] | None) -> tuple[int, int]:
    """Consume relayed SSE frames as a web response would send them: (chunks, bytes); the last frame is
    ``[DONE]``. ``first`` is called when the first frame is in hand."""
    count = 0
    size = 0
    async for frame in frames:
        if not count and first is not None:
            first()
        count += frame.count(b"\n\n")
        size += len(frame)
    return count - 1, size


def vectors_sum(vectors: Iterable[list[float]]) -> float:
    """Sum every float of every vector, after checking each has ``DIM`` of them."""
    total = 0.0
    for vector in vectors:
        if len(vector) != DIM:
            raise CheckError(f"an embedding has {len(vector)} floats, expected {DIM}")
        total += sum(vector)
    return total


@dataclass(frozen=True)
class Spec:
    name: str
    label: str
    kind: Literal["async", "sync"]
    module: str  # under benchmarks.contenders
    cls: str
    needs: tuple[str, ...] = ()  # top-level modules that must be importable
    needs_attr: tuple[str, str] | None = None  # (module, attribute) that must exist

    def load(self) -> Any:
        module = importlib.import_module(f"{__name__}.{self.module}")
        return getattr(module, self.cls)()

    def cold_start(self) -> str:
        module = importlib.import_module(f"{__name__}.{self.module}")
        return str(getattr(module, self.cls).cold_start)


CONTENDERS: tuple[Spec, ...] = (
    Spec("floor", "floor: aiohttp + msgspec", "async", "floor", "Floor", ("aiohttp", "msgspec")),
    Spec(
        "floor_timeouts",
        "floor with the SDK's timeouts",
        "async",
        "floor",
        "FloorTimeouts",
        ("aiohttp", "msgspec"),
    ),
    Spec("telnyx_ai", "telnyx_ai AsyncTelnyx", "async", "telnyx_ai_sdk", "AsyncTelnyxAI", ("telnyx_ai",)),
    Spec(
        "telnyx_ai_256k",
        "telnyx_ai with asyncio's 256 KiB reads",
        "async",
        "telnyx_ai_sdk",
        "AsyncTelnyxAIAsyncioReads",
        ("telnyx_ai",),
    ),
    Spec("telnyx", "telnyx AsyncTelnyx (httpx)", "async", "telnyx_sdk", "AsyncTelnyxHttpx", ("telnyx",)),
    Spec(
        "telnyx_aiohttp",
        "telnyx AsyncTelnyx (aiohttp)",
        "async",
        "telnyx_sdk",
        "AsyncTelnyxAiohttp",
        ("telnyx", "httpx_aiohttp"),
    ),
    Spec("openai", "openai AsyncOpenAI (httpx)", "async", "openai_sdk", "AsyncOpenAIHttpx", ("openai",)),
    Spec(
        "openai_aiohttp",
        "openai AsyncOpenAI (aiohttp)",
        "async",
        "openai_sdk",
        "AsyncOpenAIAiohttp",
        ("openai", "aiohttp"),
    ),
    Spec("floor_sync", "floor: http.client + msgspec", "sync", "floor", "SyncFloor", ("msgspec",)),
    Spec(
        "floor_sync_aiohttp",
        "floor: aiohttp + msgspec from a thread",
        "sync",
        "floor",
        "ThreadBridgedFloor",
        ("aiohttp", "msgspec"),
    ),
    Spec(
        "telnyx_ai_sync",
        "telnyx_ai Telnyx (sync)",
        "sync",
        "telnyx_ai_sdk",
        "SyncTelnyxAI",
        ("telnyx_ai",),
        ("telnyx_ai", "Telnyx"),
    ),
    Spec("telnyx_sync", "telnyx Telnyx (sync, httpx)", "sync", "telnyx_sdk", "SyncTelnyx", ("telnyx",)),
    Spec("openai_sync", "openai OpenAI (sync, httpx)", "sync", "openai_sdk", "SyncOpenAI", ("openai",)),
)


FLOORS = ("floor", "floor_timeouts", "floor_sync", "floor_sync_aiohttp")
"""Every run has them, whatever ``--only`` names."""

COLD_START_FLOOR = "floor"
"""The one floor of the cold-start scenario: the other floors import nothing it does not."""


SAME_COLD_START = ("telnyx_ai_256k",)
"""Contenders that start as another does (a setting changed after the client is made)."""


def cold_start_contenders(names: list[str]) -> list[str]:
    """``names`` without the floors and variants that have no cold start of their own."""
    return [n for n in names if (n not in FLOORS or n == COLD_START_FLOOR) and n not in SAME_COLD_START]


def by_name(name: str) -> Spec:
    for spec in CONTENDERS:
        if spec.name == name:
            return spec
    raise KeyError(f"no contender named {name!r}; known: {', '.join(s.name for s in CONTENDERS)}")


def unavailable(spec: Spec) -> str | None:
    """Why this contender cannot run in this interpreter, or None when it can."""
    for module in spec.needs:
        if importlib.util.find_spec(module) is None:
            return f"not available: {module} is not installed"
    if spec.needs_attr is not None:
        module_name, attr = spec.needs_attr
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            return f"not available: {exc}"
        if not hasattr(module, attr):
            return f"not available: {module_name}.{attr} does not exist yet"
    return None
