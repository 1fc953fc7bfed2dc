"""Turn pydantic's errors into :class:`Issue` objects a person can act on.

Pydantic's ``loc`` may hold internal names (union members, validator
function names, ``[key]`` markers); none of them reach a path here. The
expected-value wording comes from the :class:`~.types.Expect` annotation of
the field at that path.
"""
from __future__ import annotations

import typing
from typing import Any, Iterable

from pydantic import BaseModel, ValidationError

from .errors import Issue, PathPart, describe, render_path
from .types import Expect

_UNION_TAGS = frozenset({"int", "float", "str", "bool", "list", "dict", "none"})


def issues_from(exc: ValidationError, model: type[BaseModel], prefix: Iterable[PathPart] = ()) -> list[Issue]:
    """All of a ValidationError's errors as Issues (paths prefixed by ``prefix``)."""
    base = list(prefix)
    out: list[Issue] = []
    seen: set[str] = set()
    for err in exc.errors(include_url=False):
        loc, key_error = _clean(err["loc"])
        path = render_path([*base, *loc])
        if path in seen:  # a union reports once per member: the first says enough
            continue
        seen.add(path)
        out.append(Issue(path, _message(err, model, loc, key_error)))
    return out


def _clean(loc: tuple[Any, ...]) -> tuple[list[PathPart], bool]:
    parts: list[PathPart] = []
    key_error = False
    for part in loc:
        if part == "[key]":
            key_error = True
            continue
        if isinstance(part, str) and ("[" in part or part in _UNION_TAGS):
            continue
        parts.append(part)
    return parts, key_error


def _message(err: Any, model: type[BaseModel], loc: list[PathPart], key_error: bool) -> str:
    kind = err["type"]
    value = err.get("input")
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return "required property is missing"
    if kind == "extra_forbidden":
        return f"unknown property {loc[-1]!r}" if loc else "unknown property"
    if kind.startswith("openc2_"):
        return err["msg"]
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    if key_error:
        return f"unknown action {value!r} (keys must be actions of LS v2.0 section 3.3.1.1)"
    expected = _expected(model, loc)
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected an object, got {describe(value)}"
    if kind == "list_type":
        return f"expected an array, got {describe(value)}"
    if kind in ("too_short", "too_long"):
        n = len(value) if isinstance(value, (list, dict, str)) else "?"
        bound = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        word = "at least" if kind == "too_short" else "at most"
        return f"expected {expected or 'a value'} ({word} {bound} item(s)), got {n}"
    if kind in ("string_too_short", "string_too_long"):
        word = "at least" if kind == "string_too_short" else "at most"
        bound = ctx.get("min_length") if kind == "string_too_short" else ctx.get("max_length")
        return f"expected {expected or 'a string'} ({word} {bound} characters), got {describe(value)}"
    if expected is None:
        expected = _generic(kind, ctx)
    return f"expected {expected}, got {describe(value)}"


def _generic(kind: str, ctx: dict[str, Any]) -> str:
    if kind.startswith("int"):
        return "an integer"
    if kind.startswith("float"):
        return "a number"
    if kind.startswith("string"):
        return "a string"
    if kind.startswith("bool"):
        return "a boolean (true or false)"
    if kind == "literal_error":
        return f"one of {ctx.get('expected', '')}"
    if kind == "greater_than_equal":
        return f"a value >= {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"a value <= {ctx.get('le')}"
    return kind.replace("_", " ")


def _expected(model: type[BaseModel], loc: list[PathPart]) -> str | None:
    """Walk the model's annotations along ``loc`` and return the Expect text."""
    tp: Any = model
    meta: list[Any] = []
    for part in loc:
        tp, meta = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(part, str):
            field = tp.model_fields.get(part)
            if field is None:
                field = next((f for f in tp.model_fields.values() if f.alias == part), None)
            if field is None:
                return None
            tp, meta = field.annotation, list(field.metadata)
        elif typing.get_origin(tp) is list and isinstance(part, int):
            tp, meta = typing.get_args(tp)[0], []
        elif typing.get_origin(tp) is dict and isinstance(part, str):
            tp, meta = typing.get_args(tp)[1], []
        else:
            return None
    tp, more = _unwrap(tp)
    for item in [*meta, *more]:
        if isinstance(item, Expect):
            return item.text
    return None


def _unwrap(tp: Any) -> tuple[Any, list[Any]]:
    meta: list[Any] = []
    while True:
        if typing.get_origin(tp) is typing.Annotated:
            args = typing.get_args(tp)
            meta.extend(args[1:])
            tp = args[0]
            continue
        if typing.get_origin(tp) in (typing.Union, getattr(__import__("types"), "UnionType", None)):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) == 1:
                tp = args[0]
                continue
        return tp, meta
