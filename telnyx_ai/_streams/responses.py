"""The OpenAI Responses protocol (``PROTOCOL``): events tagged by ``type``, ending with ``response.completed``,
``response.failed`` or ``response.incomplete``; `ResponsesAccumulator` folds them into the `Response`.

The final response is the terminal event's payload, as the server sent it. Where that payload has no
``output`` (or the stream ended at a ``[DONE]`` without one), the output is assembled from the events:
each item from its ``output_item.done`` event, else from ``output_item.added`` with its text parts,
function-call arguments and reasoning joined from their deltas, by ``output_index``.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from ..types.responses import (
    RESPONSE_EVENT_TYPES,
    KnownResponseEvent,
    Response,
    ResponseCompletedEvent,
    ResponseContentPartAddedEvent,
    ResponseCreatedEvent,
    ResponseErrorEvent,
    ResponseFailedEvent,
    ResponseFunctionCallArgumentsDeltaEvent,
    ResponseFunctionCallArgumentsDoneEvent,
    ResponseFunctionToolCall,
    ResponseIncompleteEvent,
    ResponseInProgressEvent,
    ResponseOutputItem,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputMessage,
    ResponseOutputRefusal,
    ResponseOutputText,
    ResponseQueuedEvent,
    ResponseReasoningItem,
    ResponseReasoningSummaryPartAddedEvent,
    ResponseReasoningSummaryTextDeltaEvent,
    ResponseReasoningText,
    ResponseReasoningTextDeltaEvent,
    ResponseRefusalDeltaEvent,
    ResponseStreamEvent,
    ResponseSummaryText,
    ResponseTextDeltaEvent,
)
from ..types.stream_events import UnknownEvent
from .pieces import FOLD_AT, Pieces
from .protocol import Accumulator, TaggedEvents
from .relay import DONE_FRAME, error_frame

__all__ = ["PROTOCOL", "ResponsesAccumulator", "ResponsesProtocol"]

_TERMINAL = (ResponseCompletedEvent, ResponseFailedEvent, ResponseIncompleteEvent)
_SNAPSHOTS = (ResponseCreatedEvent, ResponseQueuedEvent, ResponseInProgressEvent)


class _Item:
    """One output item being assembled: what ``output_item.added`` said, and the pieces since."""

    __slots__ = ("added", "arguments", "done", "parts", "summary")

    def __init__(self, added: ResponseOutputItem) -> None:
        self.added = added
        self.done: ResponseOutputItem | None = None
        self.parts: dict[int, tuple[Any, Pieces]] = {}  # content_index -> (the part's kind, its pieces)
        self.summary: dict[int, Pieces] = {}
        self.arguments = Pieces()

    def result(self) -> ResponseOutputItem:
        if self.done is not None:
            return self.done
        added = self.added
        if isinstance(added, ResponseOutputMessage):
            parts = list(added.content)
            for _, (kind, pieces) in sorted(self.parts.items(), key=lambda entry: entry[0]):
                if kind is ResponseOutputRefusal:
                    parts.append(ResponseOutputRefusal(refusal=pieces.text()))
                elif kind is ResponseOutputText:
                    parts.append(ResponseOutputText(text=pieces.text()))
            return msgspec.structs.replace(added, content=parts)
        if isinstance(added, ResponseFunctionToolCall):
            return msgspec.structs.replace(added, arguments=added.arguments + self.arguments.text())
        if not isinstance(added, ResponseReasoningItem):
            return added  # an item of a type this version does not know: kept as it was announced
        summary = [*added.summary, *(ResponseSummaryText(text=p.text()) for _, p in sorted(self.summary.items()))]
        reasoning = [
            ResponseReasoningText(text=pieces.text())
            for _, (kind, pieces) in sorted(self.parts.items(), key=lambda entry: entry[0])
            if kind is ResponseReasoningText
        ]
        content = [*(added.content or []), *reasoning] if reasoning else added.content
        return msgspec.structs.replace(added, summary=summary, content=content)


class ResponsesAccumulator(Accumulator[ResponseStreamEvent]):
    """Adds up the events of a streamed response; `final` is the `Response` they make."""

    __slots__ = ("_at", "_items", "_pieces", "_response", "_terminal", "_texts")

    def __init__(self) -> None:
        super().__init__()
        self._at: tuple[int, int] = (-1, -1)
        self._pieces = Pieces()  # the text part the last delta went to
        self._response: Response | None = None  # the latest snapshot: created, queued, in_progress
        self._terminal: Response | None = None  # the completed, failed or incomplete payload
        self._items: dict[int, _Item] = {}  # output_index -> the item
        self._texts: dict[tuple[int, int], Pieces] = {}  # (output_index, content_index) -> text pieces

    def add(self, items: list[ResponseStreamEvent]) -> int | None:
        pieces, at = self._pieces, self._at  # the text part the last delta went to, and where it is
        recent = pieces.recent
        for event in items:
            if isinstance(event, ResponseTextDeltaEvent):  # the usual event, first and inline
                if event.content_index != at[1] or event.output_index != at[0]:
                    at = (event.output_index, event.content_index)
                    pieces = self._pieces = self._texts.setdefault(at, Pieces())
                    recent = pieces.recent
                    self._at = at
                recent.append(event.delta)
                if len(recent) >= FOLD_AT:
                    pieces.fold()
                continue
            if isinstance(event, UnknownEvent):
                continue
            if isinstance(event, _TERMINAL):
                self._terminal = event.response
                self.ended = True
                return items.index(event) + 1
            if isinstance(event, ResponseErrorEvent):
                self.failed = True
                return items.index(event)
            self._add_rare(event)
        return None

    def _add_rare(self, event: KnownResponseEvent) -> None:
        if isinstance(event, _SNAPSHOTS):
            self._response = event.response
        elif isinstance(event, ResponseOutputItemAddedEvent):
            self._items[event.output_index] = _Item(event.item)
        elif isinstance(event, ResponseOutputItemDoneEvent):
            item = self._items.get(event.output_index)
            if item is None:
                item = self._items[event.output_index] = _Item(event.item)
            item.done = event.item
        elif isinstance(event, ResponseFunctionCallArgumentsDeltaEvent):
            self._item(event.output_index).arguments.add(event.delta)
        elif isinstance(event, ResponseFunctionCallArgumentsDoneEvent):
            item = self._item(event.output_index)
            item.arguments = Pieces(event.arguments)
        elif isinstance(event, ResponseContentPartAddedEvent):
            kind = type(event.part)
            self._item(event.output_index).parts[event.content_index] = (
                kind,
                self._texts.setdefault((event.output_index, event.content_index), Pieces(event.part.text))
                if isinstance(event.part, ResponseOutputText | ResponseReasoningText)
                else Pieces(event.part.refusal),
            )
        elif isinstance(event, ResponseRefusalDeltaEvent):
            self._part(event.output_index, event.content_index, ResponseOutputRefusal).add(event.delta)
        elif isinstance(event, ResponseReasoningTextDeltaEvent):
            self._part(event.output_index, event.content_index, ResponseReasoningText).add(event.delta)
        elif isinstance(event, ResponseReasoningSummaryPartAddedEvent):
            self._item(event.output_index).summary.setdefault(event.summary_index, Pieces(event.part.text))
        elif isinstance(event, ResponseReasoningSummaryTextDeltaEvent):
            self._item(event.output_index).summary.setdefault(event.summary_index, Pieces()).add(event.delta)

    def _item(self, output_index: int) -> _Item:
        item = self._items.get(output_index)
        if item is None:  # a piece before its item: a message, so the text is kept all the same
            item = self._items[output_index] = _Item(ResponseOutputMessage(id=""))
        return item

    def _part(self, output_index: int, content_index: int, kind: Any) -> Pieces:
        parts = self._item(output_index).parts
        entry = parts.get(content_index)
        if entry is None:
            entry = parts[content_index] = (kind, self._texts.setdefault((output_index, content_index), Pieces()))
        return entry[1]

    def texts(self, items: list[ResponseStreamEvent]) -> list[str]:
        return [e.delta for e in items if isinstance(e, ResponseTextDeltaEvent) and e.delta]

    def final(self) -> Response:
        for (output_index, content_index), pieces in self._texts.items():
            item = self._item(output_index)
            if content_index not in item.parts:  # text deltas with no content_part.added before them
                item.parts[content_index] = (ResponseOutputText, pieces)
        output = [self._items[index].result() for index in sorted(self._items)]
        terminal = self._terminal
        if terminal is not None:
            return terminal if terminal.output or not output else msgspec.structs.replace(terminal, output=output)
        snapshot = self._response or Response(id="")
        return msgspec.structs.replace(snapshot, output=output or snapshot.output, status="completed")

    def final_text(self) -> str:
        return self.final().output_text


def _responses_error(message: str, kind: str, retryable: bool) -> Any:
    return {"type": "error", "code": kind, "message": message, "param": None, "retryable": retryable}


class ResponsesProtocol(TaggedEvents[ResponseStreamEvent]):
    """OpenAI Responses (``/ai/openai/responses``); a ``[DONE]`` after the last event is accepted too."""

    name = "Responses event"
    end = "response.completed, failed or incomplete event"
    done: bytes | None = b"[DONE]"
    end_frame = DONE_FRAME  # only after a stream that ended at a [DONE] (its own last event ends it otherwise)
    end_markers = (b'"response.completed"', b'"response.failed"', b'"response.incomplete"')
    frequent_names = (b"response.output_text.delta",)

    def accumulator(self) -> ResponsesAccumulator:
        return ResponsesAccumulator()

    def error_frame(self, error: BaseException) -> bytes:
        return error_frame(error, _responses_error, upstream_types=True)


PROTOCOL: Final = ResponsesProtocol(KnownResponseEvent, RESPONSE_EVENT_TYPES, UnknownEvent)
