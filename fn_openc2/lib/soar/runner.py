"""The logic behind the three SOAR functions, as plain Python.

Each entry point takes the app.config sections (``opts``), the function
inputs as a dict, a SOAR REST client and a logger, and returns the payload
playbooks read under ``content`` (shape: payload_samples/*/output_json_schema.json):

    {"commands": [{command, request_id, refused, ok, source, expires, answers: [...]}],
     "summary": {commands, sent, refused, answers, answers_ok, success, failures: [...]},
     "error": null | {kind, field | section/key, message, issues},
     "writeback": {enabled, notes, rows, rows_updated, skipped_repeats, errors}}
    (+ "consumers": [...] for query features, "duplicates": [...] for send command)

A send of several commands is one batch: ``Producer.send_many``, one summary
note for the batch, still one openc2_commands row per consumer answer.

Bad input or configuration never reaches a consumer: the payload carries the
error, and (write-back on, incident known) a note says what was wrong.
``summary.success`` is true only when every targeted consumer answered with
a 1xx/2xx status (or was sent a command that asked for no response).
"""
from __future__ import annotations

import time
from logging import Logger
from typing import Any
from collections.abc import Mapping

from fn_openc2.lib.language import OpenC2ValidationError, build_command
from fn_openc2.lib.producer import CommandOutcome, ConfigError, ConsumerAnswer, Registry
from fn_openc2.lib.producer.producer import Producer
from fn_openc2.lib.soar import inputs as i
from fn_openc2.lib.soar import writeback as wb
from fn_openc2.lib.soar.plan import PlanError, SendPlan, all_artifacts_wanted, new_command_id, plan_send
from fn_openc2.lib.soar.producers import producer_for
from fn_openc2.lib.soar.soar_client import IncidentClient, RestClient, SoarError

Inputs = Mapping[str, Any]
_EXPECTED = (i.InputError, PlanError, ConfigError, SoarError)


# ---------------------------------------------------------------- shared pieces

def _now_ms() -> int:
    return int(time.time() * 1000)


def _answer_dict(answer: ConsumerAnswer) -> dict[str, Any]:
    out = answer.to_dict()
    out.pop("message", None)             # the raw envelope stays out of the payload
    out["succeeded"] = wb.answer_succeeded(answer)
    return out


def _failure_lines(outcome: CommandOutcome) -> list[str]:
    if outcome.refused:
        return [f"{wb.target_text(outcome.command)}: refused: {outcome.refused}"]
    if not outcome.answers:
        return [f"{wb.target_text(outcome.command)}: no consumer answered"]
    lines = []
    for a in outcome.answers:
        if not wb.answer_succeeded(a):
            why = a.error or f"status {a.status} {a.status_text or ''}".strip()
            lines.append(f"{a.consumer}{f' ({a.responder})' if a.responder and a.responder != a.consumer else ''}: "
                         f"{why}")
    return lines


def _summary(outcomes: list[CommandOutcome], error: str | None = None) -> dict[str, Any]:
    answers = [a for o in outcomes for a in o.answers]
    failures = [line for o in outcomes for line in _failure_lines(o)]
    if error:
        failures.insert(0, error)
    return {"commands": len(outcomes), "sent": sum(1 for o in outcomes if not o.refused),
            "refused": sum(1 for o in outcomes if o.refused), "answers": len(answers),
            "answers_ok": sum(wb.answer_succeeded(a) for a in answers),
            "success": not failures and bool(outcomes), "failures": failures}


def _error_dict(err: Exception) -> dict[str, Any]:
    if isinstance(err, ConfigError):
        return {"kind": "config", "section": err.section, "key": err.key, "message": str(err), "issues": []}
    if isinstance(err, i.InputError):
        return {"kind": "input", "field": err.field, "message": str(err), "issues": []}
    if isinstance(err, PlanError):
        return {"kind": "input", "message": err.reason, "issues": err.lines}
    return {"kind": "soar", "message": str(err), "issues": []}


def _writer(rest_client: RestClient | None, incident_id: int | None, enabled: bool, log: Logger) -> wb.Writer | None:
    """Made before app.config is read, so that a config error still gets its note."""
    if not enabled or incident_id is None or rest_client is None:
        return None
    return wb.Writer(IncidentClient(rest_client, incident_id), log)


def _open(opts: Mapping[str, Any], writer: wb.Writer | None) -> tuple[Registry, Producer]:
    """Load the registry and its producer, apply its write_note/write_table switches to the writer,
    and, with write-back on, stop before anything is sent when the incident cannot be read
    (SoarError): a block nobody can find in the incident is worse than no block."""
    registry, producer = producer_for(opts)
    if writer is not None:
        writer.write_notes = registry.producer.write_note
        writer.write_rows = registry.producer.write_table
        writer.client.check()
    return registry, producer


def _failed(what: str, err: Exception, inputs: Inputs, writer: wb.Writer | None, log: Logger) -> dict[str, Any]:
    """The payload (and note) for input or configuration that stopped everything."""
    error = _error_dict(err)
    log.warning("fn_openc2 %s: nothing sent: %s", what, err)
    if writer is not None:
        reason = error["message"] if not error["issues"] else f"{error['message']}:"
        writer.note(wb.rejected_note(what, reason, error["issues"], dict(inputs)))
    return {"commands": [], "summary": _summary([], str(err)), "error": error,
            "writeback": writer.report.to_dict() if writer else wb.WriteReport(enabled=False).to_dict()}


def _consumers(registry: Registry, value: Any, field: str = "openc2_consumers") -> list[str] | str | None:
    """Names, 'default' (or empty: None) or 'auto'; unknown names fail before anything is built."""
    names = i.name_list(value)
    if not names or names == ["default"]:
        return None
    if names == ["auto"]:
        return "auto"
    unknown = [n for n in names if n not in registry.consumers]
    if unknown:
        known = ", ".join(sorted(registry.consumers)) or "none configured"
        raise i.InputError(field, f"unknown consumer {', '.join(repr(n) for n in unknown)} (known: {known}; "
                                  "or 'default', 'auto')")
    return names


def _record(outcomes: list[CommandOutcome], writer: wb.Writer | None, comment: str, time_ms: int,
            expires: list[int | None], rows: bool = True, sources: list[str] | None = None,
            duplicates: list[str] | None = None) -> None:
    """One note per command, or one summary note for a batch; one row per consumer answer either way."""
    if writer is None:
        return
    if len(outcomes) > 1:
        writer.note(wb.batch_note(outcomes, sources or [""] * len(outcomes), comment, duplicates or ()),
                    wb.batch_key(outcomes))
    for outcome, expires_ms in zip(outcomes, expires, strict=False):
        if len(outcomes) == 1:
            consumers = list(dict.fromkeys(a.consumer for a in outcome.answers))
            writer.note(wb.command_note(outcome, consumers, comment),
                        wb.note_header(outcome.command, outcome.request_id))
        if rows:
            writer.command_rows(wb.command_row(outcome, a, time_ms=time_ms, expires_ms=expires_ms)
                                for a in outcome.answers)


def _payload(outcomes: list[CommandOutcome], sources: list[str], expires: list[int | None],
             writer: wb.Writer | None, duplicates: list[str] | None = None) -> dict[str, Any]:
    commands = []
    for outcome, source, expires_ms in zip(outcomes, sources, expires, strict=False):
        entry = outcome.to_dict()
        entry["answers"] = [_answer_dict(a) for a in outcome.answers]
        entry["source"] = source
        entry["expires"] = i.iso_utc(expires_ms) or None
        commands.append(entry)
    result: dict[str, Any] = {"commands": commands, "summary": _summary(outcomes), "error": None,
              "writeback": writer.report.to_dict() if writer else wb.WriteReport(enabled=False).to_dict()}
    if duplicates is not None:
        result["duplicates"] = duplicates
    return result


# ---------------------------------------------------------------- functions

def send_command(opts: Mapping[str, Any], inputs: Inputs, rest_client: RestClient | None,
                 log: Logger) -> dict[str, Any]:
    """openc2_send_command: build one command per target, send them as one batch, record, return every answer.

    With ``openc2_all_artifacts`` the targets are every artifact of
    ``openc2_artifact_type`` in the incident (read through REST), de-duplicated.
    """
    writer: wb.Writer | None = None
    try:
        incident_id = i.integer("incident_id", inputs.get("incident_id"))
        writer = _writer(rest_client, incident_id, i.flag("openc2_write_back", inputs.get("openc2_write_back"),
                                                          True), log)
        registry, producer = _open(opts, writer)
        consumers = _consumers(registry, inputs.get("openc2_consumers"))
        attachment = None
        attachment_id = i.integer("openc2_attachment_id", inputs.get("openc2_attachment_id"))
        if attachment_id is not None:
            if incident_id is None or rest_client is None:
                raise i.InputError("openc2_attachment_id", "needs incident_id to fetch the attachment")
            attachment = IncidentClient(rest_client, incident_id).attachment(attachment_id)
        artifacts = None
        if all_artifacts_wanted(inputs):
            if incident_id is None or rest_client is None:
                raise i.InputError("openc2_all_artifacts", "needs incident_id to read the incident's artifacts")
            artifacts = IncidentClient(rest_client, incident_id).artifacts()
        plan: SendPlan = plan_send(inputs, incident_id, attachment, artifacts)
    except _EXPECTED as err:
        return _failed(i.text(inputs.get("openc2_action")) or "send command", err, inputs, writer, log)
    started = _now_ms()
    # send_many: bounded concurrency per consumer, pooled connections, each consumer's rate_limit
    outcomes = producer.send_many([p.command for p in plan.commands], consumers)
    expires = [p.expires_ms for p in plan.commands]
    sources = [p.source for p in plan.commands]
    _record(outcomes, writer, plan.comment, started, expires, sources=sources, duplicates=plan.duplicates)
    result = _payload(outcomes, sources, expires, writer, plan.duplicates)
    log.info("fn_openc2 send: %d command(s), %d duplicate(s) skipped, success=%s", len(outcomes),
             len(plan.duplicates), result["summary"]["success"])
    return result


def query_features(opts: Mapping[str, Any], inputs: Inputs, rest_client: RestClient | None,
                   log: Logger) -> dict[str, Any]:
    """openc2_query_features: ask one, several or all consumers; refresh openc2_consumers."""
    writer: wb.Writer | None = None
    try:
        incident_id = i.integer("incident_id", inputs.get("incident_id"))
        writer = _writer(rest_client, incident_id, True, log)
        registry, producer = _open(opts, writer)
        features = i.features("openc2_features", inputs.get("openc2_features"))
        names = i.name_list(inputs.get("openc2_consumers"))
        consumers = sorted(registry.consumers) if names in ([], ["all"]) else _consumers(registry, names)
    except _EXPECTED as err:
        return _failed("query features", err, inputs, writer, log)
    started = _now_ms()
    outcome = producer.query_features(consumers, features)
    # a query is no action taken: it stays out of openc2_commands (whose rows offer "cancel")
    _record([outcome], writer, "", started, [None], rows=False)
    if writer is not None:
        writer.consumer_rows(wb.consumer_row(a, queried_at_ms=started) for a in outcome.answers)
    result = _payload([outcome], ["query features"], [None], writer)
    result["consumers"] = [dict(wb.consumer_row(a, queried_at_ms=started), responder=a.responder, status=a.status,
                                error=a.error, results=a.results) for a in outcome.answers]
    return result


def cancel_command(opts: Mapping[str, Any], inputs: Inputs, rest_client: RestClient | None,
                   log: Logger) -> dict[str, Any]:
    """openc2_cancel_command: 'cancel' {"command": id} to the consumer(s) that ran it."""
    writer: wb.Writer | None = None
    try:
        incident_id = i.integer("incident_id", inputs.get("incident_id"))
        writer = _writer(rest_client, incident_id, True, log)
        registry, producer = _open(opts, writer)
        command_id = i.text(inputs.get("openc2_command_id"))
        if not command_id:
            raise i.InputError("openc2_command_id", "required: the command_id of the command to cancel")
        consumers = _consumers(registry, inputs.get("openc2_consumers"))
        if consumers is None and incident_id is not None and rest_client is not None:
            consumers = _consumers_that_ran(IncidentClient(rest_client, incident_id), registry, command_id)
        try:
            command = build_command("cancel", {"command": command_id}, command_id=new_command_id(incident_id))
        except OpenC2ValidationError as err:
            raise PlanError("the cancel command is not valid OpenC2",
                            [f"{x.path}: {x.message}" for x in err.issues]) from None
    except _EXPECTED as err:
        return _failed("cancel", err, inputs, writer, log)
    started = _now_ms()
    outcome = producer.send(command, consumers)
    _record([outcome], writer, f"cancels command {command_id}", started, [None])
    return _payload([outcome], [f"command {command_id}"], [None], writer)


def _consumers_that_ran(client: IncidentClient, registry: Registry, command_id: str) -> list[str] | None:
    """The consumer column of the openc2_commands rows for that command (None: use the defaults)."""
    names = [str(c.get("consumer")) for _, c in client.rows(wb.COMMANDS_TABLE)
             if str(c.get("command_id")) == command_id and c.get("consumer")]
    known = [n for n in dict.fromkeys(names) if n in registry.consumers]
    return known or None
