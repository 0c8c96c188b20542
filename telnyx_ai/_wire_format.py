"""Which ``encoding_format`` the SDK asks for when the caller did not choose: base64, unless refused.

A server that rejects base64 with a 400 or 422 is asked again at once without it; if that works, the
refusal is remembered for the client (its connection pool, shared by ``with_options`` copies), base
URL and model, so a job pays for it once. Until a model's first answer, one request probes and the
others wait for it (up to `PROBE_WAIT`), so a refusal costs exactly one failed request even with many
in flight; on a server slower than that, the others go too and each finds out for itself. A batch
job does not rely on that wait (`needs_probe`): it sends its first request alone, because requests
held and then released together arrive as a burst that a rate limit refuses.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import AsyncGenerator, Mapping
from contextlib import asynccontextmanager
from typing import Literal

from ._errors import APIStatusError
from ._transport import Transport
from ._types import NOT_GIVEN, Body, RequestOptions
from ._vectors import WireEmbeddingResponse

__all__ = ["EMBEDDINGS_PATH", "REFUSAL_STATUSES", "needs_probe", "request_embeddings"]

EMBEDDINGS_PATH = "/ai/openai/embeddings"
REFUSAL_STATUSES = frozenset({400, 422})
"""What a server that does not take base64 answers it with (a 413 or 429 says nothing about the format)."""

PROBE_WAIT = 0.5
"""How long a request waits for the probe's answer: a refusal comes back fast; a slow model must not
hold a job's start for a whole round trip."""

Encoding = Literal["base64", "float"]


class _Model:
    """What one model's server said to base64: nothing yet, or which encoding to ask for."""

    __slots__ = ("known", "probe")

    def __init__(self) -> None:
        self.known: Encoding | None = None
        self.probe: asyncio.Event | None = None  # set when the request finding out has finished


class _Trial:
    """One request's encoding; a probe (the model's first request) settles what is remembered."""

    __slots__ = ("encoding", "model", "waited")

    def __init__(self, encoding: Encoding, model: _Model | None, waited: float) -> None:
        self.encoding, self.model, self.waited = encoding, model, waited

    def settle(self, encoding: Encoding) -> None:
        if self.model is not None:
            self.model.known = encoding


_memory: weakref.WeakKeyDictionary[object, dict[tuple[str, str], _Model]] = weakref.WeakKeyDictionary()


def _state(transport: Transport, model: str) -> _Model:
    models = _memory.get(transport.pool)
    if models is None:
        models = _memory[transport.pool] = {}
    key = (transport.config.base_url, model)
    state = models.get(key)
    if state is None:
        state = models[key] = _Model()
    return state


def _chosen(body: Body, options: RequestOptions) -> bool:
    """Whether the caller chose ``encoding_format`` (as an argument or in ``extra_body``)."""
    if body.get("encoding_format", NOT_GIVEN) is not NOT_GIVEN:
        return True
    return "encoding_format" in (options.get("extra_body") or {})


def needs_probe(transport: Transport, model: str, options: RequestOptions) -> bool:
    """Whether this client has yet to learn if the model's server takes base64 (the caller did not choose).

    A batch job then sends its first request alone: its answer settles the format for the rest.
    """
    return not _chosen({}, options) and _state(transport, model).known is None


@asynccontextmanager
async def _trial(state: _Model) -> AsyncGenerator[_Trial, None]:
    """The encoding to ask with; while a model is unknown, only one request at a time finds out."""
    started = time.monotonic()
    while state.known is None and (probe := state.probe) is not None:
        left = started + PROBE_WAIT - time.monotonic()
        try:  # another request is finding out; then it is known, or this one finds out
            await asyncio.wait_for(probe.wait(), max(left, 0.0))
        except TimeoutError:
            yield _Trial("base64", state, time.monotonic() - started)  # finds out too, holding nobody
            return
    waited = time.monotonic() - started
    if state.known is not None:
        yield _Trial(state.known, None, waited)
        return
    state.probe = probe = asyncio.Event()
    try:
        yield _Trial("base64", state, waited)
    finally:  # settled or not (a 500, a timeout, a cancel): let the next request find out
        state.probe = None
        probe.set()


async def request_embeddings(
    transport: Transport, body: Body, options: RequestOptions, waited: list[float] | None = None
) -> WireEmbeddingResponse:
    """POST the embeddings request, in base64 unless the caller chose (``encoding_format`` in ``body`` or
    ``extra_body``) or the server refused it; the reply's vectors may be in either encoding.

    Seconds spent waiting for another request to find out are appended to ``waited`` (they are no
    part of a round trip: a batch job's pacing must not count them).
    """

    async def post(fields: Mapping[str, object]) -> WireEmbeddingResponse:
        return await transport.request(
            "POST", EMBEDDINGS_PATH, cast_to=WireEmbeddingResponse, body=fields, options=options
        )

    if _chosen(body, options):
        return await post(body)
    state = _state(transport, str(body.get("model")))
    if state.known == "base64":  # the usual case, without the machinery below
        return await post({**body, "encoding_format": "base64"})
    async with _trial(state) as trial:
        if waited is not None and trial.waited:
            waited.append(trial.waited)
        if trial.encoding == "float":
            return await post(body)
        try:
            reply = await post({**body, "encoding_format": "base64"})
        except APIStatusError as exc:
            if trial.model is None or exc.status_code not in REFUSAL_STATUSES:
                raise
        else:
            trial.settle("base64")
            return reply
        reply = await post(body)  # as before base64: no encoding_format; if this fails too, it was not the format
        trial.settle("float")
        return reply
