"""A chat page whose replies stream from the Telnyx AI API through this server to the browser.

    python examples/web_chat/app.py             # the real API: needs $TELNYX_API_KEY
    python examples/web_chat/app.py --local     # the built-in emulator, no key needed

The server owns one `AsyncTelnyx` for its whole life and relays each reply with `to_sse()`;
the page (static/index.html) reads it with the browser's EventSource. A switch on the page picks the
wire format: OpenAI chat completions (``/chat?format=openai``) or Anthropic Messages
(``/chat?format=anthropic``), each relayed in its own framing.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import aclosing
from pathlib import Path
from typing import Any

from aiohttp import web

from telnyx_ai import SSE_RELAY_HEADERS, APIError, AsyncStream, AsyncTelnyx

STATIC = Path(__file__).resolve().with_name("static")
CLIENT = web.AppKey("client", AsyncTelnyx)
ANTHROPIC_MODEL = "Qwen/Qwen3-235B-A22B"


async def open_reply(client: AsyncTelnyx, message: str, wire_format: str) -> AsyncStream[Any]:
    """The reply to ``message`` as a stream of OpenAI chat chunks or of Anthropic Messages events."""
    if wire_format == "anthropic":
        return await client.ai.anthropic.v1.messages(
            model=ANTHROPIC_MODEL, max_tokens=1024, messages=[{"role": "user", "content": message}], stream=True
        )
    return await client.ai.openai.chat.create_completion(messages=[{"role": "user", "content": message}], stream=True)


def make_app(*, api_key: str | None = None, base_url: str | None = None) -> web.Application:
    """The web app: ``GET /`` is the page, ``GET /chat?message=...&format=openai|anthropic`` the reply as
    Server-Sent Events."""
    app = web.Application()

    async def client_lifetime(app: web.Application) -> AsyncIterator[None]:
        async with AsyncTelnyx(api_key=api_key, base_url=base_url) as client:
            app[CLIENT] = client
            yield

    app.cleanup_ctx.append(client_lifetime)
    app.router.add_get("/", index)
    app.router.add_get("/chat", chat)
    return app


async def index(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "index.html")


async def chat(request: web.Request) -> web.StreamResponse:
    message = request.query.get("message", "")
    wire_format = request.query.get("format", "openai")
    if wire_format not in ("openai", "anthropic"):
        return web.json_response({"error": {"message": "format must be openai or anthropic"}}, status=400)
    client = request.app[CLIENT]
    try:
        stream = await open_reply(client, message, wire_format)
    except APIError as exc:
        # Nothing streamed yet: a plain HTTP error, which EventSource reports once and does not retry.
        return web.json_response({"error": {"message": exc.message}}, status=502)
    response = web.StreamResponse(headers=SSE_RELAY_HEADERS)
    await response.prepare(request)
    try:
        async with stream, aclosing(stream.to_sse()) as frames:  # leaving either closes upstream
            async for frame in frames:
                await response.write(frame)
    except ConnectionResetError:
        pass  # the browser went away; upstream is already closed
    return response


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--local", action="store_true", help="answer from the built-in emulator")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    if args.local:
        from telnyx_ai.testing import MockServer, StreamConfig

        with MockServer.in_thread() as server:
            server.stream = StreamConfig(delay=0.05)  # slow enough to watch the tokens arrive
            serve(make_app(api_key="local", base_url=server.url), args.port)
    else:
        serve(make_app(), args.port)


def serve(app: web.Application, port: int) -> None:
    # handler_cancellation: a browser that goes away cancels its handler, which closes upstream at once.
    web.run_app(app, host="127.0.0.1", port=port, handler_cancellation=True)


if __name__ == "__main__":
    main()
