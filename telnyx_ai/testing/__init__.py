"""A local emulator of the Telnyx AI API, for tests and for trying the SDK without an API key.

```python
from telnyx_ai import AsyncTelnyx
from telnyx_ai.testing import MockServer, expected_reply

async with MockServer() as server, AsyncTelnyx(api_key="test", base_url=server.url) as client:
    messages = [{"role": "user", "content": "Hi"}]
    reply = await client.ai.openai.chat.create_completion(messages=messages)
    assert reply.choices[0].message.content == expected_reply(messages)
```

It serves chat completions (plain and streamed, with tool calls, ``guided_json`` and reasoning models) at
``/ai/openai/chat/completions`` and the older ``/ai/chat/completions``, the same replies as OpenAI Responses
(``/ai/openai/responses``, storing the turn on a ``conversation``) and as Anthropic Messages
(``/ai/anthropic/v1/messages``), OpenAI-compatible embeddings and their
models, the models list, conversations, speech to text and text to speech, assistants (with
versions, canary deploys and chat, streamed too) and assistant tests and their runs, over real HTTP on
127.0.0.1. It records every request and can be told to fail in realistic ways
(`Fault`, `MockServer.inject`, `MockServer.set_fault_rates`), play a rate-limited API
(`MockServer.set_rate_limit`), or shape its event
streams (`StreamConfig`), so retries, timeouts and the SSE parser can be tested end to end. It answers
a repeated ``Idempotency-Key`` from its store instead of acting twice, and signs the webhooks it sends
to your endpoint with a test key pair (`MockServer.send_webhook`, `WebhookSigner`).
"""

from ._faults import Fault, FaultKind, Injection, mixed_faults
from ._fixtures import (
    ANTHROPIC_ONLY_MODELS,
    CHAT_MODELS,
    DEFAULT_CHAT_MODEL,
    EMBEDDING_MODELS,
    REASONING_MODELS,
    SEEDED_CONVERSATION_IDS,
    expected_embedding,
    expected_json,
    expected_reasoning,
    expected_reply,
    expected_tool_calls,
    reply_pieces,
    tool_call_pieces,
)
from ._probes import Connections, pool_connections
from ._rate_limit import RateLimiter
from ._records import Call, Handler, RecordedRequest
from ._responses import json_response, telnyx_error, validation_error
from ._server import MockServer
from ._state import EmulatorState, StreamConfig
from ._webhooks import WebhookSigner, webhook_event

__all__ = [
    "ANTHROPIC_ONLY_MODELS",
    "CHAT_MODELS",
    "DEFAULT_CHAT_MODEL",
    "EMBEDDING_MODELS",
    "REASONING_MODELS",
    "SEEDED_CONVERSATION_IDS",
    "Call",
    "Connections",
    "EmulatorState",
    "Fault",
    "FaultKind",
    "Handler",
    "Injection",
    "MockServer",
    "RateLimiter",
    "RecordedRequest",
    "StreamConfig",
    "WebhookSigner",
    "expected_embedding",
    "expected_json",
    "expected_reasoning",
    "expected_reply",
    "expected_tool_calls",
    "json_response",
    "mixed_faults",
    "pool_connections",
    "reply_pieces",
    "telnyx_error",
    "tool_call_pieces",
    "validation_error",
    "webhook_event",
]
