"""Types of assistant tests (``/ai/assistants/tests``)."""

from __future__ import annotations

from .._models import BaseModel

__all__ = ["AssistantTestResponse", "AssistantTestRubric"]


class AssistantTestRubric(BaseModel):
    name: str
    criteria: str


class AssistantTestResponse(BaseModel):
    test_id: str
    name: str
    telnyx_conversation_channel: str
    rubric: list[AssistantTestRubric]
    created_at: str
    description: str | None = None
    destination: str | None = None
    instructions: str | None = None
    max_duration_seconds: int | None = None
    test_suite: str | None = None
