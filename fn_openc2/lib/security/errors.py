"""Exceptions of the security layer.

Messages name what is wrong (a file path, a JSON path, a header field) and
never contain key material or passwords.
"""
from __future__ import annotations

from fn_openc2.lib.errors import Issue, OpenC2Error


class SignatureError(OpenC2Error):
    """A message signature could not be made or did not verify; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class KeyLoadError(OpenC2Error, ValueError):
    """A key could not be loaded or is not usable for OpenC2 message signatures."""


class CanonicalizationError(OpenC2Error, ValueError):
    """The document has no RFC 8785 canonical form (e.g. a number outside I-JSON range).

    ``path`` is the JSON path of the offending value ("" for the root).
    """

    def __init__(self, path: str, message: str) -> None:
        where = path or "<root>"
        super().__init__(f"{where}: {message}")
        self.path = path
        self.message = message
        self.issues = [Issue(path, message)]
