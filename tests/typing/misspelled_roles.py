"""Checked by pyright and mypy (tests/test_user_programs.py), never run: a wrong message is a type error.

Six errors expected, one per marked line: a misspelled role, a tool message without its
``tool_call_id``, an assistant tool call without its ``id``, a content part of an unknown type, a
misspelled ``tool_choice`` and a tool of an unknown type. The unmarked messages are all valid.
"""

from telnyx_ai import AsyncTelnyx
from telnyx_ai.types.chat import ChatCompletionToolParam, ChatMessageParam, FunctionCallParam

fn: FunctionCallParam = {"name": "f", "arguments": "{}"}


async def wrong(client: AsyncTelnyx) -> None:
    await client.ai.chat.create_completion(messages=[{"role": "usr", "content": "Hi"}])  # error
    fine: list[ChatMessageParam] = [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [{"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": "u"}],
        },
        {
            "role": "assistant",
            "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": ""}}],
        },
        {"role": "tool", "tool_call_id": "c", "content": "42"},
    ]
    tool: ChatMessageParam = {"role": "tool", "content": "42"}  # error
    call: ChatMessageParam = {"role": "assistant", "tool_calls": [{"type": "function", "function": fn}]}  # error
    part: ChatMessageParam = {"role": "user", "content": [{"type": "txt", "text": "Hi"}]}  # error
    await client.ai.chat.create_completion(messages=fine, tool_choice="requried")  # error
    tools: list[ChatCompletionToolParam] = [{"type": "functon", "function": {"name": "f"}}]  # error
    print(tool, call, part, tools)
