"""Event hooks: what a client tells your code while it works, for logging and metrics.

A client made with ``event_hooks={"request": [...], "response": [...], ...}`` calls each hook with one
typed event: a request about to be sent, response headers received, a retry scheduled, a call's end, a
stream's end. The OpenTelemetry instrumentation (`telnyx_ai.instrumentation`) is a set of hooks too,
installed for every client at once.

Without hooks a call pays one check (`Transport.call`: is a list empty?) and a stream none per chunk;
the events are built only when some hook is there to receive them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal, TypedDict, TypeVar, cast

import msgspec

from ._logging import logger

if TYPE_CHECKING:
    from ._errors import APIError

__all__ = [
    "EVENT_NAMES",
    "INSTALLED",
    "CallEndEvent",
    "CallInfo",
    "EventHooks",
    "Hooks",
    "RequestEvent",
    "ResponseEvent",
    "RetryEvent",
    "StreamEndEvent",
    "StreamOutcome",
    "emit",
]

E = TypeVar("E")

StreamOutcome = Literal["completed", "failed", "closed", "cancelled", "abandoned"]
"""How a stream ended: read to its last event; an error (cut, error event, timeout); closed by its reader
before the end; its reading task cancelled; dropped unfinished and collected."""


class CallInfo(msgspec.Struct, frozen=True, eq=False, weakref=True):
    """One call of an operation, from its first attempt to its reply (a stream's: to the stream's end).

    Every event of a call carries the same `CallInfo`, so a hook can keep what it needs from one event
    to the next in ``state`` (or key its own dict by the call).
    """

    method: str
    url: str
    """The full URL, without the query."""
    path: str
    """The URL after the client's base URL, such as ``/ai/openai/chat/completions``."""
    stream: bool
    """True when the call asked for an event stream."""
    started: float
    """``time.perf_counter()`` when the call began."""
    content: bytes | None = None
    """The JSON body sent (None for no body, or a non-JSON one such as an upload)."""
    state: dict[Any, Any] = msgspec.field(default_factory=dict[Any, Any])
    """Room for hooks to keep per-call data; the SDK never looks at it."""

    def __repr__(self) -> str:  # the body and the hooks' state left out: they can be large
        return f"CallInfo({self.method} {self.url}, stream={self.stream})"


class RequestEvent(msgspec.Struct, frozen=True):
    """An attempt is about to be sent."""

    call: CallInfo
    attempt: int
    """1 for the first attempt, 2 for the first retry, and so on."""
    headers: Mapping[str, str]
    """The attempt's headers, ``Authorization`` and other credentials replaced by ``<redacted>``."""


class ResponseEvent(msgspec.Struct, frozen=True):
    """An attempt's response headers arrived (its body is read after the hooks return)."""

    call: CallInfo
    attempt: int
    status_code: int
    headers: Mapping[str, str]
    """The response's headers."""
    elapsed: float
    """Seconds from sending this attempt to its headers."""

    @property
    def request_id(self) -> str | None:
        """The server's id for this request (``x-request-id``), for support tickets and logs."""
        return self.headers.get("x-request-id")


class RetryEvent(msgspec.Struct, frozen=True):
    """An attempt failed and another one is scheduled."""

    call: CallInfo
    attempt: int
    """The attempt that failed (1 for the first)."""
    error: APIError
    """Why it failed (a status error, a timeout, a connection error, a body cut short)."""
    delay: float
    """Seconds before the next attempt (the server's ``Retry-After`` when it gave one)."""


class CallEndEvent(msgspec.Struct, frozen=True):
    """A call ended: its reply decoded, or its last attempt failed. A stream's call ends when the stream
    is handed out (after its first event); its own end follows as a `StreamEndEvent`."""

    call: CallInfo
    attempts: int
    """How many attempts were made (1 when the first one answered)."""
    result: object
    """The decoded reply; None for a stream, a failed call, or an operation that has no reply body."""
    error: BaseException | None
    """The exception the call raises (cancellation included), or None."""
    elapsed: float
    """Seconds since the call began (for a stream, the time to its first event)."""


class StreamEndEvent(msgspec.Struct, frozen=True):
    """A stream ended, however it ended (see `StreamOutcome`)."""

    call: CallInfo
    outcome: StreamOutcome
    error: BaseException | None
    """The error it raised (or will raise, after the events before it) when ``outcome`` is ``"failed"``."""
    reply: object
    """What its events added up to, complete or not (chat: a `ChatCompletion`; Responses: a `Response`;
    Anthropic: a `Message`; assistant chat: its ``done`` event), or None for a protocol with none."""
    time_to_first_event: float
    """Seconds from the call's start to the stream's first event."""
    elapsed: float
    """Seconds from the call's start to the stream's end."""


class EventHooks(TypedDict, total=False):
    """``event_hooks=``: for each event, the functions to call with it, in order.

    Hooks are plain functions, called on the event loop (the sync client's loop thread) as the
    client works, so keep them quick; an exception in one is logged and the call goes on.
    """

    request: Sequence[Callable[[RequestEvent], object]]
    response: Sequence[Callable[[ResponseEvent], object]]
    retry: Sequence[Callable[[RetryEvent], object]]
    call_end: Sequence[Callable[[CallEndEvent], object]]
    stream_end: Sequence[Callable[[StreamEndEvent], object]]


EVENT_NAMES: Final = tuple(EventHooks.__annotations__)


class Hooks:
    """Event hooks checked and frozen: for each event, a tuple of functions (empty when none)."""

    __slots__ = EVENT_NAMES

    request: tuple[Callable[[RequestEvent], object], ...]
    response: tuple[Callable[[ResponseEvent], object], ...]
    retry: tuple[Callable[[RetryEvent], object], ...]
    call_end: tuple[Callable[[CallEndEvent], object], ...]
    stream_end: tuple[Callable[[StreamEndEvent], object], ...]

    def __init__(self, hooks: Mapping[str, object]) -> None:
        """``hooks`` by event name (checked: `EVENT_NAMES` only, each a list of plain functions)."""
        for name in EVENT_NAMES:
            setattr(self, name, _checked(name, hooks.get(name, ())))

    def as_dict(self) -> dict[str, tuple[Callable[[Any], object], ...]]:
        """The non-empty lists, by event name."""
        return {name: functions for name in EVENT_NAMES if (functions := getattr(self, name))}

    def then(self, other: Hooks | None) -> Hooks:
        """These hooks, then ``other``'s, for each event."""
        if other is None:
            return self
        mine, theirs = self.as_dict(), other.as_dict()
        return Hooks({name: (*mine.get(name, ()), *theirs.get(name, ())) for name in EVENT_NAMES})

    def __repr__(self) -> str:
        counts = ", ".join(f"{name}={len(functions)}" for name, functions in self.as_dict().items())
        return f"Hooks({counts})"


def _checked(name: str, functions: object) -> tuple[Callable[[Any], object], ...]:
    if callable(functions) or isinstance(functions, str | bytes) or not isinstance(functions, Sequence):
        raise TypeError(
            f"event_hooks[{name!r}] must be a list of functions, got {type(functions).__name__}: "
            f"write event_hooks={{{name!r}: [my_hook]}}."
        )
    checked: list[Callable[[Any], object]] = []
    function: object
    for function in cast("Sequence[object]", functions):
        if not callable(function):
            raise TypeError(f"event_hooks[{name!r}] holds {function!r}, which is not callable.")
        if inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(type(function).__call__):
            raise TypeError(
                f"event_hooks[{name!r}] holds the async function {_name(function)}: hooks are called as the client "
                "works and must return at once. Use a plain function; to do async work from it, start a task "
                "(asyncio.get_running_loop().create_task(...))."
            )
        checked.append(function)
    return tuple(checked)


def _name(function: object) -> str:
    return getattr(function, "__qualname__", None) or repr(function)


def emit(hooks: tuple[Callable[[E], object], ...], event: E) -> None:
    """Call each hook with ``event``; one that raises is logged and the others still run."""
    for hook in hooks:
        try:
            hook(event)
        except Exception:
            logger.exception("The event hook %s raised; the call goes on.", _name(hook))


class _Installed:
    """Hooks every client calls, after its own: what `telnyx_ai.instrumentation` installs."""

    __slots__ = ("_by_owner", "active", "hooks")

    def __init__(self) -> None:
        self._by_owner: dict[str, Hooks] = {}
        self.hooks: Hooks | None = None
        """All installed hooks, or None."""
        self.active: list[Hooks] = []
        """``[hooks]`` while any are installed, else empty: one list, changed in place, that every client
        without hooks of its own holds, so that a call's one check (is it empty?) sees installs made later."""

    def installed(self, owner: str) -> bool:
        """Whether ``owner`` has hooks installed."""
        return owner in self._by_owner

    def install(self, owner: str, hooks: Hooks | None) -> None:
        """Install ``hooks`` for every client under ``owner`` (replacing that owner's), or remove them (None)."""
        if hooks is None:
            self._by_owner.pop(owner, None)
        else:
            self._by_owner[owner] = hooks
        combined: Hooks | None = None
        for installed in self._by_owner.values():
            combined = installed if combined is None else combined.then(installed)
        self.hooks = combined
        self.active[:] = [] if combined is None else [combined]

    def watch_list(self, own: Hooks | None) -> list[Hooks]:
        """What a client checks before each call: its own hooks (then it always tells them), or the shared
        `active` list (empty until something is installed)."""
        return [own] if own is not None else self.active


INSTALLED: Final = _Installed()
