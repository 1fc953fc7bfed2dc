"""``grade``: a conformance battery a producer can run against a configured consumer.

Each check is one observable requirement of the OpenC2 Language
Specification v2.0 (OASIS CSD01) or of the transfer specifications (OASIS
HTTPS v1.1, MQTT v1.0; what real consumers do instead: doc/interop.md),
and names its clause and its key word. Without ``allow_changes`` only
read-only commands are sent: ``query features`` (well-formed and
deliberately not), ``query`` of a target the consumer does not list, and a
``query`` without a target. State-changing checks need ``allow_changes``
and a target address the admin supplies, and undo what they did.

Verdicts: pass, fail, n.a. (not applicable or not observable here, with the
reason). MAY checks are informative and never make a grade fail.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable, Iterable

from fn_openc2.lib.errors import OpenC2Error
from fn_openc2.lib.language import FEATURES, loads, requested_response
from fn_openc2.lib.onboard.link import Exchange, Link, one_line, raw_response
from fn_openc2.lib.producer.settings import AppSettings
from fn_openc2.lib.transfer.dialects import OPENC2_STATUS_CODES
from fn_openc2.lib.transfer.https import redact_url

PASS, FAIL, NA = "pass", "fail", "n.a."
LS = "LS v2.0"
HTTPS = "HTTPS v1.1"
# Where each transfer rule lives, per HTTPS transfer version (a v1.0-dialect consumer is held to v1.0)
HTTPS_CLAUSES = {
    "https-v1.1": {"request_id": "HTTPS v1.1 §3.3.3", "codes": "HTTPS v1.1 §4.2.1 (8)",
                   "content_type": "HTTPS v1.1 §3.4", "cache": "HTTPS v1.1 §3.2.1", "from": "HTTPS v1.1 §3.3.2"},
    "https-v1.0": {"request_id": "HTTPS v1.0 (X-Request-ID echoed)", "codes": "HTTPS v1.0 (response codes)",
                   "content_type": "HTTPS v1.0 (response content type)", "cache": "HTTPS v1.0 (Cache-control)",
                   "from": "HTTPS v1.0 (message elements)"},
}
MQTT = "MQTT v1.0"
VERSION_FORM = re.compile(r"^\d+\.\d+$")
# Targets a 'query' can name without acting on anything; the first one the consumer does not list is used.
UNLISTED_QUERIES: tuple[tuple[str, Any], ...] = (
    ("domain_name", "openc2-grade.invalid"),
    ("uri", "https://openc2-grade.invalid/"),
    ("ipv4_net", "192.0.2.1/32"),
    ("device", {"hostname": "openc2-grade.invalid"}),
    ("process", {"pid": 1}),
)


class GradeInputError(OpenC2Error, ValueError):
    """Bad consumer name, target or flags: nothing was sent (exit 2)."""


@dataclass
class Check:
    """One requirement and what the consumer did about it."""

    number: int
    clause: str
    level: str               # MUST | SHOULD | MAY
    title: str
    verdict: str = NA
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "clause": self.clause, "level": self.level, "title": self.title,
                "verdict": self.verdict, "detail": self.detail}


@dataclass
class GradeReport:
    consumer: str
    where: str
    allow_changes: bool
    checks: list[Check] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {verdict: sum(1 for c in self.checks if c.verdict == verdict) for verdict in (PASS, FAIL, NA)}

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.verdict == FAIL and c.level != "MAY"]

    @property
    def passed(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        counts = self.counts()
        head = f"{counts[PASS]} pass, {counts[FAIL]} fail, {counts[NA]} n.a."
        if self.passed:
            return f"{head}: no observable MUST or SHOULD failed"
        return f"{head}: failed {', '.join(dict.fromkeys(f'{c.clause} ({c.level})' for c in self.failed))}"

    def rows(self) -> list[tuple[str, str, str, str, str, str]]:
        return [(str(c.number), c.verdict, c.level, c.clause, c.title, c.detail) for c in self.checks]

    def render(self) -> str:
        header = ("#", "verdict", "level", "clause", "check")
        rows = [(n, v, lv, cl, t) for n, v, lv, cl, t, _ in self.rows()]
        widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(4)]
        lines = [f"grading consumer {self.consumer} ({self.where})"
                 + ("" if self.allow_changes else "; read-only checks (no --allow-changes)"), ""]
        fmt = "  ".join(f"{{:<{w}}}" for w in widths) + "  {}"
        lines.append(fmt.format(*header))
        for check in self.checks:
            lines.append(fmt.format(check.number, check.verdict, check.level, check.clause, check.title))
            if check.detail:
                lines.append(" " * (widths[0] + 2) + "-> " + check.detail)
        lines += ["", *(f"note: {r}" for r in self.remarks), self.summary()]
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        return {"consumer": self.consumer, "where": self.where, "allow_changes": self.allow_changes,
                "passed": self.passed, "counts": self.counts(), "summary": self.summary(),
                "checks": [c.to_dict() for c in self.checks], "remarks": list(self.remarks)}


def said(exchange: Exchange) -> str:
    """What came back, the consumer's own words first (bounded, printable)."""
    if exchange.failure is not None:
        return f"no readable answer: {one_line(exchange.failure.detail, 300)}"
    parts = []
    for answer in exchange.answers:
        who = f"{one_line(answer.responder, 60)}: " if len(exchange.answers) > 1 and answer.responder else ""
        if answer.status is not None:
            text = f" {one_line(answer.status_text, 200)}" if answer.status_text else ""
            http = f" (HTTP {answer.http_status})" if answer.http_status not in (None, answer.status) else ""
            parts.append(f"{who}{answer.status}{text}{http}")
        elif answer.error:
            parts.append(f"{who}{one_line(answer.error, 300)}")
    return "; ".join(parts) or "no answer"


class _Grader:
    def __init__(self, settings: AppSettings, name: str, allow_changes: bool, target: str | None) -> None:
        try:
            self.consumer = settings.consumer(name)
        except KeyError as exc:
            raise GradeInputError(str(exc.args[0])) from None
        self.settings = settings
        self.allow_changes = allow_changes
        self.target = _target(target) if target else None
        if allow_changes and self.target is None:
            raise GradeInputError("--allow-changes needs --target ADDRESS (an address you choose, that the "
                                  "consumer may block for a moment)")
        if target and not allow_changes:
            raise GradeInputError("--target is only used with --allow-changes")
        if self.target is not None:
            self._guard(settings)
        where = self.consumer.url or self.consumer.broker or ""
        self.report = GradeReport(name, f"{self.consumer.transport}, {redact_url(where)}", allow_changes)
        self.exchanges: list[Exchange] = []
        self.profile = getattr(self.consumer, "features_profile", None)

    def _guard(self, settings: AppSettings) -> None:
        """The producer's policy guard has the last word on the admin's target too."""
        from fn_openc2.lib.producer.guard import PolicyGuard
        assert self.target is not None
        own = settings.producer
        hosts = {c.name: c.host for c in settings.consumers.values()} if own.protect_consumer_addresses else {}
        guard = PolicyGuard(own.protected_networks, hosts, protect_special=own.protect_special_addresses)
        refusal = guard.check({"action": "deny", "target": {self.target[0]: self.target[1]}})
        if refusal:
            raise GradeInputError(f"--target: {refusal}")

    def check(self, clause: str, level: str, title: str, judge: Callable[[], tuple[str, str]]) -> Check:
        check = Check(len(self.report.checks) + 1, clause, level, title)
        check.verdict, check.detail = judge()
        self.report.checks.append(check)
        return check

    def send(self, link: Link, command: dict[str, Any]) -> Exchange:
        exchange = link.exchange(command)
        self.exchanges.append(exchange)
        return exchange

    def query(self, link: Link, features: list[str], args: dict[str, Any] | None = None) -> Exchange:
        command: dict[str, Any] = {"action": "query", "target": {"features": features}}
        if args is not None:
            command["args"] = args
        if self.profile:
            command["profile"] = self.profile
        return self.send(link, command)

    def run(self) -> GradeReport:
        with Link(self.settings, self.consumer.name) as link:
            heartbeat = self.query(link, [])
            features = self.query(link, list(FEATURES))
            with_args = self.query(link, [], {"response_requested": "complete", "duration": 60000})
            results = _results(features)
            pairs = results.get("pairs") if isinstance(results.get("pairs"), dict) else None
            unlisted = _unlisted_query(pairs, self.profile)
            unlisted_ex = None
            if unlisted:
                pair_command: dict[str, Any] = {"action": "query", "target": {unlisted[0]: unlisted[1]}}
                if self.profile:          # a consumer that wants a profile on every command gets it here too
                    pair_command["profile"] = self.profile
                unlisted_ex = self.send(link, pair_command)
            malformed = self.send(link, {"action": "query"})
            self.features_checks(heartbeat, features, results)
            self.argument_checks(with_args)
            self.refusal_checks(pairs, unlisted, unlisted_ex, malformed)
            if self.allow_changes:
                self.change_checks(link, pairs)
        self.message_checks()
        return self.report

    # --- query features (LS 4.1) --------------------------------------------------------------------
    def features_checks(self, heartbeat: Exchange, features: Exchange, results: dict[str, Any]) -> None:
        self.check(f"{LS} §4.1", "MUST", "query features with no features is answered 200",
                   lambda: (_verdict(_status(heartbeat) == 200), said(heartbeat)))
        ok = _status(features) == 200

        def listed(key: str, form: Callable[[Any], str | None]) -> Callable[[], tuple[str, str]]:
            def judge() -> tuple[str, str]:
                if not ok:
                    return FAIL, f"query features {key}: {said(features)}"
                if key not in results:
                    return FAIL, f"200 without {key} in results"
                problem = form(results[key])
                return (FAIL, problem) if problem else (PASS, f"{key}: {one_line(_show(results[key]), 200)}")
            return judge

        self.check(f"{LS} §4.1", "MUST", "versions: answered 200 with the versions supported",
                   listed("versions", lambda v: None if isinstance(v, list) and v else "versions is not a "
                          "non-empty list"))
        self.check(f"{LS} §3.4.2.18", "MUST", "each version is \"Major.Minor\"",
                   lambda: _versions(results) if ok and isinstance(results.get("versions"), list)
                   else (NA, "no versions to look at"))
        self.check(f"{LS} §4.1", "MUST", "profiles: answered 200 with the profiles supported",
                   listed("profiles", lambda v: None if isinstance(v, list) and all(isinstance(p, str) for p in v)
                          else "profiles is not a list of names"))
        self.check(f"{LS} §4.1", "MUST", "pairs: answered 200 with the action/target pairs supported",
                   listed("pairs", lambda v: None if isinstance(v, dict) and v and all(
                       isinstance(t, list) for t in v.values()) else "pairs is not a non-empty map of action "
                                                                      "to targets"))

        def rate() -> tuple[str, str]:
            if not ok:
                return FAIL, said(features)
            if "rate_limit" not in results:
                return PASS, "200, rate_limit not populated (MAY)"
            value = results["rate_limit"]
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
                return PASS, f"rate_limit: {value:g} per minute"
            return FAIL, f"rate_limit is not a number >= 0: {one_line(value, 60)}"
        self.check(f"{LS} §4.1", "SHOULD", "rate_limit: answered 200 (populated, or MAY be left out)", rate)

    def argument_checks(self, with_args: Exchange) -> None:
        status = _status(with_args)
        self.check(f"{LS} §4.1", "MUST", "query features with another argument (duration) is not answered 200",
                   lambda: (_verdict(status is not None and status != 200), said(with_args)))
        self.check(f"{LS} §4.1", "SHOULD", "... and is answered 400 (500 allowed)",
                   lambda: (_verdict(status in (400, 500)), said(with_args)))

    def refusal_checks(self, pairs: dict[str, Any] | None, unlisted: tuple[str, Any] | None,
                       unlisted_ex: Exchange | None, malformed: Exchange) -> None:
        def pair() -> tuple[str, str]:
            if pairs is None:
                return NA, "the consumer listed no pairs to compare against"
            if unlisted is None or unlisted_ex is None:
                if self.profile:
                    return NA, (f"the consumer takes commands with profile {self.profile}, which defines no "
                                "harmless query the consumer leaves unlisted")
                return NA, "every harmless query target is listed"
            status = _status(unlisted_ex)
            shown = f"query {unlisted[0]} (not in pairs): {said(unlisted_ex)}"
            if status == 200:
                return FAIL, shown + " — 200 claims success for a pair it does not list"
            return _verdict(status == 501), shown
        self.check(f"{LS} §3.3.2.1", "SHOULD", "a pair the consumer does not list is answered 501, not 200", pair)
        status = _status(malformed)
        self.check(f"{LS} §3.3.2.1, §5.1-3", "SHOULD", "a malformed command (no target) is answered 400, not 200",
                   lambda: (_verdict(status == 400), f"query without target: {said(malformed)}"))

    # --- every answer ---------------------------------------------------------------------------------
    def message_checks(self) -> None:
        replies = [(ex, reply) for ex in self.exchanges for reply in ex.replies]
        https = self.consumer.transport == "https"

        def request_ids() -> tuple[str, str]:
            seen, wrong, unseen = 0, [], 0
            for ex, reply in replies:
                headers, _ = raw_response(reply)
                echoed = headers.get("request_id") if headers else None
                if echoed is None and reply.transport == "mqtt":     # the envelope is the only place there
                    wrong.append(f"answer to {ex.command.get('action')} carries no request_id, sent {ex.request_id}")
                    continue
                if echoed is None:
                    http_headers = getattr(reply, "http_headers", None)
                    echoed = _header(http_headers, "X-Request-ID") if http_headers else None
                    if echoed is None and http_headers is None:
                        unseen += 1
                        continue
                seen += 1
                if echoed != ex.request_id:
                    wrong.append(f"answer to {ex.command.get('action')} carries {one_line(echoed, 80)!s}, "
                                 f"sent {ex.request_id}")
            if wrong:
                return FAIL, "; ".join(wrong[:3])
            if not seen:
                return NA, "no answer showed where it carries request_id"
            return PASS, f"{seen} answer(s) carried the command's request_id" + \
                (f" ({unseen} bare answer(s) not observable)" if unseen else "")
        clause = f"{LS} §3.2, {self.https_clause('request_id')}" if https else f"{LS} §3.2"
        self.check(clause, "MUST", "the command's request_id is copied into each response", request_ids)

        def has_status() -> tuple[str, str]:
            missing, looked = [], 0
            for ex, reply in replies:
                _, response = raw_response(reply)
                if response is None:
                    continue
                looked += 1
                if not isinstance(response.get("status"), int):
                    missing.append(f"answer to {ex.command.get('action')}: {one_line(reply.raw, 120)}")
            if missing:
                return FAIL, "; ".join(missing[:3])
            return (PASS, f"{looked} response(s) carried a status") if looked else (NA, "no response bodies")
        self.check(f"{LS} §3.3.2, §5.2-2", "MUST", "every response contains a status", has_status)

        def codes() -> tuple[str, str]:
            statuses = [s for ex in self.exchanges for s in ex.statuses()]
            bad = sorted({s for s in statuses if s not in OPENC2_STATUS_CODES})
            if bad:
                return FAIL, f"status {', '.join(str(b) for b in bad)} is not an OpenC2 status code"
            return (PASS, f"seen: {', '.join(str(s) for s in sorted(set(statuses)))}") if statuses \
                else (NA, "no status seen")
        self.check(f"{LS} §3.3.2.1", "MUST", "status codes come from the spec's set", codes)

        def ijson() -> tuple[str, str]:
            bad, looked = [], 0
            for _ex, reply in replies:
                if not reply.raw.strip():
                    continue
                looked += 1
                try:
                    loads(reply.raw)
                except ValueError as exc:
                    bad.append(one_line(exc, 160))
            if bad:
                return FAIL, "; ".join(bad[:2])
            return (PASS, f"{looked} answer(s) are I-JSON") if looked else (NA, "no answer bodies")
        self.check(f"{LS} §3.3.4, §5.4-2", "MUST", "answers are I-JSON (RFC 7493)", ijson)

        if https:
            self.https_checks(replies)
        else:
            self.mqtt_checks(replies)
        self.signature_check()

    def https_clause(self, rule: str) -> str:
        return HTTPS_CLAUSES.get(self.consumer.dialect, HTTPS_CLAUSES["https-v1.1"])[rule]

    def https_checks(self, replies: list[tuple[Exchange, Any]]) -> None:
        def http_codes() -> tuple[str, str]:
            # HTTP must answer even when no response was requested: 204 there is the transfer's only
            # way to say nothing (a known open problem of HTTPS transfer v1.1), not a failure
            codes = [reply.http_status for ex, reply in replies if reply.http_status is not None
                     and not (reply.http_status == 204 and requested_response(ex.command) == "none")]
            codes += [s for s in (_failure_status(ex) for ex in self.exchanges) if s is not None]
            bad = sorted({c for c in codes if c not in OPENC2_STATUS_CODES})
            if bad:
                return FAIL, f"HTTP {', '.join(str(b) for b in bad)} is not an OpenC2 status code"
            return (PASS, f"HTTP {', '.join(str(c) for c in sorted(set(codes)))}") if codes else (NA, "no HTTP answers")
        self.check(self.https_clause("codes"), "MUST", "HTTP responses use only OpenC2 status codes", http_codes)

        expected = _expected_content_type(self.consumer)

        def header_check(name: str, good: Callable[[str], bool], shown: str) -> Callable[[], tuple[str, str]]:
            def judge() -> tuple[str, str]:
                observed = [getattr(reply, "http_headers", None) for _, reply in replies if reply.raw.strip()]
                if not observed or any(h is None for h in observed):
                    return NA, "HTTP response headers are not observable in this version"
                bad = [one_line(_header(h, name), 80) for h in observed if not good(_header(h, name) or "")]
                if bad:
                    return FAIL, f"{name}: {', '.join(dict.fromkeys(bad))} (expected {shown})"
                return PASS, f"{name}: {shown}"
            return judge
        self.check(self.https_clause("content_type"), "MUST", f"responses carry Content-type {expected}",
                   header_check("Content-Type", lambda v: _media(v) == _media(expected), expected))
        self.check(self.https_clause("cache"), "SHOULD", "responses carry Cache-control: no-cache",
                   header_check("Cache-Control", lambda v: "no-cache" in v.lower(), "no-cache"))

        def from_created() -> tuple[str, str]:
            envelopes = [raw_response(reply)[0] for _, reply in replies]
            present = [h for h in envelopes if h is not None]
            if not present:
                return NA, "the dialect's answers carry no message headers"
            lacking = [k for k in ("from", "created") if not all(k in h for h in present)]
            return (FAIL, f"missing {' and '.join(lacking)}") if lacking else (PASS, "from and created present")
        self.check(self.https_clause("from"), "MAY", "answers carry headers.from and headers.created", from_created)

    def mqtt_checks(self, replies: list[tuple[Exchange, Any]]) -> None:
        def sender() -> tuple[str, str]:
            headers = [raw_response(reply)[0] or {} for _, reply in replies]
            if not headers:
                return NA, "no answers"
            lacking = sum(1 for h in headers if not isinstance(h.get("from"), str) or not h.get("from"))
            return (FAIL, f"{lacking} answer(s) without headers.from") if lacking \
                else (PASS, f"{len(headers)} answer(s) carried headers.from")
        self.check(f"{MQTT} (message headers)", "MUST", "consumers set headers.from", sender)

        def created() -> tuple[str, str]:
            headers = [raw_response(reply)[0] or {} for _, reply in replies]
            if not headers:
                return NA, "no answers"
            lacking = sum(1 for h in headers if "created" not in h)
            return (FAIL, f"{lacking} answer(s) without headers.created") if lacking else (PASS, "present")
        self.check(f"{LS} §3.2 (Table 3-1)", "MAY", "answers carry headers.created", created)

    def signature_check(self) -> None:
        def judge() -> tuple[str, str]:
            answers = [a for ex in self.exchanges for a in ex.answers if a.status is not None]
            if self.consumer.transport == "https" and _envelope(self.consumer) != "full":
                return NA, f"the {_envelope(self.consumer)} HTTPS body form has no place for a signature"
            if not self.consumer.response_verify_key:
                signed = sum(1 for a in answers if a.signature == "not_checked")
                return NA, (f"{signed} signed answer(s) seen; " if signed else "") + \
                    "set response_verify_key in the consumer's section to check signatures"
            bad = [f"{a.signature}: {one_line(a.signature_reason, 120)}" for a in answers if a.signature != "verified"]
            if bad:
                return FAIL, "; ".join(dict.fromkeys(bad))
            return PASS, f"{len(answers)} answer(s) verified"
        self.check(f"{LS} §3.3.4", "SHOULD", "answers are signed (JWS detached) and verify", judge)

    # --- state-changing (only with allow_changes and the admin's target) ---------------------------------
    def change_checks(self, link: Link, pairs: dict[str, Any] | None) -> None:
        assert self.target is not None
        name, value = self.target
        if pairs is None or name not in (pairs.get("deny") or []):
            self.check(f"{LS} §3.3.1.4", "SHOULD", "deny answered per response_requested (complete, ack, none)",
                       lambda: (NA, f"the consumer does not list deny {name}"))
            return
        complete = self.send(link, {"action": "deny", "target": {name: value},
                                    "args": {"response_requested": "complete"}})
        ack = self.send(link, {"action": "deny", "target": {name: value}, "args": {"response_requested": "ack"}})
        none = self.send(link, {"action": "deny", "target": {name: value}, "args": {"response_requested": "none"}})
        self.check(f"{LS} §3.3.1.4", "SHOULD", f"deny {name} with response_requested complete is answered on "
                   "completion (200)", lambda: (_verdict(_status(complete) == 200), said(complete)))
        self.check(f"{LS} §3.3.1.4", "SHOULD", "response_requested ack is answered {\"status\": 102}",
                   lambda: (_verdict(_status(ack) == 102), said(ack)))

        def silent() -> tuple[str, str]:
            statuses = none.statuses()
            if none.failure is not None:
                return FAIL, said(none)
            if not statuses or all(s == 204 for s in statuses):
                return PASS, "no response" + (" (HTTP 204)" if statuses else "")
            if all(s < 300 for s in statuses):
                return FAIL, f"answered {said(none)} although none was requested"
            return PASS, f"error reported as the spec allows: {said(none)}"
        self.check(f"{LS} §3.3.1.4", "SHOULD", "response_requested none gets no response on success", silent)
        self.undo(link, pairs, name, value, [complete, ack, none])

    def undo(self, link: Link, pairs: dict[str, Any], name: str, value: Any, exchanges: Iterable[Exchange]) -> None:
        """Take back what the deny commands did: ``cancel`` each (LS: command_id is the
        request_id) when the consumer lists it, else SLPF ``delete`` of the rules it reported."""
        can_cancel = "command" in (pairs.get("cancel") or [])
        done, left = [], []
        for exchange in exchanges:
            if can_cancel:
                done.append(self.send(link, {"action": "cancel", "target": {"command": exchange.request_id}}))
                continue
            results = _results(exchange)
            rule = results.get("slpf", {}).get("rule_number") if isinstance(results.get("slpf"), dict) else None
            if isinstance(rule, int) and "slpf" in (pairs.get("delete") or []):
                done.append(self.send(link, {"action": "delete", "target": {"slpf": {"rule_number": rule}}}))
            else:
                left.append(exchange.request_id)
        if done:
            self.report.remarks.append(f"undone: {'; '.join(said(ex) for ex in done)}")
        if left:
            self.report.remarks.append(f"could not undo deny {name} {value} of request(s) {', '.join(left)}: "
                                       "remove it on the device")


# --- helpers ------------------------------------------------------------------------------------

def _verdict(ok: bool) -> str:
    return PASS if ok else FAIL


def _status(exchange: Exchange) -> int | None:
    statuses = exchange.statuses()
    return statuses[0] if statuses else None


def _failure_status(exchange: Exchange) -> int | None:
    if exchange.failure is None:
        return None
    status = getattr(exchange.failure, "http_status", None)
    if isinstance(status, int):
        return status
    match = re.search(r"\bHTTP (\d{3})\b", exchange.failure.detail)
    return int(match.group(1)) if match else None


def _results(exchange: Exchange) -> dict[str, Any]:
    for answer in exchange.answers:
        if answer.status == 200 and isinstance(answer.results, dict):
            return answer.results
    return {}


def _show(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_show(v)}" for k, v in value.items())
    return str(value)


def _versions(results: dict[str, Any]) -> tuple[str, str]:
    bad = [v for v in results["versions"] if not isinstance(v, str) or not VERSION_FORM.match(v)]
    return (FAIL, f"not Major.Minor: {one_line(bad, 120)}") if bad else (PASS, ", ".join(results["versions"]))


def _unlisted_query(pairs: dict[str, Any] | None, profile: str | None = None) -> tuple[str, Any] | None:
    """A harmless query of a target the consumer does not list. Under a profile, only one
    the profile defines: a pair outside the named profile is a malformed command (400), not
    an unsupported one, so it would not test the 501 rule."""
    if pairs is None:
        return None
    query = pairs.get("query")
    listed = query if isinstance(query, list) else []
    usable: Callable[[str], bool] = lambda name: True  # noqa: E731
    if profile:
        from fn_openc2.lib.language.profiles import get_profile
        try:
            defined = get_profile(profile)
        except (KeyError, ValueError):
            return None
        if defined is None:
            return None
        usable = lambda name: defined.allows("query", name)  # noqa: E731
    return next(((n, v) for n, v in UNLISTED_QUERIES if n not in listed and usable(n)), None)


def _header(headers: Any, name: str) -> str | None:
    if not headers:
        return None
    lowered = name.lower()
    return next((str(v) for k, v in headers.items() if str(k).lower() == lowered), None)


def _media(value: str) -> str:
    return "".join(value.split()).lower()


def _expected_content_type(consumer: Any) -> str:
    from fn_openc2.lib.transfer.dialects import resolve_dialect
    dialect = resolve_dialect(consumer.dialect, accept=consumer.accept)
    return dialect.accept


def _envelope(consumer: Any) -> str:
    from fn_openc2.lib.transfer.dialects import resolve_dialect
    return resolve_dialect(consumer.dialect, envelope=consumer.envelope).envelope


def _target(text: str) -> tuple[str, str]:
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise GradeInputError(f"--target: {text!r} is not an IP address or network") from None
    if network.version == 4:
        return "ipv4_net", str(network)
    return "ipv6_net", str(network)


def grade(settings: AppSettings, name: str, *, allow_changes: bool = False, target: str | None = None) -> GradeReport:
    """Run the battery against consumer ``name`` (GradeInputError for bad input, nothing sent)."""
    return _Grader(settings, name, allow_changes, target).run()
