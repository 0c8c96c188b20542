"""Webhook verification with real Ed25519 key pairs, typed decoding, and the emulator's signed deliveries."""

from __future__ import annotations

import base64
import time
from typing import Any

import msgspec
import pytest
from aiohttp import web

import telnyx_ai
from telnyx_ai import WebhookVerificationError, webhooks
from telnyx_ai.testing import MockServer, WebhookSigner, webhook_event
from telnyx_ai.types.webhooks import (
    EVENT_TYPES,
    CallAIGatherEndedEvent,
    CallConversationEndedEvent,
    CallConversationInsightsGeneratedEvent,
)

INSIGHTS = {
    "call_control_id": "v3:abc",
    "insight_group_id": "428c31b6-abf3-3bc1-b7f4-5013ef9657c1",
    "results": [{"insight_id": "i-1", "result": "The caller asked about opening hours."}],
}


@pytest.fixture(scope="module")
def signer() -> WebhookSigner:
    return WebhookSigner()


def delivery(signer: WebhookSigner, event_type: str = "call.conversation_insights.generated", **kw: Any) -> Any:
    body = webhook_event(event_type, INSIGHTS)
    return body, signer.headers(body, **kw)


def test_a_signed_delivery_verifies_and_decodes_to_its_type(signer: WebhookSigner) -> None:
    body, headers = delivery(signer)
    webhooks.verify(body, headers, signer.public_key)
    event = webhooks.parse(body, headers, signer.public_key)
    assert isinstance(event, CallConversationInsightsGeneratedEvent)
    assert event.data is not None and event.data.payload is not None
    assert event.data.event_type == "call.conversation_insights.generated"
    assert [r.result for r in event.data.payload.results] == ["The caller asked about opening hours."]


def test_the_key_may_be_raw_bytes_or_come_from_the_environment(
    signer: WebhookSigner, monkeypatch: pytest.MonkeyPatch
) -> None:
    body, headers = delivery(signer)
    webhooks.verify(body, headers, base64.b64decode(signer.public_key))
    monkeypatch.setenv("TELNYX_PUBLIC_KEY", signer.public_key)
    webhooks.verify(body.decode(), headers)  # str payloads are UTF-8 encoded
    assert telnyx_ai.webhooks.parse(body, headers) is not None  # reachable after a plain import


@pytest.mark.parametrize(
    ("tamper", "check"),
    [
        (lambda b, h: (b.replace(b"opening", b"closing"), h), "signature"),
        (lambda b, h: (b, {**h, "telnyx-timestamp": str(int(h["telnyx-timestamp"]) - 1)}), "signature"),
        (lambda b, h: (b + b" ", h), "signature"),
        (lambda b, h: (b, {k: v for k, v in h.items() if k != "telnyx-signature-ed25519"}), "signature header"),
        (lambda b, h: (b, {k: v for k, v in h.items() if k != "telnyx-timestamp"}), "timestamp header"),
        (lambda b, h: (b, {**h, "telnyx-signature-ed25519": "not base64!"}), "signature header"),
        (lambda b, h: (b, {**h, "telnyx-signature-ed25519": base64.b64encode(b"short").decode()}), "signature header"),
        (lambda b, h: (b, {**h, "telnyx-timestamp": "yesterday"}), "timestamp header"),
    ],
    ids=[
        "tampered-body",
        "tampered-timestamp",
        "trailing-byte",
        "no-signature",
        "no-timestamp",
        "garbled-signature",
        "short-signature",
        "garbled-timestamp",
    ],
)
def test_each_failed_check_is_named(signer: WebhookSigner, tamper: Any, check: str) -> None:
    body, headers = tamper(*delivery(signer))
    with pytest.raises(WebhookVerificationError) as info:
        webhooks.parse(body, headers, signer.public_key)
    assert info.value.check == check
    assert b"opening hours" not in str(info.value).encode()  # the payload never shows


@pytest.mark.parametrize(("offset", "check"), [(-301, "stale timestamp"), (301, "future timestamp")])
def test_old_and_future_deliveries_fail(signer: WebhookSigner, offset: int, check: str) -> None:
    body, headers = delivery(signer, timestamp=int(time.time()) + offset)
    with pytest.raises(WebhookVerificationError, match="allowed") as info:
        webhooks.verify(body, headers, signer.public_key)
    assert info.value.check == check
    webhooks.verify(body, headers, signer.public_key, tolerance=abs(offset) + 60)  # a wider window lets it in


def test_another_key_fails(signer: WebhookSigner) -> None:
    body, headers = delivery(signer)
    with pytest.raises(WebhookVerificationError) as info:
        webhooks.verify(body, headers, WebhookSigner().public_key)
    assert info.value.check == "signature"


@pytest.mark.parametrize("key", ["", "not a key", base64.b64encode(b"x" * 31).decode()])
def test_a_bad_public_key_is_named(signer: WebhookSigner, key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELNYX_PUBLIC_KEY", raising=False)
    body, headers = delivery(signer)
    with pytest.raises(WebhookVerificationError, match="public") as info:
        webhooks.verify(body, headers, key or None)
    assert info.value.check == "public key"


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_every_ai_event_decodes_to_its_struct(signer: WebhookSigner, event_type: str) -> None:
    body = webhook_event(event_type, {"call_control_id": "v3:abc", "from": "+13125550100", "to": "+13125550111"})
    event = webhooks.parse(body, signer.headers(body), signer.public_key)
    assert type(event) is EVENT_TYPES[event_type]
    assert not isinstance(event, webhooks.UnknownWebhookEvent)
    assert event.data is not None and event.data.event_type == event_type


def test_an_unknown_event_type_keeps_its_data(signer: WebhookSigner) -> None:
    body = webhook_event("call.ai_gather.something_new", {"novel": [1, 2]})
    event = webhooks.parse(body, signer.headers(body), signer.public_key)
    assert isinstance(event, webhooks.UnknownWebhookEvent)
    assert event.event_type == "call.ai_gather.something_new"
    assert event.data["payload"] == {"novel": [1, 2]} and event.raw["meta"]["attempt"] == 1


def test_a_signed_body_that_is_not_an_event_is_a_payload_error(signer: WebhookSigner) -> None:
    for body in (b"[1, 2]", b"not json", b'{"data": {}}'):
        with pytest.raises(WebhookVerificationError) as info:
            webhooks.parse(body, signer.headers(body), signer.public_key)
        assert info.value.check == "payload"


def test_the_signer_never_shows_its_private_key(signer: WebhookSigner) -> None:
    assert repr(signer) == f"WebhookSigner(public_key={signer.public_key!r})"


async def test_the_emulator_delivers_signed_events_an_endpoint_verifies() -> None:
    received: list[object] = []
    async with MockServer() as server:

        async def endpoint(request: web.Request) -> web.Response:
            try:
                received.append(webhooks.parse(await request.read(), request.headers, server.webhook_signer.public_key))
            except WebhookVerificationError as exc:
                return web.json_response({"error": exc.check}, status=400)
            return web.Response(status=204)

        app = web.Application()
        app.router.add_post("/hooks/telnyx", endpoint)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/hooks/telnyx"
        try:
            assert (await server.send_webhook(url, "call.conversation.ended", {"call_control_id": "v3:x"}))[0] == 204
            assert (await server.send_webhook(url, "call.ai_gather.ended", {"result": {"age": 29}}))[0] == 204
            status, body = await server.send_webhook(url, "call.conversation.ended", timestamp=int(time.time()) - 3600)
            assert status == 400 and msgspec.json.decode(body) == {"error": "stale timestamp"}
        finally:
            await runner.cleanup()
    assert [type(e) for e in received] == [CallConversationEndedEvent, CallAIGatherEndedEvent]
    gathered = received[1]
    assert isinstance(gathered, CallAIGatherEndedEvent) and gathered.data and gathered.data.payload
    assert gathered.data.payload.result == {"age": 29}


def test_without_cryptography_the_error_says_what_to_install(
    signer: WebhookSigner, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    body, headers = delivery(signer)
    for name in [m for m in sys.modules if m == "cryptography" or m.startswith("cryptography.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "cryptography", None)  # as if not installed
    with pytest.raises(telnyx_ai.TelnyxError, match=r'pip install "telnyx-ai\[webhooks\]"'):
        webhooks.verify(body, headers, signer.public_key)
    with pytest.raises(telnyx_ai.TelnyxError, match="cryptography"):
        WebhookSigner()


def test_an_unknown_event_serializes_like_any_response(signer: WebhookSigner) -> None:
    body = webhook_event("call.something_new", {"x": 1})
    event = webhooks.parse(body, signer.headers(body), signer.public_key)
    assert isinstance(event, webhooks.UnknownWebhookEvent)
    assert event.to_dict()["event_type"] == "call.something_new" and dict(event)["raw"]["data"]["payload"] == {"x": 1}
