"""What a send returns: one outcome per command, one answer per consumer."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class ConsumerAnswer:
    """One consumer's (or one MQTT responder's) answer to one command.

    ``ok`` means the exchange worked: the awaited answer arrived, decoded,
    validated and its signature was not invalid (nor missing when the
    consumer has a ``response_verify_key``). The OpenC2 ``status`` may
    still say the consumer refused or failed the command.
    """

    consumer: str
    responder: str | None
    request_id: str
    status: int | None = None
    status_text: str | None = None
    results: dict | None = None
    signature: str = "unsigned"            # verified | unsigned | invalid | not_checked
    signature_reason: str | None = None
    error: str | None = None
    elapsed_ms: float = 0.0
    attempts: int = 0
    transport: str | None = None
    http_status: int | None = None
    message: dict | None = field(default=None, repr=False)  # the answer envelope as received

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["ok"] = self.ok
        return out


@dataclass
class CommandOutcome:
    """One command: the command as sent, and every consumer's answer.

    ``refused`` is set (and ``answers`` empty) when nothing was sent because
    the command was invalid, the policy guard refused it, or it could not be
    routed; it says why.
    """

    command: dict
    request_id: str
    refused: str | None = None
    answers: list[ConsumerAnswer] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.refused is None and all(answer.ok for answer in self.answers)

    def to_dict(self) -> dict[str, Any]:
        return {"command": self.command, "request_id": self.request_id, "refused": self.refused,
                "ok": self.ok, "answers": [answer.to_dict() for answer in self.answers]}
