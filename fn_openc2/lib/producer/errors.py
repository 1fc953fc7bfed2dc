"""Errors raised by the producer layer."""
from __future__ import annotations


class ConfigError(ValueError):
    """A bad or missing app.config value; names the section and key so an
    operator can fix the file without reading code."""

    def __init__(self, section: str, key: str | None, problem: str) -> None:
        self.section = section
        self.key = key
        self.problem = problem
        where = f"[{section}] {key}" if key else f"[{section}]"
        super().__init__(f"{where}: {problem}")


class RoutingError(ValueError):
    """The caller named consumers that the registry does not know."""
