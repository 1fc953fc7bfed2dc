"""Write-back: note HTML (escaped, header-marked), row cells, repeat detection
and write failures, through resilient's real REST client against the offline
SOAR (no circuits)."""
from __future__ import annotations

import logging

import pytest

from fn_openc2.lib.offline_soar.mock import OfflineSoar
from fn_openc2.lib.producer import CommandOutcome, ConsumerAnswer
from fn_openc2.lib.soar import writeback as wb
from fn_openc2.lib.soar.journal import Journal
from fn_openc2.lib.soar.soar_client import IncidentClient

INCIDENT = 3301
LOG = logging.getLogger("test-writeback")
COMMAND = {"action": "deny", "target": {"ipv4_net": "203.0.113.7"}, "args": {"duration": 60000},
           "profile": "slpf", "command_id": "soar-3301-abc"}


@pytest.fixture
def store():
    store = OfflineSoar.reset()
    store.seed({"id": INCIDENT, "name": "writeback"})
    return store



def hostile_answer() -> ConsumerAnswer:
    return ConsumerAnswer(consumer="fw<1>", responder="fw1@example.com", request_id="r-1", status=400,
                          status_text="<script>alert(1)</script>", results={"x": "<img src=x>"},
                          signature="invalid", signature_reason="bad \"sig\"", error=None)


def test_note_escapes_everything_from_outside():
    outcome = CommandOutcome(command=dict(COMMAND, target={"domain_name": "<b>evil</b>.example"}),
                             request_id="r-1", answers=[hostile_answer()])
    note = wb.command_note(outcome, ["fw<1>"], comment="<i>why</i>")
    assert "<script>" not in note and "<img" not in note and "<i>why" not in note and "<b>evil" not in note
    assert note.startswith("<p><b>OpenC2 deny domain_name &lt;b&gt;evil&lt;/b&gt;.example — request r-1</b></p>")
    assert "status 400 &lt;script&gt;alert(1)&lt;/script&gt;" in note
    assert "signature invalid (bad &quot;sig&quot;)" in note
    assert "<b>fw&lt;1&gt; (responder fw1@example.com)</b>: FAILED" in note


def test_refusal_note_names_the_reason():
    outcome = CommandOutcome(command=COMMAND, request_id="r-2", refused="203.0.113.7 is in <protected>")
    note = wb.command_note(outcome, [])
    assert "<b>Refused, nothing was sent:</b> 203.0.113.7 is in &lt;protected&gt;" in note
    assert "<ul>" not in note


def test_row_cells_follow_the_export_columns():
    answer = ConsumerAnswer(consumer="fw1", responder="fw1@example.com", request_id="r-3", status=200,
                            results={"slpf": {"rule_number": 4}}, signature="verified")
    row = wb.command_row(CommandOutcome(COMMAND, "r-3", answers=[answer]), answer,
                         time_ms=1_700_000_000_000, expires_ms=1_700_000_060_000)
    assert tuple(row) == wb.COMMAND_COLUMNS
    assert row == {"time": 1_700_000_000_000, "state": "active", "consumer": "fw1", "responder": "fw1@example.com",
                   "action": "deny", "target": '{"ipv4_net": "203.0.113.7"}', "profile": "slpf",
                   "args": '{"duration": 60000}', "command_id": "soar-3301-abc", "request_id": "r-3",
                   "status": 200, "status_text": None, "results": "{&quot;slpf&quot;: {&quot;rule_number&quot;: 4}}",
                   "rule_number": 4, "signature": "verified", "expires": 1_700_000_060_000, "error": None,
                   "warnings": None}


def _journal(client, incident=INCIDENT, **kw) -> Journal:
    return Journal(IncidentClient(client, incident, timeout=5), LOG, sleep=lambda s: None, **kw)


def test_journal_rows_sending_then_answered_and_notes_once(store, client):
    answer = ConsumerAnswer(consumer="fw1", responder="fw1", request_id="r-4", status=200)
    outcome = CommandOutcome(COMMAND, "r-4", answers=[answer])
    journal = _journal(client)
    assert journal.before_send(COMMAND, "fw1", "r-4") is True
    (row,) = store.rows(INCIDENT, "openc2_commands")
    assert row["state"] == "sending" and row["command_id"] == "soar-3301-abc" and row["request_id"] == "r-4"
    journal.after_answers(COMMAND, "fw1", "r-4", [answer])
    (row,) = store.rows(INCIDENT, "openc2_commands")
    assert row["state"] == "active" and row["status"] == 200 and row["responder"] == "fw1"
    for _ in range(2):                      # a replayed note write lands once
        journal = _journal(client)
        journal.note(wb.command_note(outcome, ["fw1"]), wb.note_header(COMMAND, "r-4"))
    assert len(store.notes(INCIDENT)) == 1
    assert journal.report.skipped_repeats == 1 and journal.report.errors == []


def test_consumer_rows_replace_duplicates(store, client):
    store.add_row(INCIDENT, "openc2_consumers", {"consumer": "fw1", "reachable": "no"})
    store.add_row(INCIDENT, "openc2_consumers", {"consumer": "fw1", "reachable": "no"})
    journal = _journal(client)
    answer = ConsumerAnswer(consumer="fw1", responder="fw1", request_id="r-5", status=200,
                            results={"versions": ["2.0"], "rate_limit": 30, "pairs": {"deny": ["ipv4_net", "<b>"]}})
    journal.consumer_rows([wb.consumer_row(answer, queried_at_ms=0)])
    (row,) = store.rows(INCIDENT, "openc2_consumers")
    assert row["reachable"] == "yes" and row["versions"] == "2.0" and row["rate_limit"] == "30/min"
    assert row["queried_at"] == 0 and row["pairs"] == "deny: ipv4_net, &lt;b&gt;"


def test_write_failure_is_reported_not_raised(store, client):
    journal = _journal(client, 999_999)      # no such incident: 404, not retried
    journal.note("<p>x</p>", "x")
    assert journal.report.notes == [] and journal.report.retries == 0
    assert journal.report.errors[-1].startswith("writing a note (incident 999999, POST /incidents/999999/comments) "
                                                "failed")
    assert journal.report.unwritten[0].startswith("note 'x': writing a note")


def test_mqtt_responders_sharing_a_request_id_each_get_a_row(store, client):
    answers = [ConsumerAnswer(consumer="edge", responder=f"agent-{n}", request_id="r-6", status=200,
                              transport="mqtt") for n in (1, 2, 3)]
    journal = _journal(client)
    journal.before_send(COMMAND, "edge", "r-6")
    journal.after_answers(COMMAND, "edge", "r-6", answers)
    assert [r["responder"] for r in store.rows(INCIDENT, "openc2_commands")] == ["agent-1", "agent-2", "agent-3"]
    assert journal.report.rows == 3 and journal.report.rows_updated == 1    # the sending row took the first
    assert wb.consumer_label(answers[1]) == "edge (agent-2)"


def _batch() -> list[CommandOutcome]:
    ok = ConsumerAnswer(consumer="fw1", responder="fw1@example.com", request_id="b-1", status=200,
                        signature="verified", signature_reason="ES256")
    bad = ConsumerAnswer(consumer="fw<2>", responder=None, request_id="b-1", error="connect: <refused>")
    return [CommandOutcome(COMMAND, "b-1", answers=[ok, bad]),
            CommandOutcome(dict(COMMAND, target={"domain_name": "<i>x</i>.example"}), "b-2",
                           refused="in <protected>"),
            CommandOutcome(dict(COMMAND, target={"ipv4_net": "203.0.113.8"}), "b-3",
                           answers=[ConsumerAnswer(consumer="fw1", responder="fw1", request_id="b-3", status=200)])]


def test_batch_note_counts_and_escapes():
    outcomes = _batch()
    note = wb.batch_note(outcomes, ["IP Address 203.0.113.7 (artifact 5)", "DNS Name <i>x</i>.example", ""],
                         comment="<b>why</b>", duplicates=["IP Address <203.0.113.7>"])
    assert note.startswith(f"<p><b>OpenC2 deny — batch of 3 targets — 1 sent, 1 refused, 1 failed — "
                           f"{wb.batch_key(outcomes)}</b></p>")
    assert "<i>x" not in note and "<b>why" not in note and "<refused>" not in note and "<protected>" not in note
    body = note.split("<tbody>")[1]
    assert body.count("<tr>") == 4                 # (target, consumer) lines: 2 + refused 1 + 1
    assert ("<tr><td>ipv4_net 203.0.113.7 (artifact 5)</td><td>fw1 (fw1@example.com)</td><td>200</td>"
            "<td>OK</td><td>verified (ES256)</td><td>b-1</td><td></td></tr>") in body
    assert ("<tr><td>ipv4_net 203.0.113.7 (artifact 5)</td><td>fw&lt;2&gt;</td><td>failed</td><td></td>"
            "<td>unsigned</td><td>b-1</td><td>connect: &lt;refused&gt;</td></tr>") in body
    assert ("<tr><td>domain_name &lt;i&gt;x&lt;/i&gt;.example</td><td>—</td><td>refused</td><td></td><td></td>"
            "<td>b-2</td><td>in &lt;protected&gt;</td></tr>") in body
    assert "<li>IP Address &lt;203.0.113.7&gt;</li>" in note


def test_batch_key_depends_on_request_ids_only():
    outcomes = _batch()
    assert wb.batch_key(outcomes) == wb.batch_key(list(reversed(outcomes)))
    assert wb.batch_key(outcomes) != wb.batch_key(outcomes[:2])


def test_repeated_batch_write_is_skipped(store, client):
    from fn_openc2.lib.soar.runner import _record
    outcomes = _batch()
    for _ in range(2):                      # the same batch (same request ids) recorded twice
        journal = _journal(client)
        _record(outcomes, journal, "", sources=["", "", ""])
    (note,) = store.notes(INCIDENT)
    assert wb.batch_key(outcomes) in note
    assert journal.report.skipped_repeats == 1 and journal.report.errors == []


def test_warnings_reach_the_note_and_the_row_escaped() -> None:
    """Issue 10.3: what was read tolerantly is recorded with the answer (payload, note, row)."""
    from fn_openc2.lib.producer import CommandOutcome, ConsumerAnswer

    answer = ConsumerAnswer(consumer="fw1", responder="fw1", request_id="r1", status=200,
                            warnings=["body.openc2.response.results.x: <b>odd</b>", "second"])
    outcome = CommandOutcome(command={"action": "deny", "target": {"ipv4_net": "192.0.2.1"}}, request_id="r1",
                             answers=[answer])
    note = wb.command_note(outcome, ["fw1"])
    assert "Warnings: body.openc2.response.results.x: &lt;b&gt;odd&lt;/b&gt;; second" in note
    row = wb.command_row(outcome, answer, time_ms=0, expires_ms=None)
    assert row["warnings"] == "body.openc2.response.results.x: <b>odd</b>; second"   # a plain-text column
