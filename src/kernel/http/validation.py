"""Turn a rejected request body into `fieldErrors` keyed by request field name, reporting every field.

msgspec stops at the first error; when it rejects a body we walk the raw JSON against the handler's schema
once more and collect an error for each bad field, with messages a person can act on.
"""

from __future__ import annotations

import re
import types
from collections.abc import Collection
from decimal import Decimal
from functools import cache
from typing import Annotated, Any, Union, get_args, get_origin

import msgspec

_TYPE_WORDS = {
    "str": "must be a string",
    "int": "must be an integer",
    "float": "must be a number",
    "decimal": "must be a number",
    "bool": "must be true or false",
    "array": "must be a list",
    "object": "must be an object",
    "date": "must be a date (YYYY-MM-DD)",
    "datetime": "must be a date-time (ISO 8601)",
    "null": "must be null",
    "uuid": "must be a UUID",
}
_EXPECTED = re.compile(r"^Expected `(?P<type>[a-z| ]+)`(?P<rest>.*)$")
_LENGTH = re.compile(r" of length (?P<op>[<>]=) (?P<n>\d+)")
_BOUND = re.compile(r" (?P<op>[<>]=?) (?P<n>-?[\d.]+)$")
_REGEX = re.compile(r" matching regex ")


def humanize(message: str, pattern_message: str | None = None) -> str:
    """`Expected \\`str\\` of length <= 100` → `must be at most 100 characters`, and so on."""
    message = message.split(" - at `", 1)[0]
    match = _EXPECTED.match(message)
    if not match:
        if message.startswith("Invalid enum value"):
            return "is not one of the allowed values"
        if message.startswith("Invalid RFC3339 encoded date"):
            return _TYPE_WORDS["date"]
        if message.startswith("Invalid RFC3339 encoded datetime"):
            return _TYPE_WORDS["datetime"]
        if message.startswith("Invalid decimal"):
            return _TYPE_WORDS["decimal"]
        return message[0].lower() + message[1:] if message else "is invalid"
    expected = match["type"].split(" | ")[0]
    rest = match["rest"]
    if length := _LENGTH.search(rest):
        size = int(length["n"])
        unit = "characters" if expected == "str" else "items"
        return f"must be at least {size} {unit}" if length["op"] == ">=" else f"must be at most {size} {unit}"
    if _REGEX.search(rest):
        return pattern_message or "has an invalid format"
    if bound := _BOUND.search(rest):
        op, n = bound["op"], bound["n"]
        words = {">=": "at least", "<=": "at most", ">": "greater than", "<": "less than"}
        return f"must be {words[op]} {n}"
    if ", got `null`" in rest:
        return "must not be null"
    return _TYPE_WORDS.get(expected, f"must be of type {expected}")


def _strip_annotated(tp: Any) -> tuple[Any, list[msgspec.Meta]]:
    metas: list[msgspec.Meta] = []
    while get_origin(tp) is Annotated:
        args = get_args(tp)
        tp = args[0]
        metas.extend(a for a in args[1:] if isinstance(a, msgspec.Meta))
    return tp, metas


def _metas_anywhere(tp: Any) -> list[msgspec.Meta]:
    """Meta constraints on the type itself or on any member of its union (e.g. `Email | None`)."""
    inner, metas = _strip_annotated(tp)
    if get_origin(inner) in (Union, types.UnionType):
        for member in get_args(inner):
            metas.extend(_strip_annotated(member)[1])
    return metas


_LOCATION = re.compile(r" - at `\$(?P<where>[^`]*)`$")


def _located(path: str, message: str) -> str:
    """`$[0]` / `$.city` at the end of a msgspec message, appended to the field path."""
    match = _LOCATION.search(message)
    if not match or not match["where"]:
        return path
    where = re.sub(r"\[(\d+)\]", r".\1", match["where"]).lstrip(".")
    return f"{path}.{where}" if path else where


def _pattern_message(metas: list[msgspec.Meta]) -> str | None:
    for meta in metas:
        if meta.extra and isinstance(meta.extra.get("message"), str):
            return str(meta.extra["message"])
    return None


def _struct_in(tp: Any) -> tuple[type[msgspec.Struct] | None, bool]:
    """(the Struct type inside an Optional/UNSET union, whether null is allowed)."""
    inner, _ = _strip_annotated(tp)
    if isinstance(inner, type) and issubclass(inner, msgspec.Struct):
        return inner, False
    if get_origin(inner) in (Union, types.UnionType):
        members = get_args(inner)
        structs = [m for m in members if isinstance(m, type) and issubclass(m, msgspec.Struct)]
        if len(structs) == 1:
            return structs[0], type(None) in members
    return None, False


def _list_of_structs(tp: Any) -> type[msgspec.Struct] | None:
    inner, _ = _strip_annotated(tp)
    if get_origin(inner) in (Union, types.UnionType):
        lists = [m for m in get_args(inner) if get_origin(_strip_annotated(m)[0]) in (list, tuple)]
        if len(lists) != 1:
            return None
        inner = _strip_annotated(lists[0])[0]
    if get_origin(inner) in (list, tuple):
        args = get_args(inner)
        if args and isinstance(args[0], type) and issubclass(args[0], msgspec.Struct):
            return args[0]
    return None


def collect_field_errors(value: Any, schema: Any, path: str = "") -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    _walk(value, schema, path, errors)
    return errors


def _add(errors: dict[str, list[str]], path: str, message: str) -> None:
    errors.setdefault(path or "body", []).append(message)


def _walk(value: Any, schema: Any, path: str, errors: dict[str, list[str]]) -> None:
    struct, nullable = _struct_in(schema)
    if struct is not None:
        if value is None and nullable:
            return
        if not isinstance(value, dict):
            _add(errors, path, "must be an object")
            return
        _walk_struct(value, struct, path, errors)
        return
    item_struct = _list_of_structs(schema)
    if item_struct is not None and isinstance(value, list):
        try:
            msgspec.convert(value, schema)  # length bounds on the list itself
        except msgspec.ValidationError as exc:
            if " - at `$[" not in str(exc):
                _add(errors, path, humanize(str(exc)))
        for index, item in enumerate(value):
            _walk(item, item_struct, f"{path}.{index}" if path else str(index), errors)
        return
    try:
        msgspec.convert(value, schema)
    except msgspec.ValidationError as exc:
        message = str(exc)
        _add(errors, _located(path, message), humanize(message, _pattern_message(_metas_anywhere(schema))))


def _walk_struct(value: dict[str, Any], struct: type[msgspec.Struct], path: str, errors: dict[str, list[str]]) -> None:
    fields = {f.encode_name: f for f in msgspec.structs.fields(struct)}
    config = struct.__struct_config__
    prefix = f"{path}." if path else ""
    errors_before = sum(len(messages) for messages in errors.values())
    if config.forbid_unknown_fields:
        for key in value:
            if key not in fields:
                _add(errors, f"{prefix}{key}", f"property {key} should not exist")
    for name, field in fields.items():
        if name not in value:
            if field.required:
                _add(errors, f"{prefix}{name}", "is required")
            continue
        _walk(value[name], field.type, f"{prefix}{name}", errors)
    if sum(len(messages) for messages in errors.values()) == errors_before:
        try:  # rules of the struct as a whole (__post_init__)
            msgspec.convert(value, struct)
        except msgspec.ValidationError as exc:
            _add(errors, path, humanize(str(exc)))


def passing_fields(raw: dict[str, Any], schema: Any, failed: Collection[str] = ()) -> dict[str, Any]:
    """The fields of the body `raw` that its Struct `schema` accepts, converted, by attribute name. A field with
    an error in `failed` (under its request name, or a dotted path below it) is left out."""
    struct, _ = _struct_in(schema)
    if struct is None:
        return {}
    passed: dict[str, Any] = {}
    for field in msgspec.structs.fields(struct):
        name = field.encode_name
        if name not in raw or any(key == name or key.startswith(f"{name}.") for key in failed):
            continue
        try:
            passed[field.name] = msgspec.convert(raw[name], field.type, strict=True)
        except msgspec.ValidationError:
            continue
    return passed


@cache
def _members(tp: Any) -> tuple[Any, ...]:
    inner, _ = _strip_annotated(tp)
    union = get_origin(inner) in (Union, types.UnionType)
    return tuple(_strip_annotated(m)[0] for m in (get_args(inner) if union else (inner,)))


@cache
def _struct_field_types(struct: type[msgspec.Struct]) -> dict[str, Any]:
    """The field types of `struct` by wire name (resolving a struct's annotations is slow: once per type)."""
    return {f.encode_name: f.type for f in msgspec.structs.fields(struct)}


@cache
def _holds_decimal(tp: Any, seen: frozenset[Any] = frozenset()) -> bool:
    """Whether a `Decimal` occurs anywhere in `tp` (most bodies have none: nothing to walk)."""
    if tp in seen:
        return False
    seen = seen | {tp}
    for member in _members(tp):
        if member is Decimal:
            return True
        if isinstance(member, type) and issubclass(member, msgspec.Struct):
            if any(_holds_decimal(t, seen) for t in _struct_field_types(member).values()):
                return True
        elif any(_holds_decimal(arg, seen) for arg in get_args(member) if arg is not Ellipsis):
            return True
    return False


def decimal_strings(raw: Any, tp: Any, path: str = "") -> list[str]:
    """Paths where the schema wants a `Decimal` and the body sent a string: msgspec accepts `"1.5"` for a
    Decimal even in strict mode (a string is its canonical encoding), but money on our wire is a JSON number.

    Walks structs, lists, tuples and dict values; a union of several structs is not walked (which member the
    body meant is msgspec's business, and guessing could report a field that is fine)."""
    if not _holds_decimal(tp):
        return []
    members = _members(tp)
    if Decimal in members and str not in members and isinstance(raw, str):
        return [path or "body"]

    def at(key: object) -> str:
        return f"{path}.{key}" if path else str(key)

    structs = [m for m in members if isinstance(m, type) and issubclass(m, msgspec.Struct)]
    found: list[str] = []
    if len(structs) == 1 and isinstance(raw, dict):
        fields = _struct_field_types(structs[0])
        for key, value in raw.items():
            if key in fields:
                found += decimal_strings(value, fields[key], at(key))
    for member in members:
        origin, args = get_origin(member), get_args(member)
        if origin is list and isinstance(raw, list) and args:
            for index, value in enumerate(raw):
                found += decimal_strings(value, args[0], at(index))
        elif origin is tuple and isinstance(raw, list) and args:
            item_types = [args[0]] * len(raw) if len(args) == 2 and args[1] is Ellipsis else list(args)
            for index, (value, item_type) in enumerate(zip(raw, item_types, strict=False)):
                found += decimal_strings(value, item_type, at(index))
        elif origin is dict and isinstance(raw, dict) and len(args) == 2:
            for key, value in raw.items():
                found += decimal_strings(value, args[1], at(key))
    return found
