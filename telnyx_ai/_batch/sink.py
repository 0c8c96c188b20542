"""A JSONL file of embeddings that a job appends to as batches finish, and can resume from.

Rows are ``{"index": N, "text": ..., "model": ..., "embedding": [...]}``, one per line, each written
and flushed as soon as its vector arrives, so a killed process leaves every finished row on disk and at
most one partial last line. Opening the file again for a resume drops that partial line and says which
indices are done and what each holds (`Row`: its text, model and width, so a resume can check they are
of the same job); `JsonlSink.finish` rewrites the file in index order, one row per index.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import IO

import msgspec

__all__ = ["JsonlSink", "Row"]


class Row(msgspec.Struct):
    """What a resume checks of a row already written (the vector itself is not decoded)."""

    text: str = ""
    model: str | None = None  # rows written before the model was recorded have none
    embedding: msgspec.Raw = msgspec.Raw(b"[]")

    @property
    def width(self) -> int:
        raw = bytes(self.embedding).strip()
        return 0 if raw == b"[]" else raw.count(b",") + 1


_row = msgspec.json.Decoder(Row)

_INDEX = re.compile(rb'^\{"index": ?(\d+)[,}]')


def _row_index(line: bytes) -> int | None:
    """The index of a complete row, read from its start (rows are written index first); None if it is not one."""
    if not line.endswith(b"\n"):
        return None
    found = _INDEX.match(line)
    return int(found.group(1)) if found else None


class JsonlSink:
    """Rows of one job's output file. ``resume=True`` keeps the rows already there (see `done`)."""

    def __init__(self, path: str | os.PathLike[str], *, resume: bool, model: str | None = None) -> None:
        self.path = Path(path)
        self.model = model
        self.done: set[int] = set()
        """Indices that already have a row (read when resuming, and added as rows are written)."""
        self.kept: dict[int, Row] = {}
        """The rows a resume found, by index."""
        if resume and self.path.exists():
            self._keep_complete_rows()
        # Opened now, before any request: a file that cannot be written fails the job at once.
        self._file: IO[str] = open(self.path, "a" if resume else "w", encoding="utf-8")  # noqa: SIM115

    def _keep_complete_rows(self) -> None:
        good_end = 0
        with open(self.path, "rb") as handle:
            for line in handle:
                index = _row_index(line)
                if index is None:
                    break  # a partial last line from a killed run: everything after it is dropped
                try:
                    self.kept[index] = _row.decode(line)
                except msgspec.DecodeError:
                    break
                self.done.add(index)
                good_end += len(line)
        with open(self.path, "r+b") as handle:
            handle.truncate(good_end)

    def write(self, index: int, text: str, embedding: list[float]) -> None:
        """Append one row and flush it to the OS, so a crash after this call keeps it."""
        fields = {"index": index, "text": text, "model": self.model, "embedding": embedding}
        row = json.dumps({k: v for k, v in fields.items() if v is not None}, ensure_ascii=False)
        self._file.write(row + "\n")
        self._file.flush()
        self.done.add(index)

    def close(self) -> None:
        self._file.close()

    def finish(self) -> None:
        """Close the file and rewrite it in index order, keeping one row per index (atomically: a temp file, then rename)."""
        self.close()
        places: dict[int, tuple[int, int]] = {}
        with open(self.path, "rb") as handle:
            offset = 0
            for line in handle:
                index = _row_index(line)
                if index is not None:
                    places.setdefault(index, (offset, len(line)))
                offset += len(line)
        temporary = self.path.with_name(self.path.name + ".sorting")
        with open(self.path, "rb") as source, open(temporary, "wb") as target:
            for index in sorted(places):
                offset, length = places[index]
                source.seek(offset)
                target.write(source.read(length))
        os.replace(temporary, self.path)
