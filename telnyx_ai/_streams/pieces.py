"""`Pieces`: a text that arrives in many small deltas, held at about the size of the text itself.

A stream's accumulator keeps every delta for the final reply. Kept one string per delta, a 5-character
delta costs some 60 bytes (the string object and its slot in a list). Joined into one block once `FOLD_AT`
(32) or more have gathered, an open stream holds little more than its text, and each character is copied
once into a block and once into the final text (joining everything on every fold would copy the text
again and again).
"""

from __future__ import annotations

from typing import Final

__all__ = ["FOLD_AT", "Pieces"]

FOLD_AT: Final = 32
"""How many recent pieces are joined into one block."""


class Pieces:
    """The pieces of one text: blocks already joined, then the recent pieces.

    Hot paths append to ``recent`` themselves and call `fold` once it holds `FOLD_AT` pieces or more,
    checked per delta or once per batch (a method call per delta costs more than the append);
    everything else calls `add`.
    """

    __slots__ = ("blocks", "recent")

    def __init__(self, first: str | None = None) -> None:
        self.blocks: list[str] = []
        self.recent: list[str] = [] if first is None else [first]

    def add(self, piece: str) -> None:
        recent = self.recent
        recent.append(piece)
        if len(recent) >= FOLD_AT:
            self.fold()

    def fold(self) -> None:
        """Join the recent pieces into one block."""
        self.blocks.append("".join(self.recent))
        self.recent.clear()

    def replace(self, text: str) -> None:
        """The whole text is ``text`` now (a server's ``done`` event that repeats it)."""
        self.blocks.clear()
        self.recent[:] = [text]

    def text(self) -> str:
        return "".join(self.blocks + self.recent if self.blocks else self.recent)

    def __bool__(self) -> bool:
        """Whether any piece arrived (an empty one counts)."""
        return bool(self.recent) or bool(self.blocks)
