"""The logic behind the SOAR functions, as plain Python.

Each entry point takes the app.config sections (``opts``), the function
inputs as a dict, a SOAR REST client and a logger, and returns the payload
playbooks read under ``content`` (shape: payload_samples/*/output_json_schema.json):

    {"commands": [{command, request_id, refused, skipped, ok, source, expires, answers: [{..., state}]}],
     "summary": {commands, sent, refused, skipped, answers, answers_ok, outcome_unknown, success,
                 failures: [...]},
     "error": null | {kind, field | section/key, message, issues},
     "writeback": {enabled, complete, notes, rows, rows_updated, skipped_repeats, retries,
                   landed_after_error, errors, unwritten}}
    (+ "consumers": [...] for query features, "duplicates": [...] for send command)

An MQTT fan-out streams (issue 13.5): its answers reach the journal one at a
time while the collection window is open and the payload stays bounded:
``commands[].answers`` holds a sample (at most 50 answers that succeeded and
50 that did not, ``producer.outcome.STREAM_KEEP``) and ``commands[].tally``
counts every answer (total, delivered, succeeded, outcome_unknown, by_status,
by_consumer, notices); ``summary`` counts come from the tally and
``summary.failures`` lists the sampled failures plus one "N more" line. Every
answer is in the incident attachments (CSV and JSON).

SOAR is the journal (``journal.Journal``): each command's row is written
before the command goes out and updated as its answers arrive; a target whose
command is still in effect in the incident is not sent again (unless
``openc2_force``). A send of several commands is one batch
(``Producer.send_many``) with one summary note.

Bad input or configuration never reaches a consumer: the payload carries the
error, and (write-back on, incident known) a note says what was wrong.
``summary.success`` is true only when every targeted consumer answered with
a 1xx/2xx status (or was sent a command that asked for no response) and the
write-back is complete; answers whose outcome is unknown (may have been
carried out) are counted apart and listed in ``failures`` with that wording.
"""
from __future__ import annotations

import time
from logging import Logger
from typing import Any, TypeVar
from collections.abc import Callable, Mapping

from fn_openc2.lib.language import OpenC2ValidationError, build_command, to_dict
from fn_openc2.lib.producer import OUTCOME_UNKNOWN, AppSettings, CommandOutcome, ConfigError, ConsumerAnswer
from fn_openc2.lib.producer.errors import RoutingError
from fn_openc2.lib.producer.producer import Producer
from fn_openc2.lib.producer.routing import DEFAULT, Selection, select_consumers
from fn_openc2.lib.soar import inputs as i
from fn_openc2.lib.soar import writeback as wb
from fn_openc2.lib.soar.journal import Journal, disabled_report
from fn_openc2.lib.soar.plan import (PlanError, SendPlan, all_artifacts_wanted, issue_lines, new_command_id,
                                    plan_send)
from fn_openc2.lib.soar.producers import producer_for
from fn_openc2.lib.soar.soar_client import IncidentClient, RestClient, SoarError

Inputs = Mapping[str, Any]
T = TypeVar("T")
_EXPECTED = (i.InputError, PlanError, ConfigError, SoarError)
#: openc2_query_features only: every configured consumer (as when openc2_consumers is empty).
ALL = "all"


# ---------------------------------------------------------------- shared pieces

def _now_ms() -> int:
    return int(time.time() * 1000)


def _answer_dict(command: dict[str, Any], answer: ConsumerAnswer) -> dict[str, Any]:
    out = answer.to_dict()
    out.pop("message", None)             # the raw envelope stays out of the payload
    out["error"] = wb.error_text(answer)
    out["succeeded"] = wb.answer_succeeded(answer)
    out["state"] = wb.answer_state(command, answer)
    return out


def _who(a: ConsumerAnswer) -> str:
    return f"{a.consumer}{f' ({a.responder})' if a.responder and a.responder != a.consumer else ''}"


def _failure_lines(outcome: CommandOutcome, skipped: bool = False) -> tuple[list[str], list[str]]:
    """(failed lines, outcome-unknown lines) of one command."""
    if outcome.refused:
        return [f"{wb.target_text(outcome.command)}: refused: {outcome.refused}"], []
    if not outcome.answers:
        return ([] if skipped else [f"{wb.target_text(outcome.command)}: no consumer answered"]), []
    failed, unknown = [], []
    for a in outcome.answers:
        state = wb.answer_state(outcome.command, a)
        if state == "unknown":
            unknown.append(f"{wb.target_text(outcome.command)} to {_who(a)}: {wb.error_text(a)}")
        elif state == "failed":
            why = a.error or f"status {a.status} {a.status_text or ''}".strip()
            failed.append(f"{_who(a)}: {why}")
    counts = outcome.tally          # a streamed fan-out: the rest are counted, not listed
    if counts is not None and counts.failed > len(failed):
        failed.append(f"{wb.target_text(outcome.command)}: {counts.failed - len(failed)} more answers failed "
                      "(every answer is in the incident attachments)")
    if counts is not None and counts.outcome_unknown > len(unknown):
        unknown.append(f"{wb.target_text(outcome.command)}: {counts.outcome_unknown - len(unknown)} more "
                       f"answers: {OUTCOME_UNKNOWN}")
    return failed, unknown


def _summary(outcomes: list[CommandOutcome], error: str | None = None,
             journal: Journal | None = None) -> dict[str, Any]:
    skipped = journal.skipped if journal is not None else {}
    unsent = journal.unsent if journal is not None else {}
    counts = [o.counted() for o in outcomes]      # streamed fan-outs: counted, ``answers`` a sample
    failures: list[str] = []
    unknown: list[str] = []
    n_skipped = 0
    for o in outcomes:
        command_id = str(o.command.get("command_id"))
        was_skipped = bool(skipped.get(command_id) or unsent.get(command_id))
        n_skipped += bool(skipped.get(command_id)) and not o.answers and not unsent.get(command_id)
        failed, maybe = _failure_lines(o, was_skipped)
        failures.extend(unsent.get(command_id, []))
        failures.extend(failed)
        unknown.extend(maybe)
    if error:
        failures.insert(0, error)
    failures.extend(unknown)
    missing = journal.failure_line() if journal is not None else None
    if missing:
        failures.append(missing)
    return {"commands": len(outcomes), "sent": sum(1 for o in outcomes if not o.refused and o.answers),
            "refused": sum(1 for o in outcomes if o.refused), "skipped": n_skipped,
            "answers": sum(c.total for c in counts),
            "answers_ok": sum(c.succeeded for c in counts),
            "outcome_unknown": sum(c.outcome_unknown for c in counts),
            "success": not failures and bool(outcomes), "failures": failures}


def _error_dict(err: Exception) -> dict[str, Any]:
    if isinstance(err, ConfigError):
        return {"kind": "config", "section": err.section, "key": err.key, "message": str(err), "issues": []}
    if isinstance(err, i.InputError):
        return {"kind": "input", "field": err.field, "message": str(err), "issues": []}
    if isinstance(err, PlanError):
        return {"kind": "input", "message": err.reason, "issues": err.lines}
    return {"kind": "soar", "message": str(err), "issues": []}


def _journal(rest_client: RestClient | None, incident_id: int | None, enabled: bool, log: Logger,
             force: bool = False) -> Journal | None:
    """Made before app.config is read, so that a config error still gets its note."""
    if not enabled or incident_id is None or rest_client is None:
        return None
    return Journal(IncidentClient(rest_client, incident_id), log, force=force)


def _read(journal: Journal | None, what: str, call: Callable[[], T]) -> T:
    """A read the function cannot do without: retried within the journal's budget, else SoarError."""
    if journal is None:
        return call()
    before = len(journal.report.errors)
    ok, value = journal._attempt(what, call)
    if not ok:
        errors = journal.report.errors[before:]
        raise SoarError(errors[-1] if errors else f"{what}: SOAR write-back time budget spent")
    return value  # type: ignore[return-value]


def _open(opts: Mapping[str, Any], journal: Journal | None) -> tuple[AppSettings, Producer]:
    """Load the settings and their producer, apply the SOAR settings to the journal, and, with
    write-back on, stop before anything is sent when the incident cannot be read
    (SoarError): a block nobody can find in the incident is worse than no block."""
    settings, producer = producer_for(opts)
    if journal is not None:
        own = settings.producer
        journal.write_notes = own.write_note
        journal.write_rows = own.write_table
        journal.client.timeout = own.soar_timeout
        journal.budget = own.writeback_budget
        journal.rows_per_command = own.rows_per_command
        _read(journal, "reading the incident", journal.client.check)
    return settings, producer


def _failed(what: str, err: Exception, inputs: Inputs, journal: Journal | None, log: Logger) -> dict[str, Any]:
    """The payload (and note) for input or configuration that stopped everything."""
    error = _error_dict(err)
    log.warning("fn_openc2 %s: nothing sent: %s", what, err)
    if journal is not None:
        reason = error["message"] if not error["issues"] else f"{error['message']}:"
        html = wb.rejected_note(what, reason, error["issues"], dict(inputs))
        journal.note(html, f"OpenC2 {what} — input rejected")
        journal.finish()
    return {"commands": [], "summary": _summary([], str(err), journal), "error": error,
            "writeback": journal.report.to_dict() if journal else disabled_report()}


def _consumers(settings: AppSettings, value: Any, field: str = "openc2_consumers") -> Selection:
    """The producer's routing reads the selection (names, 'default' or empty, 'auto'); an unknown
    name fails here, against the input ``field``, before anything is built."""
    try:
        return select_consumers(settings, i.name_list(value))
    except RoutingError as err:
        raise i.InputError(field, str(err)) from None


def _record(outcomes: list[CommandOutcome], journal: Journal | None, comment: str,
            sources: list[str] | None = None, duplicates: list[str] | None = None) -> None:
    """One note per command, or one summary note for a batch (rows were written as it ran);
    before them, each fleet's answers as CSV and JSON attachments."""
    if journal is None:
        return
    journal.fleet_attachments()
    if len(outcomes) > 1:
        held = {k: journal.skipped.get(k, []) + journal.unsent.get(k, []) for k in {*journal.skipped, *journal.unsent}}
        journal.note(wb.batch_note(outcomes, sources or [""] * len(outcomes), comment, duplicates or (), held),
                     wb.batch_key(outcomes), wb.batch_header(outcomes, held))
    elif outcomes:
        outcome = outcomes[0]
        consumers = list(outcome.counted().by_consumer)
        command_id = str(outcome.command.get("command_id"))
        journal.note(wb.command_note(outcome, consumers, comment,
                                     journal.skipped.get(command_id, []) + journal.unsent.get(command_id, [])),
                     wb.note_header(outcome.command, outcome.request_id))
    journal.finish()


def _payload(outcomes: list[CommandOutcome], sources: list[str], expires: list[int | None],
             journal: Journal | None, duplicates: list[str] | None = None) -> dict[str, Any]:
    commands = []
    skipped = journal.skipped if journal is not None else {}
    unsent = journal.unsent if journal is not None else {}
    for outcome, source, expires_ms in zip(outcomes, sources, expires, strict=False):
        entry = outcome.to_dict()
        entry["answers"] = [_answer_dict(outcome.command, a) for a in outcome.answers]
        entry["skipped"] = skipped.get(str(outcome.command.get("command_id")), [])
        entry["unsent"] = unsent.get(str(outcome.command.get("command_id")), [])
        entry["source"] = source
        entry["expires"] = i.iso_utc(expires_ms) or None
        commands.append(entry)
    result: dict[str, Any] = {"commands": commands, "summary": _summary(outcomes, journal=journal), "error": None,
              "writeback": journal.report.to_dict() if journal else disabled_report()}
    if duplicates is not None:
        result["duplicates"] = duplicates
    return result


# ---------------------------------------------------------------- functions

def send_command(opts: Mapping[str, Any], inputs: Inputs, rest_client: RestClient | None,
                 log: Logger) -> dict[str, Any]:
    """openc2_send_command: build one command per target, send them as one batch, journal each, return every answer.

    With ``openc2_all_artifacts`` the targets are every artifact of
    ``openc2_artifact_type`` in the incident (read through REST), de-duplicated.
    """
    journal: Journal | None = None
    try:
        incident_id = i.integer("incident_id", inputs.get("incident_id"))
        force = i.flag("openc2_force", inputs.get("openc2_force"), False)
        journal = _journal(rest_client, incident_id, i.flag("openc2_write_back", inputs.get("openc2_write_back"),
                                                            True), log, force)
        settings, producer = _open(opts, journal)
        consumers = _consumers(settings, inputs.get("openc2_consumers"))
        attachment = None
        attachment_id = i.integer("openc2_attachment_id", inputs.get("openc2_attachment_id"))
        if attachment_id is not None:
            if incident_id is None or rest_client is None:
                raise i.InputError("openc2_attachment_id", "needs incident_id to fetch the attachment")
            client = IncidentClient(rest_client, incident_id, settings.producer.soar_timeout)
            attachment = _read(journal, "reading the attachment", lambda: client.attachment(attachment_id))
        artifacts = None
        if all_artifacts_wanted(inputs):
            if incident_id is None or rest_client is None:
                raise i.InputError("openc2_all_artifacts", "needs incident_id to read the incident's artifacts")
            client = IncidentClient(rest_client, incident_id, settings.producer.soar_timeout)
            artifacts = _read(journal, "listing artifacts", client.artifacts)
        plan: SendPlan = plan_send(inputs, incident_id, attachment, artifacts)
        if journal is not None and not force:
            unread = journal.load_in_effect()
            if unread is not None:
                raise SoarError(f"cannot read openc2_commands to see which commands are already in effect "
                                f"({unread}); nothing was sent, to send nothing twice (set openc2_force to send "
                                "anyway)")
    except _EXPECTED as err:
        return _failed(i.text(inputs.get("openc2_action")) or "send command", err, inputs, journal, log)
    expires = [p.expires_ms for p in plan.commands]
    sources = [p.source for p in plan.commands]
    if journal is not None:
        journal.time_ms = _now_ms()
        journal.expires = {str(p.command.get("command_id")): p.expires_ms for p in plan.commands}
    # send_many: bounded concurrency per consumer, pooled connections, each consumer's rate_limit;
    # the journal writes each command's row before it goes out and updates it with the answers
    outcomes = producer.send_many([p.command for p in plan.commands], consumers, hooks=journal)
    _record(outcomes, journal, plan.comment, sources, plan.duplicates)
    result = _payload(outcomes, sources, expires, journal, plan.duplicates)
    log.info("fn_openc2 send: %s command(s), %s duplicate(s) skipped, success=%s", len(outcomes),
             len(plan.duplicates), result["summary"]["success"])
    return result


def query_features(opts: Mapping[str, Any], inputs: Inputs, rest_client: RestClient | None,
                   log: Logger) -> dict[str, Any]:
    """openc2_query_features: ask one, several or all consumers; refresh openc2_consumers."""
    journal: Journal | None = None
    try:
        incident_id = i.integer("incident_id", inputs.get("incident_id"))
        journal = _journal(rest_client, incident_id, True, log)
        settings, producer = _open(opts, journal)
        features = i.features("openc2_features", inputs.get("openc2_features"))
        names = i.name_list(inputs.get("openc2_consumers"))
        consumers = sorted(settings.consumers) if names in ([], [ALL]) else _consumers(settings, names)
    except _EXPECTED as err:
        return _failed("query features", err, inputs, journal, log)
    started = _now_ms()
    # a query is no action taken: it stays out of openc2_commands (whose rows offer "Remove block")
    outcome = producer.query_features(consumers, features)
    if journal is not None:
        journal.consumer_rows(wb.consumer_row(a, queried_at_ms=started) for a in outcome.answers)
    _record([outcome], journal, "")
    result = _payload([outcome], ["query features"], [None], journal)
    result["consumers"] = [dict(wb.consumer_row(a, queried_at_ms=started), responder=a.responder, status=a.status,
                                error=a.error, results=a.results) for a in outcome.answers]
    return result


def cancel_command(opts: Mapping[str, Any], inputs: Inputs, rest_client: RestClient | None,
                   log: Logger) -> dict[str, Any]:
    """openc2_cancel_command: 'cancel' {"command": id} to the consumer(s) that ran it."""
    journal: Journal | None = None
    try:
        incident_id = i.integer("incident_id", inputs.get("incident_id"))
        journal = _journal(rest_client, incident_id, True, log)
        settings, producer = _open(opts, journal)
        command_id = i.text(inputs.get("openc2_command_id"))
        if not command_id:
            raise i.InputError("openc2_command_id", "required: the command_id of the command to cancel")
        consumers = _consumers(settings, inputs.get("openc2_consumers"))
        rows: list[tuple[int, dict[str, Any]]] = []
        if journal is not None:
            rows = [(rid, c) for rid, c in _read(journal, "reading openc2_commands",
                                                 lambda: journal.client.rows(wb.COMMANDS_TABLE))
                    if str(c.get("command_id")) == command_id]
        if consumers == DEFAULT and rows:
            known = [n for n in dict.fromkeys(str(c.get("consumer")) for _, c in rows) if n in settings.consumers]
            consumers = known or DEFAULT
        command = _build("cancel", {"command": command_id}, incident_id)
    except _EXPECTED as err:
        return _failed("cancel", err, inputs, journal, log)
    return _lift(producer, command, consumers, rows, journal, f"cancels command {command_id}",
                 f"command {command_id}")


def remove_block(opts: Mapping[str, Any], inputs: Inputs, rest_client: RestClient | None,
                 log: Logger) -> dict[str, Any]:
    """openc2_remove_block: lift what a row's command put in place.

    ``delete <profile>:rule_number`` when the row holds the rule number the
    consumer answered with (the SLPF/PF way); else ``cancel`` the command
    when the consumer advertises ``cancel command``; else nothing is sent and
    the note says why. Rows of the command become 'removed' when it worked."""
    journal: Journal | None = None
    try:
        incident_id = i.integer("incident_id", inputs.get("incident_id"))
        journal = _journal(rest_client, incident_id, True, log)
        if journal is None:
            raise i.InputError("incident_id", "required: the block is found in the incident's openc2_commands rows")
        settings, producer = _open(opts, journal)
        command_id = i.text(inputs.get("openc2_command_id"))
        if not command_id:
            raise i.InputError("openc2_command_id", "required: the command_id of the row whose block to remove")
        wanted = i.name_list(inputs.get("openc2_consumers"))
        rows = [(rid, c) for rid, c in _read(journal, "reading openc2_commands",
                                             lambda: journal.client.rows(wb.COMMANDS_TABLE))
                if str(c.get("command_id")) == command_id and (not wanted or str(c.get("consumer")) in wanted)]
        if not rows:
            raise i.InputError("openc2_command_id", f"no openc2_commands row of incident {incident_id} holds "
                                                    f"command_id {command_id!r}"
                                                    f"{f' for consumer {wanted[0]}' if wanted else ''}")
        consumer = str(rows[0][1].get("consumer"))
        if consumer not in settings.consumers:
            raise i.InputError("openc2_consumers", f"the row's consumer {consumer!r} is not in app.config")
        rows = [(rid, c) for rid, c in rows if str(c.get("consumer")) == consumer]
        states = {wb.effective_state(c) for _, c in rows}
        if states <= {"removed"}:
            raise PlanError(f"Command {command_id} on {consumer} is already removed; nothing was sent")
        command = _removal(producer, rows, consumer, command_id, incident_id)
    except _EXPECTED as err:
        return _failed("remove block", err, inputs, journal, log)
    how = "deletes rule" if command["action"] == "delete" else "cancels command"
    return _lift(producer, command, [consumer], rows, journal, f"removes the block of command {command_id} "
                 f"({how})", f"command {command_id}")


def _build(action: str, target: dict[str, Any], incident_id: int | None, profile: str | None = None) -> dict[str, Any]:
    try:
        model = build_command(action, target, profile=profile, command_id=new_command_id(incident_id))
    except OpenC2ValidationError as err:
        raise PlanError(f"the {action} command is not valid OpenC2", issue_lines(err)) from None
    return to_dict(model)


def _removal(producer: Producer, rows: list[tuple[int, dict[str, Any]]], consumer: str, command_id: str,
             incident_id: int | None) -> dict[str, Any]:
    """The command that lifts the block: delete rule_number, else cancel, else PlanError saying why."""
    for _, cells in rows:
        number = cells.get("rule_number")
        if isinstance(number, (int, float)) and not isinstance(number, bool) and number >= 0:
            nsid = str(cells.get("profile")) if cells.get("profile") in ("slpf", "pf") else "slpf"
            return _build("delete", {nsid: {"rule_number": int(number)}}, incident_id, nsid)
    features = producer.capabilities.get(consumer)
    if features is None:           # never asked: ask now, once
        producer.query_features([consumer], ("pairs",))
        features = producer.capabilities.get(consumer)
    if features is not None and features.supports("cancel", "command"):
        return _build("cancel", {"command": command_id}, incident_id)
    pairs = "; ".join(f"{a}: {', '.join(t)}" for a, t in (features.pairs.items() if features else ())) or \
        "none known (query features did not answer)"
    raise PlanError(f"Cannot remove the block of command {command_id} on {consumer}: its row holds no rule "
                    f"number (the consumer's answer had no slpf/pf rule_number), and {consumer} does not "
                    f"advertise 'cancel command' (its pairs: {pairs}). Nothing was sent; remove it on the "
                    "device itself")


def _lift(producer: Producer, command: dict[str, Any], consumers: Selection,
          rows: list[tuple[int, dict[str, Any]]],
          journal: Journal | None, comment: str, source: str) -> dict[str, Any]:
    """Send a cancel/delete; rows of the lifted command become 'removed' where it worked."""
    outcome = producer.send(command, consumers, hooks=journal)
    if journal is not None:
        done = {a.consumer for a in outcome.answers if wb.answer_succeeded(a)}
        journal.set_state([(rid, c) for rid, c in rows if str(c.get("consumer")) in done
                           and wb.effective_state(c) != "removed"], "removed")
    _record([outcome], journal, comment)
    return _payload([outcome], [source], [None], journal)
