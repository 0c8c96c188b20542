"""The same tasks from a plain script with the blocking client: chat, stream, tools, embeddings, raw."""

import json

from telnyx_ai import APIError, Telnyx
from telnyx_ai.types.chat import ChatMessageParam

MODEL = "thenlper/gte-large"


def main() -> None:
    with Telnyx() as client:
        reply = client.ai.openai.chat.create_completion(messages=[{"role": "user", "content": "Say hello in French."}])
        print(reply.id, reply.choices[0].message.content)

        with client.ai.openai.chat.create_completion(
            messages=[{"role": "user", "content": "Count."}], stream=True
        ) as stream:
            print("".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices))

        messages: list[ChatMessageParam] = [{"role": "user", "content": "Weather in Oslo?"}]
        answer = client.ai.openai.chat.create_completion(
            messages=messages,
            tools=[{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
            tool_choice="auto",
        )
        for call in answer.choices[0].message.tool_calls or []:
            print(call.id, call.function.name, json.loads(call.function.arguments))

        vectors = client.ai.openai.embeddings.embed_many(["a", "b", "c"], model=MODEL)
        single = client.ai.openai.embeddings.create_embeddings(input="a", model=MODEL)
        print(len(vectors), vectors[0][:2] == single.data[0].embedding[:2])

        raw = client.with_raw_response(client.ai.openai.chat.create_completion, messages=messages, stream=True)
        with raw.parsed as chunks:
            print(raw.status_code, sum(1 for _ in chunks), "chunks")
        models = client.call_with_raw_response(lambda c: c.ai.openai.embeddings.list_embedding_models())
        print(models.headers.get("x-request-id"), [m.id for m in models.parsed.data])

        try:
            client.ai.assistants.retrieve("no-such-assistant")
        except APIError as exc:
            print("error:", type(exc).__name__)


if __name__ == "__main__":
    main()
