"""Every reply type against the contract: a body with only the fields the contract requires decodes, and so
does one with every field (issue 22, point 3). The bodies are built from the vendored spec's schemas."""

from __future__ import annotations

import types
import typing
from typing import Any

import msgspec
import pytest

from telnyx_ai import AsyncPaginator, AsyncStream, AsyncTelnyx
from telnyx_ai._models import decoder_for
from telnyx_ai._pagination import AsyncPage

from ._arguments import Operation, operations, resolve, resolve_call, spec, value_for

JSON_REPLIES = [
    op
    for op in operations()
    if "application/json"
    in spec()["paths"][op.path][op.method.lower()]["responses"]
    .get(next(c for c in spec()["paths"][op.path][op.method.lower()]["responses"] if c.startswith("2")), {})
    .get("content", {})
]


def reply_schema(op: Operation) -> dict[str, Any]:
    responses = spec()["paths"][op.path][op.method.lower()]["responses"]
    ok = next(code for code in responses if code.startswith("2"))
    schema: dict[str, Any] = responses[ok]["content"]["application/json"]["schema"]
    return schema


def decoded_type(op: Operation) -> Any:
    """What the SDK decodes the JSON reply into: a page for lists, the JSON member of a union."""
    method = resolve_call(AsyncTelnyx(api_key="k"), op.sdk_call)
    returns = typing.get_type_hints(method)["return"]
    if typing.get_origin(returns) is AsyncPaginator:
        (item,) = typing.get_args(returns)
        bare = resolve(reply_schema(op)).get("type") == "array"
        return list[item] if bare else AsyncPage[item]  # type: ignore[valid-type]
    if typing.get_origin(returns) not in (typing.Union, types.UnionType):
        return returns
    members = [m for m in typing.get_args(returns) if m is not bytes and typing.get_origin(m) is not AsyncStream]
    return members[0]


def test_every_json_reply_is_checked() -> None:
    assert len(JSON_REPLIES) >= 170


@pytest.mark.parametrize("full", [False, True], ids=["required-fields", "every-field"])
@pytest.mark.parametrize("op", JSON_REPLIES, ids=[op.sdk_call.removeprefix("client.") for op in JSON_REPLIES])
def test_the_reply_decodes(op: Operation, full: bool) -> None:
    body = msgspec.json.encode(value_for(reply_schema(op), full=full))
    decoder_for(decoded_type(op)).decode(body)  # raises msgspec.ValidationError naming the field
