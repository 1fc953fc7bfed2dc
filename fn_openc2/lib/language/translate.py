"""Turn pydantic's errors into :class:`Issue` objects a person can act on.

Pydantic's ``loc`` may hold internal names (union members, validator
function names, ``[key]`` markers); none of them reach a path here. The
expected-value wording comes from the :class:`~.types.Expect` annotation of
the field at that path.
"""
from __future__ import annotations

import types
import typing
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from .errors import Issue, PathPart, describe, render_path
from .types import Expect

_UNIONS = (typing.Union, types.UnionType)
_UNION_TAGS = frozenset({"int", "float", "str", "bool", "list", "dict", "none"})


def issues_from(exc: ValidationError, model: type[BaseModel], prefix: Iterable[PathPart] = ()) -> list[Issue]:
    """All of a ValidationError's errors as Issues (paths prefixed by ``prefix``).

    A value that fails every member of a union is reported by pydantic once
    per member, all at one path; those are merged into one Issue that says
    what was expected overall (the field's Expect text, or the members'
    expectations joined with "or").
    """
    base = list(prefix)
    grouped: dict[str, list[tuple[Any, list[PathPart], bool]]] = {}
    for err in exc.errors(include_url=False):
        loc, key_error = _clean(err["loc"])
        grouped.setdefault(render_path([*base, *loc]), []).append((err, loc, key_error))
    out: list[Issue] = []
    for path, errs in grouped.items():
        if len(errs) > 1 or _is_type_error(errs[0][0]):
            # union members: one whose type matched says more than the ones whose type did not
            matched = [e for e in errs if not _is_type_error(e[0])]
            if matched:
                errs = matched
            elif any(other.startswith((path + ".", path + "[")) for other in grouped if path):
                continue  # another member matched the type and reported inside this value
        if len(errs) == 1:
            err, loc, key_error = errs[0]
            out.append(Issue(path, _message(err, model, loc, key_error)))
        else:
            out.append(Issue(path, _merged(errs, model)))
    return out


def _is_type_error(err: Any) -> bool:
    """The value was not of the member's JSON type at all (string given, object expected...)."""
    kind = str(err["type"])
    return kind.endswith("_type") or kind == "model_attributes_type"


def _merged(errs: list[tuple[Any, list[PathPart], bool]], model: type[BaseModel]) -> str:
    """One message for several errors at one path (the members of a union)."""
    err, loc, _ = errs[0]
    value = err.get("input")
    expected = _expected(model, loc)
    if expected is not None:
        return f"expected {expected}, got {describe(value)}"
    wanted: list[str] = []
    for one, one_loc, key_error in errs:
        text = _message(one, model, one_loc, key_error)
        text = text.split(", got ", 1)[0]
        text = text[len("expected "):] if text.startswith("expected ") else text
        if text not in wanted:
            wanted.append(text)
    return f"expected {' or '.join(wanted)}, got {describe(value)}"


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
        return str(err["msg"])
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    if key_error:
        return f"unknown action {value!r} (keys must be actions of LS v2.0 section 3.3.1.1)"
    if kind.startswith("string_") and kind != "string_type" and isinstance(value, str):
        explain = _expect(model, loc)
        if explain is not None and explain.explain is not None:
            try:
                explain.explain(value)
            except ValueError as exc:
                return str(exc)
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
    """The Expect text of the type at ``loc``."""
    found = _expect(model, loc)
    return found.text if found is not None else None


def _expect(model: type[BaseModel], loc: list[PathPart]) -> Expect | None:
    """Walk the model's annotations along ``loc`` and return the Expect there."""
    tp: Any = model
    meta: list[Any] = []
    for part in loc:
        tp, meta = _unwrap(tp)
        if isinstance(part, str) and typing.get_origin(tp) in _UNIONS:
            # a union member that is a model with this field (pf's Adv-Addr choice form)
            tp = next((m for m in typing.get_args(tp) if isinstance(m, type) and issubclass(m, BaseModel)
                       and part in m.model_fields), tp)
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
            return item
    return None


def _unwrap(tp: Any) -> tuple[Any, list[Any]]:
    meta: list[Any] = []
    while True:
        if typing.get_origin(tp) is typing.Annotated:
            args = typing.get_args(tp)
            meta.extend(args[1:])
            tp = args[0]
            continue
        if typing.get_origin(tp) in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(members) == 1:
                tp = members[0]
                continue
        return tp, meta
