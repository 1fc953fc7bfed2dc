"""What a send returns: one outcome per command, one answer per consumer."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from fn_openc2.lib.language import STATUS_TEXT
from fn_openc2.lib.transfer.dialects import printable

OUTCOME_UNKNOWN = "outcome unknown: may have been carried out"


@dataclass(slots=True)
class ConsumerAnswer:
    """One consumer's (or one MQTT responder's) answer to one command.

    Success has one meaning per question: ``delivered`` -- the exchange
    worked: the awaited answer arrived, its status could be read and its
    signature was not invalid (nor missing when the consumer has a
    ``response_verify_key``); ``succeeded`` -- delivered, and the consumer
    said 1xx/2xx; ``signature_verdict`` -- verified | unsigned | invalid |
    not_checked. (``ok`` and ``signature`` are the same values under the names
    the function payload has always carried.) What deviates from
    the schema but could still be read is in ``warnings``; ``correlated`` is
    False for an MQTT answer without our request_id that was attributed by
    its sender; ``earlier`` holds answers this one replaced (a features
    query asked again without the features the consumer refused).
    """

    consumer: str
    responder: str | None
    request_id: str
    status: int | None = None
    status_text: str | None = None
    results: dict[str, Any] | None = None
    signature: str = "unsigned"            # verified | unsigned | invalid | not_checked
    signature_reason: str | None = None
    error: str | None = None
    elapsed_ms: float = 0.0
    attempts: int = 0
    transport: str | None = None
    http_status: int | None = None
    message: dict[str, Any] | None = field(default=None, repr=False)  # the answer envelope as received
    warnings: list[str] = field(default_factory=list)
    correlated: bool = True
    earlier: list[dict[str, Any]] = field(default_factory=list)
    # the command went out but its fate is unknown (MQTT publish not acknowledged or no answer,
    # HTTPS read timeout after sending): it may have been carried out, so it is not "failed";
    # ``error`` still says what happened, readers put OUTCOME_UNKNOWN in front of it
    outcome_unknown: bool = False

    @property
    def delivered(self) -> bool:
        """The exchange worked (whatever the consumer's status says)."""
        return self.error is None

    @property
    def ok(self) -> bool:
        """``delivered``, under the payload's name for it."""
        return self.delivered

    @property
    def succeeded(self) -> bool:
        """The exchange worked and the consumer said 1xx/2xx (or nothing, when nothing was asked)."""
        return self.delivered and (self.status is None or self.status < 300)

    @property
    def signature_verdict(self) -> str:
        """verified | unsigned | invalid | not_checked (the ``signature`` field: a verdict, not a JWS)."""
        return self.signature

    def who(self) -> str:
        shown = printable(self.consumer, 80)
        if self.responder and self.responder != self.consumer:
            shown += f" ({printable(self.responder, 120)})"
        return shown

    def headline(self) -> str:
        """The peer's own words first (status and status text), then what the producer noticed."""
        parts: list[str] = []
        if self.status is not None:
            text = self.status_text if self.status_text is not None else STATUS_TEXT.get(self.status, "")
            parts.append(printable(f"{self.status} {text}".strip()))
        elif self.http_status is not None and self.error is None:
            parts.append(f"HTTP {self.http_status}, no OpenC2 response (none was asked for)")
        elif self.error is None:
            parts.append("no response (none was asked for)")
        if self.error:
            parts.append(printable(self.error, 2000))
        if self.warnings:
            count = len(self.warnings)
            parts.append(f"{count} warning{'s' if count > 1 else ''}: "
                         + printable("; ".join(self.warnings), 1000))
        return " — ".join(parts)

    def line(self) -> str:
        """``consumer (responder): <status> <text> — <remarks>``: what a person reads first."""
        return f"{self.who()}: {self.headline()}"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["ok"] = self.ok
        return out

    def record(self) -> dict[str, Any]:
        """to_dict without the raw envelope (for ``earlier``)."""
        out = self.to_dict()
        out.pop("message", None)
        return out


def status_key(answer: ConsumerAnswer) -> str:
    """How counts by status name an answer: "200", "501", ... or "unknown" / "failed" without a status."""
    status = answer.status
    return str(status) if status is not None else ("unknown" if answer.outcome_unknown else "failed")


STREAM_KEEP = 50
"""Answers of each kind (succeeded, not) a streamed outcome keeps as a sample (the first ones)."""


@dataclass
class AnswerTally:
    """A streamed command's answers, counted as they were passed on (``Producer.send(on_answer=)``).

    The answers themselves went to the stream's consumer; the outcome keeps
    only a bounded sample (the first STREAM_KEEP that succeeded and the first
    STREAM_KEEP that did not), so a 10,000-answer fan-out holds counts, not
    answers. ``by_status``: "200", "501", ... or "failed" / "unknown" for
    answers without a status; ``notices``: what the transfer layer did not
    count, said once for the command instead of on every answer."""

    total: int = 0
    delivered: int = 0
    succeeded: int = 0
    outcome_unknown: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    by_consumer: dict[str, list[int]] = field(default_factory=dict)   # consumer -> [answers, succeeded]
    notices: list[str] = field(default_factory=list)

    def add(self, answer: ConsumerAnswer) -> bool:
        """Count one answer; True when the outcome should keep it in its sample."""
        succeeded = answer.succeeded     # read once: a fan-out counts thousands of these
        mine = self.by_consumer.get(answer.consumer)
        if mine is None:
            mine = self.by_consumer[answer.consumer] = [0, 0]
        mine[0] += 1
        mine[1] += succeeded
        self.total += 1
        self.delivered += answer.error is None
        self.succeeded += succeeded
        self.outcome_unknown += answer.outcome_unknown
        key = status_key(answer)
        self.by_status[key] = self.by_status.get(key, 0) + 1
        kind = self.succeeded if succeeded else self.total - self.succeeded
        return kind <= STREAM_KEEP

    def merge(self, other: AnswerTally) -> None:
        """Add another exchange's counts (one command, several consumers)."""
        self.total += other.total
        self.delivered += other.delivered
        self.succeeded += other.succeeded
        self.outcome_unknown += other.outcome_unknown
        for key, count in other.by_status.items():
            self.by_status[key] = self.by_status.get(key, 0) + count
        for name, (answers, succeeded) in other.by_consumer.items():
            mine = self.by_consumer.setdefault(name, [0, 0])
            mine[0] += answers
            mine[1] += succeeded
        self.notices.extend(line for line in other.notices if line not in self.notices)

    @property
    def failed(self) -> int:
        """Answers neither succeeded nor of unknown outcome."""
        return self.total - self.succeeded - self.outcome_unknown

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Sampled(list[ConsumerAnswer]):
    """A streamed exchange's answers as ``send_to`` returns them: the bounded sample, with the
    counts of all of them in ``tally``."""

    def __init__(self, answers: list[ConsumerAnswer], tally: AnswerTally) -> None:
        super().__init__(answers)
        self.tally = tally


@dataclass
class CommandOutcome:
    """One command: the command as sent, and every consumer's answer.

    ``refused`` is set (and ``answers`` empty) when nothing was sent because
    the command was invalid, the policy guard refused it, or it could not be
    routed; it says why.
    """

    command: dict[str, Any]
    request_id: str
    refused: str | None = None
    answers: list[ConsumerAnswer] = field(default_factory=list)
    tally: AnswerTally | None = None       # streamed: every answer counted, ``answers`` a bounded sample

    @property
    def delivered(self) -> bool:
        """Sent, and every answer delivered."""
        if self.tally is not None:
            return self.refused is None and self.tally.delivered == self.tally.total
        return self.refused is None and all(answer.delivered for answer in self.answers)

    @property
    def ok(self) -> bool:
        """``delivered``, under the payload's name for it."""
        return self.delivered

    @property
    def succeeded(self) -> bool:
        """Sent, and every answer succeeded (delivered and 1xx/2xx)."""
        if self.tally is not None:
            return self.refused is None and self.tally.succeeded == self.tally.total
        return self.refused is None and all(answer.succeeded for answer in self.answers)

    def counted(self) -> AnswerTally:
        """Counts of every answer: the tally when streamed, else counted from ``answers``."""
        if self.tally is not None:
            return self.tally
        tally = AnswerTally()
        for answer in self.answers:
            tally.add(answer)
        return tally

    def take(self, parts: list[list[ConsumerAnswer]]) -> None:
        """Each consumer's answers (``send_to``'s lists, some maybe ``Sampled``) into this outcome."""
        streamed = [part for part in parts if isinstance(part, Sampled)]
        for part in parts:
            self.answers.extend(part)
        if streamed:
            tally = AnswerTally()
            for part in parts:
                if isinstance(part, Sampled):
                    tally.merge(part.tally)
                else:
                    for answer in part:
                        tally.add(answer)
            self.tally = tally

    def to_dict(self) -> dict[str, Any]:
        out = {"command": self.command, "request_id": self.request_id, "refused": self.refused,
               "ok": self.ok, "answers": [answer.to_dict() for answer in self.answers]}
        if self.tally is not None:
            out["tally"] = self.tally.to_dict()
        return out
