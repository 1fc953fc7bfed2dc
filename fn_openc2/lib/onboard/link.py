"""One consumer, reached with hand-made commands.

Onboarding needs what the Producer deliberately refuses: commands that are
malformed on purpose (grade), a chosen profile encoding per attempt on the
same connection (probe), and the replies as they came off the wire (to see
where the status was and whether request_id was echoed). So this module
puts a command on the wire the way ``Producer.send_to`` does (profile
adapted, LS 3.2 envelope, signed when a key is configured) and reads the
answers with the producer's own reader (``answers_for``), skipping only the
validation, guard and routing steps. It never sends anything the caller did
not hand it.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from fn_openc2.lib.language import requested_response
from fn_openc2.lib.producer.answers import answers_for
from fn_openc2.lib.producer.settings import AppSettings, ConsumerSettings
from fn_openc2.lib.producer.envelope import command_message, new_request_id
from fn_openc2.lib.producer.outcome import ConsumerAnswer
from fn_openc2.lib.producer.producer import load_signing_key, load_verify_key
from fn_openc2.lib.producer.transports import https_settings, mqtt_settings
from fn_openc2.lib.transfer import HttpsTransport, MqttTransport, Reply, TransferError
from fn_openc2.lib.transfer.dialects import printable

MAX_SHOWN = 300


def one_line(text: object, limit: int = MAX_SHOWN) -> str:
    """A peer's words as onboarding reports show them: ``printable`` on one line (the SOAR note escapes again)."""
    return printable(text, limit, one_line=True)


@dataclass
class Exchange:
    """One command and what came back for it."""

    command: dict[str, Any]
    request_id: str
    sent: dict[str, Any] | None = None                       # the envelope as put on the wire
    answers: list[ConsumerAnswer] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    failure: TransferError | None = None           # nothing readable came back

    @property
    def answer(self) -> ConsumerAnswer | None:
        """The first answer (HTTPS has exactly one; MQTT the first responder)."""
        return self.answers[0] if self.answers else None

    def statuses(self) -> list[int]:
        return [a.status for a in self.answers if a.status is not None]


def raw_response(reply: Reply) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(headers, response) exactly as the consumer sent them, before the
    transfer layer filled anything in (None where absent or unreadable)."""
    if not reply.raw.strip():
        return None, None
    try:
        doc = json.loads(reply.raw)
    except (ValueError, UnicodeDecodeError):
        return None, None
    if not isinstance(doc, dict):
        return None, None
    headers = doc.get("headers") if isinstance(doc.get("headers"), dict) else None
    content = None
    if isinstance(doc.get("body"), dict) and isinstance(doc["body"].get("openc2"), dict):
        content = doc["body"]["openc2"]
    elif isinstance(doc.get("openc2"), dict):
        content = doc["openc2"]
    if content is not None:
        response = content.get("response")
        return headers, response if isinstance(response, dict) else None
    return headers, doc if "action" not in doc else None


def load_keys(settings: AppSettings, consumer: ConsumerSettings) -> tuple[Any, Any]:
    """(signing key, response verify key), loaded by the Producer's own loaders."""
    return load_signing_key(settings), load_verify_key(consumer)


class Link:
    """One open transport to one configured consumer (one HTTPS session or one
    MQTT connection, reused by every exchange on this link)."""

    def __init__(self, settings: AppSettings, name: str, *, response_topics: tuple[str, ...] | None = None,
                 reuse: Link | None = None) -> None:
        """``reuse``: an open HTTPS link to the same consumer whose connection this one
        shares (another dialect, same address and credentials)."""
        self.settings = settings
        self.consumer = settings.consumer(name)
        self._signing_key, self._verify_key = load_keys(settings, self.consumer)
        self._https: HttpsTransport | None = None
        self._mqtt: MqttTransport | None = None
        if self.consumer.transport == "mqtt":
            mqtt = mqtt_settings(self.consumer, settings.producer)
            if response_topics:
                mqtt.response_topics = tuple(response_topics)
            self._mqtt = MqttTransport(mqtt, self.consumer.name)
            self.profile_encoding = self.consumer.profile_encoding or "string"
        else:
            self._https = HttpsTransport(https_settings(self.consumer, 1), self.consumer.name,
                                         reuse=reuse._https if reuse is not None else None)
            self.profile_encoding = self._https.profile_encoding

    def envelope(self, command: dict[str, Any], request_id: str, profile_encoding: str | None = None) -> dict[str, Any]:
        return command_message(command, self.consumer, self.settings.producer, request_id,
                               profile_encoding or self.profile_encoding, self._signing_key)

    def exchange(self, command: dict[str, Any], *, profile_encoding: str | None = None,
                 topic: str | None = None) -> Exchange:
        """Send ``command`` as it is (valid or not) and read every answer; ``topic``
        publishes this one on another MQTT command topic of the same connection."""
        request_id = new_request_id()
        done = Exchange(command=command, request_id=request_id)
        wanted = requested_response(command)
        try:
            done.sent = self.envelope(command, request_id, profile_encoding)
        except TransferError as exc:
            done.failure = exc
            return done
        started = time.perf_counter()
        try:
            if self._mqtt is not None:
                delivery = self._mqtt.send(done.sent, await_response=wanted != "none", topic=topic)
            else:
                assert self._https is not None
                delivery = self._https.send(done.sent, await_response=wanted != "none")
        except TransferError as exc:
            done.failure = exc
            return done
        elapsed = (time.perf_counter() - started) * 1000.0
        done.replies = list(delivery.replies)
        done.answers = answers_for(self.consumer, request_id, delivery, wanted, self._verify_key, elapsed)
        return done

    def close(self) -> None:
        for transport in (self._https, self._mqtt):
            if transport is not None:
                transport.close()

    def __enter__(self) -> Link:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
