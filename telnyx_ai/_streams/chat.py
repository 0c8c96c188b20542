"""The OpenAI chat completions protocol (``PROTOCOL``): data-only chunks ending in ``[DONE]``, and
`ChatAccumulator`, which folds them into the `ChatCompletion` they add up to.

Deltas are merged per choice: content and ``reasoning_content`` are joined, tool calls are
merged by index (see `_ToolCall` for how a fragment finds its call), ``logprobs`` lists are
concatenated, and the last ``finish_reason`` wins. The chunk-level ``id``, ``model`` and
``created`` are the first ones sent, ``usage`` the last.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from ..types.chat import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionMessage,
    ChatCompletionMessageToolCall,
    Choice,
    ChoiceDelta,
    ChoiceDeltaToolCall,
    CompletionUsage,
    FunctionCall,
)
from .pieces import FOLD_AT, Pieces
from .protocol import Accumulator, StreamProtocol

__all__ = ["PROTOCOL", "ChatAccumulator", "ChatProtocol", "first_choice_texts"]


def first_choice_texts(batch: Iterable[ChatCompletionChunk]) -> list[str]:
    """The non-empty content deltas of choice 0 in ``batch``, in order (what ``text_stream`` yields)."""
    texts: list[str] = []
    for chunk in batch:
        for choice in chunk.choices:
            if choice.index == 0:
                content = choice.delta.content
                if content:
                    texts.append(content)
    return texts


class _ToolCall:
    """One tool call being assembled from its fragments.

    A fragment belongs to the latest call at its index, unless it carries an ``id`` other than
    that call's: then it starts a new call (servers that number every call 0 do this). An id
    that arrives after the first fragment is kept. The name is taken from the first fragment
    that has one; a fragment repeating the same name adds nothing, a different one is appended
    (a name streamed in pieces). Arguments are always concatenated (held as `Pieces`).
    """

    __slots__ = ("arguments", "id", "index", "name", "type")

    def __init__(self, index: int) -> None:
        self.index = index
        self.id: str | None = None
        self.type: str | None = None
        self.name = ""
        self.arguments = Pieces()

    def add(self, fragment: ChoiceDeltaToolCall) -> None:
        if fragment.id and self.id is None:
            self.id = fragment.id
        if fragment.type:
            self.type = fragment.type
        function = fragment.function
        if function is not None:
            if function.name and function.name != self.name:
                self.name += function.name
            if function.arguments:
                self.arguments.add(function.arguments)

    def result(self) -> ChatCompletionMessageToolCall:
        return ChatCompletionMessageToolCall(
            id=self.id or "",
            type=self.type or "function",
            function=FunctionCall(name=self.name, arguments=self.arguments.text()),
        )


class _Choice:
    """The parts of one choice seen so far."""

    __slots__ = ("calls", "content", "current", "finish_reason", "logprobs", "reasoning", "role")

    def __init__(self) -> None:
        self.role: str | None = None
        self.content = Pieces()  # empty until a content delta arrives ("" counts: content is then "")
        self.reasoning: Pieces | None = None
        self.calls: list[_ToolCall] = []  # in order of first appearance
        self.current: dict[int, _ToolCall] = {}  # index -> the call fragments at that index now go to
        self.finish_reason: str | None = None
        self.logprobs: dict[str, Any] | None = None

    def add_rare(self, delta: ChoiceDelta) -> None:
        """The parts of a delta other than its content: role, ``reasoning_content``, tool calls."""
        if delta.reasoning_content is not None:
            if self.reasoning is None:
                self.reasoning = Pieces()
            self.reasoning.add(delta.reasoning_content)
        if delta.tool_calls:
            self.add_tool_calls(delta.tool_calls)
        if delta.role:
            self.role = delta.role

    def add_tool_calls(self, fragments: list[ChoiceDeltaToolCall]) -> None:
        for fragment in fragments:
            call = self.current.get(fragment.index)
            if call is None or (fragment.id and call.id is not None and fragment.id != call.id):
                call = self.current[fragment.index] = _ToolCall(fragment.index)
                self.calls.append(call)
            call.add(fragment)

    def add_logprobs(self, logprobs: dict[str, Any]) -> None:
        if self.logprobs is None:
            self.logprobs = {}
        for key, value in logprobs.items():
            held = self.logprobs.get(key)
            if isinstance(held, list) and isinstance(value, list):
                held.extend(value)  # pyright: ignore[reportUnknownMemberType]
            elif isinstance(value, list):
                self.logprobs[key] = list(value)  # pyright: ignore[reportUnknownArgumentType]
            else:
                self.logprobs[key] = value

    def result(self, index: int) -> Choice:
        calls = sorted(self.calls, key=lambda call: call.index)  # stable: same-index calls keep their order
        message = ChatCompletionMessage(
            role=self.role or "assistant",
            content=self.content.text() if self.content else None,
            tool_calls=[call.result() for call in calls] or None,
            reasoning_content=None if self.reasoning is None else self.reasoning.text(),
        )
        return Choice(message=message, index=index, finish_reason=self.finish_reason, logprobs=self.logprobs)


class ChatAccumulator(Accumulator[ChatCompletionChunk]):
    """Adds up chat completion chunks; `completion` is the reply they make so far."""

    __slots__ = ("_choices", "_created", "_header_missing", "_id", "_model", "_usage")

    def __init__(self) -> None:
        super().__init__()
        self._header_missing = True  # until id, model and created are all known
        self._choices: dict[int, _Choice] = {}
        self._id: str | None = None
        self._model: str | None = None
        self._created: int | None = None
        self._usage: CompletionUsage | None = None

    def add(self, items: list[ChatCompletionChunk]) -> None:
        """Fold ``items`` in, in order (every one is handed out: chat ends with ``[DONE]``, not a chunk).

        Called on every chunk of every chat stream, so the usual chunk (one choice, a content delta)
        takes the fewest steps: the header fields are read only until all three are known (a test per
        batch, not per chunk), the rarer parts of a delta are looked at only when the delta has more
        than content, and content is folded once per batch (a stream's batch is at most 64 chunks).
        """
        if self._header_missing:
            for chunk in items:
                self._header(chunk)
                if not self._header_missing:
                    break
        choices = self._choices
        for chunk in items:
            if chunk.usage is not None:
                self._usage = chunk.usage
            for choice in chunk.choices:
                try:
                    state = choices[choice.index]
                except KeyError:
                    state = choices[choice.index] = _Choice()
                delta = choice.delta
                if (content := delta.content) is not None:
                    state.content.recent.append(content)
                if delta.role or delta.reasoning_content is not None or delta.tool_calls:
                    state.add_rare(delta)
                if choice.finish_reason is not None:
                    state.finish_reason = choice.finish_reason
                if choice.logprobs:
                    state.add_logprobs(choice.logprobs)
        for state in choices.values():
            if len(state.content.recent) >= FOLD_AT:
                state.content.fold()

    def _header(self, chunk: ChatCompletionChunk) -> None:
        if self._id is None:
            self._id = chunk.id
        if self._model is None:
            self._model = chunk.model
        if self._created is None:
            self._created = chunk.created
        self._header_missing = self._id is None or self._model is None or self._created is None

    def completion(self) -> ChatCompletion:
        """The `ChatCompletion` the chunks added so far make, choices in index order."""
        return ChatCompletion(
            id=self._id or "",
            object="chat.completion",
            created=self._created,
            model=self._model,
            choices=[self._choices[index].result(index) for index in sorted(self._choices)],
            usage=self._usage,
        )

    def texts(self, items: list[ChatCompletionChunk]) -> list[str]:
        return first_choice_texts(items)

    def final(self) -> ChatCompletion:
        return self.completion()

    def final_text(self) -> str:
        return next((c.message.content or "" for c in self.completion().choices if c.index == 0), "")


class ChatProtocol(StreamProtocol[ChatCompletionChunk]):
    """OpenAI chat completions (``/ai/openai/chat/completions``, ``/ai/chat/completions``)."""

    name = "chat completion"

    def accumulator(self) -> ChatAccumulator:
        return ChatAccumulator()


PROTOCOL: Final = ChatProtocol(ChatCompletionChunk)
