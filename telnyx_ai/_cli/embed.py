"""``telnyx-ai embed``: embed each non-blank line of a file, writing JSONL rows.

Rows are ``{"index", "text", "embedding"}`` with ``index`` the 0-based line number. With ``-o`` each
row is written as its batch finishes, so a killed job leaves every finished row and ``--resume``
sends only the rest; without it, rows go to stdout in order at the end. Messages for people count
lines from 1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from .._batch.engine import RATE_LIMIT_TIMEOUT
from .._batch.sink import JsonlSink
from .._errors import EmbedManyError
from .._types import NOT_GIVEN, NotGiven
from .common import CommandFailed, UsageError, async_client, describe, print_error

__all__ = ["DEFAULT_EMBEDDING_MODEL", "add_embed_arguments", "embed"]

DEFAULT_EMBEDDING_MODEL = "thenlper/gte-large"

Lines = list[tuple[int, str]]
"""The non-blank lines of the input: (0-based line number, text)."""


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return value


def add_embed_arguments(embed: argparse.ArgumentParser) -> None:
    """The ``embed`` command's own options."""
    embed.add_argument("file", help="text file, one input per line ('-' for stdin); blank lines are skipped")
    embed.add_argument(
        "--model", default=DEFAULT_EMBEDDING_MODEL, help=f"embedding model (default: {DEFAULT_EMBEDDING_MODEL})"
    )
    embed.add_argument(
        "--concurrency",
        type=_positive,
        default=None,
        help="most requests in flight (default: the connection pool's size; the rate limit is found below it)",
    )
    embed.add_argument("--batch-size", type=_positive, default=64, help="lines per request (default: 64)")
    embed.add_argument("--dimensions", type=_positive, help="ask for vectors of this length (models that allow it)")
    embed.add_argument(
        "--rate-limit-timeout",
        type=_seconds,
        default=RATE_LIMIT_TIMEOUT,
        metavar="SECONDS",
        help=f"give up when no request has succeeded for this long, only 429s (default: {RATE_LIMIT_TIMEOUT:g})",
    )
    embed.add_argument(
        "-o", "--output", help="write JSONL here, each row as its batch finishes (default: stdout, at the end)"
    )
    kept = embed.add_mutually_exclusive_group()
    kept.add_argument(
        "--resume",
        action="store_true",
        help="with -o: keep the rows already in the output (checked: same lines, model and width) "
        "and embed only the missing lines",
    )
    kept.add_argument("--overwrite", action="store_true", help="with -o: replace an output file that already has rows")
    shown = embed.add_mutually_exclusive_group()
    shown.add_argument(
        "--progress",
        action="store_true",
        default=None,
        help="a progress bar on stderr (default: only when stderr is a terminal)",
    )
    shown.add_argument("--no-progress", action="store_false", dest="progress", help="no progress bar")


def _read_lines(path: str) -> Lines:
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UsageError(f"error: cannot read {path}: {reason}") from None
    lines = [(number, line) for number, line in enumerate(text.splitlines()) if line.strip()]
    if not lines:
        raise CommandFailed(f"error: {'stdin' if path == '-' else path} has no non-blank lines: nothing to embed.")
    return lines


def _dimensions(args: argparse.Namespace) -> int | NotGiven:
    return NOT_GIVEN if args.dimensions is None else int(args.dimensions)


def _progress(args: argparse.Namespace) -> bool:
    return sys.stderr.isatty() if args.progress is None else bool(args.progress)


def _failure(exc: EmbedManyError, lines: Lines) -> CommandFailed:
    """The job's failure in words, naming the first failed line as people count them."""
    first = min(exc.failed)
    return CommandFailed(describe(exc, first_line=lines[first][0] + 1 if first < len(lines) else None))


async def embed(args: argparse.Namespace, out: IO[str]) -> None:
    lines = _read_lines(args.file)
    if args.output:
        await _embed_to_file(args, lines)
        return
    if args.resume:
        raise UsageError("error: --resume needs -o/--output: the file to resume.")
    async with async_client(args) as client:
        try:
            vectors: Sequence[list[float] | None] = await client.ai.openai.embeddings.embed_many(
                [text for _, text in lines],
                model=args.model,
                batch_size=args.batch_size,
                concurrency=args.concurrency,
                dimensions=_dimensions(args),
                max_retries=args.max_retries,  # None: the batch default, which retries harder
                rate_limit_timeout=args.rate_limit_timeout,
                progress=_progress(args),
            )
        except EmbedManyError as exc:
            # Keep every line that did succeed; the error then says which ones to run again.
            done = exc.results if isinstance(exc.results, list) else None  # lists: the CLI never asks for arrays
            _write_jsonl(out, lines, done or [None] * len(lines), args.model)
            raise _failure(exc, lines) from None
    _write_jsonl(out, lines, vectors, args.model)


async def _embed_to_file(args: argparse.Namespace, lines: Lines) -> None:
    """Rows written as batches finish; a killed run leaves them, and ``--resume`` sends only the rest."""
    _refuse_to_clobber(args)
    try:
        sink = JsonlSink(args.output, resume=args.resume, model=args.model)
    except OSError as exc:
        raise UsageError(f"error: cannot write {args.output}: {exc.strerror or exc}") from None
    _check_resumable(sink, lines, args)
    done = {position for position, (number, _) in enumerate(lines) if number in sink.done}
    if done and len(done) == len(lines):
        sink.finish()
        print_error(f"{args.output} already has a row for every line: nothing left to embed.")
        return
    try:
        async with async_client(args) as client:
            pairs = client.ai.openai.embeddings.embed_many_iter(
                [text for _, text in lines],
                model=args.model,
                batch_size=args.batch_size,
                concurrency=args.concurrency,
                dimensions=_dimensions(args),
                max_retries=args.max_retries,
                rate_limit_timeout=args.rate_limit_timeout,
                progress=_progress(args),
                skip=done,
            )
            async with contextlib.aclosing(pairs):
                async for position, vector in pairs:
                    number, text = lines[position]
                    sink.write(number, text, vector)
    except EmbedManyError as exc:
        sink.finish()  # what did succeed stays, in order; the error says which lines to run again
        raise _failure(exc, lines) from None
    except BaseException:
        sink.close()  # interrupted: every finished row is on disk; --resume carries on
        raise
    sink.finish()


def _refuse_to_clobber(args: argparse.Namespace) -> None:
    """A file with rows is resumed or replaced only when asked: never lost to a rerun without a flag."""
    output = Path(args.output)
    if not args.resume and not args.overwrite and output.is_file() and output.stat().st_size:
        raise UsageError(
            f"error: {args.output} already has rows: pass --resume to carry on with them, or --overwrite to start again."
        )


def _check_resumable(sink: JsonlSink, lines: Lines, args: argparse.Namespace) -> None:
    """A resumed file must be this job's: each row the text of its line, one model, one width."""
    texts = dict(lines)
    widths = {row.width for row in sink.kept.values()}
    expected: set[int] = {int(args.dimensions)} if args.dimensions is not None else set()
    problem = None
    for number, row in sorted(sink.kept.items()):
        if texts.get(number) != row.text:
            problem = f"its row for line {number + 1} holds another text than {args.file} has there"
        elif row.model is not None and row.model != args.model:
            problem = f"its rows were embedded with {row.model}, not {args.model}"
        if problem:
            break
    if problem is None and (len(widths) > 1 or (expected and widths and widths != expected)):
        problem = f"its vectors are {', '.join(map(str, sorted(widths)))} wide, not {args.dimensions}"
    if problem is not None:
        sink.close()
        raise UsageError(
            f"error: {args.output} is not a run of this job: {problem}. "
            "Resume with the same input and options, or start again with --overwrite."
        )


def _write_jsonl(sink: IO[str], lines: Lines, vectors: Sequence[list[float] | None], model: str) -> None:
    for (number, text), vector in zip(lines, vectors, strict=True):
        if vector is not None:
            row = {"index": number, "text": text, "model": model, "embedding": vector}
            sink.write(json.dumps(row, ensure_ascii=False) + "\n")
