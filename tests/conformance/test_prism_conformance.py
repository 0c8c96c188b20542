"""Every operation, through both clients, against Prism: requests must match the spec, responses must decode."""

from __future__ import annotations

import typing
from typing import Any

import pytest

from telnyx_ai import APIResponseValidationError, AsyncPaginator, AsyncTelnyx

from ._arguments import KEYWORD_NAMES, Operation, call_arguments, operations, resolve_call

OPERATIONS = operations()
IDS = [op.sdk_call.removeprefix("client.") for op in OPERATIONS]
# Replies the spec leaves free-form (Prism answers ``{}``) but the SDK types in the shape the endpoint
# follows, with required fields (issue 13, point 17): Prism still checks the request, and the reply
# fails to decode with an error naming the first missing field.
FREE_FORM_REPLIES = {"client.ai.chat.create_completion": "missing required field `id`"}


def test_every_operation_of_the_table_is_here() -> None:
    assert len(OPERATIONS) == 95
    assert len({op.sdk_call for op in OPERATIONS}) == 95


def expected_type(method: Any) -> Any:
    return typing.get_type_hints(method)["return"]


def check_result(op: Operation, method: Any, result: Any) -> None:
    expected = expected_type(method)
    if expected is type(None):
        assert result is None
        return
    origin = typing.get_origin(expected) or expected
    if origin in (AsyncPaginator,) or getattr(origin, "__name__", "") == "SyncPaginator":
        return
    if typing.get_origin(expected) is typing.Union or isinstance(expected, type(int | str)):
        options = tuple(typing.get_origin(a) or a for a in typing.get_args(expected))
        assert isinstance(result, options), f"{op.sdk_call} returned {type(result).__name__}, expected {expected}"
        return
    assert isinstance(result, origin), f"{op.sdk_call} returned {type(result).__name__}, expected {expected}"


@pytest.mark.parametrize("op", OPERATIONS, ids=IDS)
async def test_async_client(prism_url: str, op: Operation) -> None:
    async with AsyncTelnyx(api_key="prism-key", base_url=prism_url, max_retries=0) as client:
        method = resolve_call(client, op.sdk_call)
        args, kwargs = call_arguments(op, method)
        result = method(*args, **kwargs)
        if isinstance(result, AsyncPaginator):
            paginator: AsyncPaginator[Any] = result
            first = await paginator
            items = [item async for item in paginator]
            assert len(items) >= len(first.data) >= 1
            item_type = typing.get_args(expected_type(method))[0]
            assert all(isinstance(item, item_type) for item in items)
            return
        if op.sdk_call in FREE_FORM_REPLIES:
            with pytest.raises(APIResponseValidationError, match=FREE_FORM_REPLIES[op.sdk_call]):
                await result
            return
        check_result(op, method, await result)


@pytest.mark.parametrize("op", OPERATIONS, ids=IDS)
def test_sync_client(prism_url: str, op: Operation) -> None:
    from telnyx_ai import Telnyx  # type: ignore[attr-defined, unused-ignore]

    with Telnyx(api_key="prism-key", base_url=prism_url, max_retries=0) as client:
        method = resolve_call(client, op.sdk_call)
        args, kwargs = call_arguments(op, method)
        if op.sdk_call in FREE_FORM_REPLIES:
            with pytest.raises(APIResponseValidationError, match=FREE_FORM_REPLIES[op.sdk_call]):
                method(*args, **kwargs)
            return
        result = method(*args, **kwargs)
        if op.paginated:
            items = list(result)
            assert len(items) >= 1
            item_type = typing.get_args(expected_type(method))[0]
            assert all(isinstance(item, item_type) for item in items)
            return
        check_result(op, method, result)


@pytest.mark.parametrize(
    "op",
    [op for op in OPERATIONS if op.required],
    ids=[i for i, op in zip(IDS, OPERATIONS, strict=True) if op.required],
)
async def test_missing_required_argument_fails_before_the_network(op: Operation) -> None:
    # An unroutable base URL: if any request were sent, the error would be a connection error instead.
    async with AsyncTelnyx(api_key="k", base_url="http://127.0.0.1:9", max_retries=0) as client:
        method = resolve_call(client, op.sdk_call)
        args, kwargs = call_arguments(op, method)
        required = [KEYWORD_NAMES.get(name, name) for name in op.required]
        dropped = next((name for name in reversed(required) if name in kwargs), None)
        if dropped is not None:
            del kwargs[dropped]
        else:  # only positional path parameters are required
            args.pop()
        with pytest.raises(TypeError, match=dropped or "argument"):
            result = method(*args, **kwargs)
            if not isinstance(result, AsyncPaginator):
                await result
