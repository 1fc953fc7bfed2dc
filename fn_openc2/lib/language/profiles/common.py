"""Helpers shared by the shipped profiles' rules (plain functions over JSON)."""
from __future__ import annotations

from typing import Any, Mapping

from ..errors import Issue


def args_of(command: Mapping[str, Any]) -> dict[str, Any]:
    args = command.get("args")
    return args if isinstance(args, dict) else {}


def ext_args(command: Mapping[str, Any], nsid: str) -> dict[str, Any]:
    value = args_of(command).get(nsid)
    return value if isinstance(value, dict) else {}


def only_args(command: Mapping[str, Any], allowed: frozenset[str], nsid: str) -> list[Issue]:
    """Issues for every argument outside ``allowed`` for this command's action."""
    args = command.get("args")
    if type(args) is not dict or args.keys() <= allowed:
        return []
    action = command.get("action")
    return [
        Issue(f"args.{key}", f"profile {nsid!r}: '{action}' does not take argument {key!r}; "
                             f"it takes {', '.join(sorted(allowed)) or 'none'}")
        for key in args_of(command) if key not in allowed
    ]


def needs_complete(command: Mapping[str, Any], path: str, what: str) -> list[Issue]:
    """``what`` needs a 'complete' response (absent response_requested means complete)."""
    wanted = args_of(command).get("response_requested", "complete")
    if wanted != "complete":
        return [Issue(path, f"{what} needs response_requested 'complete', got {wanted!r}")]
    return []
