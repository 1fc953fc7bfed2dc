"""Issue 13.2: one command to a fleet stays a bounded write-back. Past
rows_per_command answers, a (command, consumer) gets one summary row, the note
lists only the responders that did not answer OK (capped), and every answer is
in CSV and JSON attachments. The offline SOAR counts the REST calls: the same
for 60 responders as for 10,000."""
from __future__ import annotations

import csv
import io
import json
import logging

import pytest

from fn_openc2.lib.offline_soar.faults import faults_for
from fn_openc2.lib.offline_soar.mock import OfflineSoar
from fn_openc2.lib.producer import CommandOutcome, ConsumerAnswer
from fn_openc2.lib.soar import writeback as wb
from fn_openc2.lib.soar.journal import Journal
from fn_openc2.lib.soar.runner import _record
from fn_openc2.lib.soar.soar_client import IncidentClient

INCIDENT = 3601
LOG = logging.getLogger("test-fleet-writeback")
COMMAND = {"action": "contain", "target": {"device": {"hostname": "fleet.example"}}, "profile": "er",
           "command_id": "soar-3601-fleet"}


@pytest.fixture
def store():
    store = OfflineSoar.reset()
    store.seed({"id": INCIDENT, "name": "fleet"})
    return store



def fleet(n: int) -> list[ConsumerAnswer]:
    """n responders: every 100th refuses, every 250th stays silent (outcome unknown), one is hostile."""
    answers = []
    for k in range(n):
        who = f"agent-{k}@example.com" if k != 7 else "=HYPERLINK(\"http://x\")<script>"
        if k % 250 == 249:
            answers.append(ConsumerAnswer(consumer="edge", responder=who, request_id="r-1", transport="mqtt",
                                          error="no answer within 10s", outcome_unknown=True))
        elif k % 100 == 99:
            answers.append(ConsumerAnswer(consumer="edge", responder=who, request_id="r-1", transport="mqtt",
                                          status=500, status_text="<b>disk full</b>"))
        else:
            answers.append(ConsumerAnswer(consumer="edge", responder=who, request_id="r-1", transport="mqtt",
                                          status=200))
    return answers


def write(client, answers: list[ConsumerAnswer]) -> Journal:
    journal = Journal(IncidentClient(client, INCIDENT), LOG, sleep=lambda s: None)
    assert journal.before_send(COMMAND, "edge", "r-1") is True
    journal.after_answers(COMMAND, "edge", "r-1", answers)
    _record([CommandOutcome(COMMAND, "r-1", answers=answers)], journal, "fleet test")
    return journal


@pytest.mark.parametrize("n", [60, 1000, 10_000])
def test_rest_calls_stay_constant(store, client, n):
    faults = faults_for()
    journal = write(client, fleet(n))
    calls = [(c.method, c.path) for c in faults.calls if c.path.startswith("/incidents/")]
    # the sending row, its update to the summary, two attachments, the notes check and the note
    assert sorted(calls) == sorted([
        ("POST", f"/incidents/{INCIDENT}/table_data/openc2_commands/row_data"),
        ("PUT", f"/incidents/{INCIDENT}/table_data/openc2_commands/row_data/{store.row_ids(INCIDENT, wb.COMMANDS_TABLE)[0]}"),
        ("POST", f"/incidents/{INCIDENT}/attachments"), ("POST", f"/incidents/{INCIDENT}/attachments"),
        ("GET", f"/incidents/{INCIDENT}/comments"), ("POST", f"/incidents/{INCIDENT}/comments")])
    assert journal.report.unwritten == []

    (row,) = store.rows(INCIDENT, wb.COMMANDS_TABLE)
    unknown, failed = n // 250, n // 100 - n // 500        # the 500th, 1000th... are silent, not refusing
    assert row["responder"] == f"{n} responders" and row["state"] == "active"
    expected = {"200": n - unknown - failed, "500": failed, "unknown": unknown}
    assert row["status_text"] == ", ".join(f"{k}: {v}" for k, v in sorted(expected.items()) if v)

    (note,) = store.notes(INCIDENT)
    listed = note.count("<li>")
    assert listed == min(failed + unknown, wb.NOTE_ANSWERS_MAX)      # only the ones not OK, capped
    assert "<b>disk full" not in note and "<script>" not in note
    assert len(note) < 60_000

    by_name = {a["name"]: a for a in store.attachments(INCIDENT)}
    csv_name, json_name = (wb.fleet_file_name(COMMAND, "edge", ext) for ext in ("csv", "json"))
    table = list(csv.DictReader(io.StringIO(store.attachment_content(INCIDENT, by_name[csv_name]["id"]).decode())))
    assert len(table) == n and by_name[csv_name]["content_type"] == "text/csv"
    assert table[7]["responder"].startswith("'=HYPERLINK")                 # no formula from a consumer
    document = json.loads(store.attachment_content(INCIDENT, by_name[json_name]["id"]))
    assert len(document["answers"]) == n and document["command"] == COMMAND


def test_up_to_the_limit_each_responder_has_its_row(store, client):
    write(client, fleet(50))
    rows = store.rows(INCIDENT, wb.COMMANDS_TABLE)
    assert len(rows) == 50 and {r["responder"] for r in rows} == {a.responder for a in fleet(50)}
    assert store.attachments(INCIDENT) == []


def test_lost_upload_reply_is_not_uploaded_twice(store, client):
    faults_for().add("POST", r"/incidents/\d+/attachments", kind="reset", when="after", times=1)
    journal = write(client, fleet(100))
    assert len(store.attachments(INCIDENT)) == 2 and journal.report.landed_after_error == 1


def test_answers_taken_one_by_one_are_spooled_not_held(store, client):
    """Issue 13.5: a fan-out's answers reach the journal one at a time (``on_answer``): it keeps
    at most rows_per_command of them and spools the rest to the attachment files as they come,
    so its memory does not grow with N; what lands in SOAR is what the list form writes."""
    import tracemalloc

    n = 10_000
    journal = Journal(IncidentClient(client, INCIDENT), LOG, sleep=lambda s: None)
    assert journal.before_send(COMMAND, "edge", "r-1") is True
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for answer in fleet(n // 10):                      # warm up: the spool files opened
            journal.on_answer(COMMAND, "edge", "r-1", answer)
        warm = tracemalloc.get_traced_memory()[0]
        for k in range(9):
            for answer in fleet(n // 10):
                journal.on_answer(COMMAND, "edge", "r-1", answer)
        grown = tracemalloc.get_traced_memory()[0] - warm
    finally:
        tracemalloc.stop()
    spool = journal._streams[("r-1", "edge")]
    assert len(spool.first) == journal.rows_per_command and spool.counts.total == n
    assert grown < 200_000, (before, warm, grown)        # 9,000 more answers: counters only, no answers
    journal.after_answers(COMMAND, "edge", "r-1", [])
    _record([CommandOutcome(COMMAND, "r-1", answers=fleet(n))], journal, "fleet test")
    (row,) = store.rows(INCIDENT, wb.COMMANDS_TABLE)
    assert row["responder"] == f"{n} responders"
    by_name = {a["name"]: a for a in store.attachments(INCIDENT)}
    csv_name, json_name = (wb.fleet_file_name(COMMAND, "edge", ext) for ext in ("csv", "json"))
    expected = dict((name, content) for name, content, _ in
                    wb.fleet_files(COMMAND, "edge", [a for _ in range(10) for a in fleet(n // 10)]))
    for name in (csv_name, json_name):
        assert store.attachment_content(INCIDENT, by_name[name]["id"]) == expected[name]
    assert journal.report.unwritten == [] and journal.fleets == []


def test_few_answers_taken_one_by_one_get_their_rows(store, client):
    journal = Journal(IncidentClient(client, INCIDENT), LOG, sleep=lambda s: None)
    assert journal.before_send(COMMAND, "edge", "r-1") is True
    answers = fleet(50)
    for answer in answers[:30]:
        journal.on_answer(COMMAND, "edge", "r-1", answer)
    journal.after_answers(COMMAND, "edge", "r-1", answers[30:])       # the rest handed over whole
    rows = store.rows(INCIDENT, wb.COMMANDS_TABLE)
    assert [r["responder"] for r in rows] == [a.responder for a in answers]
    assert store.attachments(INCIDENT) == []
