"""When and how long to wait before trying a request again (tenacity drives the loop).

Retried: connection errors and timeouts, a body cut short, and statuses 408, 409, 429 and 5xx. The wait is
the server's ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date) when it gives
one of at most 60 s, else exponential backoff from 0.5 s doubling to 8 s, with jitter.

The first attempt runs outside tenacity: building a retrying controller costs more than
the rest of a request's client-side work, and almost every request succeeds first time
(tenacity is even imported only when a first attempt has failed).
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from .._errors import APIConnectionError, APIError, APIResponseValidationError, APIStatusError, APITimeoutError
from .._logging import logger

if TYPE_CHECKING:
    from tenacity import RetryCallState

__all__ = [
    "INITIAL_DELAY",
    "MAX_DELAY",
    "MAX_RETRY_AFTER",
    "backoff_delay",
    "retry_after",
    "retry_after_seconds",
    "short_reason",
    "should_retry",
    "wait_before_retry",
]

T = TypeVar("T")

INITIAL_DELAY = 0.5
MAX_DELAY = 8.0
MAX_RETRY_AFTER = 60.0
_RETRY_STATUSES = frozenset({408, 409, 429})


def should_retry(exc: BaseException) -> bool:
    """True for failures another attempt may cure (a body cut short too); never for 400/401/403/404/422.

    A server's ``x-should-retry: true`` or ``false`` decides instead (a 409 for an idempotency key reused
    with another body says ``false``: retrying it cannot help).
    """
    if isinstance(exc, APIStatusError):
        hint = exc.response.headers.get("x-should-retry") if exc.response is not None else None
        if hint == "true":
            return True
        if hint == "false":
            return False
        return exc.status_code in _RETRY_STATUSES or exc.status_code >= 500
    if isinstance(exc, APIResponseValidationError):
        return exc.malformed  # a body cut short in transit (with an idempotency key, a retry acts once)
    return isinstance(exc, APIConnectionError)


def retry_after_seconds(exc: BaseException, *, cap: float = MAX_RETRY_AFTER) -> float | None:
    """The wait the server asked for, if it asked for one within ``cap`` seconds (`MAX_RETRY_AFTER` for one call)."""
    response = exc.response if isinstance(exc, APIStatusError) else None
    if response is None:
        return None
    headers = response.headers
    seconds: float | None = None
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            seconds = float(raw_ms) / 1000.0
        except ValueError:
            seconds = None
    if seconds is None:
        raw = headers.get("retry-after")
        if raw is not None:
            try:
                seconds = float(raw)
            except ValueError:
                try:
                    parsed = email.utils.parsedate_to_datetime(raw)
                except (TypeError, ValueError, IndexError):
                    parsed = None
                if parsed is not None:
                    # A date already past means "now".
                    seconds = max(0.0, parsed.timestamp() - time.time())
    if seconds is None or seconds != seconds or not 0 <= seconds <= cap:
        return None
    return seconds


def backoff_delay(retry_number: int) -> float:
    """Exponential backoff for the n-th retry (1-based), shortened by up to a quarter at random."""
    base = min(INITIAL_DELAY * 2.0 ** (retry_number - 1), MAX_DELAY)
    return base * (1.0 - 0.25 * random.random())


def _delay_before(retry_number: int, failure: BaseException) -> float:
    asked = retry_after_seconds(failure)
    return asked if asked is not None else backoff_delay(retry_number)


async def _sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


async def wait_before_retry(seconds: float) -> None:
    """Sleep before another attempt (the batch engine waits through here too, so tests can patch one place)."""
    await _sleep(seconds)


def short_reason(exc: BaseException) -> str:
    """A failure in a word or a number, for a retry's log line: ``429``, ``timeout``, ``cut body``."""
    if isinstance(exc, APIStatusError):
        return f"{exc.status_code}"
    if isinstance(exc, APITimeoutError):
        return "timeout"
    if isinstance(exc, APIConnectionError):
        return "connection"
    if isinstance(exc, APIResponseValidationError):
        return "cut body" if exc.malformed else "bad body"
    return type(exc).__name__


async def retry_after(
    first_failure: APIError,
    send: Callable[[], Awaitable[T]],
    *,
    max_retries: int,
    on_retry: Callable[[APIError, int, float], None] | None = None,
) -> T:
    """The retries after a first attempt failed with ``first_failure`` (one that `should_retry`): wait,
    then await ``send()`` again, at most ``max_retries`` times in all, raising the last failure.

    The first attempt is the caller's own, so a call that succeeds at once never gets here (nor loads
    tenacity). Batch jobs retry in their scheduler instead (`telnyx_ai._batch.scheduler`), which frees the slot.
    ``on_retry(failure, retry_number, delay)`` is told of each retry before its wait (the event hooks' ``retry``).
    """

    def before_retry(failure: BaseException, retry_number: int, delay: float) -> None:
        logger.info(
            "Retrying %s %s in %.2fs after %s (retry %d of %d)",
            getattr(failure, "method", None),
            getattr(failure, "url", None),
            delay,
            short_reason(failure),
            retry_number,
            max_retries,
        )
        if on_retry is not None and isinstance(failure, APIError):  # should_retry passed, so always one
            on_retry(failure, retry_number, delay)

    delay = _delay_before(1, first_failure)
    before_retry(first_failure, 1, delay)
    await _sleep(delay)

    def wait(state: RetryCallState) -> float:
        # Tenacity's attempt n is retry n; the wait precedes retry n + 1.
        failure = state.outcome.exception() if state.outcome else None
        assert failure is not None
        return _delay_before(state.attempt_number + 1, failure)

    def log_retry(state: RetryCallState) -> None:
        failure = state.outcome.exception() if state.outcome else None
        assert failure is not None
        before_retry(failure, state.attempt_number + 1, state.upcoming_sleep)

    # Imported here: only requests that failed once pay for loading tenacity.
    from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

    retrying = AsyncRetrying(
        stop=stop_after_attempt(max_retries),
        wait=wait,
        retry=retry_if_exception(should_retry),
        sleep=_sleep,
        before_sleep=log_retry,
        reraise=True,
    )

    async def attempt() -> T:
        # tenacity awaits only coroutine functions; ``send`` may be any callable returning an awaitable.
        return await send()

    return await retrying(attempt)
