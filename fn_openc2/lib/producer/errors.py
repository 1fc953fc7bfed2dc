"""Errors raised by the producer layer."""
from __future__ import annotations

from typing import TYPE_CHECKING

from fn_openc2.lib.errors import Issue, OpenC2Error

if TYPE_CHECKING:
    from fn_openc2.lib.producer.outcome import CommandOutcome


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


class CommandRefused(OpenC2Error):
    """Nothing was sent: the command is invalid, the policy guard said no, or it cannot be routed;
    ``outcome`` is the refused CommandOutcome (its ``refused`` says why)."""

    def __init__(self, outcome: CommandOutcome) -> None:
        super().__init__(outcome.refused or "refused")
        self.outcome = outcome


class RoutingError(OpenC2Error, ValueError):
    """The caller named consumers that app.config does not configure."""
