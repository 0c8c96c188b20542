"""The progress bar of ``embed_many(progress=True)`` and ``telnyx-ai embed``: rich, on stderr.

A display, not part of the batch engine: the engine only calls a `ProgressCallback`.
"""

from __future__ import annotations

from collections.abc import Callable

from ._embed_many import EmbedProgress, ProgressCallback
from ._errors import TelnyxError

__all__ = ["progress_bar"]


def progress_bar(total_hint: int | None, description: str = "Embedding") -> tuple[ProgressCallback, Callable[[], None]]:
    """A rich progress bar on stderr as a progress callback, and the function that closes it."""
    try:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    except ImportError as exc:
        raise TelnyxError(
            "progress=True needs rich: pip install 'telnyx-ai[cli]', or pass a callback instead."
        ) from exc
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
    task = bar.add_task(description, total=total_hint, failed=0)
    bar.start()

    def update(progress: EmbedProgress) -> None:
        bar.update(task, completed=progress.done + progress.failed, total=progress.total, failed=progress.failed)

    return update, bar.stop
