"""Status codes map to exception classes with useful messages; retries follow the policy."""

from __future__ import annotations

import email.utils
import logging
import time

import aiohttp
import pytest
from aioresponses import aioresponses

import telnyx_ai._http.retry as retry_module
from telnyx_ai import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AsyncTelnyx,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from telnyx_ai.testing._fixtures import model_metadata

from .conftest import API_KEY, BASE_URL

MODELS_URL = f"{BASE_URL}/ai/models"
OK = {"data": [model_metadata("m")], "object": "list"}


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record retry waits instead of sleeping through them."""
    recorded: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(retry_module, "_sleep", fake_sleep)
    return recorded


def calls_to(mocked: aioresponses) -> int:
    return sum(len(calls) for calls in mocked.requests.values())


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, InternalServerError),
        (502, InternalServerError),
        (503, InternalServerError),
        (418, APIStatusError),
    ],
)
async def test_each_status_maps_to_its_exception(
    client: AsyncTelnyx, mocked: aioresponses, status: int, cls: type[APIStatusError]
) -> None:
    body = {"errors": [{"code": "10001", "title": "Something failed", "detail": f"detail for {status}"}]}
    mocked.get(MODELS_URL, status=status, payload=body, headers={"x-request-id": "req-123"})
    with pytest.raises(cls) as info:
        await client.ai.retrieve_models()
    err = info.value
    assert type(err) is cls
    assert err.status_code == status
    assert f"Something failed: detail for {status}" in err.message
    assert err.message.startswith(str(status))
    assert err.body == body
    assert err.request_id == "req-123"
    assert err.response is not None and err.response.status == status
    assert (err.method, err.url) == ("GET", MODELS_URL)


async def test_validation_error_detail_list_is_readable(client: AsyncTelnyx, mocked: aioresponses) -> None:
    body = {"detail": [{"loc": ["body", "messages"], "msg": "field required", "type": "missing"}]}
    mocked.get(MODELS_URL, status=422, payload=body)
    with pytest.raises(UnprocessableEntityError, match=r"body\.messages: field required"):
        await client.ai.retrieve_models()


async def test_html_error_page_still_gives_a_useful_message(client: AsyncTelnyx, mocked: aioresponses) -> None:
    page = "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
    mocked.get(MODELS_URL, status=502, body=page, content_type="text/html")
    with pytest.raises(InternalServerError) as info:
        await client.ai.retrieve_models()
    assert info.value.message == "502 Bad Gateway"  # the page's title, not said twice
    assert info.value.body == page


async def test_empty_error_body_names_the_request(client: AsyncTelnyx, mocked: aioresponses) -> None:
    mocked.get(MODELS_URL, status=404, body=b"")
    with pytest.raises(NotFoundError, match=f"404 Not Found from GET {MODELS_URL}"):
        await client.ai.retrieve_models()


async def test_successful_body_of_the_wrong_shape_raises_validation_error(
    client: AsyncTelnyx, mocked: aioresponses
) -> None:
    mocked.get(MODELS_URL, payload={"data": "not a list"})
    with pytest.raises(APIResponseValidationError, match="ModelsResponse") as info:
        await client.ai.retrieve_models()
    assert info.value.status_code == 200


async def test_non_json_success_body_raises_validation_error(client: AsyncTelnyx, mocked: aioresponses) -> None:
    mocked.get(MODELS_URL, body=b"<html>", content_type="text/html")
    with pytest.raises(APIResponseValidationError):
        await client.ai.retrieve_models()


async def test_unknown_fields_are_tolerated(client: AsyncTelnyx, mocked: aioresponses) -> None:
    body = {"data": [{**OK["data"][0], "brand_new": {"x": 1}}], "object": "list", "extra": [1, 2]}  # type: ignore[dict-item]
    mocked.get(MODELS_URL, payload=body)
    result = await client.ai.retrieve_models()
    assert result.data[0].id == "m"
    # Unknown fields are dropped; what the server sent of the known ones round-trips, and the fields it
    # left out appear with their defaults (an OpenAI-compatible reader expects every field).
    dumped = result.to_dict()
    sent = OK["data"][0]
    assert {key: dumped["data"][0][key] for key in sent} == sent and "brand_new" not in dumped["data"][0]
    assert dumped["data"][0]["description"] is None and "extra" not in dumped
    assert '"owned_by":"m"' in result.to_json()


async def test_connection_failure_raises_connection_error(client: AsyncTelnyx, mocked: aioresponses) -> None:
    mocked.get(MODELS_URL, exception=aiohttp.ClientConnectionError("refused"))
    with pytest.raises(APIConnectionError, match="refused") as info:
        await client.ai.retrieve_models()
    assert not isinstance(info.value, APITimeoutError)


async def test_timeout_raises_timeout_error(client: AsyncTelnyx, mocked: aioresponses) -> None:
    mocked.get(MODELS_URL, exception=TimeoutError())
    with pytest.raises(APITimeoutError):
        await client.ai.retrieve_models()


# -- retries ------------------------------------------------------------------------------


async def retrying_client() -> AsyncTelnyx:
    return AsyncTelnyx(api_key=API_KEY, base_url=BASE_URL, max_retries=2)


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
async def test_retryable_statuses_are_retried_until_success(
    mocked: aioresponses, waits: list[float], status: int
) -> None:
    mocked.get(MODELS_URL, status=status, payload={})
    mocked.get(MODELS_URL, status=status, payload={})
    mocked.get(MODELS_URL, payload=OK)
    async with await retrying_client() as c:
        result = await c.ai.retrieve_models()
    assert result.data[0].id == "m"
    assert calls_to(mocked) == 3
    assert len(waits) == 2


async def test_retries_stop_after_max_retries_and_raise_the_last_error(
    mocked: aioresponses, waits: list[float]
) -> None:
    for _ in range(5):
        mocked.get(MODELS_URL, status=429, payload={"errors": [{"title": "Too many requests"}]})
    async with await retrying_client() as c:
        with pytest.raises(RateLimitError, match="Too many requests"):
            await c.ai.retrieve_models()
    assert calls_to(mocked) == 3
    assert len(waits) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_client_errors_are_never_retried(mocked: aioresponses, waits: list[float], status: int) -> None:
    mocked.get(MODELS_URL, status=status, payload={}, repeat=True)
    async with await retrying_client() as c:
        with pytest.raises(APIStatusError):
            await c.ai.retrieve_models()
    assert calls_to(mocked) == 1
    assert waits == []


async def test_connection_errors_and_timeouts_are_retried(mocked: aioresponses, waits: list[float]) -> None:
    mocked.get(MODELS_URL, exception=aiohttp.ServerDisconnectedError())
    mocked.get(MODELS_URL, exception=TimeoutError())
    mocked.get(MODELS_URL, payload=OK)
    async with await retrying_client() as c:
        await c.ai.retrieve_models()
    assert calls_to(mocked) == 3


async def test_max_retries_zero_sends_once(mocked: aioresponses, waits: list[float]) -> None:
    mocked.get(MODELS_URL, status=503, payload={}, repeat=True)
    async with AsyncTelnyx(api_key="k", base_url=BASE_URL, max_retries=0) as c:
        with pytest.raises(InternalServerError):
            await c.ai.retrieve_models()
    assert calls_to(mocked) == 1


async def test_per_client_override_with_options(mocked: aioresponses, waits: list[float]) -> None:
    mocked.get(MODELS_URL, status=503, payload={}, repeat=True)
    async with await retrying_client() as c:
        with pytest.raises(InternalServerError):
            await c.with_options(max_retries=4).ai.retrieve_models()
    assert calls_to(mocked) == 5


async def test_exponential_backoff_with_jitter_capped_at_8s(mocked: aioresponses, waits: list[float]) -> None:
    mocked.get(MODELS_URL, status=500, payload={}, repeat=True)
    async with AsyncTelnyx(api_key="k", base_url=BASE_URL, max_retries=6) as c:
        with pytest.raises(InternalServerError):
            await c.ai.retrieve_models()
    bases = [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert len(waits) == len(bases)
    for wait, base in zip(waits, bases, strict=True):
        assert base * 0.75 <= wait <= base


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "2"}, 2.0),
        ({"Retry-After": "0.25"}, 0.25),
        ({"retry-after-ms": "150"}, 0.15),
        ({"retry-after-ms": "150", "Retry-After": "9"}, 0.15),
        ({"Retry-After": "0"}, 0.0),
    ],
)
async def test_server_requested_wait_is_honoured(
    mocked: aioresponses, waits: list[float], headers: dict[str, str], expected: float
) -> None:
    mocked.get(MODELS_URL, status=429, payload={}, headers=headers)
    mocked.get(MODELS_URL, payload=OK)
    async with await retrying_client() as c:
        await c.ai.retrieve_models()
    assert waits == [pytest.approx(expected)]


async def test_retry_after_as_http_date(mocked: aioresponses, waits: list[float]) -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    mocked.get(MODELS_URL, status=503, payload={}, headers={"Retry-After": when})
    mocked.get(MODELS_URL, payload=OK)
    async with await retrying_client() as c:
        await c.ai.retrieve_models()
    assert 27 <= waits[0] <= 30.5


@pytest.mark.parametrize("value", ["120", "-1", "soon", ""])
async def test_unreasonable_retry_after_falls_back_to_backoff(
    mocked: aioresponses, waits: list[float], value: str
) -> None:
    mocked.get(MODELS_URL, status=429, payload={}, headers={"Retry-After": value})
    mocked.get(MODELS_URL, payload=OK)
    async with await retrying_client() as c:
        await c.ai.retrieve_models()
    assert 0.375 <= waits[0] <= 0.5


async def test_retried_post_resends_the_same_body(mocked: aioresponses, waits: list[float]) -> None:
    url = f"{BASE_URL}/ai/openai/embeddings"
    ok = {
        "data": [{"embedding": [1.0], "index": 0, "object": "embedding"}],
        "model": "m",
        "object": "list",
        "usage": {"prompt_tokens": 1, "total_tokens": 1},
    }
    mocked.post(url, status=502, body="bad gateway")
    mocked.post(url, payload=ok)
    async with await retrying_client() as c:
        await c.ai.openai.embeddings.create_embeddings(input=["x"], model="m")
    calls = next(iter(mocked.requests.values()))
    # Without encoding_format, the SDK asks for base64 (and decodes it): the same bytes on each attempt.
    # The fields given come first (required ones in the spec's order), then the SDK's own choice.
    assert [call.kwargs["data"] for call in calls] == [b'{"input":["x"],"model":"m","encoding_format":"base64"}'] * 2


# -- the key never leaks --------------------------------------------------------------------


async def test_api_key_never_appears_in_reprs_errors_or_debug_logs(
    mocked: aioresponses, waits: list[float], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("TELNYX_LOG", "debug")
    mocked.get(MODELS_URL, status=500, payload={"errors": [{"detail": "oops"}]})
    mocked.get(MODELS_URL, status=401, payload={"errors": [{"detail": "bad key"}]})
    caplog.set_level(logging.DEBUG, logger="telnyx_ai")
    async with AsyncTelnyx(api_key=API_KEY, base_url=BASE_URL, max_retries=1) as c:
        with pytest.raises(AuthenticationError) as info:
            await c.ai.retrieve_models()
        texts = [repr(c), str(c), repr(c._transport), repr(c._transport.config), repr(c.ai)]
        texts.append(str(c._transport.default_headers))
    err = info.value
    texts += [str(err), repr(err), repr(err.body), repr(vars(err))]
    texts += [record.getMessage() for record in caplog.records]
    assert any("Request GET" in t for t in texts), "debug logging should have logged the request"
    assert any("<redacted>" in t for t in texts)
    for text in texts:
        assert API_KEY not in text


async def test_errors_pickle_and_keep_no_trace_of_the_key(client: AsyncTelnyx, mocked: aioresponses) -> None:
    import pickle

    from telnyx_ai import EmbedManyError

    mocked.get(MODELS_URL, status=429, payload={"errors": [{"title": "Slow down"}]}, headers={"Retry-After": "3"})
    with pytest.raises(RateLimitError) as info:
        await client.ai.retrieve_models()
    err = info.value
    restored = pickle.loads(pickle.dumps(err))
    assert type(restored) is RateLimitError
    assert (restored.status_code, restored.message, restored.body) == (err.status_code, err.message, err.body)
    assert restored.response is not None
    assert restored.response.headers["Retry-After"] == "3"
    # The error keeps a copy of the response, not aiohttp's object with the request's headers.
    assert API_KEY not in repr(pickle.dumps(err))
    assert not hasattr(err.response, "request_info")

    batch = EmbedManyError(results=[None, [1.0]], failed={0: err}, total=2)
    again = pickle.loads(pickle.dumps(batch))
    assert again.results == [None, [1.0]]
    assert isinstance(again.failed[0], RateLimitError)
    for cls in (APIConnectionError, APITimeoutError, APIResponseValidationError):
        sample = cls("x", status_code=200) if cls is APIResponseValidationError else cls("x", method="GET", url="u")  # type: ignore[call-arg]
        assert pickle.loads(pickle.dumps(sample)).__dict__ == sample.__dict__


async def test_retry_after_date_in_the_past_means_now(mocked: aioresponses, waits: list[float]) -> None:
    when = email.utils.formatdate(time.time() - 30, usegmt=True)
    mocked.get(MODELS_URL, status=503, payload={}, headers={"Retry-After": when})
    mocked.get(MODELS_URL, payload=OK)
    async with await retrying_client() as c:
        await c.ai.retrieve_models()
    assert waits == [0.0]


@pytest.mark.parametrize("setting", ["<ssl.SSLContext object at 0x7f7d1c94b2f0>", "default", "True"])
def test_a_connection_failure_reads_without_the_tls_setting(setting: str) -> None:
    from telnyx_ai._errors import describe_failure

    failure = OSError(f"Cannot connect to host 127.0.0.1:9 ssl:{setting} [Connect call failed ('127.0.0.1', 9)]")
    assert describe_failure(failure) == "Cannot connect to host 127.0.0.1:9 [Connect call failed ('127.0.0.1', 9)]"
