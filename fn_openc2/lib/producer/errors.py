"""Errors raised by the producer layer."""
from __future__ import annotations

from fn_openc2.lib.errors import Issue, OpenC2Error


class ConfigError(OpenC2Error, ValueError):
    """A bad or missing app.config value; names the section and key so an
    operator can fix the file without reading code."""

    def __init__(self, section: str, key: str | None, problem: str) -> None:
        self.section = section
        self.key = key
        self.problem = problem
        where = f"[{section}] {key}" if key else f"[{section}]"
        super().__init__(f"{where}: {problem}")
        self.issues = [Issue(where, problem)]


class RoutingError(OpenC2Error, ValueError):
    """The caller named consumers that the registry does not know."""
