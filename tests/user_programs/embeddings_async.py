"""Embed a query and some documents, rank the documents by cosine similarity."""

import asyncio
import base64
import math
import struct

from telnyx_ai import AsyncTelnyx

MODEL = "thenlper/gte-large"


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def unpack(encoded: str) -> list[float]:
    raw = base64.b64decode(encoded)
    return list(struct.unpack(f"<{len(raw) // 4}f", raw))


async def main() -> None:
    documents = ["SIP sets up calls.", "RTP carries the audio.", "Bread needs yeast."]
    async with AsyncTelnyx() as client:
        query = await client.ai.openai.embeddings.create_embeddings(input="How is audio sent?", model=MODEL)
        docs = await client.ai.openai.embeddings.create_embeddings(input=documents, model=MODEL)
        target = query.data[0].embedding
        ranked = sorted(docs.data, key=lambda item: cosine(target, item.embedding), reverse=True)
        for item in ranked:
            print(f"{cosine(target, item.embedding):.3f} {documents[item.index]}")

        packed = await client.ai.openai.embeddings.create_embeddings(
            input=documents[0], model=MODEL, encoding_format="base64"
        )
        vector = unpack(packed.data[0].embedding)
        print(len(vector), "dimensions, tokens used:", docs.usage.total_tokens + packed.usage.total_tokens)


if __name__ == "__main__":
    asyncio.run(main())
