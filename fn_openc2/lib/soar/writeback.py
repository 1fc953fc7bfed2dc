"""What fn_openc2 leaves in the incident: HTML notes, openc2_commands rows
(one per consumer answer, each with a ``state``), openc2_consumers rows after
``query features``. How they are written (journal order, retries,
idempotency) is ``journal.py``.

Every value that came from outside (artifact text, consumer answers, error
messages) is escaped wherever SOAR renders HTML: in notes and in the
rich-text columns (``RICH_TEXT_COLUMNS``); a consumer's status_text is not
trusted markup. Plain text cells are shown as text by SOAR and are only
bounded in size. Each note opens with a header line
``OpenC2 <action> <target> — request <id>`` (a batch: ``... — batch <key>``,
a digest of its request ids) so a repeated write is recognised and skipped.

Row states (column ``state``, ``STATES``):
    sending   written before the command went out; no answer recorded (yet).
              Still there after a run: the app stopped (or SOAR failed) mid-run.
    active    the consumer carried out a lasting action (deny, allow, contain,
              redirect) and it has not expired or been removed
    done      the consumer carried out an action that does not last (query, delete, cancel, ...)
    removed   lifted by "Remove block" (delete rule_number or cancel)
    expired   an active row whose ``expires`` has passed (set when next read)
    failed    not carried out: the consumer refused or failed, or the message never left
    unknown   outcome unknown: sent, but no acknowledgement or answer arrived
              (MQTT publish not acknowledged or no answer; HTTPS read timeout
              after sending): it may have been carried out
"""
from __future__ import annotations

import csv
import hashlib
import json
import re
import tempfile
import time
from html import escape
from typing import Any
from collections.abc import Iterable, Mapping

from fn_openc2.lib.language import STATUS_TEXT
from fn_openc2.lib.producer import OUTCOME_UNKNOWN, CommandOutcome, ConsumerAnswer
from fn_openc2.lib.producer.outcome import status_key
from fn_openc2.lib.soar.inputs import iso_utc

COMMANDS_TABLE = "openc2_commands"
CONSUMERS_TABLE = "openc2_consumers"
COMMAND_COLUMNS = ("time", "state", "consumer", "responder", "action", "target", "profile", "args", "command_id",
                   "request_id", "status", "status_text", "results", "rule_number", "signature", "expires", "error",
                   "warnings")
CONSUMER_COLUMNS = ("consumer", "reachable", "versions", "profiles", "pairs", "rate_limit", "queried_at")
RICH_TEXT_COLUMNS = {COMMANDS_TABLE: ("results",), CONSUMERS_TABLE: ("pairs",)}
STATES = ("sending", "active", "done", "removed", "expired", "failed", "unknown")
IN_EFFECT = ("sending", "active", "unknown")     # a new command of the same kind would double these
LASTING_ACTIONS = ("deny", "allow", "contain", "redirect")
_HEADER_TARGET_MAX = 120
TEXT_MAX = 2000          # consumer text in a plain cell (status_text, error, responder)
RICH_MAX = 8000          # a consumer's results in the rich-text cell


def compact(value: Any) -> str:
    """Stable one-line JSON for table cells (keys sorted so equal values read equal)."""
    return json.dumps(value, sort_keys=True, separators=(", ", ": "), ensure_ascii=False)


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def clip(text: str | None, limit: int = TEXT_MAX) -> str | None:
    """Bound text from outside before it lands in a cell."""
    if text is None or len(text) <= limit:
        return text
    return text[:limit - 24] + f"… ({len(text)} characters)"


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


def error_text(answer: ConsumerAnswer) -> str | None:
    """The answer's error as the analyst reads it: an unknown outcome says so first."""
    if answer.outcome_unknown and answer.error:
        return f"{OUTCOME_UNKNOWN}: {answer.error}"
    return answer.error


def answer_state(command: Mapping[str, Any], answer: ConsumerAnswer) -> str:
    """The row state an answer leaves (see the module docstring)."""
    if answer.outcome_unknown:
        return "unknown"
    if not answer_succeeded(answer):
        return "failed"
    return "active" if command.get("action") in LASTING_ACTIONS else "done"


def rule_number(answer: ConsumerAnswer) -> int | None:
    """The rule number a firewall profile answered with (results.slpf / results.pf), if any."""
    for nsid in ("slpf", "pf"):
        part = (answer.results or {}).get(nsid)
        number = part.get("rule_number") if isinstance(part, dict) else None
        if isinstance(number, int) and not isinstance(number, bool) and number >= 0:
            return number
    return None


# ---------------------------------------------------------------- notes

def _answer_html(command: Mapping[str, Any], answer: ConsumerAnswer) -> str:
    who = escape(answer.consumer)
    if answer.responder and answer.responder != answer.consumer:
        who += f" (responder {escape(answer.responder)})"
    state = answer_state(command, answer)
    verdict = {"failed": "FAILED", "unknown": "OUTCOME UNKNOWN (may have been carried out)"}.get(state, "OK")
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
        html += f"<br>Error: {escape(error_text(answer) or '')}"
    if answer.warnings:                 # schema deviations read tolerantly, answers not counted (issue 10.3, 12.5)
        html += "<br>Warnings: " + escape("; ".join(answer.warnings))
    if answer.results:
        html += f"<br>Results:<pre>{escape(pretty(answer.results))}</pre>"
    return f"<li>{html}</li>"


NOTE_ANSWERS_MAX = 50    # answers listed in one command note; the rest are counted (fleets)


def command_note(outcome: CommandOutcome, consumers: Iterable[str], comment: str = "",
                 skipped: Iterable[str] = ()) -> str:
    """HTML note for one command: what was sent to whom and what each consumer said.

    A fleet's note lists only the answers that were not OK, up to NOTE_ANSWERS_MAX."""
    header = note_header(outcome.command, outcome.request_id)
    lines = [f"<p><b>{escape(header)}</b></p>"]
    if comment:
        lines.append(f"<p>Comment: {escape(comment)}</p>")
    skipped = list(skipped)
    for reason in skipped:
        lines.append(f"<p><b>Not sent:</b> {escape(reason)}</p>")
    counts = outcome.counted()      # a streamed fan-out: every answer counted, ``answers`` a sample
    if outcome.refused:
        lines.append(f"<p><b>Refused, nothing was sent:</b> {escape(outcome.refused)}</p>")
    elif outcome.answers or not skipped:
        names = ", ".join(escape(c) for c in consumers) or "(none)"
        ok = counts.succeeded
        unknown = counts.outcome_unknown
        line = f"<p>Sent to {names}: {ok} of {counts.total} answers OK"
        if unknown:
            line += f", {unknown} outcome unknown (may have been carried out)"
        lines.append(line + ".</p>")
    lines.append(f"<p>Command:</p><pre>{escape(pretty(outcome.command))}</pre>")
    shown = outcome.answers
    if counts.total > NOTE_ANSWERS_MAX:
        not_ok = [a for a in shown if not answer_succeeded(a)]
        n_not_ok = counts.total - counts.succeeded
        lines.append(f"<p>{counts.total} responders answered; {counts.succeeded} OK. Answers that were "
                     f"not OK{f' (first {NOTE_ANSWERS_MAX} of {n_not_ok})' if n_not_ok > NOTE_ANSWERS_MAX else ''}"
                     ":</p>")
        shown = not_ok[:NOTE_ANSWERS_MAX]
        files = ", ".join(fleet_file_name(outcome.command, c, ext) for c in counts.by_consumer
                          for ext in ("csv", "json"))
        lines.append(f"<p>Every answer is in the incident attachments {escape(files)}.</p>")
    if shown:
        lines.append("<ul>" + "".join(_answer_html(outcome.command, a) for a in shown) + "</ul>")
    return "".join(lines)


def outcome_state(outcome: CommandOutcome, skipped: bool = False) -> str:
    """'refused' (nothing sent), 'skipped' (already in effect), 'unknown' (an answer's outcome is
    unknown, none failed), 'failed' (sent, some consumer did not succeed) or 'sent' (all succeeded)."""
    if outcome.refused:
        return "refused"
    if not outcome.answers:
        return "skipped" if skipped else "failed"
    counts = outcome.counted()
    if counts.failed:
        return "failed"
    return "unknown" if counts.outcome_unknown else "sent"


def batch_key(outcomes: Iterable[CommandOutcome]) -> str:
    """'batch <16 hex>': the same request ids give the same key, so a repeated write is recognised."""
    ids = "\n".join(sorted(o.request_id for o in outcomes))
    return f"batch {hashlib.sha256(ids.encode()).hexdigest()[:16]}"


def batch_header(outcomes: list[CommandOutcome], skipped: Mapping[str, list[str]] | None = None) -> str:
    skipped = skipped or {}
    states = [outcome_state(o, bool(skipped.get(str(o.command.get("command_id"))))) for o in outcomes]
    actions = sorted({str(o.command.get("action", "?")) for o in outcomes})
    counts = f"{states.count('sent')} sent, {states.count('refused')} refused, {states.count('failed')} failed"
    if states.count("unknown"):
        counts += f", {states.count('unknown')} outcome unknown"
    if states.count("skipped"):
        counts += f", {states.count('skipped')} not sent"
    return f"OpenC2 {'/'.join(actions)} — batch of {len(outcomes)} targets — {counts} — {batch_key(outcomes)}"


_ARTIFACT_ID = re.compile(r"\(artifact [^()]*\)$")
_BATCH_COLUMNS = ("Target", "Consumer", "Status", "Status text", "Signature", "Request ID", "Error / refusal")


def _batch_lines(outcome: CommandOutcome, source: str, skipped: list[str]) -> list[tuple[str, ...]]:
    """The table lines of one target: one per consumer answer, or one saying why there is none."""
    target = target_text(outcome.command)
    artifact = _ARTIFACT_ID.search(source or "")
    if artifact:
        target += f" {artifact.group(0)}"        # which incident artifact it came from
    if outcome.refused:
        return [(target, "—", "refused", "", "", outcome.request_id, outcome.refused)]
    lines: list[tuple[str, ...]] = [(target, "—", "not sent", "", "", "", reason) for reason in skipped]
    if not outcome.answers and not skipped:
        return [(target, "—", "failed", "", "", outcome.request_id, "no consumer answered")]
    fleet = _fleet_lines(outcome, target)
    if fleet is not None:
        return lines + fleet
    for a in outcome.answers:
        who = a.consumer if not a.responder or a.responder == a.consumer else f"{a.consumer} ({a.responder})"
        if a.status is not None:
            status, text = str(a.status), a.status_text or STATUS_TEXT.get(a.status, "")
        elif a.outcome_unknown:
            status, text = "unknown", "may have been carried out"
        else:
            status, text = ("failed", "") if a.error else ("sent", "no response requested")
        signature = a.signature + (f" ({a.signature_reason})" if a.signature_reason else "")
        lines.append((target, who, status, text, signature, a.request_id, error_text(a) or ""))
    return lines


def _fleet_lines(outcome: CommandOutcome, target: str) -> list[tuple[str, ...]] | None:
    """A fleet's answers in a batch note: counts, then only the answers that were not OK (capped)."""
    counts = outcome.counted()      # a streamed fan-out: every answer counted, ``answers`` a sample
    if all(total <= NOTE_ANSWERS_MAX for total, _ in counts.by_consumer.values()):
        return None
    lines: list[tuple[str, ...]] = []
    for consumer, (total, ok) in counts.by_consumer.items():
        bad = [a for a in outcome.answers if a.consumer == consumer and not answer_succeeded(a)]
        n_bad = total - ok
        lines.append((target, consumer, "fleet", f"{total} responders, {ok} OK", "",
                      outcome.request_id, f"every answer: {fleet_file_name(outcome.command, consumer, 'csv')}"))
        for a in bad[:NOTE_ANSWERS_MAX]:
            lines.append((target, f"{consumer} ({a.responder})", str(a.status) if a.status is not None else
                          answer_state(outcome.command, a), a.status_text or "", a.signature, a.request_id,
                          error_text(a) or ""))
        if n_bad > NOTE_ANSWERS_MAX:
            lines.append((target, consumer, "", "", "", "", f"and {n_bad - NOTE_ANSWERS_MAX} more not OK "
                                                            "(see the attachment)"))
    return lines


def batch_note(outcomes: list[CommandOutcome], sources: list[str], comment: str = "",
               duplicates: Iterable[str] = (), skipped: Mapping[str, list[str]] | None = None) -> str:
    """One HTML note for a batch: counts in the header, one table line per (target, consumer)."""
    skipped = skipped or {}
    lines = [f"<p><b>{escape(batch_header(outcomes, skipped))}</b></p>"]
    if comment:
        lines.append(f"<p>Comment: {escape(comment)}</p>")
    lines.append("<p>Sent: every consumer answered OK. Failed: sent, but a consumer failed or refused. "
                 "Outcome unknown: sent, no answer or acknowledgement; it may have been carried out. "
                 "Refused: not sent (policy, validation or routing). Not sent: the incident already holds an "
                 "active, still-sending or unknown-outcome command of the same kind (openc2_force sends anyway), "
                 "or the command's row could not be written first.</p>")
    common = {k: outcomes[0].command.get(k) for k in ("action", "profile", "args") if outcomes[0].command.get(k)}
    if all({k: o.command.get(k) for k in ("action", "profile", "args") if o.command.get(k)} == common
           for o in outcomes):
        lines.append(f"<p>Every command:</p><pre>{escape(pretty(common))}</pre>")
    dups = [f"<li>{escape(d)}</li>" for d in duplicates]
    if dups:
        lines.append(f"<p>Duplicates skipped ({len(dups)}):</p><ul>{''.join(dups)}</ul>")
    head = "".join(f"<th>{escape(c)}</th>" for c in _BATCH_COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in line) + "</tr>"
                   for outcome, source in zip(outcomes, sources, strict=False)
                   for line in _batch_lines(outcome, source, skipped.get(str(outcome.command.get("command_id")), [])))
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


FLEET_COLUMNS = ("consumer", "responder", "request_id", "state", "status", "status_text", "signature",
                 "signature_reason", "error", "results")


def fleet_file_name(command: Mapping[str, Any], consumer: str, ext: str) -> str:
    """'openc2-answers-<command_id>-<consumer>.csv': one file per (command, consumer) with every answer."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{command.get('command_id')}-{consumer}")[:150]
    return f"openc2-answers-{safe}.{ext}"


def _csv_cell(value: Any) -> str:
    """Text for a spreadsheet cell; a consumer's '=', '+', '-', '@' cannot start a formula."""
    if value is None:
        return ""
    if type(value) is int and value >= 0:   # a status: the JSON text of an integer is its str()
        return str(value)
    text = value if isinstance(value, str) else compact(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _fleet_row(command: Mapping[str, Any], a: ConsumerAnswer, state: str | None = None) -> dict[str, Any]:
    return {"consumer": a.consumer, "responder": a.responder, "request_id": a.request_id,
            "state": state or answer_state(command, a), "status": a.status, "status_text": a.status_text,
            "signature": a.signature, "signature_reason": a.signature_reason, "error": error_text(a),
            "results": a.results}


class FleetSpool:
    """Every answer of one (command, consumer), taken one at a time (issue 13.5): the first
    ``keep`` are kept (their rows, when no more come); past them, every answer is written to
    temporary CSV and JSON files as it comes and counted, never held. ``files()`` gives the two
    attachments (the bytes ``fleet_files`` makes from a list); ``counts`` feeds the summary row."""

    def __init__(self, command: Mapping[str, Any], consumer: str, keep: int = 0) -> None:
        self.command = command
        self.consumer = consumer
        self.keep = keep
        self.first: list[ConsumerAnswer] = []
        self.counts = AnswerCounts()
        self._csv: Any = None
        self._json: Any = None
        self._written = 0

    def add(self, answer: ConsumerAnswer) -> None:
        state = self.counts.add(self.command, answer)
        if self._csv is None and len(self.first) < self.keep:
            self.first.append(answer)
            return
        if self._csv is None:
            self._open()
        self._write(answer, state)

    def _open(self) -> None:
        """The files, with the answers kept so far (a fleet after all)."""
        self._csv = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")
        self._json = tempfile.TemporaryFile("w+", encoding="utf-8")
        self._writer = csv.writer(self._csv)
        self._writer.writerow(FLEET_COLUMNS)
        self._json.write(json.dumps({"command": self.command, "consumer": self.consumer}, ensure_ascii=False)[:-1]
                         + ', "answers": [')
        for answer in self.first:
            self._write(answer)

    def _write(self, answer: ConsumerAnswer, state: str | None = None) -> None:
        row = _fleet_row(self.command, answer, state)
        self._writer.writerow([_csv_cell(row[c]) for c in FLEET_COLUMNS])
        self._json.write((", " if self._written else "") + json.dumps(row, ensure_ascii=False))
        self._written += 1

    def files(self) -> list[tuple[str, bytes, str]]:
        """(file name, bytes, MIME type) of the CSV and JSON (read back for the upload)."""
        if self._csv is None:
            self._open()
        self._csv.seek(0)
        self._json.seek(0)
        return [(fleet_file_name(self.command, self.consumer, "csv"), self._csv.read().encode("utf-8"), "text/csv"),
                (fleet_file_name(self.command, self.consumer, "json"), (self._json.read() + "]}").encode("utf-8"),
                 "application/json")]

    def close(self) -> None:
        for handle in (self._csv, self._json):
            if handle is not None:
                handle.close()


def fleet_files(command: Mapping[str, Any], consumer: str,
                answers: list[ConsumerAnswer]) -> list[tuple[str, bytes, str]]:
    """(file name, bytes, MIME type) of the CSV and JSON holding every answer of a fleet."""
    spool = FleetSpool(command, consumer)
    try:
        for answer in answers:
            spool.add(answer)
        return spool.files()
    finally:
        spool.close()


def unwritten_note(incident_id: int, unwritten: list[str]) -> str:
    """The note listing what the write-back could not write (after its retries)."""
    header = f"OpenC2 write-back incomplete — {len(unwritten)} item(s) could not be written to incident {incident_id}"
    items = "".join(f"<li>{escape(line)}</li>" for line in unwritten)
    return (f"<p><b>{escape(header)}</b></p><p>SOAR refused or did not answer these writes within the "
            f"write-back time budget (app.config writeback_budget); the function's payload holds every answer.</p>"
            f"<ul>{items}</ul>")


# ---------------------------------------------------------------- rows

def command_cells(command: Mapping[str, Any], consumer: str, request_id: str, *, time_ms: int,
                  expires_ms: int | None) -> dict[str, Any]:
    """The openc2_commands cells known before the command goes out (state 'sending')."""
    target = command.get("target")
    args = command.get("args")
    return {
        "time": time_ms, "state": "sending", "consumer": consumer, "responder": None,
        "action": command.get("action"),
        "target": compact(target) if target is not None else None,
        "profile": command.get("profile"),
        "args": compact(args) if args else None,
        "command_id": command.get("command_id"), "request_id": request_id,
        "status": None, "status_text": None, "results": None, "rule_number": None, "signature": None,
        "expires": expires_ms, "error": None, "warnings": None,
    }


def answer_cells(command: Mapping[str, Any], answer: ConsumerAnswer, base: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` (command_cells) completed with one consumer answer. ``results`` is rich text: escaped."""
    results = None
    if answer.results is not None:
        results = escape(clip(compact(answer.results), RICH_MAX) or "")
    return dict(base, state=answer_state(command, answer), responder=clip(answer.responder, 200),
                status=answer.status, status_text=clip(answer.status_text), results=results,
                rule_number=rule_number(answer), signature=answer.signature, error=clip(error_text(answer)),
                warnings=clip("; ".join(answer.warnings)) or None)   # schema nits read tolerantly (plain text)


def command_row(outcome: CommandOutcome, answer: ConsumerAnswer, *, time_ms: int,
                expires_ms: int | None) -> dict[str, Any]:
    """The openc2_commands cells for one consumer answer (columns as in export.res)."""
    base = command_cells(outcome.command, answer.consumer, answer.request_id, time_ms=time_ms,
                         expires_ms=expires_ms)
    return answer_cells(outcome.command, answer, base)


class AnswerCounts:
    """A fleet's answers counted by row state and by status (what its summary row shows)."""

    def __init__(self) -> None:
        self.total = 0
        self.by_state: dict[str, int] = {}
        self.by_status: dict[str, int] = {}

    def add(self, command: Mapping[str, Any], a: ConsumerAnswer) -> str:
        """Count one answer; its row state."""
        self.total += 1
        state = answer_state(command, a)
        self.by_state[state] = self.by_state.get(state, 0) + 1
        key = status_key(a)
        self.by_status[key] = self.by_status.get(key, 0) + 1
        return state


def summary_cells(command: Mapping[str, Any], answers: list[ConsumerAnswer] | AnswerCounts,
                  base: Mapping[str, Any]) -> dict[str, Any]:
    """One row for a fleet's answers to one command (more responders than rows_per_command);
    ``answers`` as a list or already counted (a streamed fleet)."""
    if isinstance(answers, AnswerCounts):
        counts = answers
    else:
        counts = AnswerCounts()
        for a in answers:
            counts.add(command, a)
    by_state, by_status = counts.by_state, counts.by_status
    state = max(by_state, key=lambda s: (by_state[s], s))
    if "sending" not in by_state and ("active" in by_state or "unknown" in by_state):
        state = "active" if "active" in by_state else "unknown"   # in effect somewhere: it can be lifted
    not_ok = counts.total - by_state.get("active", 0) - by_state.get("done", 0)
    return dict(base, state=state, responder=f"{counts.total} responders",
                status_text=", ".join(f"{k}: {v}" for k, v in sorted(by_status.items())),
                error=f"{not_ok} not OK (see the note and the answers attachment)" if not_ok else None)


def pairs_html(pairs: Mapping[str, Any]) -> str | None:
    """Action/target pairs one per line, in a rich-text cell: every name escaped."""
    lines = []
    for action, targets in pairs.items():
        names = targets if isinstance(targets, list) else [targets]
        lines.append(f"{escape(str(action))}: {escape(', '.join(str(t) for t in names))}")
    return clip("<br>".join(lines), RICH_MAX) or None


def consumer_row(answer: ConsumerAnswer, *, queried_at_ms: int) -> dict[str, Any]:
    """The openc2_consumers cells for one answer to ``query features``."""
    results = answer.results or {}
    reachable = answer.ok and answer.status == 200
    pairs = results.get("pairs") or {}
    rate = results.get("rate_limit")
    versions = results.get("versions") or []
    profiles = results.get("profiles") or []
    return {
        "consumer": consumer_label(answer),
        "reachable": "yes" if reachable else clip(f"no: {answer.error or f'status {answer.status}'}"),
        "versions": clip(", ".join(str(v) for v in versions)) or None,
        "profiles": clip(", ".join(str(p) for p in profiles)) or None,
        "pairs": pairs_html(pairs) if isinstance(pairs, dict) else None,
        "rate_limit": f"{rate:g}/min" if isinstance(rate, (int, float)) and not isinstance(rate, bool) else None,
        "queried_at": queried_at_ms,
    }


def consumer_label(answer: ConsumerAnswer) -> str:
    """The consumer name, with the responder when one topic has several agents."""
    if answer.responder and answer.responder not in (answer.consumer,) and answer.transport == "mqtt":
        return clip(f"{answer.consumer} ({answer.responder})", 300) or answer.consumer
    return answer.consumer


def effective_state(cells: Mapping[str, Any], now_ms: int | None = None) -> str:
    """A stored row's state now: 'active' past ``expires`` is 'expired'; rows written before
    the state column existed are read from their status."""
    state = cells.get("state")
    if not state:
        status = cells.get("status")
        ok = isinstance(status, int) and status < 300 and not cells.get("error")
        state = ("active" if cells.get("action") in LASTING_ACTIONS else "done") if ok else "failed"
    if state == "active":
        expires = epoch_ms_of(cells.get("expires"))
        now = int(time.time() * 1000) if now_ms is None else now_ms
        if expires is not None and expires <= now:
            return "expired"
    return str(state)


def epoch_ms_of(value: Any) -> int | None:
    """A datetimepicker cell (epoch ms) or an older ISO text cell as epoch ms."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and value:
        from fn_openc2.lib.soar.inputs import InputError, epoch_ms
        try:
            return epoch_ms("expires", value)
        except InputError:
            return None
    return None


def row_label(cells: Mapping[str, Any]) -> str:
    """'deny {"ipv4_net": ...} to fw1 (fw1@example.com), state active, command_id ..., request ...'."""
    who = str(cells.get("consumer"))
    if cells.get("responder"):
        who += f" ({cells.get('responder')})"
    return (f"{cells.get('action')} {cells.get('target') or ''} to {who}, state {cells.get('state')}, "
            f"command_id {cells.get('command_id')}, request {cells.get('request_id')}")


def since_text(cells: Mapping[str, Any]) -> str:
    return iso_utc(epoch_ms_of(cells.get("time"))) or "an unknown time"
