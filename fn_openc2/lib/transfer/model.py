"""Values the transfer layer hands back to the producer."""
from __future__ import annotations

from typing import Any

from dataclasses import dataclass, field

from fn_openc2.lib.errors import OpenC2Error

KINDS = ("tls", "connect", "timeout", "reset", "http", "decode", "config", "size")


class TransferError(OpenC2Error):
    """A message could not be moved or its answer not read.

    `kind` says what failed (one of KINDS); `detail` names the consumer and
    URL or broker, never credentials; `attempts` is how many times the
    message was put on the wire before giving up (retries included)."""

    def __init__(self, kind: str, detail: str, http_status: int | None = None, *, attempts: int = 1,
                 maybe_delivered: bool = False) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown TransferError kind {kind!r}")
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail
        self.attempts = attempts
        self.http_status = http_status   # the HTTP status of an answer that could not be read, if any
        # the message may have reached the consumer (sent, then no reply): its outcome is unknown
        self.maybe_delivered = maybe_delivered


COMMAND_TOPIC = "oc2/cmd/all"
"""The MQTT topic every consumer subscribes to (the MQTT transfer's all-consumers topic)."""
PRODUCER_ID = "soar@example.com"
"""Default headers.from of the commands (config key producer_id)."""

MAX_ANSWER_BYTES = 4 << 20
"""Default bound on one answer's decoded size (config key max_answer_bytes)."""
MAX_ANSWERS = 1000
"""Default cap on answers collected for one MQTT command (config key max_answers)."""


@dataclass(slots=True)
class Reply:
    """One answer, as it arrived and normalised to the Message envelope form.

    The transfer layer decodes each answer once and says what arrived, so
    readers never go back to ``raw``: ``received`` is the body decoded exactly
    as it came off the wire (before headers were filled in or a bare body
    wrapped; None for an empty body or one that is not JSON), ``message`` the
    normalised envelope (for MQTT the same object: nothing is rewritten),
    ``empty`` says the body was empty (an HTTP status alone), ``envelope`` the
    transfer form the consumer answers in ("full" can carry a signature;
    "bare" and "openc2-only" cannot). Both dicts share their inner values:
    treat them as read-only.

    ``correlated`` is False for an MQTT answer without our request_id that was
    attributed to the command by who sent it (see MqttTransport); ``warnings``
    are what the transfer layer noticed while reading it; ``http_headers`` the
    HTTPS answer's headers as received (None for MQTT), for conformance checks."""

    transport: str
    message: dict[str, Any]
    raw: bytes
    http_status: int | None
    responder: str | None
    elapsed_ms: float
    attempts: int
    correlated: bool = True
    warnings: list[str] = field(default_factory=list)
    http_headers: dict[str, str] | None = None
    received: Any = None
    empty: bool = False
    envelope: str = "full"

    @property
    def response(self) -> Any:
        """body.openc2.response of the normalised envelope, None when there is none."""
        body = self.message.get("body")
        content = body.get("openc2") if isinstance(body, dict) else None
        return content.get("response") if isinstance(content, dict) else None

    @property
    def status(self) -> Any:
        """The response's "status" member as sent (any JSON value), None when absent."""
        response = self.response
        return response.get("status") if isinstance(response, dict) else None

    @property
    def signed(self) -> bool:
        """The answer carries a "signature" member (as received)."""
        return "signature" in self.as_signed

    @property
    def as_signed(self) -> dict[str, Any]:
        """What a signature covers: the envelope exactly as received when it carries a
        signature (normalising may have filled headers, which would break it), else the
        normalised envelope."""
        received = self.received
        if isinstance(received, dict) and "signature" in received:
            return received
        return self.message


@dataclass
class Delivery:
    """What came back for one message, whatever the transport.

    ``replies`` in arrival order; ``missing`` the expected responders that
    stayed silent (MQTT); ``unmatched`` answers seen that could not be matched
    to the message ("from X, 400 ... (no request_id)"); ``notices`` answers not
    counted and why (unexpected sender, max_answers cap hit). HTTPS fills
    ``replies`` only (one answer, or none)."""

    replies: list[Reply] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


Collected = Delivery
"""The MQTT transport's former name for a Delivery."""
