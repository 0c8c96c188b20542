"""Uploading and saving files: multipart bodies rebuilt per attempt, audio written to disk.

A file to upload may be a path, bytes, a binary file object or an async iterable of bytes
(optionally as a ``(filename, file)`` pair, or ``(filename, file, content_type)``). Paths are streamed from disk in chunks on a worker
thread, never read whole into memory, and reopened for each retry. Seekable file objects are
rewound for a retry; a non-seekable file object or an async iterable can be sent once only, so
a retry of such a request fails with a clear error instead of sending a truncated file.
"""

from __future__ import annotations

import base64
import io
import mimetypes
import os
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import IO, Protocol, TypeAlias, cast

import aiohttp
import anyio
import msgspec
from aiohttp.abc import AbstractStreamWriter
from aiohttp.payload import AsyncIterablePayload, Payload

from ._errors import TelnyxError
from ._types import NOT_GIVEN, Body, RequestOptions

__all__ = ["FileContent", "FileInput", "multipart_form", "with_accept", "write_audio"]

CHUNK_SIZE = 256 * 1024

FileContent: TypeAlias = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes] | AsyncIterable[bytes]
"""A file to upload: a path, bytes, a binary file object or an async iterable of bytes."""
FileInput: TypeAlias = FileContent | tuple[str, FileContent] | tuple[str, FileContent, str]
"""A `FileContent`, or ``(filename, content)`` to name it (useful for bytes and streams), or
``(filename, content, content_type)`` to say its type too (otherwise guessed from the filename)."""


class _HasBase64(Protocol):
    @property
    def base64_audio(self) -> str | None: ...


class _PathPayload(Payload):
    """A file on disk, streamed in chunks on a worker thread and closed after sending."""

    def __init__(self, path: Path, *, filename: str, content_type: str) -> None:
        super().__init__(path, content_type=content_type, filename=filename)
        self._path = path
        self._size = path.stat().st_size

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return f"<file {self._path}>"

    async def write(self, writer: AbstractStreamWriter) -> None:
        async with await anyio.open_file(self._path, "rb") as handle:
            while chunk := await handle.read(CHUNK_SIZE):
                await writer.write(chunk)


async def _read_file_object(handle: IO[bytes]) -> AsyncIterator[bytes]:
    # anyio.wrap_file runs each blocking read on a worker thread; the caller keeps ownership of the handle.
    wrapped = anyio.wrap_file(handle)
    while chunk := await wrapped.read(CHUNK_SIZE):
        yield chunk


def _guess_type(filename: str) -> str:
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def _unpack(name: str, value: FileInput) -> tuple[str | None, FileContent, str | None]:
    """``(filename, content, content_type)`` of an upload given in any of its forms (None: not said)."""
    if not isinstance(value, tuple):
        return None, value, None
    parts = cast("tuple[object, ...]", value)  # checked here: callers without a type checker pass anything
    if len(parts) not in (2, 3):
        raise ValueError(
            f"{name}: a file tuple is (filename, content) or (filename, content, content_type), got {len(parts)} items."
        )
    filename, content, *rest = parts
    content_type = rest[0] if rest else None
    if not isinstance(filename, str) or not (content_type is None or isinstance(content_type, str)):
        raise TypeError(f"{name}: in a file tuple, the filename and the content type must be strings.")
    return filename, content, content_type  # type: ignore[return-value]  # content is checked by its user


def _file_part(name: str, value: FileInput) -> Callable[[], Payload]:
    """A function making a fresh payload for each attempt, after checking ``value`` once up front."""
    filename, value, content_type = _unpack(name, value)
    if isinstance(value, str | os.PathLike):
        path = Path(value)
        if not path.is_file():
            raise FileNotFoundError(f"{name}: no file at {path}")
        fname = filename or path.name
        return lambda: _PathPayload(path, filename=fname, content_type=content_type or _guess_type(fname))
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        fname = filename or name
        return lambda: aiohttp.BytesPayload(data, content_type=content_type or _guess_type(fname), filename=fname)
    if isinstance(value, io.IOBase) or hasattr(value, "read"):
        handle: IO[bytes] = value  # type: ignore[assignment]
        fname = filename or os.path.basename(str(getattr(handle, "name", "") or name))
        start: int | None = None
        try:
            if handle.seekable():
                start = handle.tell()
        except (OSError, ValueError):
            start = None
        used = False

        def from_handle() -> Payload:  # resendable only when the handle can be rewound
            nonlocal used
            if used:
                if start is None:
                    raise TelnyxError(
                        f"{name}: the file object cannot be rewound, so the request cannot be retried; "
                        "pass a path or a seekable file."
                    )
                handle.seek(start)
            used = True
            return AsyncIterablePayload(
                _read_file_object(handle), content_type=content_type or _guess_type(fname), filename=fname
            )

        return from_handle if start is not None else _SingleUse(from_handle)
    if isinstance(value, AsyncIterable):
        stream: AsyncIterable[bytes] = value  # pyright: ignore[reportUnknownVariableType]
        fname = filename or name
        sent = False

        def from_stream() -> Payload:
            nonlocal sent
            if sent:
                raise TelnyxError(f"{name}: an async iterable can be sent once only, so the request cannot be retried.")
            sent = True
            return AsyncIterablePayload(stream, content_type=content_type or _guess_type(fname), filename=fname)

        return _SingleUse(from_stream)
    raise TypeError(
        f"{name} must be a path, bytes, a binary file object or an async iterable of bytes, got {type(value).__name__}."
    )


def _add_form_field(values: dict[str, str], name: str, value: object) -> None:
    """An object becomes bracketed fields (``model_config[smart_format]=true``), as the API expects."""
    if isinstance(value, Mapping):
        fields = cast("Mapping[str, object]", value)
        for key, item in fields.items():
            if item is not None:
                _add_form_field(values, f"{name}[{key}]", item)
    else:
        values[name] = _form_value(value)


def _form_value(value: object) -> str:
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    # lists travel as JSON text in a form field
    return msgspec.json.encode(value).decode()


class _SingleUse:
    """A part factory that can make its payload once: a request carrying it is never retried."""

    __slots__ = ("make",)

    def __init__(self, make: Callable[[], Payload]) -> None:
        self.make = make

    def __call__(self) -> Payload:
        return self.make()


class _MultipartForm:
    """Builds the ``multipart/form-data`` body anew for each attempt.

    ``resendable`` is False when a file can be read only once (a non-seekable file object or an
    async iterable): the transport then makes one attempt, so a failure surfaces as itself.
    """

    __slots__ = ("parts", "resendable", "values")

    def __init__(self, values: dict[str, str], parts: dict[str, Callable[[], Payload]]) -> None:
        self.values = values
        self.parts = parts
        self.resendable = not any(isinstance(make, _SingleUse) for make in parts.values())

    def __call__(self) -> aiohttp.FormData:
        # Always multipart: with no file, aiohttp would otherwise send the fields url-encoded.
        form = aiohttp.FormData(default_to_multipart=True)
        for key, text in self.values.items():
            form.add_field(key, text)
        for key, make in self.parts.items():
            payload = make()
            form.add_field(key, payload, filename=payload.filename, content_type=payload.content_type)
        return form


def multipart_form(
    fields: Mapping[str, object], *, files: Mapping[str, object], extra: Body | None = None
) -> Callable[[], aiohttp.FormData]:
    """A factory for the ``multipart/form-data`` body: a new form, with fresh file payloads, per attempt.

    Unset fields (``NOT_GIVEN`` or ``None``) are left out; ``extra`` (``extra_body``) adds fields.
    """
    values: dict[str, str] = {}
    for name, value in {**fields, **(extra or {})}.items():
        if value is not NOT_GIVEN and value is not None:
            _add_form_field(values, name, value)
    parts = {k: _file_part(k, v) for k, v in files.items() if v is not NOT_GIVEN and v is not None}  # type: ignore[arg-type]
    return _MultipartForm(values, parts)


def with_accept(options: RequestOptions, accept: str) -> RequestOptions:
    """``options`` with an ``Accept`` header added (a caller's own ``Accept`` in ``extra_headers`` wins)."""
    merged = RequestOptions(**options)
    merged["extra_headers"] = {"Accept": accept, **(options.get("extra_headers") or {})}
    return merged


async def write_audio(path: str | os.PathLike[str], audio: bytes | _HasBase64) -> Path:
    """Write speech from ``client.text_to_speech.generate`` to ``path``: raw bytes, or a base64 response decoded.

    Returns the path written. The write runs on a worker thread, so the event loop keeps running.
    """
    if isinstance(audio, bytes):
        data = audio
    else:
        encoded = audio.base64_audio
        if encoded is None:
            raise TelnyxError("The response holds no audio (base64_audio is missing).")
        data = base64.b64decode(encoded)
    target = Path(path)
    await anyio.Path(target).write_bytes(data)
    return target
