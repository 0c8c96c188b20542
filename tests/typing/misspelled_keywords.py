"""Checked by pyright (tests/test_user_programs.py), never run: a misspelled keyword is a type error.

Four errors expected, one per call: ``temprature`` and ``batchsize`` on each client.
"""

from telnyx_ai import AsyncTelnyx, Telnyx


async def typo_async(client: AsyncTelnyx) -> None:
    await client.ai.chat.create_completion(messages=[{"role": "user", "content": "x"}], temprature=0.2)
    await client.ai.openai.embeddings.embed_many(["a"], model="m", batchsize=10)


def typo_sync(client: Telnyx) -> None:
    client.ai.chat.create_completion(messages=[{"role": "user", "content": "x"}], temprature=0.2)
    client.ai.openai.embeddings.embed_many(["a"], model="m", batchsize=10)
