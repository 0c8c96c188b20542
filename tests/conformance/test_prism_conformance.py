"""Every operation, through both clients and under each of its names, against Prism run on the vendored
contract with ``--errors``: requests must match the spec (with the required arguments, and with all of
them), and every reply must decode into the method's declared type."""

from __future__ import annotations

import typing
from typing import Any

import pytest

from telnyx_ai import AsyncPaginator, AsyncTelnyx

from ._arguments import Operation, call_arguments, keyword, operations, resolve_call

OPERATIONS = operations()


def _cases() -> list[Any]:
    """(operation, name it is called by, all arguments or the required ones): each alias once, with all."""
    cases: list[Any] = []
    for op in OPERATIONS:
        call = op.sdk_call.removeprefix("client.")
        cases += [
            pytest.param(op, op.sdk_call, full, id=f"{call}-{'all' if full else 'required'}") for full in (False, True)
        ]
        for alias in op.aliases:
            cases.append(pytest.param(op, alias, True, id=f"{alias.removeprefix('client.')}-alias"))
    return cases


CASES = _cases()


def test_every_operation_of_the_table_is_here() -> None:
    assert len(OPERATIONS) == 194
    assert len({op.sdk_call for op in OPERATIONS}) == 194
    assert len(CASES) == 2 * 194 + 2  # text_to_speech.generate_speech has two aliases


def expected_type(method: Any) -> Any:
    return typing.get_type_hints(method)["return"]


def check_result(op: Operation, method: Any, result: Any) -> None:
    """``result`` is an instance of what ``method`` declares (a union's members, a generic's origin)."""
    expected = expected_type(method)
    if expected is type(None):
        assert result is None
        return
    origin = typing.get_origin(expected) or expected
    if typing.get_origin(expected) is typing.Union or isinstance(expected, type(int | str)):
        options = tuple(typing.get_origin(a) or a for a in typing.get_args(expected))
        assert isinstance(result, options), f"{op.sdk_call} returned {type(result).__name__}, expected {expected}"
        return
    if origin is object:
        return  # the contract allows any JSON value
    assert isinstance(result, origin), f"{op.sdk_call} returned {type(result).__name__}, expected {expected}"


def check_items(method: Any, items: list[Any]) -> None:
    assert len(items) >= 1
    item_type = typing.get_args(expected_type(method))[0]
    assert all(isinstance(item, item_type) for item in items)


@pytest.mark.parametrize(("op", "name", "full"), CASES)
async def test_async_client(prism_url: str, op: Operation, name: str, full: bool) -> None:
    async with AsyncTelnyx(api_key="prism-key", base_url=prism_url, max_retries=0) as client:
        method = resolve_call(client, name)
        args, kwargs = call_arguments(op, method, full=full)
        result = method(*args, **kwargs)
        if isinstance(result, AsyncPaginator):
            paginator: AsyncPaginator[Any] = result
            first = await paginator
            items = [item async for item in paginator]
            assert len(items) >= len(first.data) >= 1
            check_items(method, items)
            return
        check_result(op, method, await result)


@pytest.mark.parametrize(("op", "name", "full"), CASES)
def test_sync_client(prism_url: str, op: Operation, name: str, full: bool) -> None:
    from telnyx_ai import SyncPaginator, Telnyx

    with Telnyx(api_key="prism-key", base_url=prism_url, max_retries=0) as client:
        method = resolve_call(client, name)
        args, kwargs = call_arguments(op, method, full=full)
        result = method(*args, **kwargs)
        if isinstance(result, SyncPaginator):
            check_items(method, list(result))  # pyright: ignore[reportUnknownArgumentType]
            return
        check_result(op, method, result)


@pytest.mark.parametrize(
    "op",
    [op for op in OPERATIONS if op.required],
    ids=[op.sdk_call.removeprefix("client.") for op in OPERATIONS if op.required],
)
async def test_missing_required_argument_fails_before_the_network(op: Operation) -> None:
    # An unroutable base URL: if any request were sent, the error would be a connection error instead.
    async with AsyncTelnyx(api_key="k", base_url="http://127.0.0.1:9", max_retries=0) as client:
        method = resolve_call(client, op.sdk_call)
        args, kwargs = call_arguments(op, method)
        required = [keyword(name) for name in op.required]
        dropped = next((name for name in reversed(required) if name in kwargs), None)
        if dropped is not None:
            del kwargs[dropped]
        else:  # only positional path parameters are required
            args.pop()
        with pytest.raises(TypeError, match=dropped or "argument"):
            result = method(*args, **kwargs)
            if not isinstance(result, AsyncPaginator):
                await result
