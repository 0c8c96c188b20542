"""Cheap checks of an operation's arguments, so a wrong type fails at the call, before any request.

Every generated method has an `ArgumentChecks` built once, next to it in the class body, naming
its arguments by group (the generator knows each one's type). A method with a JSON body builds the
body from the arguments given and hands it over: only those are checked, each by its field's group
(a call giving 3 of 30 arguments pays for 3). Other arguments (query, form, header) come by group,
in the order of the names. The usual value costs a C-level set test (``type(v) in {str, NotGiven}``);
only a value outside it (a subclass, a None, a mistake) gets the closer look that names what is
wrong. Deeper shapes (a message's keys, a value from a ``Literal``) are the server's to judge.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from ._config import check_keywords
from ._types import NOT_GIVEN, OPTION_NAMES, NotGiven

__all__ = ["ArgumentChecks", "check_arguments"]

Values = tuple[object, ...]
Names = tuple[str, ...]
_Check = Callable[[str, str, object], None]
"""A per-value check of the slow path: (method, argument name, value), raising `TypeError`."""

# The exact types that pass without a closer look; anything else goes to the walk, which decides.
_STRING_TYPES = frozenset({str, NotGiven})
_NUMBER_TYPES = frozenset({int, float, NotGiven})
_MAPPING_TYPES = frozenset({dict, NotGiven})
_STR = frozenset({str})
_DICT = frozenset({dict})
_NONE: frozenset[type] = frozenset()


class ArgumentChecks:
    """What each checked argument of one operation must be, by group, and the names to suggest for a typo.

    A number is an int or a float, never a bool; a list is any sequence but a string; `NOT_GIVEN`
    passes everywhere, and None only for the names in ``nullable``. ``others`` are the method's
    unchecked arguments, named only when a misspelled keyword resembles one. ``body`` maps each
    checked field of a JSON body to its group (``renamed``: the argument's name, where it differs
    from the field's).
    """

    __slots__ = (
        "fields",
        "known",
        "mapping_lists",
        "mappings",
        "method",
        "nullable",
        "numbers",
        "string_lists",
        "strings",
        "strings_or_string_lists",
    )

    def __init__(
        self,
        method: str,
        *,
        strings: Names = (),
        numbers: Names = (),
        mappings: Names = (),
        string_lists: Names = (),
        mapping_lists: Names = (),
        strings_or_string_lists: Names = (),
        nullable: Names = (),
        others: Names = (),
        body: Mapping[str, str] | None = None,
        renamed: Mapping[str, str] | None = None,
    ) -> None:
        self.method = method
        self.strings, self.numbers, self.mappings = strings, numbers, mappings
        self.string_lists, self.mapping_lists = string_lists, mapping_lists
        self.strings_or_string_lists = strings_or_string_lists
        self.nullable = nullable
        body_names = [(renamed or {}).get(field, field) for field in body or {}]
        self.known = [
            *strings,
            *numbers,
            *mappings,
            *string_lists,
            *mapping_lists,
            *strings_or_string_lists,
            *body_names,
            *others,
        ]
        self.fields: dict[str, _Field] = {
            field: _field(group, name, name in nullable)
            for (field, group), name in zip((body or {}).items(), body_names, strict=True)
        }

    def __repr__(self) -> str:
        return f"<ArgumentChecks of {self.method}()>"

    def check(
        self,
        options: Mapping[str, object],
        body: Mapping[str, object] | None = None,
        *,
        strings: Values = (),
        numbers: Values = (),
        mappings: Values = (),
        string_lists: Values = (),
        mapping_lists: Values = (),
        strings_or_string_lists: Values = (),
    ) -> None:
        """Raise `TypeError` naming the first value that is not what its group says.

        ``body`` is the JSON body as built from the arguments given: each field of it is checked
        by its group. Each other group's values come in the order of the names given at
        construction. ``options`` holds the keywords the caller passed beyond the method's own:
        one that is not a `RequestOptions` key is a misspelling, reported with the closest name.
        """
        self.check_body(options, body)
        if strings and not _STRING_TYPES.issuperset(map(type, strings)):
            self._walk(self.strings, strings, _check_string)
        if numbers and not _NUMBER_TYPES.issuperset(map(type, numbers)):
            self._walk(self.numbers, numbers, _check_number)
        if mappings and not _MAPPING_TYPES.issuperset(map(type, mappings)):
            self._walk(self.mappings, mappings, _check_mapping)
        if string_lists and _unusual_lists(string_lists, _STR):
            self._walk(self.string_lists, string_lists, _check_string_list)
        if mapping_lists and _unusual_lists(mapping_lists, _DICT):
            self._walk(self.mapping_lists, mapping_lists, _check_mapping_list)
        if strings_or_string_lists and _unusual_lists(strings_or_string_lists, _STR, strings_pass=True):
            self._walk(self.strings_or_string_lists, strings_or_string_lists, _check_string_or_list)

    def check_body(self, options: Mapping[str, object], body: Mapping[str, object] | None) -> None:
        """`check` for a method whose checked arguments all go in its JSON body (the generator's choice):
        ``options`` for misspellings, then each checked field of ``body`` by its value's exact type, and
        (outside the usual types) a closer look."""
        if options:
            check_keywords(options, OPTION_NAMES, f"{self.method}()", known=self.known)
        if not body:
            return
        fields = self.fields
        for field, value in body.items():
            rule = fields.get(field)
            if rule is None:
                continue
            passing, item_types, check, name, nullable = rule
            kind = type(value)
            if kind in passing:
                continue
            # A list of items of exactly the group's types (``kind is list`` leaves ``value`` an object).
            if kind is list and item_types and item_types.issuperset(map(type, value)):  # type: ignore[call-overload]
                continue
            if value is NOT_GIVEN or (value is None and nullable):
                continue
            check(self.method, name, value)

    def _walk(self, names: Names, values: Values, check: _Check) -> None:
        """The slow path: each value of one group on its own, raising for the first that is wrong."""
        for name, value in zip(names, values, strict=True):
            if value is NOT_GIVEN or (value is None and name in self.nullable):
                continue
            check(self.method, name, value)


_Field = tuple[frozenset[type], frozenset[type], _Check, str, bool]
"""One body field's rule: the value types that pass at once, the item types of a list that passes at
once (empty: not a list group), the closer look for anything else, the argument's name, whether None passes."""


def _field(group: str, name: str, nullable: bool) -> _Field:
    passing, item_types, check = _GROUPS[group]
    return passing, item_types, check, name, nullable


def _unusual_lists(values: Values, item_types: frozenset[type], *, strings_pass: bool = False) -> bool:
    """Whether a given value is not simply a list of items of exactly these types (nor, with
    ``strings_pass``, a string): the fast test; the walk then decides whether it is wrong."""
    for value in values:
        if value is NOT_GIVEN or (strings_pass and type(value) is str):
            continue
        if type(value) is not list:
            return True
        items: list[object] = value  # pyright: ignore[reportUnknownVariableType]
        if not item_types.issuperset(map(type, items)):
            return True
    return False


def check_arguments(
    method: str,
    *,
    strings: Mapping[str, object] | None = None,
    numbers: Mapping[str, object] | None = None,
    mappings: Mapping[str, object] | None = None,
    string_lists: Mapping[str, object] | None = None,
    mapping_lists: Mapping[str, object] | None = None,
    strings_or_string_lists: Mapping[str, object] | None = None,
    nullable: Names = (),
    options: Mapping[str, object] | None = None,
    others: Names = (),
) -> None:
    """`ArgumentChecks` in one call, for hand-written methods: each group maps names to the values given."""
    groups = {
        "strings": strings or {},
        "numbers": numbers or {},
        "mappings": mappings or {},
        "string_lists": string_lists or {},
        "mapping_lists": mapping_lists or {},
        "strings_or_string_lists": strings_or_string_lists or {},
    }
    body = {name: group for group, values in groups.items() for name in values}
    checks = ArgumentChecks(method, body=body, nullable=nullable, others=others)
    checks.check(options or {}, {name: value for values in groups.values() for name, value in values.items()})


def _check_string(method: str, name: str, value: object) -> None:
    if not isinstance(value, str):
        raise _wrong(method, name, "a string", value)


def _check_number(method: str, name: str, value: object) -> None:
    if type(value) is bool or not isinstance(value, (int, float)):
        raise _wrong(method, name, "a number", value)


def _check_mapping(method: str, name: str, value: object) -> None:
    if not isinstance(value, Mapping):
        raise _wrong(method, name, "a mapping (such as a dict)", value)


def _check_string_list(method: str, name: str, value: object) -> None:
    _check_list(method, name, value, str, "a list of strings", "a string")


def _check_mapping_list(method: str, name: str, value: object) -> None:
    _check_list(method, name, value, Mapping, "a list of mappings (such as dicts)", "a mapping")


def _check_string_or_list(method: str, name: str, value: object) -> None:
    if not isinstance(value, str):
        _check_list(method, name, value, str, "a string or a list of strings", "a string")


def _check_list(method: str, name: str, value: object, item_type: type, expected: str, each: str) -> None:
    # A str is a sequence of strings too, and never what was meant.
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise _wrong(method, name, expected, value)
    items: Sequence[object] = value  # pyright: ignore[reportUnknownVariableType]
    for index, item in enumerate(items):
        if not isinstance(item, item_type):
            raise _wrong(method, f"{name}[{index}]", each, item)


def _wrong(method: str, name: str, expected: str, value: object) -> TypeError:
    got = "None" if value is None else type(value).__name__
    return TypeError(f"{method}() argument {name!r} must be {expected}, not {got}.")


# Each group's rule for a body field: (types passing at once, list item types passing at once, closer look).
_GROUPS: dict[str, tuple[frozenset[type], frozenset[type], _Check]] = {
    "strings": (_STRING_TYPES, _NONE, _check_string),
    "numbers": (_NUMBER_TYPES, _NONE, _check_number),
    "mappings": (_MAPPING_TYPES, _NONE, _check_mapping),
    "string_lists": (_NONE, _STR, _check_string_list),
    "mapping_lists": (_NONE, _DICT, _check_mapping_list),
    "strings_or_string_lists": (_STR, _STR, _check_string_or_list),
}
