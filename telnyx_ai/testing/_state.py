"""The emulator's mutable data that route handlers read and change: stream shape, stored objects, counters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Base64Mode", "EmulatorState", "StreamConfig"]

Base64Mode = Literal["honour", "ignore", "reject"]


@dataclass(slots=True)
class StreamConfig:
    """How the emulator writes event streams; change it to exercise an SSE parser.

    The defaults give a plain, well-behaved stream: one content event per word, ``\\n``
    line endings, one write per event.
    """

    reply: str | None = None
    """Reply with this text (streamed or not) instead of `expected_reply` of the request's messages."""
    chunks: int | None = None
    """Cut the reply into this many content events instead of one per word."""
    line_ending: Literal["\n", "\r\n", "\r"] = "\n"
    write_size: int | None = None
    """Split the byte stream into writes of at most this many bytes (splitting events and UTF-8 characters)."""
    write_delay: float = 0.0
    """Seconds between those writes; makes each one arrive as its own network read."""
    delay: float = 0.0
    """Seconds between events."""
    comments: bool = False
    """Send a ``: ping`` comment line before every event."""
    multiline_data: bool = False
    """Spread each JSON payload over several ``data:`` lines (pretty-printed JSON)."""
    event_ids: bool = False
    """Give each event an ``id:`` field."""
    bom: bool = False
    """Start the stream with a UTF-8 byte order mark."""


@dataclass(slots=True, eq=False)
class EmulatorState:
    """What handlers share with the `MockServer` that owns it; `MockServer` exposes each field too."""

    stream: StreamConfig = field(default_factory=StreamConfig)
    """How event streams are written."""
    conversations: dict[str, dict[str, Any]] = field(default_factory=dict[str, dict[str, Any]])
    """Stored conversations by id."""
    conversation_messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict[str, list[dict[str, Any]]])
    """The messages of each conversation, oldest first (Responses calls with ``conversation`` add theirs)."""
    assistant_tests: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    """What ``GET /ai/assistants/tests`` pages through."""
    assistants: dict[str, dict[str, Any]] = field(default_factory=dict[str, dict[str, Any]])
    """Stored assistants by id, each with its versions (``_assistant_handlers``)."""
    test_runs: dict[str, dict[str, Any]] = field(default_factory=dict[str, dict[str, Any]])
    """Runs of assistant tests by run id."""
    sent_messages: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    """Every SMS an assistant was asked to send (``chat/sms``), in order: one entry per message sent."""
    missions: dict[str, dict[str, Any]] = field(default_factory=dict[str, dict[str, Any]])
    """Stored missions by id."""
    mission_runs: dict[str, dict[str, Any]] = field(default_factory=dict[str, dict[str, Any]])
    """Runs of missions by run id: one entry per run started."""
    completions: int = 0
    """Chat completions produced so far; numbers their ids."""
    disconnects: int = 0
    """Clients that went away before their response was complete."""
    closing: bool = False
    """True while the server shuts down; connections it drops then are not counted as disconnects."""
    base64: Base64Mode = "honour"
    """What the embeddings route does with ``encoding_format: "base64"``: honour it, ignore it (answer
    floats, as some OpenAI-compatible servers do), or reject it with a 422."""

    def next_completion_id(self) -> str:
        """A fresh, sequential chat completion id."""
        self.completions += 1
        return f"chatcmpl-emulator-{self.completions:06d}"

    def count_disconnect(self) -> bool:
        """Count a client that went away, unless the server is closing; says whether it counted."""
        if self.closing:
            return False
        self.disconnects += 1
        return True
