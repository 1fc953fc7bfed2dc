"""The HTTPS wire dialects the reference consumer can speak.

The HTTPS transfer spec changed between v1.0 and v1.1 and deployed consumers
mix the two, so the consumer must be able to play either role for a producer
to rehearse against.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dialect:
    name: str
    path: str                    # the one path commands are POSTed to
    request_type: str            # media type (without parameters) of a command
    response_type: str           # full Content-Type of an answer
    envelope: bool               # LS 3.2 Message body (v1.1) or the bare command/response (v1.0)
    status_in_line: bool         # OpenC2 status carried as the HTTP status


DIALECTS: dict[str, Dialect] = {
    "https-v1.1": Dialect("https-v1.1", "/.well-known/openc2", "application/openc2+json",
                          "application/openc2+json;version=1.0", envelope=True, status_in_line=False),
    "https-v1.1-status": Dialect("https-v1.1-status", "/.well-known/openc2", "application/openc2+json",
                                 "application/openc2+json;version=1.0", envelope=True,
                                 status_in_line=True),
    "https-v1.0": Dialect("https-v1.0", "/openc2", "application/openc2-cmd+json",
                          "application/openc2-rsp+json;version=1.0", envelope=False, status_in_line=True),
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
