"""Ask one question, print the answer and what it cost."""

import asyncio

from telnyx_ai import AsyncTelnyx
from telnyx_ai.types.chat import ChatCompletion, ChatMessageParam


def describe(reply: ChatCompletion) -> str:
    tokens = reply.usage.total_tokens if reply.usage else 0
    return f"{reply.id} ({reply.model}, {tokens} tokens)"


async def main() -> None:
    history: list[ChatMessageParam] = [{"role": "system", "content": "Answer in one sentence."}]
    async with AsyncTelnyx() as client:
        for question in ["What is SIP?", "And RTP?"]:
            history.append({"role": "user", "content": question})
            reply = await client.ai.openai.chat.create_completion(
                messages=history, temperature=0.2, max_tokens=200, n=1
            )
            answer = reply.choices[0].message.content or ""
            history.append({"role": "assistant", "content": answer})
            print(describe(reply), answer)
        seen: dict[str, str] = {reply.id: answer}
        print(len(seen), "replies")


if __name__ == "__main__":
    asyncio.run(main())
