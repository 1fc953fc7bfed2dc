"""The one error family of fn_openc2: every error the app raises on purpose.

A caller (the SOAR functions, the CLI, a script) catches ``OpenC2Error`` to tell
"the input, the configuration or a peer was wrong, and here is what and where"
from a bug; ``issues`` lists each problem with where it is (a JSON path, a
config ``[section] key``, a function input name), so one pass fixes them all.
The layers' own classes (``OpenC2ValidationError``, ``ConfigError``,
``TransferError``, ...) are subclasses and keep their names and their builtin
bases (``ValueError``, ``RuntimeError``), so existing ``except`` clauses hold.
This module imports nothing: every layer may use it.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple


class Issue(NamedTuple):
    """One violation: where it is (JSON path, "" for the root) and what is wrong."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or '(root)'}: {self.message}"


class OpenC2Error(Exception):
    """Base of every deliberate fn_openc2 error; ``issues`` says what is wrong and where.

    A subclass that knows more than its message sets ``issues`` (or passes them
    here); otherwise the message is the one issue, at ``where``."""

    where: str = ""

    def __init__(self, *args: object, issues: Sequence[Issue] | None = None) -> None:
        super().__init__(*args)
        if issues is not None:
            self.issues = list(issues)

    @property
    def issues(self) -> list[Issue]:
        found = self.__dict__.get("_issues")
        if found is not None:
            return list(found)
        return [Issue(self.where, str(self))]

    @issues.setter
    def issues(self, value: Sequence[Issue]) -> None:
        self.__dict__["_issues"] = [item if isinstance(item, Issue) else Issue(*item) for item in value]


__all__ = ["Issue", "OpenC2Error"]
