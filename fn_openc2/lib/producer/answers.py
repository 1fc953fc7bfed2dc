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
from collections.abc import Callable, Sequence
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
               verdict: tuple[str, str | None] | None = None,
               schema: Sequence[str] | None = None) -> ConsumerAnswer:
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
        answer.warnings.extend(_schema_warnings(response) if schema is None else schema)
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
    finals = [r for r in replies if r.status != 102]
    return (finals or replies)[-1]


def _counted(group: list[Reply], verify_key: JWK | None,
             verdicts: list[tuple[str, str | None]] | None = None) -> tuple[Reply, tuple[str, str | None], list[str]]:
    """The reply that stands for one responder, its signature verdict, and flags.

    With a verify key only verified answers count: unsigned or invalid ones
    claiming the same sender are flagged, not taken. Without one, a mix of
    signed and unsigned answers under one sender is flagged too (someone may
    be answering in its name). ``verdicts``: the group's, when already known."""
    if verdicts is None:
        verdicts = [_verdict(r, verify_key) for r in group]
    if len(group) == 1:     # the usual case: one answer per responder stands for itself, nothing to flag
        return group[0], verdicts[0], []
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


def _judged(consumer: ConsumerSettings, request_id: str, group: list[Reply], verify_key: JWK | None,
            response_requested: str, verdicts: list[tuple[str, str | None]] | None = None,
            facts: ReplyFacts | None = None) -> ConsumerAnswer:
    """One responder's answer from all it sent."""
    if verdicts is None and facts is not None:
        verdicts = [facts.verdict(reply) for reply in group]
    chosen, verdict, flags = _counted(group, verify_key, verdicts)
    answer = from_reply(consumer, request_id, chosen, verify_key, response_requested, verdict,
                        facts.schema(chosen) if facts is not None else None)
    answer.warnings.extend(flags)
    if response_requested == "complete" and answer.status == 102 and answer.error is None:
        answer.error = "only an interim answer (102 Processing) arrived, no final response"
    return answer


def _closing(consumer: ConsumerSettings, request_id: str, delivery: Delivery, response_requested: str,
             elapsed_ms: float, answered: bool) -> tuple[list[ConsumerAnswer], list[str]]:
    """(an answer per silent responder, or one saying nothing came back; the lines every answer carries)."""
    silence = _silence(consumer, response_requested)
    unmatched = _unmatched_line(delivery.unmatched)
    if unmatched:
        silence = f"{silence}; {unmatched}"
    # an MQTT command was published: a silent responder may still have carried it out
    unknown = consumer.transport == "mqtt"
    closing = [ConsumerAnswer(consumer=consumer.name, responder=missing, request_id=request_id, error=silence,
                              elapsed_ms=elapsed_ms, attempts=1, transport=consumer.transport,
                              outcome_unknown=unknown)
               for missing in delivery.missing]
    if not closing and not answered:
        none_wanted = response_requested == "none"
        closing.append(ConsumerAnswer(consumer=consumer.name, responder=None, request_id=request_id,
                                      error=None if none_wanted and not unmatched else silence,
                                      elapsed_ms=elapsed_ms, attempts=1, transport=consumer.transport,
                                      outcome_unknown=unknown and not none_wanted))
    return closing, list(delivery.notices) + ([unmatched] if unmatched else [])


def _with_lines(answer: ConsumerAnswer, extra: list[str]) -> ConsumerAnswer:
    answer.warnings.extend(line for line in extra if not (answer.error and line in answer.error))
    return answer


def answers_for(consumer: ConsumerSettings, request_id: str, delivery: Delivery, response_requested: str,
                verify_key: JWK | None, elapsed_ms: float, facts: ReplyFacts | None = None) -> list[ConsumerAnswer]:
    """``facts``: what was already worked out per reply as it arrived (ReplyFacts)."""
    by_responder: OrderedDict[str | None, list[Reply]] = OrderedDict()
    for reply in delivery.replies:
        by_responder.setdefault(reply.responder, []).append(reply)
    answers = [_judged(consumer, request_id, group, verify_key, response_requested, facts=facts)
               for group in by_responder.values()]
    closing, extra = _closing(consumer, request_id, delivery, response_requested, elapsed_ms, bool(answers))
    answers.extend(closing)
    for answer in answers:
        _with_lines(answer, extra)
    return answers


class ReplyFacts:
    """An MQTT fan-out's replies, kept whole for ``answers_for``, with the per-reply work done
    as each arrives (signature verdict, schema warnings) while the connection waits for the
    next: judging 10,000 held answers only after the last one came added ~150 ms to a round."""

    def __init__(self, verify_key: JWK | None) -> None:
        self.verify_key = verify_key
        self.replies: list[Reply] = []
        self._facts: dict[int, tuple[tuple[str, str | None], Sequence[str] | None]] = {}

    def add(self, reply: Reply) -> None:
        response = reply.response
        # () when clean: one shared object instead of an empty list per held reply for the GC to walk
        schema = (_schema_warnings(response) or ()) if isinstance(response, dict) else None
        self._facts[id(reply)] = (_verdict(reply, self.verify_key), schema)
        self.replies.append(reply)   # keeps the reply alive, so its id() stays its own

    def verdict(self, reply: Reply) -> tuple[str, str | None]:
        known = self._facts.get(id(reply))
        return known[0] if known is not None else _verdict(reply, self.verify_key)

    def schema(self, reply: Reply) -> Sequence[str] | None:
        known = self._facts.get(id(reply))
        return known[1] if known is not None else None


LATE_SHOWN = 20


class AnswerStream:
    """An MQTT fan-out's answers judged as they arrive, each passed on once (``emit``).

    A responder's answer is passed on as soon as it has settled the way the
    transport counts it (any answer with ``ack``; a final, non-102 one with
    ``complete``) and, with a verify key, verified: its answers so far are
    judged as ``answers_for`` judges a group. Responders that never settled
    are judged at ``finish``, then the silent ones. What the transfer layer
    did not count, and answers arriving from a responder already passed on
    (not counted), are returned by ``finish`` as lines for the whole command
    (and carried by the answers passed on at finish), not repeated on every
    answer. Held per responder: only its unsettled answers (the transport
    keeps at most 16 of a sender)."""

    def __init__(self, consumer: ConsumerSettings, request_id: str, response_requested: str,
                 verify_key: JWK | None, emit: Callable[[ConsumerAnswer], None]) -> None:
        self.consumer = consumer
        self.request_id = request_id
        self.response_requested = response_requested
        self.verify_key = verify_key
        self.emit = emit
        self._held: dict[str | None, tuple[list[Reply], list[tuple[str, str | None]]]] = {}
        self._passed: set[str | None] = set()
        self._late: dict[str, int] = {}
        self._late_total = 0

    def add(self, reply: Reply) -> None:
        who = reply.responder
        if who in self._passed:
            self._late_total += 1
            if len(self._late) < LATE_SHOWN or printable(who, 120) in self._late:
                name = printable(who, 120)
                self._late[name] = self._late.get(name, 0) + 1
            return
        verdict = _verdict(reply, self.verify_key)
        settles = not (self.response_requested == "complete" and reply.status == 102) \
            and (self.verify_key is None or verdict[0] == "verified")
        held = self._held.get(who)
        if held is None:
            if settles:      # the usual case: a responder's only answer, final at once
                self._passed.add(who)
                self.emit(_judged(self.consumer, self.request_id, [reply], self.verify_key,
                                  self.response_requested, [verdict]))
                return
            held = self._held[who] = ([], [])
        group, verdicts = held
        group.append(reply)
        verdicts.append(verdict)
        if not settles:
            return
        del self._held[who]
        self._passed.add(who)
        self.emit(_judged(self.consumer, self.request_id, group, self.verify_key, self.response_requested,
                          verdicts))

    def finish(self, delivery: Delivery, elapsed_ms: float) -> list[str]:
        """Pass on the rest (unsettled responders, then the silent ones); the command's lines."""
        answered = bool(self._passed or self._held)
        closing, extra = _closing(self.consumer, self.request_id, delivery, self.response_requested, elapsed_ms,
                                  answered)
        if self._late_total:
            names = ", ".join(f"{n!r} ({c})" for n, c in self._late.items())
            extra.append(f"{self._late_total} further answer(s) from responders already counted were not "
                         f"counted: {names}")
        for group, verdicts in self._held.values():
            self.emit(_with_lines(_judged(self.consumer, self.request_id, group, self.verify_key,
                                          self.response_requested, verdicts), extra))
        self._held.clear()
        for answer in closing:
            self.emit(_with_lines(answer, extra))
        return extra


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
