"""Which ``encoding_format`` the SDK asks for when the caller did not choose: base64, unless refused or ignored.

A server that rejects base64 with a 400 or 422 is asked again at once without it; if that works, the
refusal is remembered for the client (its connection pool, shared by ``with_options`` copies), base
URL and model, so a job pays for it once. A server that answers floats to a base64 request is
remembered the same way, from its first answer: from then on the SDK asks as a caller who wants
floats does (no ``encoding_format``) and decodes the reply as floats directly. Until a model's first answer, one request probes and the
others wait for it (up to `PROBE_WAIT`), so a refusal costs exactly one failed request even with many
in flight; on a server slower than that, the others go too and each finds out for itself. A batch
job's requests do not wait here (``wait_for_probe=False``): held and released together they would
arrive as a burst, which a rate limit refuses. Its scheduler holds them back instead (`needs_probe`):
the job's first request goes alone, for up to `PROBE_WAIT`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Coroutine
from contextlib import asynccontextmanager, suppress
from typing import Any, Literal

from .._errors import APIStatusError
from .._http.transport import Transport
from .._types import NOT_GIVEN, Body, NotGiven, RequestOptions
from ..types.openai import OpenAIEmbeddingResponse
from .vectors import WireEmbeddingResponse, float_response

__all__ = [
    "EMBEDDINGS_PATH",
    "PROBE_WAIT",
    "REFUSAL_STATUSES",
    "needs_probe",
    "request_embeddings",
    "request_float_embeddings",
]

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

    __slots__ = ("encoding", "model")

    def __init__(self, encoding: Encoding, model: _Model | None) -> None:
        self.encoding, self.model = encoding, model

    def settle(self, encoding: Encoding) -> None:
        if self.model is not None:
            self.model.known = encoding


def _state(transport: Transport, model: str) -> _Model:
    learned = transport.pool.learned  # shared by the client's copies; gone with the client
    key = (EMBEDDINGS_PATH, transport.config.base_url, model)
    state: _Model | None = learned.get(key)
    if state is None:
        state = learned[key] = _Model()
    return state


def _chosen(body: Body, options: RequestOptions) -> bool:
    """Whether the caller chose ``encoding_format`` (as an argument or in ``extra_body``)."""
    return body.get("encoding_format", NOT_GIVEN) is not NOT_GIVEN or _chosen_in_extra_body(options)


def _chosen_in_extra_body(options: RequestOptions) -> bool:
    return "encoding_format" in (options.get("extra_body") or {})


def needs_probe(transport: Transport, model: str, options: RequestOptions) -> bool:
    """Whether this client has yet to learn if the model's server takes base64 (the caller did not choose)."""
    return not _chosen_in_extra_body(options) and _state(transport, model).known is None


@asynccontextmanager
async def _trial(state: _Model, wait: bool) -> AsyncGenerator[_Trial, None]:
    """The encoding to ask with; while a model is unknown, one request at a time finds out and the
    others wait for it (if ``wait``, up to `PROBE_WAIT`), or find out too."""
    started = time.monotonic()
    while state.known is None and (probe := state.probe) is not None:
        # Another request is finding out: wait for it (then it is known, or this one finds out), or not.
        left = started + PROBE_WAIT - time.monotonic()
        if wait and left > 0:
            with suppress(TimeoutError):
                await asyncio.wait_for(probe.wait(), left)
            continue
        yield _Trial("base64", state)  # finds out too, holding nobody
        return
    if state.known is not None:
        yield _Trial(state.known, None)
        return
    state.probe = probe = asyncio.Event()
    try:
        yield _Trial("base64", state)
    finally:  # settled or not (a 500, a timeout, a cancel): let the next request find out
        state.probe = None
        probe.set()


def _answered_in(reply: WireEmbeddingResponse) -> Encoding | None:
    """The encoding the server answered a base64 request in: its first vector's (none: nothing to learn)."""
    if not reply.data:
        return None
    return "base64" if isinstance(reply.data[0].embedding, bytes) else "float"


def _post(
    transport: Transport, fields: Body, options: RequestOptions, key: str | NotGiven = NOT_GIVEN
) -> Coroutine[Any, Any, WireEmbeddingResponse]:
    """The request itself (a plain function returning the coroutine: no frame of its own to await)."""
    return transport.request(
        "POST", EMBEDDINGS_PATH, cast_to=WireEmbeddingResponse, body=fields, options=options, idempotency_key=key
    )


async def request_embeddings(
    transport: Transport,
    body: Body,
    options: RequestOptions,
    *,
    wait_for_probe: bool = True,
    idempotency_key: str | NotGiven = NOT_GIVEN,
) -> WireEmbeddingResponse:
    """POST the embeddings request, in base64 unless the caller chose (``encoding_format`` in ``body`` or
    ``extra_body``) or the server refused it; the reply's vectors may be in either encoding.

    ``wait_for_probe=False``: never wait for another request to find out (a batch job's pacing
    would count the wait as part of the round trip, and its scheduler holds requests back itself).
    A body without base64 (what a float caller sends) goes with another ``idempotency_key`` than the same
    inputs in base64, so a batch retried after the client learned the format never reuses a key for
    another body (a server answers that with a 409).
    """
    key = idempotency_key
    float_key = key if isinstance(key, NotGiven) else f"{key}-float"
    if _chosen(body, options):
        return await _post(transport, body, options, key)
    state = _state(transport, str(body.get("model")))
    if state.known == "base64":  # the usual case, without the machinery below
        return await _post(transport, {**body, "encoding_format": "base64"}, options, key)
    if state.known == "float":
        return await _post(transport, body, options, float_key)
    async with _trial(state, wait_for_probe) as trial:
        asked = body if trial.encoding == "float" else {**body, "encoding_format": "base64"}
        try:
            reply = await _post(transport, asked, options, float_key if asked is body else key)
        except APIStatusError as exc:
            if asked is body or trial.model is None or exc.status_code not in REFUSAL_STATUSES:
                raise
        else:
            answered = _answered_in(reply) if asked is not body else None
            if answered is not None:
                trial.settle(answered)  # base64, or floats anyway: asked for floats from now on
            return reply
        # As before base64: no encoding_format; if this fails too, it was not the format.
        reply = await _post(transport, body, options, float_key)
        trial.settle("float")
        return reply


async def request_float_embeddings(
    transport: Transport, body: Body, options: RequestOptions
) -> OpenAIEmbeddingResponse:
    """``create_embeddings`` without ``encoding_format``: floats to the caller, base64 on the wire where the
    server takes it. Where it refused or ignored base64, the request and the decoding are a float caller's."""
    if not _chosen_in_extra_body(options) and _state(transport, str(body.get("model"))).known == "float":
        return await transport.request(
            "POST", EMBEDDINGS_PATH, cast_to=OpenAIEmbeddingResponse, body=body, options=options
        )
    return float_response(await request_embeddings(transport, body, options))
