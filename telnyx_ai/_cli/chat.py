"""``telnyx-ai chat``: one streamed reply, or with ``-i`` a conversation in the terminal.

The prompt comes from the arguments, or from stdin when there are none (or it is ``-``). The
interactive mode keeps the history, streams each reply, and runs on the blocking client so the
terminal's own thread reads the keyboard: Ctrl-C during a reply stops that reply (the connection
is dropped) and the conversation goes on; Ctrl-D at the prompt ends it.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import IO, TypedDict

from .._errors import TelnyxError
from .._types import NOT_GIVEN, NotGiven
from ..types.chat import ChatCompletion, ChatMessageParam
from .common import EXIT_INTERRUPTED, UsageError, async_client, describe, print_error, sync_client

__all__ = ["add_chat_arguments", "chat", "interactive_chat"]

_PROMPT = "you> "


def add_chat_arguments(chat: argparse.ArgumentParser) -> None:
    """The ``chat`` command's own options."""
    chat.add_argument(
        "prompt", nargs="*", help="the message to send (words are joined by spaces; none or '-': read stdin)"
    )
    chat.add_argument("-i", "--interactive", action="store_true", help="a conversation: one reply per line you type")
    chat.add_argument("--model", help="chat model (see `telnyx-ai models`)")
    chat.add_argument("--system", help="a system prompt sent before the conversation")
    chat.add_argument("--temperature", type=float, help="sampling temperature (e.g. 0.2 for steadier answers)")
    chat.add_argument("--max-tokens", type=int, help="the longest reply, in tokens")
    chat.add_argument("--json", action="store_true", help="print the whole response as one JSON object instead")


class _Options(TypedDict):
    """The completion's keywords from the flags; those left out are NOT_GIVEN, so not sent."""

    model: str | NotGiven
    temperature: float | NotGiven
    max_tokens: int | NotGiven


def _options(args: argparse.Namespace) -> _Options:
    return {
        "model": args.model or NOT_GIVEN,
        "temperature": NOT_GIVEN if args.temperature is None else args.temperature,
        "max_tokens": NOT_GIVEN if args.max_tokens is None else args.max_tokens,
    }


def _first_messages(args: argparse.Namespace) -> list[ChatMessageParam]:
    return [{"role": "system", "content": args.system}] if args.system else []


def _prompt(args: argparse.Namespace) -> str:
    words: list[str] = args.prompt
    if words and words != ["-"]:
        return " ".join(words)
    if sys.stdin.isatty() and not words:
        raise UsageError(
            'error: give a prompt (telnyx-ai chat "Hello"), pipe one on stdin, or use -i for a conversation.'
        )
    text = sys.stdin.read().strip()
    if not text:
        raise UsageError("error: the prompt read from stdin is empty.")
    return text


def _as_json(completion: ChatCompletion, model: str | None) -> str:
    usage = completion.usage
    result = {
        "id": completion.id,
        "object": "chat.completion",
        "created": completion.created,
        "model": completion.model or model,
        "choices": [
            {
                "index": choice.index,
                "message": {"role": choice.message.role, "content": choice.message.content},
                "finish_reason": choice.finish_reason,
            }
            for choice in completion.choices
        ],
        "usage": usage.to_dict() if usage is not None else None,
    }
    return json.dumps(result, ensure_ascii=False) + "\n"


async def chat(args: argparse.Namespace, out: IO[str]) -> None:
    """One reply: streamed to ``out`` as it arrives, or with ``--json`` printed whole at the end."""
    messages: list[ChatMessageParam] = [*_first_messages(args), {"role": "user", "content": _prompt(args)}]
    async with async_client(args) as client:
        stream = await client.ai.openai.chat.create_completion(messages=messages, stream=True, **_options(args))
        async with stream:
            if args.json:
                out.write(_as_json(await stream.get_final_completion(), args.model))
                return
            async for text in stream.text_stream:
                out.write(text)
                out.flush()
        out.write("\n")  # before the emulator's summary, so the two never share a line
        out.flush()


def interactive_chat(args: argparse.Namespace, out: IO[str]) -> int:
    """A conversation until Ctrl-D; returns the exit code."""
    if args.prompt or args.json:
        raise UsageError("error: -i takes no prompt and no --json: type each message at the prompt.")
    messages = _first_messages(args)
    with sync_client(args) as client:
        print_error("Chatting; Ctrl-C stops a reply, Ctrl-D ends the conversation.")
        while True:
            try:
                line = input(_PROMPT)
            except EOFError:
                out.write("\n")
                return 0
            except KeyboardInterrupt:
                out.write("\n")
                return EXIT_INTERRUPTED
            if not line.strip():
                continue
            messages.append({"role": "user", "content": line})
            reply: list[str] = []
            try:
                with client.ai.openai.chat.create_completion(
                    messages=messages, stream=True, **_options(args)
                ) as stream:
                    for text in stream.text_stream:
                        reply.append(text)
                        out.write(text)
                        out.flush()
                out.write("\n")
            except KeyboardInterrupt:
                out.write(" [stopped]\n")
            except TelnyxError as exc:
                out.write("\n")
                print_error(describe(exc))
                messages.pop()  # the message got no answer: leave it out of the history
                continue
            # What the model said (all of it, or what arrived before Ctrl-C) stays in the history.
            messages.append({"role": "assistant", "content": "".join(reply)})
