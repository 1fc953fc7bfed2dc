"""Values the transfer layer hands back to the producer."""
from __future__ import annotations

from dataclasses import dataclass, field

KINDS = ("tls", "connect", "timeout", "reset", "http", "decode", "config")


class TransferError(Exception):
    """A message could not be moved or its answer not read.

    `kind` says what failed (one of KINDS); `detail` names the consumer and
    URL or broker, never credentials; `attempts` is how many times the
    message was put on the wire before giving up (retries included)."""

    def __init__(self, kind: str, detail: str, *, attempts: int = 1) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown TransferError kind {kind!r}")
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail
        self.attempts = attempts


@dataclass
class Reply:
    """One answer, normalised to the Message envelope form."""

    transport: str
    message: dict
    raw: bytes
    http_status: int | None
    responder: str | None
    elapsed_ms: float
    attempts: int


@dataclass
class Collected:
    """What an MQTT collection window brought back."""

    replies: list[Reply] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
