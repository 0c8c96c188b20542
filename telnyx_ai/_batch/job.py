"""A batch job's settings and the shapes its sender works with: what `EmbedJob` holds, and the defaults."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from .._config import DEFAULT_MAX_CONNECTIONS
from .rate_control import RateController

__all__ = [
    "BATCH_RETRIES",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_CONCURRENCY",
    "FINISHING",
    "MAX_RETRY_WAIT",
    "RATE_LIMIT_TIMEOUT",
    "SPLIT_STATUSES",
    "STALLED_AFTER",
    "BatchReply",
    "EmbedJob",
    "EmbedProgress",
    "Embedding",
    "EmbeddingResponse",
    "ProgressCallback",
    "SendBatch",
]


@dataclass(frozen=True, slots=True)
class EmbedProgress:
    """How far a job is: inputs embedded, inputs given up on, and the total when it is known."""

    done: int
    failed: int
    total: int | None


ProgressCallback = Callable[[EmbedProgress], None]

DEFAULT_BATCH_SIZE = 64
DEFAULT_CONCURRENCY = DEFAULT_MAX_CONNECTIONS
"""A ceiling, not a target: the controller finds the rate below it, so nobody has to know rate times latency."""
BATCH_RETRIES = 8
"""A long job should ride out a bad minute: by default its batches retry harder than single calls."""
MAX_RETRY_WAIT = 900.0
"""The longest ``Retry-After`` a batch waits out (a single call gives up on more than a minute)."""
RATE_LIMIT_TIMEOUT = 600.0
"""Seconds a job goes on answered only 429s, with no batch succeeding, before it gives up: ten minutes of a
server refusing everything is an outage or a spent quota, not a pace to find."""
STALLED_AFTER = 1.0
"""Seconds without a success, 429s coming back, after which a job sends one request at a time until one succeeds."""
FINISHING = 1.5
"""Seconds of sending left when a job tells its controller it is finishing (`RateController.finishing`): a
429 then would hold up the last batches for a Retry-After (often 1 s, spread by up to half)."""
SPLIT_STATUSES = frozenset({400, 413, 422})
"""Statuses that reject a batch for what it contains: it is halved to find the inputs at fault."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EmbedJob:
    """How a batch job runs: inputs per request, the in-flight ceiling, retries per batch, progress, resume.

    ``skip`` holds indices already embedded (a resumed job): they are read past, never sent.
    ``max_retries`` limits a batch's failures other than 429; ``rate_limit_timeout`` is how long the
    job goes on while every request is answered 429 and none succeeds, before it gives up.
    ``rate`` is the controller to pace with; pass the same one to jobs that share a rate limit.
    ``one_width``: every vector must have the first one's width (an array's rows); a batch of
    another width fails, not retried. ``first_alone``: seconds the first request goes alone, the
    others waiting for its answer (it settles something they depend on, such as the wire format)
    for at most that long; held back elsewhere and released at once, they would arrive as a burst,
    which a rate limit answers with 429s.
    """

    batch_size: int = DEFAULT_BATCH_SIZE
    concurrency: int = DEFAULT_CONCURRENCY
    max_retries: int = BATCH_RETRIES
    on_progress: ProgressCallback | None = None
    skip: Collection[int] = frozenset()
    max_retry_wait: float = MAX_RETRY_WAIT
    rate_limit_timeout: float = RATE_LIMIT_TIMEOUT
    rate: RateController | None = None
    one_width: bool = False
    first_alone: float = 0.0

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {self.batch_size}.")
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {self.concurrency}.")
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {self.max_retries}.")
        if not self.rate_limit_timeout > 0:
            raise ValueError(f"rate_limit_timeout must be a positive number of seconds, got {self.rate_limit_timeout}.")


class Embedding(Protocol):
    @property
    def embedding(self) -> list[float] | bytes | str: ...
    @property
    def index(self) -> int: ...


class EmbeddingResponse(Protocol):
    @property
    def data(self) -> Sequence[Embedding]: ...


@dataclass(frozen=True, slots=True)
class BatchReply:
    """A batch's embeddings with the response's headers, so the controller can read ``x-ratelimit-*``."""

    data: Sequence[Embedding]
    headers: Mapping[str, str]


SendBatch = Callable[[list[str], int, str], Awaitable[EmbeddingResponse]]
"""Sends one batch: its texts, how many times it was tried before (for the retry-count header), its idempotency key."""
