"""Embedding vectors as they arrive (JSON floats, or base64 of little-endian float32) and as callers want them.

base64 costs a fraction of float JSON to decode and is about 60 % smaller on the wire, so the SDK asks
for it; a server may answer floats anyway, so everything here accepts both shapes, vector by vector.
msgspec decodes the base64 while it parses (the field is typed ``bytes``); the bytes become floats with
the stdlib (`array`) or numpy (`frombuffer`): no Python work per float.
"""

from __future__ import annotations

import binascii
import mmap
import sys
from array import array
from collections.abc import Sequence
from operator import attrgetter
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

from .._errors import APIResponseValidationError
from .._models import APIResponse, BaseModel
from ..types.openai import OpenAIEmbeddingData, OpenAIEmbeddingResponse, OpenAIEmbeddingUsage

if TYPE_CHECKING:
    from .._types import Float32Array

__all__ = [
    "Float32Rows",
    "Vector",
    "WireEmbedding",
    "WireEmbeddingResponse",
    "float_response",
    "read_vectors",
    "require_numpy",
    "to_float32",
    "to_list",
    "width",
]

Vector = list[float] | bytes
"""One vector as read: floats from JSON, or the bytes of base64 (little-endian float32), not yet converted."""

NUMPY_MISSING = (
    "as_numpy=True needs numpy: pip install 'telnyx-ai[numpy]' (from a checkout: '.[numpy]'), or numpy itself."
)
_SWAP = sys.byteorder == "big"  # the wire is little-endian float32, as OpenAI's base64 format is


class WireEmbedding(BaseModel):
    """An embedding as the server sends it: floats, or base64 when base64 was asked for.

    Typed ``bytes``, msgspec decodes the base64 itself, in C, while it parses (about 3 times faster than
    ``binascii`` afterwards); a string that is not base64 fails the decode as a malformed reply.
    """

    embedding: list[float] | bytes
    index: int
    object: str


class WireEmbeddingResponse(APIResponse):
    """``OpenAIEmbeddingResponse`` with vectors in either encoding (the spec's type says floats only)."""

    data: list[WireEmbedding]
    model: str
    object: str
    usage: OpenAIEmbeddingUsage


def _bad(where: str, problem: str) -> APIResponseValidationError:
    # malformed: like a body cut short in transit, a batch job tries it again.
    return APIResponseValidationError(f"The embeddings of {where} {problem}.", status_code=200, malformed=True)


def read_vectors(embeddings: Sequence[list[float] | bytes | str], where: str) -> list[Vector]:
    """Each embedding as a `Vector`, checked: whole float32 values, one width for all.

    ``bytes`` were base64 already decoded (by msgspec); a ``str`` is base64 still (a custom sender's).
    A vector that breaks this raises `APIResponseValidationError` (``malformed``) naming ``where``.
    """
    vectors: list[Vector] = []
    first = -1
    for position, value in enumerate(embeddings):
        if isinstance(value, list):
            size = len(value)
            vectors.append(value)
        else:
            raw = value if isinstance(value, bytes) else _from_base64(value, position, where)
            if len(raw) % 4:
                raise _bad(where, f"hold a vector ({position}) of {len(raw)} bytes, not whole float32 values")
            size = len(raw) // 4
            vectors.append(raw)
        if first < 0:
            first = size
        elif size != first:
            raise _bad(where, f"differ in width: vector {position} has {size} values, vector 0 has {first}")
    return vectors


def _from_base64(text: str, position: int, where: str) -> bytes:
    try:
        return binascii.a2b_base64(text)
    except (binascii.Error, ValueError) as exc:
        raise _bad(where, f"hold a vector ({position}) that is not base64: {exc}") from None


def width(vector: Vector) -> int:
    """How many values ``vector`` holds."""
    return len(vector) // 4 if isinstance(vector, bytes) else len(vector)


def to_list(vector: Vector) -> list[float]:
    """``vector`` as Python floats (each exactly the server's float32 value)."""
    if isinstance(vector, list):
        return vector
    values = array("f", vector)
    if _SWAP:
        values.byteswap()
    return values.tolist()


_embedding_of = attrgetter("embedding")


def float_response(reply: WireEmbeddingResponse) -> OpenAIEmbeddingResponse:
    """``reply`` with every vector as floats: the type a caller who never asked for base64 gets."""
    items = reply.data
    vectors = read_vectors(list(map(_embedding_of, items)), "the response")
    data: list[OpenAIEmbeddingData] = []
    for position, item in enumerate(items):  # a loop, not a comprehension: most replies hold one vector
        data.append(OpenAIEmbeddingData(embedding=to_list(vectors[position]), index=item.index, object=item.object))
    response = OpenAIEmbeddingResponse(data=data, model=reply.model, object=reply.object, usage=reply.usage)
    found = vars(reply)  # the request id
    if found:
        vars(response).update(found)
    return response


_numpy: ModuleType | None = None


def require_numpy() -> ModuleType:
    """numpy, or an `ImportError` saying which extra installs it."""
    global _numpy
    if _numpy is None:
        try:
            import numpy
        except ImportError:
            raise ImportError(NUMPY_MISSING) from None
        _numpy = numpy
    return _numpy


def to_float32(vector: Vector) -> Float32Array:
    """``vector`` as a new 1-D float32 array (base64's bytes copied straight in, no list)."""
    np = require_numpy()
    if isinstance(vector, bytes):
        converted: Float32Array = np.frombuffer(vector, dtype="<f4").astype(np.float32)
        return converted
    listed: Float32Array = np.array(vector, dtype=np.float32)
    return listed


def _private_memory(size: int) -> mmap.mmap:
    """``size`` zeroed bytes of this process's own, in ordinary pages.

    Private, as malloc's memory is: a forked child gets a copy-on-write copy, never a view that
    writes through to the parent's array. ``MADV_NOHUGEPAGE`` also keeps a host whose huge pages
    are on for everything from assembling them (see `Float32Rows`).
    """
    if sys.platform == "win32":
        return mmap.mmap(-1, size)  # private to the process already; Windows has no fork
    memory = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    no_huge_pages = getattr(mmap, "MADV_NOHUGEPAGE", None)  # Linux only
    if no_huge_pages is not None:
        memory.madvise(no_huge_pages)
    return memory


class Float32Rows:
    """The (N, D) float32 array a job fills in place as batches arrive; rows never filled are NaN.

    Allocated at the first vector (D is known then): N rows when the input's length is known,
    otherwise a capacity doubled as indices pass it. The memory comes from `_private_memory`, not
    numpy's allocator, which asks the kernel for huge pages for large arrays: assembling those
    stalled a 200 MiB allocation for about a second on a host with fragmented memory, 10 to 20
    times the cost of ordinary pages. Pages are touched only as rows are written; rows never written are
    set to NaN at `finish`, so a capacity past the last row costs address space, not memory.
    """

    __slots__ = ("_array", "_filled", "_np", "_total")

    def __init__(self, total: int | None) -> None:
        self._np = require_numpy()
        self._total = total
        self._array: Any = None
        self._filled: Any = None  # one bool per row: written yet?

    def _allocate(self, rows: int, dim: int) -> tuple[Any, Any]:
        """Room for ``rows`` rows (zeros, not yet in memory), keeping the rows already written; the
        new array and its written-yet flags."""
        np = self._np
        memory = _private_memory(max(1, rows * dim * 4))
        array = np.frombuffer(memory, dtype=np.float32, count=rows * dim).reshape(rows, dim)
        filled = np.zeros(rows, dtype=bool)
        if self._array is not None:
            kept = self._array.shape[0]
            array[:kept] = self._array
            filled[:kept] = self._filled
        self._array, self._filled = array, filled
        return array, filled

    def put(self, indices: Sequence[int], vectors: Sequence[Vector]) -> None:
        """Copy one batch's vectors into their rows (the engine checked they are all one width).

        A batch's indices only ever increase (inputs are read in order), so the first and last are its ends.
        """
        if not vectors:
            return
        first, last, count = indices[0], indices[-1], len(indices)
        target, filled = self._array, self._filled
        if target is None:
            rows = self._total if self._total is not None else max(1024, last + 1)
            target, filled = self._allocate(rows, width(vectors[0]))
        if last >= target.shape[0]:  # also a first batch past a length that said less
            target, filled = self._allocate(max(last + 1, 2 * target.shape[0]), target.shape[1])
        if last - first == count - 1 and all(type(vector) is bytes for vector in vectors):
            # The usual batch: base64 on consecutive rows: one join and one slice assignment, where
            # a numpy call per row cost more than the copying.
            block = self._np.frombuffer(b"".join(cast("list[bytes]", vectors)), dtype="<f4")
            target[first : last + 1] = block.reshape(count, -1)
            filled[first : last + 1] = True
            return
        frombuffer = self._np.frombuffer
        for index, vector in zip(indices, vectors, strict=True):
            target[index] = frombuffer(vector, dtype="<f4") if isinstance(vector, bytes) else vector
        filled[list(indices)] = True

    def finish(self, rows: int) -> Float32Array:
        """The array of ``rows`` rows, NaN where no vector arrived (shape (rows, 0) if none ever did)."""
        np = self._np
        if self._array is None:
            empty: Float32Array = np.empty((rows, 0), dtype=np.float32)
            return empty
        if rows > self._array.shape[0]:
            self._allocate(rows, self._array.shape[1])
        done: Float32Array = self._array[:rows]
        done[~self._filled[:rows]] = np.nan
        self._array = self._filled = None
        return done
