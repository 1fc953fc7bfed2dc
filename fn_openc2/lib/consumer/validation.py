"""Turn a received command document into a plain v2.0 dict, or the list of
what is wrong with it.

The language layer owns OpenC2 validation; this module only adapts its
answer to the actuator, which works on dicts. The tolerant reader is used so
that commands in the LS v1.0 "actuator" form or with "profile" as an object,
as consumers in the wild receive them, are understood too.
"""
from __future__ import annotations

from typing import Any

from fn_openc2.lib.errors import Issue, OpenC2Error
from fn_openc2.lib.language import OpenC2ValidationError, read_command, to_dict


class InvalidCommand(OpenC2Error, ValueError):
    """The command cannot be processed; issues are (path, message) pairs."""

    def __init__(self, issues: list[tuple[str, str]]) -> None:
        self.issues = [Issue(path, message) for path, message in issues]
        super().__init__(render_issues(issues))


def render_issues(issues: list[tuple[str, str]]) -> str:
    """One line naming every issue with its JSON path (why: status_text is all a producer sees)."""
    return "; ".join(f"{path or '(root)'}: {message}" for path, message in issues)


def read_request(doc: Any) -> tuple[dict[str, Any], list[str]]:
    """Validate and normalise one command; returns (command dict, warnings)."""
    if not isinstance(doc, dict):
        raise InvalidCommand([("", f"a command must be a JSON object, got {type(doc).__name__}")])
    try:
        command, warnings = read_command(doc)
    except OpenC2ValidationError as exc:
        raise InvalidCommand([(issue.path, issue.message) for issue in exc.issues]) from None
    return to_dict(command), list(warnings)
