"""A FastAPI service on the Telnyx AI API: SDK objects returned as they are, and replies relayed as they stream.

    uvicorn examples.fastapi_app.app:app                 # the real API: needs $TELNYX_API_KEY
    python examples/fastapi_app/app.py --local           # the built-in emulator, no key needed

The app owns one `AsyncTelnyx` for its lifetime (its lifespan), handed to routes by a dependency.
`GET /` is the chat page of examples/web_chat, which reads `GET /chat` with the browser's EventSource.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel
from starlette.background import BackgroundTask

from telnyx_ai import SSE_RELAY_HEADERS, APIError, AsyncTelnyx
from telnyx_ai.types.chat import ChatCompletion, ChatMessageParam, CompletionUsage
from telnyx_ai.types.models import ModelsResponse

PAGE = Path(__file__).resolve().parents[1] / "web_chat" / "static" / "index.html"


class Question(BaseModel):
    message: str


class Answer(BaseModel):
    """A reply of this service's own shape, with an SDK type as one of its fields."""

    text: str
    usage: CompletionUsage | None


def create_app(*, client: AsyncTelnyx | None = None) -> FastAPI:
    """The app. ``client`` is used as it is (the caller closes it); without one, the app makes its own
    from ``$TELNYX_API_KEY`` (and ``$TELNYX_BASE_URL``) when it starts and closes it when it stops."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncGenerator[None]:
        if client is not None:
            app.state.telnyx = client
            yield
            return
        async with AsyncTelnyx() as own:
            app.state.telnyx = own
            yield

    app = FastAPI(title="telnyx_ai on FastAPI", lifespan=lifespan)
    app.get("/", include_in_schema=False)(index)
    app.post("/reply")(reply)
    app.get("/models", response_model=ModelsResponse)(models)
    app.post("/answer")(answer)
    app.get("/chat")(chat)
    return app


def telnyx(request: Request) -> AsyncTelnyx:
    """The app's client, for routes to depend on."""
    client: AsyncTelnyx = request.app.state.telnyx
    return client


Telnyx = Annotated[AsyncTelnyx, Depends(telnyx)]


def _messages(text: str) -> list[ChatMessageParam]:
    return [{"role": "user", "content": text}]


async def index() -> FileResponse:
    return FileResponse(PAGE)


async def reply(question: Question, client: Telnyx) -> ChatCompletion:
    """The SDK's reply as it is: FastAPI writes its JSON and documents its fields."""
    return await client.ai.openai.chat.create_completion(messages=_messages(question.message))


async def models(client: Telnyx) -> ModelsResponse:
    """The models list, through ``response_model``."""
    return await client.ai.retrieve_models()


async def answer(question: Question, client: Telnyx) -> Answer:
    """This service's own model, holding an SDK type."""
    completion = await client.ai.openai.chat.create_completion(messages=_messages(question.message))
    return Answer(text=completion.choices[0].message.content or "", usage=completion.usage)


async def chat(message: str, client: Telnyx) -> StreamingResponse:
    """The reply relayed as Server-Sent Events: the API's chunks, pings through silences, one last frame."""
    try:
        stream = await client.ai.openai.chat.create_completion(messages=_messages(message), stream=True)
    except APIError as exc:
        # Nothing streamed yet: a plain HTTP error, which EventSource reports once and does not retry.
        raise HTTPException(status_code=502, detail=exc.message) from None
    # A browser that goes away cancels the relay, which closes the upstream stream; the background
    # task closes it too once the response is over, whatever ended it.
    return StreamingResponse(stream.to_sse(), headers=SSE_RELAY_HEADERS, background=BackgroundTask(stream.close))


app = create_app()
"""What ``uvicorn examples.fastapi_app.app:app`` serves."""


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--local", action="store_true", help="answer from the built-in emulator")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    if not args.local:
        uvicorn.run(app, host="127.0.0.1", port=args.port)
        return
    from telnyx_ai.testing import MockServer, StreamConfig

    with MockServer.in_thread() as server:
        server.stream = StreamConfig(delay=0.05)  # slow enough to watch the tokens arrive
        os.environ.update(TELNYX_API_KEY="local", TELNYX_BASE_URL=server.url)  # read by the app's own client
        uvicorn.run(app, host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
