"""A support bot's turn: typed messages of every role, a tool it may call, and a streamed answer with usage."""

import asyncio
import json

from telnyx_ai import AsyncTelnyx, tool_result
from telnyx_ai.types.chat import (
    ChatCompletionStreamOptionsParam,
    ChatCompletionToolParam,
    ChatMessageParam,
)

TOOLS: list[ChatCompletionToolParam] = [
    {
        "type": "function",
        "function": {
            "name": "order_status",
            "description": "Where an order is.",
            "parameters": {"type": "object", "properties": {"order": {"type": "string"}}, "required": ["order"]},
        },
    }
]


def order_status(order: str) -> dict[str, str]:
    return {"order": order, "status": "shipped"}


async def main() -> None:
    history: list[ChatMessageParam] = [
        {"role": "system", "content": "You are a support agent. Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Where is my order A-17?"}]},
    ]
    async with AsyncTelnyx() as client:
        first = await client.ai.openai.chat.create_completion(messages=history, tools=TOOLS, tool_choice="required")
        message = first.choices[0].message
        history.append(message.to_param())
        for call in message.tool_calls or []:
            arguments = json.loads(call.function.arguments)
            history.append(tool_result(call, order_status(str(arguments["order"]))))
        history.append({"role": "user", "content": "Thanks! Anything else I should know?"})

        options: ChatCompletionStreamOptionsParam = {"include_usage": True}
        stream = await client.ai.openai.chat.create_completion(
            messages=history, stream=True, extra_body={"stream_options": options}
        )
        async with stream:
            async for text in stream.text_stream:
                print(text, end="", flush=True)
        print()
        final = await stream.get_final_completion()
        if final.usage is not None:
            print("tokens:", final.usage.total_tokens)


if __name__ == "__main__":
    asyncio.run(main())
