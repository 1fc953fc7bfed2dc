"""Strict JSON in and out: I-JSON (RFC 7493) on decode, compact UTF-8 on encode.

The fast path is plain ``json.loads`` plus a dict-building hook that notices
duplicate keys by comparing lengths; costly exact checks only run when a
C-speed regex pre-check says the text could contain a problem.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from json.scanner import make_scanner
from typing import Any

from .constants import MAX_SAFE_INT
from .errors import Issue, OpenC2ValidationError, PathPart, render_path

# A JSON escape of a UTF-16 surrogate: the only way a lone one can get into text.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")

MAX_DEPTH = 64
"""Deepest nesting of arrays/objects accepted. OpenC2 documents are a handful of
levels deep; a hostile peer's 100,000 '[' would otherwise end in a RecursionError
(in the decoder or any code walking the document) instead of a clear error."""
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKET = re.compile(r"[\[\]{}]")


class _Duplicate(Exception):
    """Raised by the fast hook; the slow path then finds where."""


def _fast_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        raise _Duplicate
    return d


class _DupDict(dict[str, Any]):
    """A decoded object that remembers which keys it saw twice."""

    duplicates: list[str]


def _slow_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = _DupDict()
    dups: list[str] = []
    for k, v in pairs:
        if k in d and k not in dups:
            dups.append(k)
        d[k] = v
    d.duplicates = dups
    return d


def _constant_message(name: str) -> str:
    return f"{name} is not a JSON number"


class _NumberIssue(ValueError):
    """Raised by the fast number hooks; the slow path then finds where."""


def _reject_constant(name: str) -> Any:
    raise _NumberIssue(_constant_message(name))


class _BadNumber:
    """Stands in for a number I-JSON cannot carry, so its path can be reported."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


def _int_message(text: str) -> str:
    return f"integer {text} is outside the I-JSON range +-(2**53-1) (RFC 7493 section 2.2)"


def _float_message(text: str) -> str:
    return f"number {text} is outside the range of an IEEE 754 double"


def _check_int(text: str) -> int:
    value = int(text)
    if len(text) < 16 or -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
        return value
    raise _NumberIssue(_int_message(text))


def _check_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _NumberIssue(_float_message(text))
    return value


def _mark_int(text: str) -> int | _BadNumber:
    value = int(text)
    if len(text) < 16 or -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
        return value
    return _BadNumber(_int_message(text))


def _mark_float(text: str) -> float | _BadNumber:
    value = float(text)
    return _BadNumber(_float_message(text)) if math.isinf(value) else value


def _mark_constant(name: str) -> _BadNumber:
    """NaN / Infinity / -Infinity: marked, so the slow path names their path."""
    return _BadNumber(_constant_message(name))


_FAST = json.JSONDecoder(
    object_pairs_hook=_fast_pairs, parse_constant=_reject_constant, parse_int=_check_int, parse_float=_check_float
)


_SCAN = make_scanner(_FAST)  # type: ignore[arg-type]  # (typeshed) what JSONDecoder.raw_decode calls


def _decode(text: str) -> Any:
    """``_FAST.decode`` without its two Python-level whitespace passes when the text
    starts with its value and ends with it (the usual wire form); else the full decoder."""
    try:
        doc, end = _SCAN(text, 0)
    except StopIteration:  # leading whitespace, or no JSON value at all: decode() says which
        return _FAST.decode(text)
    if end != len(text):  # trailing whitespace is fine, anything else is "Extra data"
        return _FAST.decode(text)
    return doc


def loads(data: bytes | bytearray | str) -> Any:
    """Decode an I-JSON text; raise OpenC2ValidationError(what="json") otherwise."""
    if isinstance(data, (bytes, bytearray)):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise OpenC2ValidationError(
                "json", [Issue("", f"invalid UTF-8 at byte {exc.start}: {exc.reason}")]
            ) from None
    elif isinstance(data, str):
        text = data
    else:
        raise TypeError(f"loads() takes bytes or str, not {type(data).__name__}")
    if text.startswith("\ufeff"):
        raise OpenC2ValidationError("json", [Issue("", "a byte order mark is not allowed (RFC 8259 section 8.1)")])
    if text.count("[") + text.count("{") > MAX_DEPTH:
        _check_depth(text)
    try:
        doc = _decode(text)
    except (_Duplicate, _NumberIssue):
        doc = _slow_loads(text)
    except json.JSONDecodeError as exc:
        raise _syntax(exc) from None
    except ValueError as exc:
        raise OpenC2ValidationError("json", [Issue("", str(exc))]) from None
    if "\\u" in text and _SURROGATE_ESCAPE.search(text) is not None:
        issues = list(_lone_surrogates(doc, []))
        if issues:
            raise OpenC2ValidationError("json", issues)
    return doc


def _check_depth(text: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH, before any recursive decoding.

    Strings are blanked first (C-speed regex) so brackets inside them do not
    count; only then are the remaining brackets walked."""
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub('""', text)):
        if match.group() in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise OpenC2ValidationError("json", [Issue("", f"nested deeper than {MAX_DEPTH} levels of "
                                                               "arrays/objects (refused before decoding)")])
        else:
            depth -= 1


def _syntax(exc: json.JSONDecodeError) -> OpenC2ValidationError:
    return OpenC2ValidationError(
        "json", [Issue("", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")]
    )


def _slow_loads(text: str) -> Any:
    """Exact I-JSON checks, run only when the fast pass tripped: reports every
    duplicate key, every out-of-range number and every NaN/Infinity at its own JSON path."""
    try:
        doc = json.loads(
            text,
            object_pairs_hook=_slow_pairs,
            parse_constant=_mark_constant,
            parse_int=_mark_int,
            parse_float=_mark_float,
        )
    except json.JSONDecodeError as exc:
        raise _syntax(exc) from None
    except ValueError as exc:
        raise OpenC2ValidationError("json", [Issue("", str(exc))]) from None
    issues = list(_duplicates(doc, []))
    if issues:
        raise OpenC2ValidationError("json", issues)
    return _plain(doc)


def _duplicates(node: Any, path: list[PathPart]) -> Iterator[Issue]:
    """Duplicate keys and unrepresentable numbers, in document order."""
    if isinstance(node, _BadNumber):
        yield Issue(render_path(path), node.message)
    elif isinstance(node, dict):
        for key in getattr(node, "duplicates", ()):
            yield Issue(render_path([*path, key]), f"duplicate object key {key!r} (RFC 7493 section 2.3)")
        for key, value in node.items():
            yield from _duplicates(value, [*path, key])
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _duplicates(value, [*path, i])


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def _lone_surrogates(node: Any, path: list[PathPart]) -> Iterator[Issue]:
    if isinstance(node, str):
        if _has_surrogate(node):
            yield Issue(render_path(path), "string contains an unpaired UTF-16 surrogate (RFC 7493 section 2.1)")
    elif isinstance(node, dict):
        for key, value in node.items():
            if _has_surrogate(key):
                yield Issue(render_path(path), f"object key {key!r} contains an unpaired UTF-16 surrogate")
            yield from _lone_surrogates(value, [*path, key])
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _lone_surrogates(value, [*path, i])


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON (no insignificant whitespace, no NaN)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
