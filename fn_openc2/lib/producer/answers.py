"""Turn what a transport brought back into ConsumerAnswers.

Every targeted consumer ends with exactly one answer per responder, even
when nothing came back, so SOAR can write one row per consumer and the
playbook sees who stayed silent.

Tolerant in what it reads: an answer whose status can be read is an answer.
Deviations from the response schema are kept as warnings with it, never a
failure by themselves (``fn-openc2 validate`` stays strict). What makes an
answer a failure: no readable status, a request_id for another command, a
signature that does not verify (or is missing where a key is configured).
"""
from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any

from jwcrypto.jwk import JWK

from fn_openc2.lib.language import check_response
from fn_openc2.lib.producer.settings import ConsumerSettings
from fn_openc2.lib.producer.outcome import ConsumerAnswer
from fn_openc2.lib.security import signature_verdict
from fn_openc2.lib.transfer import Delivery, Reply
from fn_openc2.lib.transfer.dialects import printable

RESPONSE_PATH = "body.openc2.response"
UNSIGNED_WITH_KEY = "response not signed but response_verify_key is configured"
_DIGITS = re.compile(r"[1-5][0-9][0-9]")


def read_status(value: Any) -> tuple[int | None, str | None]:
    """(status, warning): an integer is read as is; an integral number or a
    string of three digits is read with a warning; anything else is unreadable."""
    if isinstance(value, bool):
        return None, f"{RESPONSE_PATH}.status: {value!r} is not a status code"
    if isinstance(value, int):
        return value, None
    if isinstance(value, float) and value.is_integer() and 100 <= value < 600:
        return int(value), f"{RESPONSE_PATH}.status: {value!r} read as {int(value)} (expected an integer)"
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        return int(value), f"{RESPONSE_PATH}.status: the string {printable(value, 10)!r} read as {int(value)}"
    if value is None:
        return None, f"{RESPONSE_PATH}.status: missing"
    return None, f"{RESPONSE_PATH}.status: {printable(repr(value), 40)} is not a status code"


def _schema_warnings(response: dict[str, Any]) -> list[str]:
    """Every way the response differs from LS v2.0 and its profiles, as readable lines."""
    try:
        issues = check_response(response)
    except RecursionError:           # the decoder bounds depth; this is a second fence
        return [f"{RESPONSE_PATH}: too deeply nested to check"]
    return [f"{RESPONSE_PATH}.{issue.path}: {issue.message}" if issue.path else f"{RESPONSE_PATH}: {issue.message}"
            for issue in issues if issue.path != "status"]


def from_reply(consumer: ConsumerSettings, request_id: str, reply: Reply, verify_key: JWK | None,
               response_requested: str = "complete",
               verdict: tuple[str, str | None] | None = None) -> ConsumerAnswer:
    answer = ConsumerAnswer(consumer=consumer.name, responder=reply.responder, request_id=request_id,
                            elapsed_ms=reply.elapsed_ms, attempts=reply.attempts, transport=reply.transport,
                            http_status=reply.http_status, message=reply.message,
                            warnings=list(reply.warnings), correlated=reply.correlated)
    headers = reply.message.get("headers") or {}
    answered_id = headers.get("request_id") if isinstance(headers, dict) else None
    content = (reply.message.get("body") or {}).get("openc2") or {}
    response = content.get("response") if isinstance(content, dict) else None
    errors: list[str] = []
    if answered_id is not None and answered_id != request_id:
        errors.append(f"headers.request_id: answer is for {printable(repr(answered_id), 80)}, "
                      f"expected {request_id!r}")
    if not reply.correlated:
        answer.warnings.insert(0, "the answer carries no request_id for this command: matched by its sender "
                                  "(uncorrelated)")
    if not isinstance(response, dict):
        kinds = ", ".join(sorted(map(str, content))) if isinstance(content, dict) else type(content).__name__
        errors.append(f"{RESPONSE_PATH}: missing (body.openc2 holds: {printable(kinds or 'nothing', 100)})")
    elif reply.empty and reply.http_status == 204 and response_requested == "none":
        pass                                # HTTP 204 to a command that asked for no response: recorded as such
    else:
        answer.status, note = read_status(response.get("status"))
        if answer.status is None:
            errors.append(f"no readable status: {note}")
        elif note:
            answer.warnings.append(note)
        text = response.get("status_text")
        if isinstance(text, str):
            answer.status_text = text
        elif text is not None:
            answer.warnings.append(f"{RESPONSE_PATH}.status_text: not a string, ignored")
        results = response.get("results")
        if isinstance(results, dict):
            answer.results = results
        elif results is not None:
            answer.warnings.append(f"{RESPONSE_PATH}.results: not an object, ignored")
        answer.warnings.extend(_schema_warnings(response))
    if verdict is None:
        verdict = _verdict(reply, verify_key)
    answer.signature, answer.signature_reason = verdict
    if answer.signature == "invalid":
        errors.insert(0, f"response signature invalid: {answer.signature_reason}")
    elif answer.signature == "unsigned" and verify_key is not None:
        if reply.empty:
            answer.signature_reason = "empty body: an HTTP status alone has no place for a signature"
        elif reply.envelope == "full":     # this transfer form has a place for a signature
            # a consumer configured to sign that answers unsigned is suspicious (stripped, spoofed)
            answer.signature_reason = UNSIGNED_WITH_KEY
            errors.insert(0, UNSIGNED_WITH_KEY)
        else:
            answer.signature_reason = "the consumer's HTTPS envelope form has no place for a signature"
    answer.error = "; ".join(errors) or None
    return answer


def _verdict(reply: Reply, verify_key: JWK | None) -> tuple[str, str | None]:
    return signature_verdict(reply.as_signed, verify_key)


def _final(replies: list[Reply]) -> Reply:
    """The last non-interim answer of one responder, else its last answer."""
    finals = [r for r in replies if _status(r) != 102]
    return (finals or replies)[-1]


def _status(reply: Reply) -> Any:
    content = (reply.message.get("body") or {}).get("openc2") or {}
    response = content.get("response") if isinstance(content, dict) else None
    return response.get("status") if isinstance(response, dict) else None


def _counted(group: list[Reply], verify_key: JWK | None) -> tuple[Reply, tuple[str, str | None], list[str]]:
    """The reply that stands for one responder, its signature verdict, and flags.

    With a verify key only verified answers count: unsigned or invalid ones
    claiming the same sender are flagged, not taken. Without one, a mix of
    signed and unsigned answers under one sender is flagged too (someone may
    be answering in its name)."""
    verdicts = [_verdict(r, verify_key) for r in group]
    flags: list[str] = []
    if verify_key is not None:
        verified = [r for r, v in zip(group, verdicts, strict=True) if v[0] == "verified"]
        others = len(group) - len(verified)
        if verified and others:
            flags.append(f"{others} unsigned or unverifiable answer{'s' if others > 1 else ''} claiming to be "
                         f"from {printable(group[0].responder, 120)} not counted")
        if verified:
            chosen = _final(verified)
            return chosen, verdicts[group.index(chosen)], flags
    else:
        signed = sum(1 for v in verdicts if v[0] != "unsigned")
        if 0 < signed < len(group):
            flags.append(f"{len(group) - signed} unsigned answer(s) claim the sender "
                         f"{printable(group[0].responder, 120)}, which also answered signed")
    chosen = _final(group)
    return chosen, verdicts[group.index(chosen)], flags


def answers_for(consumer: ConsumerSettings, request_id: str, delivery: Delivery, response_requested: str,
                verify_key: JWK | None, elapsed_ms: float) -> list[ConsumerAnswer]:
    by_responder: OrderedDict[str | None, list[Reply]] = OrderedDict()
    for reply in delivery.replies:
        by_responder.setdefault(reply.responder, []).append(reply)
    answers = []
    for group in by_responder.values():
        chosen, verdict, flags = _counted(group, verify_key)
        answer = from_reply(consumer, request_id, chosen, verify_key, response_requested, verdict)
        answer.warnings.extend(flags)
        answers.append(answer)
    if response_requested == "complete":
        for answer in answers:
            if answer.status == 102 and answer.error is None:
                answer.error = "only an interim answer (102 Processing) arrived, no final response"
    silence = _silence(consumer, response_requested)
    unmatched = _unmatched_line(delivery.unmatched)
    if unmatched:
        silence = f"{silence}; {unmatched}"
    # an MQTT command was published: a silent responder may still have carried it out
    unknown = consumer.transport == "mqtt"
    for missing in delivery.missing:
        answers.append(ConsumerAnswer(consumer=consumer.name, responder=missing, request_id=request_id,
                                      error=silence, elapsed_ms=elapsed_ms, attempts=1,
                                      transport=consumer.transport, outcome_unknown=unknown))
    if not answers:
        none_wanted = response_requested == "none"
        answers.append(ConsumerAnswer(consumer=consumer.name, responder=None, request_id=request_id,
                                      error=None if none_wanted and not unmatched else silence,
                                      elapsed_ms=elapsed_ms, attempts=1, transport=consumer.transport,
                                      outcome_unknown=unknown and not none_wanted))
    extra = list(delivery.notices) + ([unmatched] if unmatched else [])
    if extra:
        for answer in answers:
            answer.warnings.extend(line for line in extra if not (answer.error and line in answer.error))
    return answers


def _unmatched_line(unmatched: list[str]) -> str | None:
    if not unmatched:
        return None
    shown = "; ".join(unmatched[:10])
    more = f" (+{len(unmatched) - 10} more)" if len(unmatched) > 10 else ""
    return f"answers that could not be matched: {shown}{more}"


def _silence(consumer: ConsumerSettings, response_requested: str) -> str:
    if consumer.transport == "mqtt":
        return f"no answer within {consumer.collect_seconds:g}s"
    return f"no response in the HTTP answer although response_requested is {response_requested}"
