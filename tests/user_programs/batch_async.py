"""Embed a corpus in batches: all at once, then streamed as batches finish."""

import asyncio
from collections.abc import Iterator
from contextlib import aclosing

from telnyx_ai import AsyncTelnyx, EmbedManyError

MODEL = "thenlper/gte-large"


def corpus(size: int) -> Iterator[str]:
    for number in range(size):
        yield f"document number {number}"


async def main() -> None:
    async with AsyncTelnyx() as client:
        embeddings = client.ai.openai.embeddings
        try:
            vectors = await embeddings.embed_many(list(corpus(50)), model=MODEL, batch_size=16, concurrency=4)
        except EmbedManyError as exc:
            print("failed:", exc)
            return
        print(len(vectors), "vectors of", len(vectors[0]))

        norms: dict[int, float] = {}
        async with aclosing(embeddings.embed_many_iter(corpus(30), model=MODEL, batch_size=8)) as pairs:
            async for index, vector in pairs:
                norms[index] = sum(x * x for x in vector) ** 0.5
        print(len(norms), "streamed, first norm", round(norms[0], 3))


if __name__ == "__main__":
    asyncio.run(main())
