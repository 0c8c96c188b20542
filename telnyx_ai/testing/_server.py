"""`MockServer`: the emulator's lifecycle, request recording, routing, and the points where faults act.

The server knows no fault by name: it calls a fault's hooks (`Fault.before_handler`, `Fault.on_body`)
and the stream writer calls the rest.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import threading
from collections import Counter
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self, cast
from urllib.parse import unquote

import aiohttp
import msgspec
from aiohttp import web
from multidict import CIMultiDictProxy

from . import _assistant_handlers, _handlers, _media_handlers, _mission_handlers, _protocol_handlers
from ._faults import Fault, Injection
from ._fixtures import SEEDED_CONVERSATION_IDS, assistant_test
from ._idempotency import IdempotencyStore
from ._plan import FaultPlan
from ._rate_limit import RateLimiter
from ._records import Call, Handler, RecordedRequest, note_disconnect
from ._responses import telnyx_error
from ._state import Base64Mode, EmulatorState, StreamConfig
from ._webhooks import WebhookSigner, webhook_event

__all__ = ["MockServer"]


# Each registers its routes in _handlers.ROUTES when imported.
ROUTE_MODULES = (_handlers, _media_handlers, _assistant_handlers, _mission_handlers, _protocol_handlers)


def _compile(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    pattern = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/]+)" for i, part in enumerate(parts))
    return re.compile(f"^{pattern}$")


def _wants_stream(body: bytes) -> bool:
    if b'"stream"' not in body:
        return False
    try:
        decoded: object = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return False
    return isinstance(decoded, dict) and cast("dict[str, object]", decoded).get("stream") is True


def _authorized(request: web.Request) -> bool:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(token.strip())


def _reset_by_fault(record: RecordedRequest, request: web.Request, response: web.StreamResponse) -> bool:
    """True when the request's fault cut the connection before any of ``response`` went out (no status was sent)."""
    transport = request.transport
    return record.fault is not None and not response.prepared and (transport is None or transport.is_closing())


class MockServer:
    """A local emulator of the Telnyx AI API, served over real HTTP on 127.0.0.1.

    ``async with MockServer() as server:`` inside an event loop, or
    ``with MockServer.in_thread() as server:`` from synchronous code. Point a client at
    ``server.url``; the server records every request and can be told to misbehave
    (`inject`, `set_fault_rates`) or to shape its event streams (`stream`).
    """

    requests: list[RecordedRequest]
    """Every request received, in arrival order."""
    in_flight: int
    """Requests being answered right now."""
    peak_concurrency: int
    """The most requests ever in flight at once."""
    served: int
    """Requests answered without a fault (errors such as 401 and 404 included)."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        stream: StreamConfig | None = None,
        tests: int = 5,
        require_auth: bool = True,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """Configure the emulator; nothing listens until it is started.

        ``port=0`` picks a free port. ``tests`` is how many assistant tests are seeded.
        ``require_auth=False`` accepts requests without a bearer token. With ``ssl_context`` (a
        server context holding a certificate) it serves HTTPS, to test a client's ``ssl`` setting.
        """
        self.host = host
        self.port = port
        self.require_auth = require_auth
        self.ssl_context = ssl_context
        self._state = EmulatorState(stream=stream or StreamConfig())
        self._routes: list[tuple[str, str, re.Pattern[str], Handler]] = []
        for method, path, handler in _handlers.ROUTES:
            self.add_route(method, path, handler)
        self._plan = FaultPlan()
        self._webhook_signer: WebhookSigner | None = None
        self.idempotency = IdempotencyStore()
        """Answers kept by ``Idempotency-Key``: a repeated key is answered from here, never acted on twice."""
        self._rate_limiter: RateLimiter | None = None
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._request_ids: dict[int, str] = {}  # id(request) -> x-request-id, while it is being answered
        self._thread: threading.Thread | None = None
        self._thread_loop: asyncio.AbstractEventLoop | None = None
        self.requests = []
        self._reset_counters()
        self._seed_conversations()
        self.seed_tests(tests)

    # -- shared state ------------------------------------------------------------------------

    @property
    def state(self) -> EmulatorState:
        """The data handlers see as `Call.state`; the properties below are views of it."""
        return self._state

    @property
    def stream(self) -> StreamConfig:
        """How event streams are written; replace it or change its fields at any time."""
        return self._state.stream

    @stream.setter
    def stream(self, config: StreamConfig) -> None:
        self._state.stream = config

    @property
    def conversations(self) -> dict[str, dict[str, Any]]:
        """Stored conversations by id (two are seeded, see ``SEEDED_CONVERSATION_IDS``)."""
        return self._state.conversations

    @conversations.setter
    def conversations(self, conversations: dict[str, dict[str, Any]]) -> None:
        self._state.conversations = conversations

    @property
    def assistant_tests(self) -> list[dict[str, Any]]:
        """What ``GET /ai/assistants/tests`` pages through (see `seed_tests`)."""
        return self._state.assistant_tests

    @assistant_tests.setter
    def assistant_tests(self, tests: list[dict[str, Any]]) -> None:
        self._state.assistant_tests = tests

    @property
    def base64(self) -> Base64Mode:
        """What ``POST /ai/openai/embeddings`` does with ``encoding_format: "base64"``: ``"honour"`` it
        (base64 of little-endian float32, OpenAI's format), ``"ignore"`` it (floats) or ``"reject"`` it (422)."""
        return self._state.base64

    @base64.setter
    def base64(self, mode: Base64Mode) -> None:
        if mode not in ("honour", "ignore", "reject"):
            raise ValueError(f"base64 must be 'honour', 'ignore' or 'reject', got {mode!r}.")
        self._state.base64 = mode

    @property
    def disconnects(self) -> int:
        """Clients that went away before their response was complete (a stream closed early, a timeout)."""
        return self._state.disconnects

    @disconnects.setter
    def disconnects(self, count: int) -> None:
        self._state.disconnects = count

    # -- configuration -----------------------------------------------------------------------

    def add_route(self, method: str, path: str, handler: Handler) -> None:
        """Serve ``method path`` (``{name}`` marks a path parameter) with ``handler``; the newest route wins."""
        self._routes.insert(0, (method.upper(), path, _compile(path), handler))

    def seed_tests(self, count: int) -> None:
        """Replace the assistant tests with ``count`` generated ones."""
        self._state.assistant_tests = [assistant_test(i) for i in range(count)]

    def _seed_conversations(self) -> None:
        for number, conversation_id in enumerate(SEEDED_CONVERSATION_IDS, 1):
            self._state.conversations[conversation_id] = {
                "id": conversation_id,
                "name": f"Seeded conversation {number}",
                "created_at": "2025-04-15T13:07:28.764Z",
                "last_message_at": "2025-04-15T13:09:02.120Z",
                "metadata": {"telnyx_conversation_channel": "web_chat", "assistant_id": "assistant-emulator"},
            }

    # -- faults --------------------------------------------------------------------------

    def inject(self, fault: Fault, *, times: int = 1, path: str | None = None, method: str | None = None) -> Injection:
        """Act out ``fault`` on the next ``times`` requests matching ``path`` and ``method``.

        ``path`` is a concrete path or a route template such as ``/ai/conversations/{conversation_id}``.
        Stream-only faults wait for a streaming request. Queued faults apply before random ones.
        """
        return self._plan.inject(fault, times=times, path=path, method=method)

    def set_fault_rates(
        self,
        rates: Mapping[Any, float],
        *,
        seed: int | None = None,
        path: str | None = None,
        method: str | None = None,
    ) -> None:
        """Give each request the chance ``rate`` of each fault; rates sum to at most 1.

        Keys are `Fault` values or kind names (``"status"`` means a 503, see `Fault.of_kind`).

        ``seed`` makes the sequence of faults repeatable; an empty mapping turns random faults off.
        """
        self._plan.set_rates(rates, seed=seed, path=path, method=method)

    def clear_faults(self) -> None:
        """Drop queued faults and random rates, and zero `fault_counts`."""
        self._plan.clear()

    @property
    def fault_counts(self) -> Counter[str]:
        """How many requests got each kind of fault, by kind name (``fault_counts["status"]``)."""
        return self._plan.counts

    @property
    def pending_faults(self) -> list[Injection]:
        """Queued faults not yet used up."""
        return list(self._plan.injections)

    # -- rate limit ------------------------------------------------------------------------

    def set_rate_limit(
        self,
        rate: float,
        *,
        burst: int = 10,
        latency: float = 0.0,
        retry_after: float | None = 1.0,
        headers: bool = True,
        path: str | None = None,
    ) -> RateLimiter:
        """Play a rate-limited API: a token bucket of ``burst`` requests refilled at ``rate`` per second.

        Refused requests get a 429 at once (``Retry-After: retry_after`` unless None); accepted ones
        are answered after ``latency`` seconds. ``headers`` adds ``x-ratelimit-*`` to every answer.
        ``path`` limits one path only. Returns the `RateLimiter`: its ``set_rate`` changes the rate
        while a job runs, and it counts what it accepted and refused, over time.
        """
        self._rate_limiter = RateLimiter(
            rate, burst=burst, latency=latency, retry_after=retry_after, headers=headers, path=path
        )
        return self._rate_limiter

    @property
    def rate_limit(self) -> RateLimiter | None:
        """The rate limit in force (see `set_rate_limit`), or None."""
        return self._rate_limiter

    def clear_rate_limit(self) -> None:
        """Answer at full speed again."""
        self._rate_limiter = None

    # -- webhooks ----------------------------------------------------------------------------

    @property
    def webhook_signer(self) -> WebhookSigner:
        """The test key pair this server signs webhooks with; give ``.public_key`` to the app under test."""
        if self._webhook_signer is None:
            self._webhook_signer = WebhookSigner()
        return self._webhook_signer

    async def send_webhook(
        self, url: str, event_type: str, payload: dict[str, Any] | None = None, *, timestamp: int | None = None
    ) -> tuple[int, bytes]:
        """POST a signed ``event_type`` delivery (built by `webhook_event`) to ``url``; its status and body.

        ``timestamp`` signs it as if sent then (an old one tests the endpoint's replay check).
        """
        body = webhook_event(event_type, payload)
        headers = {"Content-Type": "application/json", **self.webhook_signer.headers(body, timestamp=timestamp)}
        async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as response:
            return response.status, await response.read()

    # -- recordings ------------------------------------------------------------------------

    def requests_to(self, path: str, method: str | None = None) -> list[RecordedRequest]:
        """The recorded requests for one path (and method)."""
        return [r for r in self.requests if r.path == path and (method is None or r.method == method.upper())]

    def reset(self) -> None:
        """Forget recorded requests and counters, and drop all faults and the rate limit; data and `stream` stay."""
        self.requests = []
        self._plan.clear()
        self._rate_limiter = None
        self.idempotency.clear()
        self._reset_counters()

    def _reset_counters(self) -> None:
        self.in_flight = 0 if not self._tasks else self.in_flight
        self.peak_concurrency = self.in_flight
        self._state.disconnects = 0
        self.served = 0

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL to give a client, e.g. ``http://127.0.0.1:54321`` (``https://`` with an ``ssl_context``)."""
        if self._runner is None:
            raise RuntimeError("The MockServer is not running: use `async with MockServer()` or call start().")
        return f"{'https' if self.ssl_context else 'http'}://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._runner is not None

    async def start(self) -> None:
        """Start listening in the running event loop."""
        if self._runner is not None:
            raise RuntimeError("The MockServer is already running.")
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        app.on_response_prepare.append(self._add_request_id)
        app.on_response_prepare.append(self._add_rate_limit_headers)
        runner = web.AppRunner(
            app, handle_signals=False, access_log=None, handler_cancellation=True, shutdown_timeout=0.5
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, ssl_context=self.ssl_context)
        await site.start()
        self.port = runner.addresses[0][1]  # the port bound, when port=0 let the OS pick one
        self._state.closing = False
        self._runner = runner

    async def close(self) -> None:
        """Stop listening and end every open response (stalled ones included)."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._state.closing = True
        for task in list(self._tasks):
            task.cancel()
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @classmethod
    def in_thread(
        cls,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        stream: StreamConfig | None = None,
        tests: int = 5,
        require_auth: bool = True,
        ssl_context: ssl.SSLContext | None = None,
    ) -> Self:
        """A server for synchronous code: ``with MockServer.in_thread() as server:`` runs it in a daemon thread.

        (Any `MockServer` can be used that way; this spelling says so at the call site.)
        """
        return cls(host=host, port=port, stream=stream, tests=tests, require_auth=require_auth, ssl_context=ssl_context)

    def start_in_thread(self) -> None:
        """Run the server on its own event loop in a daemon thread; returns once it listens."""
        if self._thread is not None:
            raise RuntimeError("The MockServer is already running in a thread.")
        started = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:
                failure.append(exc)
                started.set()
                loop.close()
                return
            started.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self.close())
                loop.close()

        self._thread_loop = loop
        self._thread = threading.Thread(target=run, name="telnyx-ai-mock-server", daemon=True)
        self._thread.start()
        started.wait()
        if failure:
            self._thread = self._thread_loop = None
            raise failure[0]

    def stop(self, timeout: float = 5.0) -> None:
        """Stop a server started with `start_in_thread` and join its thread."""
        thread, loop = self._thread, self._thread_loop
        if thread is None or loop is None:
            return
        self._thread = self._thread_loop = None
        if not loop.is_closed():
            asyncio.run_coroutine_threadsafe(self.close(), loop).result(timeout)
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)

    def __enter__(self) -> Self:
        self.start_in_thread()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = f"at {self.url}" if self._runner is not None else "(stopped)"
        return f"<MockServer {where}, {len(self.requests)} requests>"

    # -- answering -------------------------------------------------------------------------

    def _match(self, method: str, raw_path: str) -> tuple[str, Handler, dict[str, str]] | list[str] | None:
        allowed: list[str] = []
        for route_method, template, pattern, handler in self._routes:
            found = pattern.match(raw_path)
            if found is None:
                continue
            if route_method != method:
                allowed.append(route_method)
                continue
            return template, handler, {k: unquote(v) for k, v in found.groupdict().items()}
        return allowed or None

    async def _add_request_id(self, request: web.Request, response: web.StreamResponse) -> None:
        request_id = self._request_ids.get(id(request))
        if request_id is not None:
            response.headers["x-request-id"] = request_id

    async def _add_rate_limit_headers(self, request: web.Request, response: web.StreamResponse) -> None:
        limiter = self._rate_limiter
        wanted = limiter is not None and limiter.headers and limiter.applies_to(request.path)
        if wanted and limiter is not None and "x-ratelimit-remaining" not in response.headers:
            response.headers.update(limiter.header_values())

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            query_all={key: request.query.getall(key) for key in request.query},
            headers=CIMultiDictProxy(request.headers.copy()),
            body=body,
        )
        record.request_id = f"req-emulator-{len(self.requests) + 1:06d}"
        self._request_ids[id(request)] = record.request_id
        self.requests.append(record)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self.in_flight += 1
        self.peak_concurrency = max(self.peak_concurrency, self.in_flight)
        try:
            response = await self._answer(request, record)
            if not response.prepared:  # streamed answers got theirs in _add_request_id
                response.headers["x-request-id"] = record.request_id
            if record.status is None and not _reset_by_fault(record, request, response):
                record.status = response.status
            return response
        except asyncio.CancelledError:
            note_disconnect(self._state, record)
            raise
        except ConnectionError:
            note_disconnect(self._state, record)
            return web.Response(status=499)
        finally:
            self.in_flight -= 1
            self._request_ids.pop(id(request), None)
            if task is not None:
                self._tasks.discard(task)

    async def _answer(self, request: web.Request, record: RecordedRequest) -> web.StreamResponse:
        if self.require_auth and not _authorized(request):
            self.served += 1
            return telnyx_error(
                401,
                "Send your API key as `Authorization: Bearer <key>`.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        found = self._match(request.method, request.rel_url.raw_path)
        if not isinstance(found, tuple):
            self.served += 1
            if found:
                return telnyx_error(405, f"{request.method} is not allowed here; use {', '.join(found)}.")
            return telnyx_error(404, f"The emulator has no route for {request.method} {request.path}.")
        template, handler, params = found
        limiter = self._rate_limiter
        if limiter is not None and limiter.applies_to(request.path):
            if not limiter.take():
                self.served += 1
                return limiter.refusal()
            if limiter.latency:
                await asyncio.sleep(limiter.latency)
        key = self.idempotency.key_of(request)
        if key is None:
            return (await self._handle(request, record, template, handler, params))[0]
        replay = self.idempotency.before(key, request, record.body)
        if replay is not None:  # answered from the store (faults still apply on the way out)
            return (await self._handle(request, record, template, handler, params, replay))[0]
        answer: web.StreamResponse | None = None
        try:
            sent, answer = await self._handle(request, record, template, handler, params)
            return sent
        finally:  # the handler's whole 2xx answer is kept, even when a fault cut it on the way out
            self.idempotency.after(key, answer)

    async def _handle(
        self,
        request: web.Request,
        record: RecordedRequest,
        template: str,
        handler: Handler,
        params: dict[str, str],
        replay: web.Response | None = None,
    ) -> tuple[web.StreamResponse, web.StreamResponse | None]:
        """What goes out, and the handler's own answer (None when a fault answered instead of it).

        A ``replay`` (the answer kept for a repeated idempotency key) stands in for the handler.
        """
        streaming = _wants_stream(record.body)
        fault = self._plan.take(request.method, request.path, template, streaming=streaming)
        record.fault = fault
        if fault is None:
            self.served += 1
        else:
            instead = await fault.before_handler(request)
            if instead is not None:
                return instead, None
        response = (
            replay
            if replay is not None
            else await handler(Call(self._state, request, record, params, fault, streaming))
        )
        if fault is not None and isinstance(response, web.Response) and not response.prepared:
            record.status = response.status  # recorded now: a slow or cut body may never finish
            return await fault.on_body(request, response), response
        return response, response
