"""The ``telnyx-ai`` command: chat, list models and embed files from a terminal.

Every command runs the async client under `asyncio.run`. ``--local`` starts the built-in
emulator (`telnyx_ai.testing.MockServer`) in-process, so the commands work without an API key.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from collections.abc import AsyncGenerator, Sequence
from typing import IO, Any

from ._client import AsyncTelnyx
from ._embed_sink import JsonlSink
from ._errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APIStreamError,
    APITimeoutError,
    EmbedManyError,
    TelnyxError,
)
from ._types import NOT_GIVEN, NotGiven
from ._version import __version__

__all__ = ["main"]

DEFAULT_EMBEDDING_MODEL = "thenlper/gte-large"
_EXIT_ERROR = 1
_EXIT_USAGE = 2
_EXIT_INTERRUPTED = 130
_NO_KEY = (
    "error: TELNYX_API_KEY is not set. Export your API key, or add --local to run against the "
    "built-in emulator (no key needed)."
)


class _UsageError(Exception):
    """A mistake in how the command was called; reported in one line with exit code 2."""


# -- argument parsing ------------------------------------------------------------------------


_COMMON_DEFAULTS: dict[str, Any] = {"local": False, "local_faults": 0.0, "base_url": None, "max_retries": None}


def _add_common(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Options accepted before or after the command name (SUPPRESS: a later parser never resets an earlier value)."""
    parser.add_argument(
        "--local", action="store_true", default=argparse.SUPPRESS, help="use the built-in emulator; no API key needed"
    )
    parser.add_argument(
        "--local-faults",
        type=float,
        default=argparse.SUPPRESS,
        metavar="RATE",
        help="with --local: fail this share of requests (0-1) in mixed ways, to watch the retries work",
    )
    parser.add_argument(
        "--base-url", default=argparse.SUPPRESS, help="API base URL (default: $TELNYX_BASE_URL or Telnyx's)"
    )
    parser.add_argument(
        "--max-retries",
        type=int,
        default=argparse.SUPPRESS,
        help="retries on 429/5xx/network errors (default: 2 per request, 8 per embed batch)",
    )
    return parser


def _parser() -> argparse.ArgumentParser:
    def common() -> list[argparse.ArgumentParser]:
        return [_add_common(argparse.ArgumentParser(add_help=False))]

    parser = argparse.ArgumentParser(prog="telnyx-ai", description="Talk to the Telnyx AI API.", parents=common())
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    chat = commands.add_parser("chat", parents=common(), help="stream a chat reply to stdout")
    chat.add_argument("prompt", nargs="+", help="the message to send (several words are joined by spaces)")
    chat.add_argument("--model", help="chat model (see `telnyx-ai models`)")
    chat.add_argument("--system", help="a system prompt sent before the message")
    chat.add_argument("--json", action="store_true", help="print the whole response as one JSON object instead")

    models = commands.add_parser("models", parents=common(), help="list the available models")
    models.add_argument("--embedding", action="store_true", help="list embedding models instead of chat models")

    embed = commands.add_parser("embed", parents=common(), help="embed each line of a file, writing JSONL")
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
        "-o", "--output", help="write JSONL here, each row as its batch finishes (default: stdout, at the end)"
    )
    embed.add_argument(
        "--resume",
        action="store_true",
        help="with -o: keep the rows already in the output and embed only the missing lines",
    )
    embed.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


# -- running a command -----------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _client(args: argparse.Namespace) -> AsyncGenerator[AsyncTelnyx, None]:
    """A client for the real API, or for an emulator started just for this command with ``--local``."""
    retries: int = 2 if args.max_retries is None else args.max_retries
    if args.local_faults and not args.local:
        raise _UsageError("error: --local-faults only applies with --local (the built-in emulator).")
    if not 0 <= args.local_faults <= 1:
        raise _UsageError("error: --local-faults takes a share of requests between 0 and 1, e.g. 0.2.")
    if not args.local:
        if not os.environ.get("TELNYX_API_KEY"):
            raise _UsageError(_NO_KEY)
        async with AsyncTelnyx(base_url=args.base_url, max_retries=retries) as client:
            yield client
        return
    from .testing import MockServer, mixed_faults

    async with (
        MockServer() as server,
        AsyncTelnyx(api_key="local", base_url=server.url, max_retries=retries) as client,
    ):
        if args.local_faults:
            server.set_fault_rates(mixed_faults(args.local_faults))
        yield client
        if args.local_faults:
            faults = ", ".join(f"{count} {kind}" for kind, count in sorted(server.fault_counts.items()))
            print(
                f"local emulator: {len(server.requests)} requests, faults injected: {faults or 'none'}", file=sys.stderr
            )


async def _chat(args: argparse.Namespace, out: IO[str]) -> None:
    messages: list[Any] = []
    if args.system:
        messages.append({"role": "system", "content": args.system})
    messages.append({"role": "user", "content": " ".join(args.prompt)})
    model: str | NotGiven = args.model or NOT_GIVEN
    async with _client(args) as client:
        stream = await client.ai.chat.create_completion(messages=messages, stream=True, model=model)
        parts: list[str] = []
        last: Any = None
        finish: str | None = None
        async with stream:
            async for chunk in stream:
                last = chunk
                for choice in chunk.choices:
                    finish = choice.finish_reason or finish
                    text = choice.delta.content
                    if text:
                        parts.append(text)
                        if not args.json:
                            out.write(text)
                            out.flush()
    if not args.json:
        out.write("\n")
        return
    usage = getattr(last, "usage", None)
    result = {
        "id": getattr(last, "id", None),
        "object": "chat.completion",
        "created": getattr(last, "created", None),
        "model": getattr(last, "model", None) or args.model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(parts)}, "finish_reason": finish}],
        "usage": usage.to_dict() if usage is not None else None,
    }
    out.write(json.dumps(result, ensure_ascii=False) + "\n")


async def _models(args: argparse.Namespace, out: IO[str]) -> None:
    async with _client(args) as client:
        if args.embedding:
            ids = [m.id for m in (await client.ai.openai.embeddings.list_embedding_models()).data]
        else:
            ids = [m.id for m in (await client.ai.retrieve_models()).data]
    out.write("".join(f"{model_id}\n" for model_id in ids))


def _read_lines(path: str) -> list[tuple[int, str]]:
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise _UsageError(f"error: cannot read {path}: {exc}") from exc
    return [(number, line) for number, line in enumerate(text.splitlines()) if line.strip()]


def _dimensions(args: argparse.Namespace) -> int | NotGiven:
    return NOT_GIVEN if args.dimensions is None else int(args.dimensions)


async def _embed(args: argparse.Namespace, out: IO[str]) -> None:
    lines = _read_lines(args.file)
    if args.output:
        await _embed_to_file(args, lines)
        return
    if args.resume:
        raise _UsageError("error: --resume needs -o/--output: the file to resume.")
    async with _client(args) as client:
        try:
            vectors: Sequence[list[float] | None] = await client.ai.openai.embeddings.embed_many(
                [text for _, text in lines],
                model=args.model,
                batch_size=args.batch_size,
                concurrency=args.concurrency,
                dimensions=_dimensions(args),
                max_retries=args.max_retries,  # None: the batch default, which retries harder
                progress=not args.no_progress,
            )
        except EmbedManyError as exc:
            # Keep every line that did succeed; the error then says which ones to run again.
            done = exc.results if isinstance(exc.results, list) else None  # lists: no as_numpy here
            _write_jsonl(out, lines, done or [None] * len(lines))
            raise
    _write_jsonl(out, lines, vectors)


async def _embed_to_file(args: argparse.Namespace, lines: list[tuple[int, str]]) -> None:
    """Rows written as batches finish; a killed run leaves them, and ``--resume`` sends only the rest."""
    try:
        sink = JsonlSink(args.output, resume=args.resume)
    except OSError as exc:
        raise _UsageError(f"error: cannot write {args.output}: {exc}") from exc
    done = {position for position, (number, _) in enumerate(lines) if number in sink.done}
    try:
        async with _client(args) as client:
            pairs = client.ai.openai.embeddings.embed_many_iter(
                [text for _, text in lines],
                model=args.model,
                batch_size=args.batch_size,
                concurrency=args.concurrency,
                dimensions=_dimensions(args),
                max_retries=args.max_retries,
                progress=not args.no_progress,
                skip=done,
            )
            async with contextlib.aclosing(pairs):
                async for position, vector in pairs:
                    number, text = lines[position]
                    sink.write(number, text, vector)
    except EmbedManyError:
        sink.finish()  # what did succeed stays, in order; the error says which lines to run again
        raise
    except BaseException:
        sink.close()  # interrupted: every finished row is on disk; --resume carries on
        raise
    sink.finish()


def _write_jsonl(sink: IO[str], lines: list[tuple[int, str]], vectors: Sequence[list[float] | None]) -> None:
    for (number, text), vector in zip(lines, vectors, strict=True):
        if vector is not None:
            row = {"index": number, "text": text, "embedding": vector}
            sink.write(json.dumps(row, ensure_ascii=False) + "\n")


_COMMANDS = {"chat": _chat, "models": _models, "embed": _embed}


# -- errors ------------------------------------------------------------------------------------


def _advice(exc: BaseException) -> str:
    if isinstance(exc, EmbedManyError):
        failed = exc.failed
        return f"{_advice(failed[min(failed)])}; only the failed lines are missing from the output"
    if isinstance(exc, APIStatusError):
        status = exc.status_code
        if status == 401:
            return "check TELNYX_API_KEY"
        if status == 403:
            return "this key may not do that; check its permissions in the portal"
        if status == 404:
            return "check the model name or id"
        if status in (400, 422):
            return "check the arguments"
        if status == 429:
            return (
                "rate limited: wait a little and retry, or lower --concurrency (with -o, --resume keeps what is done)"
            )
        if status >= 500:
            return "the API had a problem; try again shortly"
        return "see the message above"
    if isinstance(exc, APITimeoutError):
        return "the API did not answer in time; try again"
    if isinstance(exc, APIConnectionError):
        return "check your network connection and --base-url"
    if isinstance(exc, APIStreamError):
        return "the reply was interrupted; try again"
    return "see the message above"


def _describe(exc: TelnyxError) -> str:
    if isinstance(exc, EmbedManyError):
        first = min(exc.failed)
        cause = exc.failed[first]
        reason = cause.message if isinstance(cause, APIError) else str(cause)
        message = f"{len(exc.failed)} of {exc.total} inputs could not be embedded (line {first}: {reason})"
    else:
        message = exc.message if isinstance(exc, APIError) else str(exc)
    return f"error: {message} — {_advice(exc)}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: the process's arguments); return the exit code."""
    args = _parser().parse_args(argv)
    for name, default in _COMMON_DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, default)
    command = _COMMANDS[args.command]
    try:
        asyncio.run(command(args, sys.stdout))
    except KeyboardInterrupt:
        return _EXIT_INTERRUPTED
    except _UsageError as exc:
        print(str(exc), file=sys.stderr)
        return _EXIT_USAGE
    except TelnyxError as exc:
        print(_describe(exc), file=sys.stderr)
        return _EXIT_ERROR
    except BrokenPipeError:
        # The reader went away (e.g. piped into `head`): not an error worth a traceback.
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return _EXIT_ERROR
    return 0
