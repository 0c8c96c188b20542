"""Let the model call a function, run it, and send the result back for the final answer."""

import asyncio
import json
from typing import Any

from telnyx_ai import AsyncTelnyx
from telnyx_ai.types.chat import ChatCompletionToolParam, ChatMessageParam

TOOLS: list[ChatCompletionToolParam] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The weather in a city.",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]


def get_weather(city: str) -> dict[str, Any]:
    return {"city": city, "forecast": "sunny", "celsius": 21}


async def main() -> None:
    messages: list[ChatMessageParam] = [{"role": "user", "content": "What's the weather in Paris?"}]
    async with AsyncTelnyx() as client:
        reply = await client.ai.openai.chat.create_completion(
            messages=messages,
            tools=TOOLS,
            tool_choice={"type": "function", "function": {"name": "get_weather"}},
        )
        message = reply.choices[0].message
        if not message.tool_calls:
            print("no tool call:", message.content)
            return
        messages.append(message.to_param())  # the assistant message, with its tool calls
        for call in message.tool_calls:
            arguments = json.loads(call.function.arguments)
            result = get_weather(arguments["city"])
            print(f"{call.id}: {call.function.name}({arguments}) -> {result}")
            messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)})
        final = await client.ai.openai.chat.create_completion(messages=messages, tools=TOOLS, tool_choice="none")
        print(final.choices[0].message.content)


if __name__ == "__main__":
    asyncio.run(main())
