"""Validation issues with JSON paths, and the one exception that carries them.

Every check in the language layer reports an :class:`Issue`; callers get all
of them at once so an operator can fix a document in one pass.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from fn_openc2.lib.errors import Issue as Issue  # re-exported: the language layer's name for it
from fn_openc2.lib.errors import OpenC2Error

PathPart = str | int  # pylint: disable=unsupported-binary-operation  # runtime union: the app needs Python 3.11 (python_requires); the SDK's pylintrc assumes py-version 3.6


class OpenC2ValidationError(OpenC2Error, ValueError):
    """A document is not valid OpenC2; ``issues`` lists every violation found."""

    def __init__(self, what: str, issues: Sequence[Issue]):
        self.what = what
        self.issues = list(issues)
        lines = "; ".join(str(i) for i in self.issues) or "no detail"
        super().__init__(f"invalid OpenC2 {what}: {lines}")


def _needs_quotes(key: str) -> bool:
    return not key or any(ch in key for ch in '.[]"')


def render_path(parts: Iterable[PathPart]) -> str:
    """Render ("target", "features", 2) as ``target.features[2]``.

    A key that is empty or holds '.', '[', ']' or '"' is written as a JSON
    string in brackets (``a["x.y"]``), so every path reads back unambiguously.
    """
    out: list[str] = []
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _needs_quotes(part):
            out.append(f"[{json.dumps(part, ensure_ascii=False)}]")
        elif out:
            out.append("." + part)
        else:
            out.append(part)
    return "".join(out)


def join(prefix: str, path: str) -> str:
    """Prefix a rendered path (``join("args", "slpf.direction")``)."""
    if not prefix:
        return path
    if not path:
        return prefix
    return prefix + path if path.startswith("[") else f"{prefix}.{path}"


def json_type(value: Any) -> str:
    """The JSON type name of a decoded value, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def describe(value: Any) -> str:
    """Short rendering of a bad value: ``'80' (string)``, ``true (boolean)``."""
    kind = json_type(value)
    if kind == "string":
        text = value if len(value) <= 60 else value[:57] + "..."
        return f"{text!r} (string)"
    if kind == "boolean":
        return f"{'true' if value else 'false'} (boolean)"
    if kind in ("integer", "number"):
        return f"{value} ({kind})"
    if kind == "null":
        return "null"
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def sort_issues(issues: list[Issue], doc: Any) -> list[Issue]:
    """Order issues as their paths appear in the document, then by message."""

    def key(issue: Issue) -> tuple[tuple[int, ...], str, str]:
        return (_position(doc, issue.path), issue.path, issue.message)

    return sorted(dict.fromkeys(issues), key=key)


def _position(doc: Any, path: str) -> tuple[int, ...]:
    """Index of each path step in the document's own key order."""
    out: list[int] = []
    node = doc
    for part in _split(path):
        if isinstance(node, dict) and isinstance(part, str):
            keys = list(node)
            out.append(keys.index(part) if part in node else len(keys))
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int):
            out.append(part)
            node = node[part] if 0 <= part < len(node) else None
        else:
            out.append(1 << 30)
            node = None
    return tuple(out)


_TOKEN = re.compile(r'\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|\.?([^.\[]+)')


def _split(path: str) -> list[PathPart]:
    """The parts of a path :func:`render_path` wrote."""
    parts: list[PathPart] = []
    for index, quoted, name in _TOKEN.findall(path):
        if index:
            parts.append(int(index))
        elif quoted:
            parts.append(json.loads(quoted))
        else:
            parts.append(name)
    return parts
