"""What every ``telnyx-ai`` command shares: its failures, and a client for the API or the emulator.

``--local`` starts the built-in emulator (`telnyx_ai.testing.MockServer`) for the command, so it
works without an API key; with ``--local-faults`` its summary of injected faults is printed on
stderr, on a line of its own, however the command ends.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import AsyncGenerator, Generator
from typing import TYPE_CHECKING, Any

from .._client import AsyncTelnyx
from .._errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APIStreamError,
    APITimeoutError,
    EmbedManyError,
    TelnyxError,
)

if TYPE_CHECKING:
    from .._sync_client import Telnyx
    from ..testing import MockServer

__all__ = [
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_USAGE",
    "CommandFailed",
    "UsageError",
    "async_client",
    "describe",
    "print_error",
    "sync_client",
]

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
_NO_KEY = (
    "error: TELNYX_API_KEY is not set. Export your API key, or add --local to run against the "
    "built-in emulator (no key needed)."
)


class UsageError(Exception):
    """A mistake in how the command was called; reported in one line with exit code 2."""


class CommandFailed(Exception):
    """A command that could not do its job, already described in one line; exit code 1."""


def _retries(args: argparse.Namespace) -> int:
    if args.local_faults and not args.local:
        raise UsageError("error: --local-faults only applies with --local (the built-in emulator).")
    if not 0 <= args.local_faults <= 1:
        raise UsageError("error: --local-faults takes a share of requests between 0 and 1, e.g. 0.2.")
    if not args.local and not os.environ.get("TELNYX_API_KEY"):
        raise UsageError(_NO_KEY)
    return 2 if args.max_retries is None else int(args.max_retries)


def _start_faults(server: MockServer, args: argparse.Namespace) -> None:
    if args.local_faults:
        from ..testing import mixed_faults

        server.set_fault_rates(mixed_faults(args.local_faults))


def _summarise(server: MockServer, args: argparse.Namespace) -> None:
    if args.local_faults:
        faults = ", ".join(f"{count} {kind}" for kind, count in sorted(server.fault_counts.items()))
        sys.stdout.flush()
        count = len(server.requests)
        print(
            f"local emulator: {count} request{'' if count == 1 else 's'}, faults injected: {faults or 'none'}",
            file=sys.stderr,
        )


@contextlib.asynccontextmanager
async def async_client(args: argparse.Namespace) -> AsyncGenerator[AsyncTelnyx, None]:
    """A client for the real API, or for an emulator started just for this command with ``--local``."""
    retries = _retries(args)
    if not args.local:
        async with AsyncTelnyx(base_url=args.base_url, max_retries=retries) as client:
            yield client
        return
    from ..testing import MockServer

    async with MockServer() as server, AsyncTelnyx(api_key="local", base_url=server.url, max_retries=retries) as client:
        _start_faults(server, args)
        try:
            yield client
        finally:
            _summarise(server, args)


@contextlib.contextmanager
def sync_client(args: argparse.Namespace) -> Generator[Telnyx, None, None]:
    """The blocking client, for the interactive chat (the terminal's own thread reads the keyboard)."""
    from .._sync_client import Telnyx

    retries = _retries(args)
    if not args.local:
        with Telnyx(base_url=args.base_url, max_retries=retries) as client:
            yield client
        return
    from ..testing import MockServer

    with MockServer.in_thread() as server, Telnyx(api_key="local", base_url=server.url, max_retries=retries) as client:
        _start_faults(server, args)
        try:
            yield client
        finally:
            _summarise(server, args)


def print_error(*parts: Any) -> None:
    """One line on stderr, after whatever stdout holds (so a reply and an error never share a line)."""
    sys.stdout.flush()
    print(*parts, file=sys.stderr)


def _advice(exc: BaseException, *, job: bool = False) -> str | None:
    """What to do about ``exc`` (the failure of a batch ``job``'s input, or of a call), when there is something to say."""
    if isinstance(exc, APIStatusError):
        status = exc.status_code
        if status == 401:
            return "check TELNYX_API_KEY"
        if status == 403:
            return "this key may not do that; check its permissions in the portal"
        if status == 404:
            return "check the model name or id"
        if status in (400, 422):
            return "check the arguments"
        if status == 429:
            return "rate limited: try again later" + (" (with -o, --resume keeps what is done)" if job else "")
        if status >= 500:
            return "the API had a problem; try again shortly"
        return None
    if isinstance(exc, APITimeoutError):
        return "the API did not answer in time; try again"
    if isinstance(exc, APIConnectionError):
        return "check your network connection and --base-url"
    if isinstance(exc, APIStreamError):
        return "the reply was interrupted; try again"
    return None


def describe(exc: TelnyxError, *, first_line: int | None = None) -> str:
    """``exc`` as the one line the command prints: what went wrong, then what to do about it.

    For a batch job, ``first_line`` is the (1-based) line of the first input that failed.
    """
    cause: BaseException = exc
    if isinstance(exc, EmbedManyError):
        cause = exc.failed[min(exc.failed)]
        reason = cause.message if isinstance(cause, APIError) else str(cause)
        where = f"line {first_line}" if first_line is not None else f"input {min(exc.failed)}"
        message = f"{len(exc.failed)} of {exc.total} inputs could not be embedded ({where}: {reason})"
    else:
        message = exc.message if isinstance(exc, APIError) else str(exc)
    advice = _advice(cause, job=isinstance(exc, EmbedManyError))
    if isinstance(exc, EmbedManyError):
        advice = (
            f"{advice}; only the failed lines are missing from the output"
            if advice
            else ("only the failed lines are missing from the output")
        )
    return f"error: {message} — {advice}" if advice else f"error: {message}"
