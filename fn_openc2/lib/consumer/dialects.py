"""The HTTPS wire dialects the reference consumer can speak.

The HTTPS transfer spec changed between v1.0 and v1.1 and deployed consumers
mix the two, so the consumer must be able to play either role for a producer
to rehearse against.
"""
from __future__ import annotations

from dataclasses import dataclass

from fn_openc2.lib.transfer.dialects import resolve_dialect


@dataclass(frozen=True)
class Dialect:
    """The server's view of one of the producer-side presets in transfer.dialects."""

    name: str
    path: str                    # the one path commands are POSTed to
    request_type: str            # media type (without parameters) of a command
    response_type: str           # full Content-Type of an answer
    envelope: bool               # LS 3.2 Message body (v1.1) or the bare command/response (v1.0)
    status_in_line: bool         # OpenC2 status carried as the HTTP status


def _served(name: str, preset: str, **overrides: str) -> Dialect:
    wire = resolve_dialect(preset, **overrides)
    return Dialect(name, wire.path, wire.content_type.split(";", 1)[0].strip(), wire.accept,
                   envelope=wire.envelope == "full", status_in_line=wire.status_in == "http")


DIALECTS: dict[str, Dialect] = {
    "https-v1.1": _served("https-v1.1", "https-v1.1"),
    # a v1.1 consumer that puts the OpenC2 status in the HTTP status line (seen in the wild)
    "https-v1.1-status": _served("https-v1.1-status", "https-v1.1", status_in="http"),
    # v1.0 names no path; its examples use /openc2
    "https-v1.0": _served("https-v1.0", "https-v1.0", path="/openc2"),
}


def get_dialect(name: str) -> Dialect:
    try:
        return DIALECTS[name]
    except KeyError:
        raise ValueError(f"dialect: {name!r} is not known (known: {', '.join(DIALECTS)})") from None


def content_type_ok(header: str | None, dialect: Dialect) -> bool:
    """Media type must match; a version parameter, when present, must be 1.0."""
    if not header:
        return False
    parts = [p.strip().lower() for p in header.split(";")]
    if parts[0] != dialect.request_type:
        return False
    for param in parts[1:]:
        name, _, value = param.partition("=")
        if name.strip() == "version" and value.strip().strip('"') != "1.0":
            return False
    return True
