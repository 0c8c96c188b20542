"""Cheap checks of an operation's arguments, so a wrong type fails at the call, before any request.

Every generated method calls `check_arguments` first, with its arguments grouped by what they must
be (the generator knows each one's type). Only ``isinstance`` tests on the values given; an
argument left `NOT_GIVEN` costs an identity test. Deeper shapes (a message's keys, a value from a
``Literal``) are the server's to judge.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ._config import check_keywords
from ._types import NOT_GIVEN, OPTION_NAMES

__all__ = ["check_arguments"]

_EMPTY: Mapping[str, object] = {}


def check_arguments(
    method: str,
    *,
    strings: Mapping[str, object] = _EMPTY,
    numbers: Mapping[str, object] = _EMPTY,
    mappings: Mapping[str, object] = _EMPTY,
    string_lists: Mapping[str, object] = _EMPTY,
    mapping_lists: Mapping[str, object] = _EMPTY,
    strings_or_string_lists: Mapping[str, object] = _EMPTY,
    nullable: tuple[str, ...] = (),
    options: Mapping[str, object] = _EMPTY,
    others: tuple[str, ...] = (),
) -> None:
    """Raise `TypeError` naming the first argument of ``method`` that is not what its group says.

    Each group maps argument names to the values given; `NOT_GIVEN` passes, and so does None for
    the names in ``nullable``. A number is an int or a float, never a bool; a list is any
    sequence but a string. ``options`` holds the keywords the caller passed beyond the method's
    own: one that is not a `RequestOptions` key is a misspelling, reported with the closest name
    among the method's arguments (the groups' and ``others``) and the options.
    """
    if options:
        known = [*strings, *numbers, *mappings, *string_lists, *mapping_lists, *strings_or_string_lists, *others]
        check_keywords(options, OPTION_NAMES, f"{method}()", known=known)
    for name, value in strings.items():
        if value is not NOT_GIVEN and not isinstance(value, str) and _wrong_none(name, value, nullable):
            raise _wrong(method, name, "a string", value)
    for name, value in numbers.items():
        wrong = type(value) is bool or not isinstance(value, (int, float))
        if wrong and value is not NOT_GIVEN and _wrong_none(name, value, nullable):
            raise _wrong(method, name, "a number", value)
    for name, value in mappings.items():
        if value is not NOT_GIVEN and not isinstance(value, Mapping) and _wrong_none(name, value, nullable):
            raise _wrong(method, name, "a mapping (such as a dict)", value)
    for name, value in string_lists.items():
        if value is not NOT_GIVEN and _wrong_none(name, value, nullable):
            _check_list(method, name, value, str, "a list of strings", "a string")
    for name, value in mapping_lists.items():
        if value is not NOT_GIVEN and _wrong_none(name, value, nullable):
            _check_list(method, name, value, Mapping, "a list of mappings (such as dicts)", "a mapping")
    for name, value in strings_or_string_lists.items():
        if value is not NOT_GIVEN and not isinstance(value, str) and _wrong_none(name, value, nullable):
            _check_list(method, name, value, str, "a string or a list of strings", "a string")


def _wrong_none(name: str, value: object, nullable: tuple[str, ...]) -> bool:
    """False only for a None that ``name`` may hold; every other value goes on to its check."""
    return value is not None or name not in nullable


def _check_list(method: str, name: str, value: object, item_type: type, expected: str, each: str) -> None:
    # A str is a sequence of strings too, and never what was meant.
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise _wrong(method, name, expected, value)
    items: Sequence[object] = value  # pyright: ignore[reportUnknownVariableType]
    exact = dict if item_type is Mapping else item_type  # the usual item: a cheaper test than the ABC's
    for index, item in enumerate(items):
        if type(item) is not exact and not isinstance(item, item_type):
            raise _wrong(method, f"{name}[{index}]", each, item)


def _wrong(method: str, name: str, expected: str, value: object) -> TypeError:
    got = "None" if value is None else type(value).__name__
    return TypeError(f"{method}() argument {name!r} must be {expected}, not {got}.")
