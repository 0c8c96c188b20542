"""Wrong argument types fail at the call with a `TypeError` naming the argument, before any request (issue 13.2)."""

from __future__ import annotations

import collections
import enum
import re
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from telnyx_ai import NOT_GIVEN, AsyncPaginator, AsyncTelnyx, Telnyx
from telnyx_ai._checks import ArgumentChecks, check_arguments

from .conformance._arguments import call_arguments, operations, resolve_call

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
# Unroutable: a request that got out would fail with a connection error, not a TypeError.
NOWHERE = "http://127.0.0.1:9"
HI = [{"role": "user", "content": "Hi"}]


# -- the helper ---------------------------------------------------------------------------------


def test_given_values_of_the_right_type_pass() -> None:
    check_arguments(
        "m",
        strings={"a": "x", "b": NOT_GIVEN},
        numbers={"n": 1, "f": 0.5, "g": NOT_GIVEN},
        mappings={"d": {}, "e": NOT_GIVEN},
        string_lists={"s": ["a"], "t": ("b",)},
        mapping_lists={"messages": HI, "tools": NOT_GIVEN},
        strings_or_string_lists={"one": "x", "many": ["x", "y"]},
        nullable=("c",),
    )
    check_arguments("m", strings={"c": None}, nullable=("c",))


def test_subclasses_and_other_sequences_pass_by_the_closer_look() -> None:
    # The fast test knows exact types only; anything else is walked and judged by isinstance.
    class Name(str): ...

    class Level(enum.IntEnum):
        HIGH = 2

    check_arguments(
        "m",
        strings={"a": Name("x")},
        numbers={"n": Level.HIGH},
        mappings={"d": collections.OrderedDict()},
        string_lists={"s": ("a", Name("b"))},
        mapping_lists={"messages": (collections.OrderedDict(role="user"),)},
        strings_or_string_lists={"input": Name("x"), "many": ("x",)},
    )
    with pytest.raises(TypeError, match=re.escape("m() argument 's[1]' must be a string, not bytes.")):
        check_arguments("m", string_lists={"s": ("a", b"b")})


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        ({"strings": {"model": 123}}, "m() argument 'model' must be a string, not int."),
        ({"strings": {"model": None}}, "m() argument 'model' must be a string, not None."),
        ({"numbers": {"temperature": "hot"}}, "m() argument 'temperature' must be a number, not str."),
        ({"numbers": {"n": True}}, "m() argument 'n' must be a number, not bool."),
        ({"mappings": {"response_format": "json"}}, "m() argument 'response_format' must be a mapping"),
        ({"mapping_lists": {"messages": None}}, "m() argument 'messages' must be a list of mappings"),
        ({"mapping_lists": {"messages": "hello"}}, "m() argument 'messages' must be a list of mappings"),
        ({"mapping_lists": {"messages": {"role": "user"}}}, "argument 'messages' must be a list of mappings"),
        ({"mapping_lists": {"messages": [*HI, "hi"]}}, "m() argument 'messages[1]' must be a mapping, not str."),
        ({"string_lists": {"choices": ["a", 1]}}, "m() argument 'choices[1]' must be a string, not int."),
        ({"strings_or_string_lists": {"input": None}}, "argument 'input' must be a string or a list of strings"),
        ({"strings_or_string_lists": {"input": b"hi"}}, "argument 'input' must be a string or a list of strings"),
        ({"strings_or_string_lists": {"input": ["a", None]}}, "argument 'input[1]' must be a string, not None."),
    ],
)
def test_a_wrong_value_names_the_argument_and_what_it_must_be(groups: dict[str, Any], message: str) -> None:
    with pytest.raises(TypeError) as caught:
        check_arguments("m", **groups)
    assert message in str(caught.value)


def test_a_body_is_checked_field_by_field_as_given() -> None:
    # Generated methods build the JSON body from the arguments given and check only its fields.
    checks = ArgumentChecks(
        "m",
        body={"messages": "mapping_lists", "stop": "strings_or_string_lists", "timeout": "numbers", "note": "strings"},
        renamed={"timeout": "api_timeout"},
        nullable=("note",),
        others=("stream",),
    )
    checks.check({}, {"messages": HI, "stop": "x", "timeout": 2.5, "note": None, "stream": True, "other": object()})
    checks.check({}, {"messages": (collections.OrderedDict(role="user"),), "stop": ["a", "b"]})
    checks.check({}, {})
    with pytest.raises(TypeError, match=re.escape("m() argument 'api_timeout' must be a number, not str.")):
        checks.check({}, {"messages": HI, "timeout": "2"})
    with pytest.raises(TypeError, match=re.escape("m() argument 'messages[1]' must be a mapping, not str.")):
        checks.check({}, {"messages": [*HI, "hi"]})
    with pytest.raises(TypeError, match=re.escape("m() argument 'stop[0]' must be a string, not int.")):
        checks.check({}, {"stop": [1]})
    with pytest.raises(
        TypeError, match=re.escape("unexpected keyword argument 'api_timout'. Did you mean 'api_timeout'?")
    ):
        checks.check({"api_timout": 1}, {})


# -- the calls the issue names, on both clients ----------------------------------------------------

BAD_CHAT = [
    ({"messages": None}, "ai.chat.create_completion() argument 'messages' must be a list of mappings"),
    ({"messages": "hello"}, "argument 'messages' must be a list of mappings (such as dicts), not str."),
    ({"messages": HI, "model": 123}, "argument 'model' must be a string, not int."),
    ({"messages": HI, "temperature": "hot"}, "argument 'temperature' must be a number, not str."),
    ({"messages": HI, "stream": True, "max_tokens": "9"}, "argument 'max_tokens' must be a number, not str."),
]


@pytest.mark.parametrize(("kwargs", "message"), BAD_CHAT)
async def test_async_chat_rejects_wrong_types(kwargs: dict[str, Any], message: str) -> None:
    async with AsyncTelnyx(api_key="k", base_url=NOWHERE, max_retries=0) as client:
        with pytest.raises(TypeError, match=re.escape(message)):
            await client.ai.chat.create_completion(**kwargs)


@pytest.mark.parametrize(("kwargs", "message"), BAD_CHAT)
def test_sync_chat_rejects_wrong_types(kwargs: dict[str, Any], message: str) -> None:
    with (
        Telnyx(api_key="k", base_url=NOWHERE, max_retries=0) as client,
        pytest.raises(TypeError, match=re.escape(message)),
    ):
        client.ai.chat.create_completion(**kwargs)


async def test_embeddings_and_embed_many_reject_wrong_types() -> None:
    async with AsyncTelnyx(api_key="k", base_url=NOWHERE, max_retries=0) as client:
        embeddings = client.ai.openai.embeddings
        with pytest.raises(
            TypeError, match=re.escape("create_embeddings() argument 'input' must be a string or a list")
        ):
            await embeddings.create_embeddings(input=None, model="m")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=re.escape("embed_many() argument 'model' must be a string, not int")):
            await embeddings.embed_many(["a"], model=1)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=re.escape("embed_many_iter() argument 'dimensions' must be a number")):
            async for _ in embeddings.embed_many_iter(["a"], model="m", dimensions="8"):  # type: ignore[arg-type]
                pass
    sync_client = Telnyx(api_key="k", base_url=NOWHERE, max_retries=0)
    with (
        sync_client,
        pytest.raises(TypeError, match=re.escape("embed_many() argument 'model' must be a string, not None")),
    ):
        sync_client.ai.openai.embeddings.embed_many(["a"], model=None)  # type: ignore[arg-type]


def test_a_paginated_list_rejects_wrong_types_when_called() -> None:
    # Not on the first page's request: at the call, on both clients.
    client = Telnyx(api_key="k", base_url=NOWHERE, max_retries=0)
    with client, pytest.raises(TypeError, match=re.escape("ai.assistants.tests.list() argument 'test_suite' must be")):
        client.ai.assistants.tests.list(test_suite=5)  # type: ignore[arg-type]


# -- every checked argument of every operation -----------------------------------------------------


@cache
def _checked_arguments() -> dict[str, list[str]]:
    """sdk_call -> the arguments the generator checks, from its own operation model."""
    sys.path.insert(0, str(SCRIPTS))
    try:
        from _codegen_data import load  # pyright: ignore[reportMissingImports]
        from _codegen_model import build_operations  # pyright: ignore[reportMissingImports]
        from _codegen_types import TypeBuilder  # pyright: ignore[reportMissingImports]
    finally:
        sys.path.remove(str(SCRIPTS))
    inputs = load()
    ops = build_operations(inputs, TypeBuilder(inputs.spec, inputs.types))
    return {f"client.{op.call}": [a.name for a in op.args if a.check is not None] for op in ops}


def _cases() -> Iterator[tuple[Any, str]]:
    for op in operations():
        for name in _checked_arguments()[op.sdk_call]:
            yield op, name


CASES = list(_cases())


def test_most_operations_check_some_argument() -> None:
    checked = {op.sdk_call for op, _ in CASES}
    assert len(checked) >= 45  # the others take only path parameters (any value whose str() is the id)
    assert {"client.ai.chat.create_completion", "client.ai.openai.embeddings.create_embeddings"} <= checked


@pytest.mark.parametrize(("op", "name"), CASES, ids=[f"{op.sdk_call[7:]}:{name}" for op, name in CASES])
async def test_every_checked_argument_is_checked_on_both_clients(op: Any, name: str) -> None:
    async with AsyncTelnyx(api_key="k", base_url=NOWHERE, max_retries=0) as client:
        method = resolve_call(client, op.sdk_call)
        args, kwargs = call_arguments(op, method)
        with pytest.raises(TypeError, match=f"argument '{name}' must be"):
            result = method(*args, **{**kwargs, name: object()})
            if not isinstance(result, AsyncPaginator):
                await result
    with Telnyx(api_key="k", base_url=NOWHERE, max_retries=0) as sync_client:
        method = resolve_call(sync_client, op.sdk_call)
        args, kwargs = call_arguments(op, method)
        with pytest.raises(TypeError, match=f"argument '{name}' must be"):
            method(*args, **{**kwargs, name: object()})
