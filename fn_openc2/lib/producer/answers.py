"""Turn what a transport brought back into ConsumerAnswers.

Every targeted consumer ends with exactly one answer per responder, even
when nothing came back, so SOAR can write one row per consumer and the
playbook sees who stayed silent.
"""
from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

from jwcrypto.jwk import JWK

from fn_openc2.lib.language import OpenC2ValidationError, parse_response
from fn_openc2.lib.producer.config import ConsumerSettings
from fn_openc2.lib.producer.outcome import ConsumerAnswer
from fn_openc2.lib.producer.transports import Delivery
from fn_openc2.lib.security import signature_verdict
from fn_openc2.lib.transfer import Reply
from fn_openc2.lib.transfer.dialects import DIALECTS

RESPONSE_PATH = "body.openc2.response"
UNSIGNED_WITH_KEY = "response not signed but response_verify_key is configured"


def _may_hold_signature(raw: bytes) -> bool:
    """False only when the bytes are plainly UTF-8 JSON with no "signature" member
    anywhere (none spelled out, no escapes that could spell one)."""
    return b'"signature"' in raw or b"\\u" in raw or not raw.lstrip().startswith(b"{")


def _signed_form(reply: Reply) -> dict:
    """The envelope exactly as received when it was one (the transport may
    have filled headers, which would break the signature), else the normalised one."""
    if not _may_hold_signature(reply.raw):
        return reply.message   # nothing to recover from the raw bytes: skip a second decode
    try:
        doc = json.loads(reply.raw)
    except (ValueError, UnicodeDecodeError):
        return reply.message
    return doc if isinstance(doc, dict) and "signature" in doc else reply.message


def _carries_signature(consumer: ConsumerSettings) -> bool:
    """Whether answers in this consumer's transfer form can hold a "signature" member:
    MQTT and the full LS envelope can; the bare (v1.0) and openc2-only HTTPS forms cannot."""
    if consumer.transport != "https":
        return True
    preset = DIALECTS.get(consumer.dialect)
    envelope = consumer.envelope or (preset.envelope if preset else "full")
    return envelope == "full"


def _issues(error: OpenC2ValidationError) -> str:
    parts = []
    for issue in error.issues:
        path = f"{RESPONSE_PATH}.{issue.path}" if issue.path else RESPONSE_PATH
        parts.append(f"{path}: {issue.message}")
    return "; ".join(parts) or str(error)


def from_reply(consumer: ConsumerSettings, request_id: str, reply: Reply, verify_key: JWK | None) -> ConsumerAnswer:
    answer = ConsumerAnswer(consumer=consumer.name, responder=reply.responder, request_id=request_id,
                            elapsed_ms=reply.elapsed_ms, attempts=reply.attempts, transport=reply.transport,
                            http_status=reply.http_status, message=reply.message)
    headers = reply.message.get("headers") or {}
    answered_id = headers.get("request_id")
    content = (reply.message.get("body") or {}).get("openc2") or {}
    response = content.get("response") if isinstance(content, dict) else None
    errors: list[str] = []
    if answered_id is not None and answered_id != request_id:
        errors.append(f"headers.request_id: answer is for {answered_id!r}, expected {request_id!r}")
    if not isinstance(response, dict):
        kinds = ", ".join(sorted(content)) if isinstance(content, dict) else type(content).__name__
        errors.append(f"{RESPONSE_PATH}: missing (body.openc2 holds: {kinds or 'nothing'})")
    else:
        status = response.get("status")
        answer.status = status if isinstance(status, int) and not isinstance(status, bool) else None
        text = response.get("status_text")
        answer.status_text = text if isinstance(text, str) else None
        results = response.get("results")
        answer.results = results if isinstance(results, dict) else None
        try:
            parse_response(response)
        except OpenC2ValidationError as exc:
            errors.append(f"invalid response: {_issues(exc)}")
    # Without a key only the presence of a signature matters, and the normalised form keeps it.
    signed = reply.message if verify_key is None and "signature" in reply.message else _signed_form(reply)
    answer.signature, answer.signature_reason = signature_verdict(signed, verify_key)
    if answer.signature == "invalid":
        errors.insert(0, f"response signature invalid: {answer.signature_reason}")
    elif answer.signature == "unsigned" and verify_key is not None:
        if _carries_signature(consumer):
            # a consumer configured to sign that answers unsigned is suspicious (stripped, spoofed)
            answer.signature_reason = UNSIGNED_WITH_KEY
            errors.insert(0, UNSIGNED_WITH_KEY)
        else:
            answer.signature_reason = "the consumer's HTTPS envelope form has no place for a signature"
    answer.error = "; ".join(errors) or None
    return answer


def _final(replies: list[Reply]) -> Reply:
    """The last non-interim answer of one responder, else its last answer."""
    finals = [r for r in replies if _status(r) != 102]
    return (finals or replies)[-1]


def _status(reply: Reply) -> Any:
    content = (reply.message.get("body") or {}).get("openc2") or {}
    response = content.get("response") if isinstance(content, dict) else None
    return response.get("status") if isinstance(response, dict) else None


def answers_for(consumer: ConsumerSettings, request_id: str, delivery: Delivery, response_requested: str,
                verify_key: JWK | None, elapsed_ms: float) -> list[ConsumerAnswer]:
    by_responder: "OrderedDict[str | None, list[Reply]]" = OrderedDict()
    for reply in delivery.replies:
        by_responder.setdefault(reply.responder, []).append(reply)
    answers = [from_reply(consumer, request_id, _final(group), verify_key) for group in by_responder.values()]
    if response_requested == "complete":
        for answer in answers:
            if answer.status == 102 and answer.error is None:
                answer.error = "only an interim answer (102 Processing) arrived, no final response"
    silence = _silence(consumer, response_requested)
    for missing in delivery.missing:
        answers.append(ConsumerAnswer(consumer=consumer.name, responder=missing, request_id=request_id,
                                      error=silence, elapsed_ms=elapsed_ms, attempts=1,
                                      transport=consumer.transport))
    if not answers:
        none_wanted = response_requested == "none"
        answers.append(ConsumerAnswer(consumer=consumer.name, responder=None, request_id=request_id,
                                      error=None if none_wanted else silence, elapsed_ms=elapsed_ms,
                                      attempts=1, transport=consumer.transport))
    return answers


def _silence(consumer: ConsumerSettings, response_requested: str) -> str:
    if consumer.transport == "mqtt":
        return f"no answer within {consumer.collect_seconds:g}s"
    return f"no response in the HTTP answer although response_requested is {response_requested}"
