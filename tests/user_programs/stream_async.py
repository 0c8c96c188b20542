"""Stream a reply to the terminal as it is written, then print how long it was."""

import asyncio

from telnyx_ai import AsyncTelnyx


async def main() -> None:
    async with AsyncTelnyx() as client:
        stream = await client.ai.openai.chat.create_completion(
            messages=[{"role": "user", "content": "Write a haiku about packets."}],
            stream=True,
        )
        parts: list[str] = []
        async with stream:
            async for chunk in stream:
                if not chunk.choices:
                    continue
                text = chunk.choices[0].delta.content or ""
                parts.append(text)
                print(text, end="", flush=True)
        print()
        print(len("".join(parts)), "characters")


if __name__ == "__main__":
    asyncio.run(main())
