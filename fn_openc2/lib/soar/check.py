"""The logic behind "OpenC2: Check consumer": grade one consumer, write the table as a note.

An admin proves a device's readiness inside the platform: the read-only
battery of ``fn_openc2.lib.onboard.grade`` runs against one configured
consumer and its table (verdict, key word, clause, check, what was seen)
becomes an incident note. Everything the consumer said reaches the note
only through ``html.escape`` (and was already made printable and bounded by
the grader): a consumer is hostile input. State-changing checks never run
from SOAR (they need an admin at the command line with --allow-changes).

Payload (under ``content``): the shared shape of the other functions
(``commands`` empty, ``summary``, ``error``, ``writeback``) plus ``grade``:
``GradeReport.to_dict()`` (consumer, passed, counts, summary, checks[]).
"""
from __future__ import annotations

from html import escape
from logging import Logger
from typing import Any
from collections.abc import Mapping

from fn_openc2.lib.onboard.grade import FAIL, PASS, GradeReport, grade
from fn_openc2.lib.producer.routing import WORDS
from fn_openc2.lib.producer.settings import known_consumers
from fn_openc2.lib.soar import inputs as i
from fn_openc2.lib.soar import runner as r
from fn_openc2.lib.soar.journal import Journal, disabled_report
from fn_openc2.lib.soar.soar_client import RestClient

FN_NAME = "openc2_check_consumer"
_MARK = {PASS: "pass", FAIL: "FAIL"}


def note_header(report: GradeReport) -> str:
    return f"OpenC2 check of consumer {report.consumer}: {'passed' if report.passed else 'failed'}"


def grade_note(report: GradeReport) -> str:
    """The grade table as note HTML; every cell escaped."""
    lines = [f"<p><b>{escape(note_header(report))}</b></p>",
             f"<p>{escape(report.where)}; read-only checks. {escape(report.summary())}</p>"]
    head = "".join(f"<th>{escape(c)}</th>" for c in ("#", "Verdict", "Level", "Clause", "Check", "Seen"))
    body = "".join("<tr>" + "".join(f"<td>{escape(str(cell))}</td>" for cell in
                                    (c.number, _MARK.get(c.verdict, c.verdict), c.level, c.clause, c.title, c.detail))
                   + "</tr>" for c in report.checks)
    lines.append(f"<table><tr>{head}</tr>{body}</table>")
    lines += [f"<p>Note: {escape(remark)}</p>" for remark in report.remarks]
    return "".join(lines)


def _summary(report: GradeReport) -> dict[str, Any]:
    failures = [f"{c.clause} ({c.level}) {c.title}: {c.detail}" for c in report.failed]
    counted = [c for c in report.checks if c.verdict != "n.a."]
    return {"commands": 0, "sent": 0, "refused": 0, "answers": len(counted),
            "answers_ok": sum(1 for c in counted if c.verdict == PASS), "success": report.passed,
            "failures": failures}


def check_consumer(opts: Mapping[str, Any], inputs: Mapping[str, Any], rest_client: RestClient | None,
                   log: Logger) -> dict[str, Any]:
    """openc2_check_consumer: grade the one consumer named in openc2_consumers; note the table."""
    writer: Journal | None = None
    try:
        incident_id = i.integer("incident_id", inputs.get("incident_id"))
        writer = r._journal(rest_client, incident_id, True, log)
        settings, _ = r._open(opts, writer)
        names = i.name_list(inputs.get("openc2_consumers"))
        if len(names) != 1 or names[0] in (*WORDS, r.ALL):
            raise i.InputError("openc2_consumers", "name exactly one consumer to check "
                                                   f"(known: {known_consumers(settings.consumers)})")
        r._consumers(settings, names)
    except r._EXPECTED as err:
        return r._failed("check consumer", err, inputs, writer, log)
    report = grade(settings, names[0])
    if writer is not None:
        writer.note(grade_note(report), note_header(report))
        writer.finish()
    log.info("fn_openc2 check consumer %s: %s", names[0], report.summary())
    return {"commands": [], "summary": _summary(report), "error": None,
            "writeback": writer.report.to_dict() if writer else disabled_report(),
            "grade": report.to_dict()}
