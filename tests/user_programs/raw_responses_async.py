"""Read the request id and rate-limit headers next to the parsed reply, plain and streamed."""

import asyncio

from telnyx_ai import AsyncTelnyx
from telnyx_ai.types.chat import ChatMessageParam


async def main() -> None:
    async with AsyncTelnyx() as client:
        models = await client.with_raw_response(client.ai.retrieve_models)
        print(models.status_code, models.headers.get("x-request-id"), [m.id for m in models.parsed.data][:3])

        raw = await client.call_with_raw_response(
            lambda c: c.ai.openai.chat.create_completion(messages=[{"role": "user", "content": "Hi"}], temperature=0.0)
        )
        reply = raw.parse()
        print(raw.status_code, raw.retries_taken, reply.id, reply.choices[0].message.content)

        streamed = await client.call_with_raw_response(
            lambda c: c.ai.openai.chat.create_completion(messages=[{"role": "user", "content": "Hi"}], stream=True)
        )
        print(streamed.status_code, streamed.headers.get("content-type"))
        async with streamed.parsed as stream:
            text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices])
        print(text)

        messages: list[ChatMessageParam] = [{"role": "user", "content": "Hi again"}]
        again = await client.with_raw_response(client.ai.openai.chat.create_completion, messages=messages, stream=True)
        async with again.parsed as stream:
            print(again.headers.get("x-request-id"), len([chunk async for chunk in stream]), "chunks")


if __name__ == "__main__":
    asyncio.run(main())
