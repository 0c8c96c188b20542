"""A JSONL file of embeddings that a job appends to as batches finish, and can resume from.

Rows are ``{"index": N, "text": ..., "embedding": [...]}``, one per line, each written and flushed
as soon as its vector arrives, so a killed process leaves every finished row on disk and at most one
partial last line. Opening the file again for a resume drops that partial line and says which
indices are done; `JsonlSink.finish` rewrites the file in index order, one row per index.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import IO

__all__ = ["JsonlSink"]

_INDEX = re.compile(rb'^\{"index": ?(\d+)[,}]')


def _row_index(line: bytes) -> int | None:
    """The index of a complete row, read from its start (rows are written index first); None if it is not one."""
    if not line.endswith(b"\n"):
        return None
    found = _INDEX.match(line)
    return int(found.group(1)) if found else None


class JsonlSink:
    """Rows of one job's output file. ``resume=True`` keeps the rows already there (see `done`)."""

    def __init__(self, path: str | os.PathLike[str], *, resume: bool) -> None:
        self.path = Path(path)
        self.done: set[int] = set()
        """Indices that already have a row (read when resuming, and added as rows are written)."""
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
                self.done.add(index)
                good_end += len(line)
        with open(self.path, "r+b") as handle:
            handle.truncate(good_end)

    def write(self, index: int, text: str, embedding: list[float]) -> None:
        """Append one row and flush it to the OS, so a crash after this call keeps it."""
        row = json.dumps({"index": index, "text": text, "embedding": embedding}, ensure_ascii=False)
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
