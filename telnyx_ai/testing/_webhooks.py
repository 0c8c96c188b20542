"""Signed webhook deliveries for testing your endpoint: a test key pair that signs as Telnyx does.

`WebhookSigner` holds an Ed25519 key pair made for the test (never Telnyx's key): give its
``public_key`` to your app as ``TELNYX_PUBLIC_KEY``, then send it deliveries signed with the private
half (`MockServer.send_webhook` posts them for you). Needs the ``webhooks`` extra (cryptography).
"""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

import msgspec

from .._errors import TelnyxError
from ..webhooks import NEEDS_CRYPTOGRAPHY

__all__ = ["WebhookSigner", "webhook_event"]


class WebhookSigner:
    """Signs webhook bodies the way Telnyx does, with a key pair of its own."""

    def __init__(self) -> None:
        try:
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
            from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
        except ImportError:
            raise TelnyxError(NEEDS_CRYPTOGRAPHY) from None

        self._key = Ed25519PrivateKey.generate()
        raw = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.public_key = base64.b64encode(raw).decode()
        """The public half, base64: what ``TELNYX_PUBLIC_KEY`` holds for the app under test."""

    def headers(self, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
        """The ``telnyx-timestamp`` and ``telnyx-signature-ed25519`` headers for ``body`` (signed now by default)."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = self._key.sign(stamp.encode() + b"|" + body)
        return {"telnyx-timestamp": stamp, "telnyx-signature-ed25519": base64.b64encode(signature).decode()}

    def __repr__(self) -> str:
        return f"WebhookSigner(public_key={self.public_key!r})"  # the private key never shows


def webhook_event(event_type: str, payload: dict[str, Any] | None = None, **data: Any) -> bytes:
    """A delivery body as Telnyx sends it: ``{"data": {"event_type", "id", "occurred_at", "payload",
    "record_type"}, "meta": {...}}``; ``data`` keywords add or replace fields of ``data``."""
    event = {
        "event_type": event_type,
        "id": str(uuid.uuid4()),
        "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime()),
        "payload": payload or {},
        "record_type": "event",
        **data,
    }
    return msgspec.json.encode({"data": event, "meta": {"attempt": 1, "delivered_to": "emulator"}})
