"""The emulator's ``Idempotency-Key`` handling: a repeated key gets the first answer, and nothing acts twice.

A request other than a GET that carries a key is answered once. For 24 hours, the same key with the
same request (method, path and body) gets the stored answer back, marked ``Idempotent-Replayed: true``,
without calling the handler again; the same key with another request gets a 409 the client should not
retry (``x-should-retry: false``); a key whose first request is still being answered gets a 409 that
it may retry. Only whole answers with a 2xx status are kept: a refusal (429, 5xx, a validation error)
or a streamed answer leaves the key free, so a retry acts as the first attempt would have.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from ._responses import telnyx_error

__all__ = ["KEY_LIFETIME", "IdempotencyStore"]

KEY_LIFETIME = 24 * 60 * 60.0
"""Seconds a key's answer is kept, as Telnyx documents for its idempotent endpoints."""

_HEADER = "Idempotency-Key"


@dataclass(slots=True)
class _Kept:
    fingerprint: bytes
    stored_at: float
    status: int = 0  # 0 while the first request is being answered
    body: bytes = b""
    content_type: str = ""


def _fingerprint(request: web.Request, body: bytes) -> bytes:
    return hashlib.sha256(b"%s %s\n%s" % (request.method.encode(), request.path.encode(), body)).digest()


class IdempotencyStore:
    """The answers kept by key; `MockServer` consults it around each handler it calls."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._kept: dict[str, _Kept] = {}
        self.replays = 0
        """Requests answered from the store instead of by their handler."""

    def key_of(self, request: web.Request) -> str | None:
        """The request's key, when it has one and is not a GET (a GET changes nothing)."""
        return None if request.method in ("GET", "HEAD") else request.headers.get(_HEADER)

    def before(self, key: str, request: web.Request, body: bytes) -> web.Response | None:
        """The stored answer or a 409 for a repeated key; None (and the key held) for a first request."""
        now = self._clock()
        kept = self._kept.get(key)
        if kept is not None and now - kept.stored_at > KEY_LIFETIME:
            kept = None
        fingerprint = _fingerprint(request, body)
        if kept is None:
            self._kept[key] = _Kept(fingerprint, now)
            return None
        if kept.fingerprint != fingerprint:
            return telnyx_error(
                409,
                f"The Idempotency-Key {key!r} was used for another request; send a new key for a new request.",
                code="10015",
                headers={"x-should-retry": "false"},
            )
        if not kept.status:
            return telnyx_error(409, f"A request with the Idempotency-Key {key!r} is still being answered; retry.")
        self.replays += 1
        return web.Response(
            body=kept.body,
            status=kept.status,
            content_type=kept.content_type or None,
            headers={"Idempotent-Replayed": "true"},
        )

    def after(self, key: str, response: web.StreamResponse | None) -> None:
        """Keep ``response`` for the key if it is a whole 2xx answer; otherwise free the key."""
        kept = self._kept.get(key)
        if kept is None or kept.status:
            return
        body = (response.body or b"") if isinstance(response, web.Response) else None  # 204: no body
        if response is not None and 200 <= response.status < 300 and isinstance(body, bytes):
            kept.status, kept.body = response.status, body
            kept.content_type = response.content_type
            kept.stored_at = self._clock()
        else:
            del self._kept[key]

    def clear(self) -> None:
        """Forget every key (`MockServer.reset`)."""
        self._kept.clear()
        self.replays = 0
