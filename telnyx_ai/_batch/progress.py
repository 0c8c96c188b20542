"""The progress bar of ``embed_many(progress=True)`` and ``telnyx-ai embed``: rich, on stderr.

A display, not part of the batch engine: the engine only calls a `ProgressCallback`, and logs
each batch retry at INFO, which the bar shows too, so a bad minute reads as retries, not a hang.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from .._errors import TelnyxError
from .._logging import logger
from .engine import EmbedProgress, ProgressCallback

__all__ = ["progress_bar"]


class _RetryCounter(logging.Handler):
    """Counts the engine's "Retrying ..." records and keeps the reason of the last one."""

    def __init__(self, on_retry: Callable[[int, str], None]) -> None:
        super().__init__(logging.INFO)
        self.count = 0
        self._on_retry = on_retry

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("Retrying"):
            self.count += 1
            reason = str(record.args[2]) if isinstance(record.args, tuple) and len(record.args) > 2 else ""
            self._on_retry(self.count, reason)


def progress_bar(total_hint: int | None, description: str = "Embedding") -> tuple[ProgressCallback, Callable[[], None]]:
    """A rich progress bar on stderr as a progress callback, and the function that closes it.

    It shows inputs done of the total, failures, the rate, the time elapsed, and the retries so
    far with the last one's reason; it fits an 80-column terminal.
    """
    try:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            ProgressColumn,
            Task,
            TextColumn,
            TimeElapsedColumn,
        )
        from rich.text import Text
    except ImportError as exc:
        raise TelnyxError(
            "progress=True needs rich: pip install 'telnyx-ai[cli]' (from a checkout: pip install '.[cli]'), "
            "or pass a callback as progress= instead."
        ) from exc

    class RateColumn(ProgressColumn):
        """Inputs per second, once rich has measured a rate."""

        def render(self, task: Task) -> Text:
            return Text(f"{task.speed:,.0f}/s" if task.speed else "-/s", style="progress.data.speed")

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(bar_width=12),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed"),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[retries]}"),
        console=Console(stderr=True),
    )
    task = bar.add_task(description, total=total_hint, failed=0, retries="")

    def retried(count: int, reason: str) -> None:
        bar.update(task, retries=f"{count} retr{'y' if count == 1 else 'ies'} (last {reason})")

    counter = _RetryCounter(retried)
    previous_level = logger.level
    logger.addHandler(counter)
    if not logger.isEnabledFor(logging.INFO):
        logger.setLevel(logging.INFO)  # without a handler of its own, INFO records reach only this one
    bar.start()

    def update(progress: EmbedProgress) -> None:
        bar.update(task, completed=progress.done + progress.failed, total=progress.total, failed=progress.failed)

    def close() -> None:
        bar.stop()
        logger.removeHandler(counter)
        logger.setLevel(previous_level)

    return update, close
