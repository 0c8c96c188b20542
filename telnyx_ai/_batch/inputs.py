"""A batch job's inputs, read lazily into batches; a bad input is reported for its own index, never its batch.

An input that is not a string, or is empty or only whitespace, cannot be embedded: it becomes a
failure of that one index (`BadInput`) and its neighbours are batched without it. Indices the
caller already has (``skip``, e.g. rows a resumed job wrote last time) are read past, not sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Collection, Iterable, Iterator, Sized
from dataclasses import dataclass, field

from .._http.request import new_idempotency_key

__all__ = ["BadInput", "Batch", "Texts", "check_texts", "read_batches", "total_to_send"]

Texts = Iterable[str] | AsyncIterable[str]


@dataclass(slots=True)
class Batch:
    """Inputs sent in one request: their texts, their indices in the whole job, the retries spent on them, its key.

    ``retries`` counts every retry (429s too: the retry-count header says it); ``failures`` only
    those `max_retries` limits: a 429 is pacing, not a failure of the batch.
    """

    indices: list[int]
    texts: list[str]
    retries: int = 0
    failures: int = 0
    key: str = field(default_factory=new_idempotency_key)
    """The batch's ``Idempotency-Key``, the same on each of its retries (its halves get their own)."""

    def halves(self) -> tuple[Batch, Batch]:
        """The batch cut in two, to find the inputs a server rejects (each half starts with no retries spent)."""
        middle = len(self.texts) // 2
        return (
            Batch(self.indices[:middle], self.texts[:middle]),
            Batch(self.indices[middle:], self.texts[middle:]),
        )


@dataclass(frozen=True, slots=True)
class BadInput:
    """An input that cannot be embedded, and why."""

    index: int
    error: Exception


def _problem(index: int, text: object) -> Exception | None:
    if not isinstance(text, str):
        return TypeError(f"embed_many takes strings; input {index} is a {type(text).__name__}.")
    if not text.strip():
        return ValueError(f"input {index} is {'empty' if not text else 'only whitespace'}; there is nothing to embed.")
    return None


def check_texts(texts: Texts) -> None:
    """Fail before any request for mistakes visible up front: one string, or a list holding a non-string."""
    if isinstance(texts, str):
        raise TypeError("embed_many takes a collection of strings, not one string; wrap it in a list.")
    if isinstance(texts, list | tuple):
        for index, text in enumerate(texts):
            if not isinstance(text, str):  # pyright: ignore[reportUnnecessaryIsInstance]  # untyped callers
                raise TypeError(f"embed_many takes strings; input {index} is a {type(text).__name__}.")


def total_to_send(texts: Texts, skip: Collection[int]) -> int | None:
    """How many inputs the job will send, when the input has a length."""
    if not isinstance(texts, Sized):
        return None
    size = len(texts)
    return size - sum(1 for index in skip if 0 <= index < size)


async def _numbered(texts: Texts) -> AsyncIterator[tuple[int, object]]:
    if isinstance(texts, AsyncIterable):
        count = 0
        async for item in texts:
            yield count, item
            count += 1
    else:
        sync: Iterator[object] = iter(texts)
        for number, value in enumerate(sync):
            yield number, value


async def read_batches(texts: Texts, batch_size: int, skip: Collection[int]) -> AsyncIterator[Batch | BadInput]:
    """Batches of up to ``batch_size`` good inputs, and each bad input on its own, in input order."""
    batch = Batch([], [])
    async for index, text in _numbered(texts):
        if index in skip:
            continue
        problem = _problem(index, text)
        if problem is not None:
            yield BadInput(index, problem)
            continue
        assert isinstance(text, str)
        batch.indices.append(index)
        batch.texts.append(text)
        if len(batch.texts) == batch_size:
            yield batch
            batch = Batch([], [])
    if batch.texts:
        yield batch
