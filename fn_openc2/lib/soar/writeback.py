"""What fn_openc2 leaves in the incident: one HTML note per command (one
summary note per batch, when a call sends several), one openc2_commands row
per consumer answer, openc2_consumers rows after ``query features``.

Every value that came from outside (artifact text, consumer answers, error
messages) passes through ``html.escape``: a consumer's status_text is not
trusted markup. Each note opens with a header line
``OpenC2 <action> <target> — request <id>`` so a repeated write of the same
command is recognised and skipped; rows are keyed on (request_id, consumer,
responder) the same way. A batch note's header ends in ``batch <key>``, a
digest of the batch's request ids, which serves the same purpose.
A failed write never loses the function's payload: it is logged and listed
in the result's ``writeback.errors``.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from html import escape
from logging import Logger
from typing import Any
from collections.abc import Iterable

from fn_openc2.lib.language import STATUS_TEXT
from fn_openc2.lib.producer import CommandOutcome, ConsumerAnswer
from fn_openc2.lib.soar.inputs import iso_utc
from fn_openc2.lib.soar.soar_client import IncidentClient, SoarError

COMMANDS_TABLE = "openc2_commands"
CONSUMERS_TABLE = "openc2_consumers"
COMMAND_COLUMNS = ("time", "consumer", "responder", "action", "target", "profile", "args", "command_id",
                   "request_id", "status", "status_text", "results", "signature", "expires", "error", "warnings")
CONSUMER_COLUMNS = ("consumer", "reachable", "versions", "profiles", "pairs", "rate_limit", "queried_at")
_HEADER_TARGET_MAX = 120


def compact(value: Any) -> str:
    """Stable one-line JSON for table cells (keys sorted so equal values read equal)."""
    return json.dumps(value, sort_keys=True, separators=(", ", ": "), ensure_ascii=False)


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def target_text(command: dict[str, Any]) -> str:
    """'ipv4_net 203.0.113.7' for the header line; JSON for structured targets, shortened."""
    target = command.get("target") or {}
    if not isinstance(target, dict) or not target:
        return "(no target)"
    name, value = next(iter(target.items()))
    shown = value if isinstance(value, str) else compact(value)
    line = f"{name} {shown}"
    return line if len(line) <= _HEADER_TARGET_MAX else line[:_HEADER_TARGET_MAX - 1] + "…"


def note_header(command: dict[str, Any], request_id: str) -> str:
    """The first line of a command note; also the key for detecting repeats."""
    return f"OpenC2 {command.get('action', '?')} {target_text(command)} — request {request_id}"


def answer_succeeded(answer: ConsumerAnswer) -> bool:
    """The exchange worked and the consumer did what was asked (1xx/2xx, or no answer wanted)."""
    return answer.ok and (answer.status is None or answer.status < 300)


# ---------------------------------------------------------------- notes

def _answer_html(answer: ConsumerAnswer) -> str:
    who = escape(answer.consumer)
    if answer.responder and answer.responder != answer.consumer:
        who += f" (responder {escape(answer.responder)})"
    verdict = "OK" if answer_succeeded(answer) else "FAILED"
    parts = [f"<b>{who}</b>: {verdict}"]
    if answer.status is not None:
        name = answer.status_text or STATUS_TEXT.get(answer.status, "")
        parts.append(f"status {answer.status} {escape(name)}".rstrip())
    elif answer.error is None:
        parts.append("no response requested")
    signature = escape(answer.signature)
    if answer.signature_reason:
        signature += f" ({escape(answer.signature_reason)})"
    parts.append(f"signature {signature}")
    parts.append(f"request id {escape(answer.request_id)}")
    html = "; ".join(parts)
    if answer.error:
        html += f"<br>Error: {escape(answer.error)}"
    if answer.warnings:                 # schema deviations read tolerantly, answers not counted (issue 10.3, 12.5)
        html += "<br>Warnings: " + escape("; ".join(answer.warnings))
    if answer.results:
        html += f"<br>Results:<pre>{escape(pretty(answer.results))}</pre>"
    return f"<li>{html}</li>"


def command_note(outcome: CommandOutcome, consumers: Iterable[str], comment: str = "") -> str:
    """HTML note for one command: what was sent to whom and what each consumer said."""
    header = note_header(outcome.command, outcome.request_id)
    lines = [f"<p><b>{escape(header)}</b></p>"]
    if comment:
        lines.append(f"<p>Comment: {escape(comment)}</p>")
    if outcome.refused:
        lines.append(f"<p><b>Refused, nothing was sent:</b> {escape(outcome.refused)}</p>")
    else:
        names = ", ".join(escape(c) for c in consumers) or "(none)"
        ok = sum(answer_succeeded(a) for a in outcome.answers)
        lines.append(f"<p>Sent to {names}: {ok} of {len(outcome.answers)} answers OK.</p>")
    lines.append(f"<p>Command:</p><pre>{escape(pretty(outcome.command))}</pre>")
    if outcome.answers:
        lines.append("<ul>" + "".join(_answer_html(a) for a in outcome.answers) + "</ul>")
    return "".join(lines)


def outcome_state(outcome: CommandOutcome) -> str:
    """'refused' (nothing sent), 'failed' (sent, some consumer did not succeed) or 'sent' (all succeeded)."""
    if outcome.refused:
        return "refused"
    if not outcome.answers or not all(answer_succeeded(a) for a in outcome.answers):
        return "failed"
    return "sent"


def batch_key(outcomes: Iterable[CommandOutcome]) -> str:
    """'batch <16 hex>': the same request ids give the same key, so a repeated write is recognised."""
    ids = "\n".join(sorted(o.request_id for o in outcomes))
    return f"batch {hashlib.sha256(ids.encode()).hexdigest()[:16]}"


def batch_header(outcomes: list[CommandOutcome]) -> str:
    states = [outcome_state(o) for o in outcomes]
    actions = sorted({str(o.command.get("action", "?")) for o in outcomes})
    return (f"OpenC2 {'/'.join(actions)} — batch of {len(outcomes)} targets — {states.count('sent')} sent, "
            f"{states.count('refused')} refused, {states.count('failed')} failed — {batch_key(outcomes)}")


_ARTIFACT_ID = re.compile(r"\(artifact [^()]*\)$")
_BATCH_COLUMNS = ("Target", "Consumer", "Status", "Status text", "Signature", "Request ID", "Error / refusal")


def _batch_lines(outcome: CommandOutcome, source: str) -> list[tuple[str, ...]]:
    """The table lines of one target: one per consumer answer, or one saying why there is none."""
    target = target_text(outcome.command)
    artifact = _ARTIFACT_ID.search(source or "")
    if artifact:
        target += f" {artifact.group(0)}"        # which incident artifact it came from
    if outcome.refused:
        return [(target, "—", "refused", "", "", outcome.request_id, outcome.refused)]
    if not outcome.answers:
        return [(target, "—", "failed", "", "", outcome.request_id, "no consumer answered")]
    lines: list[tuple[str, ...]] = []
    for a in outcome.answers:
        who = a.consumer if not a.responder or a.responder == a.consumer else f"{a.consumer} ({a.responder})"
        if a.status is not None:
            status, text = str(a.status), a.status_text or STATUS_TEXT.get(a.status, "")
        else:
            status, text = ("failed", "") if a.error else ("sent", "no response requested")
        signature = a.signature + (f" ({a.signature_reason})" if a.signature_reason else "")
        lines.append((target, who, status, text, signature, a.request_id, a.error or ""))
    return lines


def batch_note(outcomes: list[CommandOutcome], sources: list[str], comment: str = "",
               duplicates: Iterable[str] = ()) -> str:
    """One HTML note for a batch: counts in the header, one table line per (target, consumer)."""
    lines = [f"<p><b>{escape(batch_header(outcomes))}</b></p>"]
    if comment:
        lines.append(f"<p>Comment: {escape(comment)}</p>")
    lines.append("<p>Sent: every consumer answered OK. Failed: sent, but a consumer failed or refused. "
                 "Refused: not sent (policy, validation or routing).</p>")
    common = {k: outcomes[0].command.get(k) for k in ("action", "profile", "args") if outcomes[0].command.get(k)}
    if all({k: o.command.get(k) for k in ("action", "profile", "args") if o.command.get(k)} == common
           for o in outcomes):
        lines.append(f"<p>Every command:</p><pre>{escape(pretty(common))}</pre>")
    skipped = [f"<li>{escape(d)}</li>" for d in duplicates]
    if skipped:
        lines.append(f"<p>Duplicates skipped ({len(skipped)}):</p><ul>{''.join(skipped)}</ul>")
    head = "".join(f"<th>{escape(c)}</th>" for c in _BATCH_COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in line) + "</tr>"
                   for outcome, source in zip(outcomes, sources, strict=False)
                   for line in _batch_lines(outcome, source))
    lines.append(f"<table border=\"1\"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    return "".join(lines)


def rejected_note(what: str, reason: str, issues: Iterable[str] = (), inputs: dict[str, Any] | None = None) -> str:
    """HTML note for input that was rejected before anything was built or sent."""
    lines = [f"<p><b>{escape(f'OpenC2 {what} — input rejected')}</b></p>",
             f"<p>Nothing was sent. {escape(reason)}</p>"]
    listed = [f"<li>{escape(issue)}</li>" for issue in issues]
    if listed:
        lines.append("<ul>" + "".join(listed) + "</ul>")
    shown = {k: v for k, v in (inputs or {}).items() if v not in (None, "")}
    if shown:
        lines.append(f"<p>Inputs:</p><pre>{escape(pretty(shown))}</pre>")
    return "".join(lines)


# ---------------------------------------------------------------- rows

def command_row(outcome: CommandOutcome, answer: ConsumerAnswer, *, time_ms: int,
                expires_ms: int | None) -> dict[str, Any]:
    """The openc2_commands cells for one consumer answer (columns as in export.res)."""
    command = outcome.command
    target = command.get("target")
    args = command.get("args")
    return {
        "time": time_ms,
        "consumer": answer.consumer,
        "responder": answer.responder,
        "action": command.get("action"),
        "target": compact(target) if target is not None else None,
        "profile": command.get("profile"),
        "args": compact(args) if args else None,
        "command_id": command.get("command_id"),
        "request_id": answer.request_id,
        "status": answer.status,
        "status_text": answer.status_text,
        "results": compact(answer.results) if answer.results is not None else None,
        "signature": answer.signature,
        "expires": iso_utc(expires_ms) or None,
        "error": answer.error,
        "warnings": "; ".join(answer.warnings) or None,     # schema nits read tolerantly, answers not counted
    }


def consumer_row(answer: ConsumerAnswer, *, queried_at_ms: int) -> dict[str, Any]:
    """The openc2_consumers cells for one answer to ``query features``."""
    results = answer.results or {}
    reachable = answer.ok and answer.status == 200
    pairs = results.get("pairs") or {}
    rate = results.get("rate_limit")
    return {
        "consumer": consumer_label(answer),
        "reachable": "yes" if reachable else f"no: {answer.error or f'status {answer.status}'}",
        "versions": ", ".join(results.get("versions") or []) or None,
        "profiles": ", ".join(results.get("profiles") or []) or None,
        "pairs": "\n".join(f"{a}: {', '.join(t)}" for a, t in pairs.items()) or None,
        "rate_limit": f"{rate:g}/min" if isinstance(rate, (int, float)) else None,
        "queried_at": iso_utc(queried_at_ms),
    }


def consumer_label(answer: ConsumerAnswer) -> str:
    """The consumer name, with the responder when one topic has several agents."""
    if answer.responder and answer.responder not in (answer.consumer,) and answer.transport == "mqtt":
        return f"{answer.consumer} ({answer.responder})"
    return answer.consumer


# ---------------------------------------------------------------- writer

@dataclass
class WriteReport:
    """What reached the incident; lands in the function's payload as ``writeback``."""

    enabled: bool
    notes: list[int | None] = field(default_factory=list)
    rows: int = 0
    rows_updated: int = 0
    skipped_repeats: int = 0
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "notes": self.notes, "rows": self.rows, "rows_updated": self.rows_updated,
                "skipped_repeats": self.skipped_repeats, "errors": self.errors}


def _answer_key(cells: dict[str, Any]) -> tuple[str, str, str]:
    """One answer: an MQTT command's responders share its request_id, so the responder counts too."""
    return str(cells.get("request_id")), str(cells.get("consumer")), str(cells.get("responder"))


class Writer:
    """Writes notes and rows for one incident, skipping repeats, never raising."""

    def __init__(self, client: IncidentClient, log: Logger, *, notes: bool = True, rows: bool = True) -> None:
        self.client = client
        self.log = log
        self.write_notes = notes
        self.write_rows = rows
        self.report = WriteReport(enabled=True)
        self._note_texts: list[str] | None = None
        self._answer_keys: set[tuple[str, str, str]] | None = None

    def _failed(self, err: Exception) -> None:
        self.log.error("fn_openc2 write-back: %s", err)
        self.report.errors.append(str(err))

    def note(self, html: str, header: str | None = None) -> None:
        if not self.write_notes:
            return
        try:
            if header is not None:
                if self._note_texts is None:
                    self._note_texts = self.client.note_texts()
                if any(escape(header) in text for text in self._note_texts):
                    self.report.skipped_repeats += 1
                    return
            self.report.notes.append(self.client.add_note(html))
        except SoarError as err:
            self._failed(err)

    def command_rows(self, rows: Iterable[dict[str, Any]]) -> None:
        if not self.write_rows:
            return
        try:
            if self._answer_keys is None:
                self._answer_keys = {_answer_key(c) for _, c in self.client.rows(COMMANDS_TABLE)}
            for cells in rows:
                key = _answer_key(cells)
                if key in self._answer_keys:
                    self.report.skipped_repeats += 1
                    continue
                self.client.add_row(COMMANDS_TABLE, cells)
                self._answer_keys.add(key)
                self.report.rows += 1
        except SoarError as err:
            self._failed(err)

    def consumer_rows(self, rows: Iterable[dict[str, Any]]) -> None:
        """Replace each consumer's row (first match updated, further duplicates deleted)."""
        if not self.write_rows:
            return
        try:
            existing: dict[str, list[int]] = {}
            for row_id, cells in self.client.rows(CONSUMERS_TABLE):
                existing.setdefault(str(cells.get("consumer")), []).append(row_id)
            for cells in rows:
                ids = existing.get(cells["consumer"], [])
                if ids:
                    self.client.update_row(CONSUMERS_TABLE, ids[0], cells)
                    for extra in ids[1:]:
                        self.client.delete_row(CONSUMERS_TABLE, extra)
                    existing[cells["consumer"]] = ids[:1]
                    self.report.rows_updated += 1
                else:
                    self.client.add_row(CONSUMERS_TABLE, cells)
                    self.report.rows += 1
        except SoarError as err:
            self._failed(err)
