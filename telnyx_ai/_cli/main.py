"""The ``telnyx-ai`` command: chat, list models and embed files from a terminal.

This module parses the command line and turns every ordinary failure into one line on stderr
and an exit code (1: the command failed, 2: it was called wrongly, 130: interrupted), never a
traceback. The commands live in `chat` and `embed`; what they share, in `common`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import IO, Any

from .._errors import TelnyxError
from .._version import __version__
from .chat import add_chat_arguments, chat, interactive_chat
from .common import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    CommandFailed,
    UsageError,
    async_client,
    describe,
    print_error,
)
from .embed import add_embed_arguments, embed

__all__ = ["main"]

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


def _parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The top-level parser, and each command's own (for usage errors that name the right command)."""

    def common() -> list[argparse.ArgumentParser]:
        return [_add_common(argparse.ArgumentParser(add_help=False))]

    parser = argparse.ArgumentParser(prog="telnyx-ai", description="Talk to the Telnyx AI API.", parents=common())
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chat_parser = commands.add_parser("chat", parents=common(), help="stream a chat reply (or -i: a conversation)")
    add_chat_arguments(chat_parser)
    models = commands.add_parser("models", parents=common(), help="list the available models")
    models.add_argument("--embedding", action="store_true", help="list embedding models instead of chat models")
    embed_parser = commands.add_parser("embed", parents=common(), help="embed each line of a file, writing JSONL")
    add_embed_arguments(embed_parser)
    return parser, {"chat": chat_parser, "models": models, "embed": embed_parser}


async def _models(args: argparse.Namespace, out: IO[str]) -> None:
    async with async_client(args) as client:
        if args.embedding:
            ids = [m.id for m in (await client.ai.openai.embeddings.list_embedding_models()).data]
        else:
            ids = [m.id for m in (await client.ai.openai.list_models()).data]
    out.write("".join(f"{model_id}\n" for model_id in ids))


_COMMANDS: dict[str, Callable[[argparse.Namespace, IO[str]], Coroutine[Any, Any, None]]] = {
    "chat": chat,
    "models": _models,
    "embed": embed,
}


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser, commands = _parser()
    args, extras = parser.parse_known_args(argv)
    if extras:
        commands[args.command].error(f"unrecognized arguments: {' '.join(extras)}")  # the command's own usage
    for name, default in _COMMON_DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, default)
    return args


def _os_error(exc: OSError) -> str:
    where = f" ({exc.filename})" if exc.filename else ""
    return f"error: {exc.strerror or exc}{where}"


def _run(args: argparse.Namespace) -> int:
    if args.command == "chat" and args.interactive:
        return interactive_chat(args, sys.stdout)
    asyncio.run(_COMMANDS[args.command](args, sys.stdout))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: the process's arguments); return the exit code."""
    args = _parse(argv)
    try:
        return _run(args)
    except KeyboardInterrupt:
        if args.command == "embed" and getattr(args, "output", None):
            print_error(
                f"interrupted: the finished rows are in {args.output}; the same command with --resume carries on."
            )
        return EXIT_INTERRUPTED
    except UsageError as exc:
        print_error(str(exc))
        return EXIT_USAGE
    except CommandFailed as exc:
        print_error(str(exc))
        return EXIT_ERROR
    except TelnyxError as exc:
        print_error(describe(exc))
        return EXIT_ERROR
    except BrokenPipeError:
        # The reader went away (e.g. piped into `head`): not an error worth a traceback.
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return EXIT_ERROR
    except OSError as exc:  # a full disk, a vanished output directory: one line, not a traceback
        print_error(_os_error(exc))
        return EXIT_ERROR
