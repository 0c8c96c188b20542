"""Verifying and decoding the webhooks Telnyx delivers to your backend.

Telnyx signs each delivery with Ed25519: ``telnyx-signature-ed25519`` holds the base64 signature of
``"{telnyx-timestamp}|{body}"``, made with the account's key, whose public half the Mission Control
portal shows (and ``TELNYX_PUBLIC_KEY`` holds, by the official SDK's convention). `verify` checks the
headers, the timestamp and the signature; `parse` verifies and then decodes the event into its type
from ``telnyx_ai.types.webhooks``, or into `UnknownWebhookEvent` for an event type this version does not
know, so a new event never breaks a handler. Always pass the raw body, byte for byte as it arrived.

Needs the ``webhooks`` extra (``pip install "telnyx-ai[webhooks]"``), which brings ``cryptography``.
"""

from __future__ import annotations

import base64
import binascii
import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from ._errors import TelnyxError, WebhookVerificationError
from ._models import BaseModel
from .types.webhooks import EVENT_TYPES, WebhookEvent

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = [
    "DEFAULT_TOLERANCE",
    "PUBLIC_KEY_ENV",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "UnknownWebhookEvent",
    "WebhookEvent",
    "WebhookVerificationError",
    "parse",
    "parse_unverified",
    "verify",
]

SIGNATURE_HEADER = "telnyx-signature-ed25519"
TIMESTAMP_HEADER = "telnyx-timestamp"
PUBLIC_KEY_ENV = "TELNYX_PUBLIC_KEY"
DEFAULT_TOLERANCE = 300
"""Seconds a delivery's timestamp may differ from this machine's clock, either way: a replayed old
delivery fails, and so does one from a clock far ahead."""


class UnknownWebhookEvent(BaseModel):
    """An event whose type this version has no Struct for: its type and the whole delivery as JSON."""

    event_type: str
    raw: dict[str, Any]

    @property
    def data(self) -> dict[str, Any]:
        """The delivery's ``data`` object (``event_type``, ``id``, ``occurred_at``, ``payload``...)."""
        data = self.raw.get("data")
        return data if isinstance(data, dict) else {}  # pyright: ignore[reportUnknownVariableType]


class _Envelope(msgspec.Struct):
    data: _Kind


class _Kind(msgspec.Struct):
    event_type: str


_envelope = msgspec.json.Decoder(_Envelope)
_decoders = {event_type: msgspec.json.Decoder(struct) for event_type, struct in EVENT_TYPES.items()}


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:  # a plain dict may spell it in any case; aiohttp's and Starlette's headers do not care
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    if value is None or not value.strip():
        check = "signature header" if name == SIGNATURE_HEADER else "timestamp header"
        raise WebhookVerificationError(f"The {name} header is missing: is this a Telnyx webhook?", check=check)
    return value.strip()


NEEDS_CRYPTOGRAPHY = (
    'Webhook signatures need the cryptography package: pip install "telnyx-ai[webhooks]" '
    '(from a checkout: pip install ".[webhooks]").'
)


def _public_key(public_key: str | bytes | None) -> Ed25519PublicKey:
    try:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError:
        raise TelnyxError(NEEDS_CRYPTOGRAPHY) from None
    if public_key is None:
        public_key = os.environ.get(PUBLIC_KEY_ENV)
        if not public_key:
            raise WebhookVerificationError(
                f"No public key: pass public_key= or set {PUBLIC_KEY_ENV} (Mission Control portal, Keys & Credentials).",
                check="public key",
            )
    try:
        raw = public_key if isinstance(public_key, bytes) else base64.b64decode(public_key.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError):
        raise WebhookVerificationError(
            "The public key is not an Ed25519 public key: give its base64 text (44 characters) or its 32 raw bytes.",
            check="public key",
        ) from None


def verify(
    payload: bytes | str,
    headers: Mapping[str, str],
    public_key: str | bytes | None = None,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
) -> None:
    """Check that ``payload`` is a delivery Telnyx signed within ``tolerance`` seconds of now; raise
    `WebhookVerificationError` naming the failed check otherwise.

    ``public_key`` is the base64 text the portal shows (or its 32 raw bytes); None reads
    ``TELNYX_PUBLIC_KEY``. ``payload`` is the raw body: a ``str`` is encoded as UTF-8, which is only
    right if the framework did not re-encode it.
    """
    key = _public_key(public_key)  # first: it says what to install when cryptography is missing
    from cryptography.exceptions import InvalidSignature

    signature_text = _header(headers, SIGNATURE_HEADER)
    timestamp_text = _header(headers, TIMESTAMP_HEADER)
    try:
        timestamp = int(timestamp_text)
    except ValueError:
        raise WebhookVerificationError(
            f"The {TIMESTAMP_HEADER} header is not a Unix time in seconds.", check="timestamp header"
        ) from None
    try:
        signature = base64.b64decode(signature_text, validate=True)
    except binascii.Error:
        raise WebhookVerificationError(
            f"The {SIGNATURE_HEADER} header is not base64.", check="signature header"
        ) from None
    if len(signature) != 64:
        raise WebhookVerificationError(
            f"The {SIGNATURE_HEADER} header does not hold an Ed25519 signature (64 bytes).", check="signature header"
        )
    age = time.time() - timestamp
    if age > tolerance:
        raise WebhookVerificationError(
            f"The delivery was signed {age:.0f} s ago, more than the {tolerance:g} s allowed: an old delivery replayed?",
            check="stale timestamp",
        )
    if -age > tolerance:
        raise WebhookVerificationError(
            f"The delivery is dated {-age:.0f} s in the future, more than the {tolerance:g} s allowed: check this clock.",
            check="future timestamp",
        )
    body = payload.encode() if isinstance(payload, str) else payload
    try:
        key.verify(signature, timestamp_text.encode() + b"|" + body)
    except InvalidSignature:
        raise WebhookVerificationError(
            "The signature does not match this body, timestamp and public key: the body was changed on the way "
            "(pass the raw bytes), or it was signed with another key.",
            check="signature",
        ) from None


def parse_unverified(payload: bytes | str) -> WebhookEvent | UnknownWebhookEvent:
    """Decode a delivery without checking its signature: for tests and trusted replays only."""
    try:
        kind = _envelope.decode(payload).data.event_type
    except msgspec.DecodeError:
        raise WebhookVerificationError(
            "The payload is not a Telnyx event: JSON with data.event_type.", check="payload"
        ) from None
    decoder = _decoders.get(kind)
    if decoder is None:
        return UnknownWebhookEvent(kind, msgspec.json.decode(payload))
    try:
        return decoder.decode(payload)
    except msgspec.ValidationError as exc:
        raise WebhookVerificationError(f"The {kind} event does not match its type: {exc}", check="payload") from None


def parse(
    payload: bytes | str,
    headers: Mapping[str, str],
    public_key: str | bytes | None = None,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
) -> WebhookEvent | UnknownWebhookEvent:
    """`verify` the delivery, then decode it: a Struct of ``telnyx_ai.types.webhooks``, or `UnknownWebhookEvent`."""
    verify(payload, headers, public_key, tolerance=tolerance)
    return parse_unverified(payload)
