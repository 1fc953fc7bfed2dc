"""The app's REST calls against the strict offline SOAR (issue 11.1): data
tables and artifacts are read with ``handle_format=names``, and the stand-in
catches a client that forgets it (a real server would answer by field id)."""
from __future__ import annotations

import logging

import pytest

from fn_openc2.lib.offline_soar.faults import faults_for
from fn_openc2.lib.offline_soar.mock import OfflineSoar
from fn_openc2.lib.producer import ConsumerAnswer
from fn_openc2.lib.soar import soar_client
from fn_openc2.lib.soar import writeback as wb
from fn_openc2.lib.soar.journal import Journal
from fn_openc2.lib.soar.soar_client import IncidentClient

INCIDENT = 3401
LOG = logging.getLogger("test-rest-contract")
COMMAND = {"action": "deny", "target": {"ipv4_net": "203.0.113.7"}, "profile": "slpf", "command_id": "c-1"}


@pytest.fixture
def store():
    store = OfflineSoar.reset()
    store.seed({"id": INCIDENT, "name": "contract"},
               artifacts=[{"id": 1, "type": "IP Address", "value": "203.0.113.7"},
                          {"id": 2, "type": "DNS Name", "value": "bad.example"}])
    return store



def write_twice(client, store) -> tuple[int, int, int]:
    """A row write whose reply is lost after the server saved it, and a repeated query features:
    (command rows, consumer rows, writes the retry found had landed)."""
    faults_for().add("POST", r"/incidents/\d+/table_data/openc2_commands/row_data", kind="reset", when="after",
                     times=1)
    answer = ConsumerAnswer(consumer="fw1", responder="fw1", request_id="r-1", status=200, signature="verified")
    features = ConsumerAnswer(consumer="fw1", responder="fw1", request_id="r-2", status=200,
                              results={"versions": ["2.0"]})
    journal = Journal(IncidentClient(client, INCIDENT), LOG, sleep=lambda s: None)
    assert journal.before_send(COMMAND, "fw1", "r-1") is True     # its reply lost: the retry looks first
    journal.after_answers(COMMAND, "fw1", "r-1", [answer])
    for n in range(2):
        journal.consumer_rows([wb.consumer_row(features, queried_at_ms=1_700_000_000_000 + n)])
    assert journal.report.unwritten == []
    return (len(store.rows(INCIDENT, wb.COMMANDS_TABLE)), len(store.rows(INCIDENT, wb.CONSUMERS_TABLE)),
            journal.report.landed_after_error)


def test_rows_are_read_back_by_name_so_repeats_are_recognised(client, store):
    assert write_twice(client, store) == (1, 1, 1)


def test_rows_read_back_by_column_name(client, store):
    store.add_row(INCIDENT, wb.COMMANDS_TABLE, {"consumer": "fw1", "request_id": "r-9", "status": 200})
    ((_, cells),) = IncidentClient(client, INCIDENT).rows(wb.COMMANDS_TABLE)
    assert cells["consumer"] == "fw1" and cells["request_id"] == "r-9" and cells["status"] == 200


def test_artifact_types_are_read_as_names(client):
    types = [a["type"] for a in IncidentClient(client, INCIDENT).artifacts()]
    assert types == ["IP Address", "DNS Name"]


def test_dropping_handle_format_names_breaks_the_app(monkeypatch, client, store):
    """The proof the stand-in is strict enough: the old client (no handle_format=names)
    reads cells keyed by field id, so repeats go unnoticed and rows pile up, and
    artifact types come back as numbers."""
    monkeypatch.setattr(soar_client, "NAMES", "")
    commands, consumers, skipped = write_twice(client, store)
    assert (commands, consumers, skipped) == (2, 2, 0)       # duplicate rows: the bug of issue 11.1 (and 15.3)
    ((_, cells), *_) = IncidentClient(client, INCIDENT).rows(wb.COMMANDS_TABLE)
    assert "consumer" not in cells and all(key.isdigit() for key in cells)
    assert all(isinstance(a["type"], int) for a in IncidentClient(client, INCIDENT).artifacts())


def documented_calls() -> set[tuple[str, str]]:
    """(method, URI template) of the function calls table in doc/internals.md."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "doc" / "internals.md").read_text(encoding="utf-8")
    block = text.split("<!-- rest-calls:start -->")[1].split("<!-- rest-calls:end -->")[0]
    rows = [line.split("|") for line in block.splitlines() if line.startswith("| ") and "`" in line]
    return {(cells[1].strip(), cells[2].strip().strip("`")) for cells in rows}


def as_template(call: str) -> tuple[str, str]:
    """'GET /incidents/3401/table_data/openc2_commands/row_data/7?x' -> its documented form."""
    import re

    method, uri = call.split(" ", 1)
    uri = re.sub(r"^/incidents/\d+", "/incidents/{inc}", uri)
    uri = re.sub(r"/attachments/\d+", "/attachments/{id}", uri)
    uri = re.sub(r"/table_data/\w+", "/table_data/{table}", uri)
    uri = re.sub(r"/row_data/\d+", "/row_data/{row}", uri)
    return method, uri


def test_every_call_the_client_makes_is_documented_and_nothing_else(client, store):
    """doc/internals.md lists exactly the calls IncidentClient sends (method, URI, query)."""
    store.seed({"id": INCIDENT, "name": "contract"}, attachments={5: {"name": "a.txt", "content": b"x"}})
    soar = IncidentClient(client, INCIDENT)
    before = len(store.requests())
    soar.check()
    soar.artifacts()
    soar.attachment(5)
    soar.attachments()
    soar.add_attachment("answers.csv", b"consumer\n", "text/csv")
    soar.note_texts()
    soar.add_note("<p>x</p>")
    row = soar.add_row(wb.COMMANDS_TABLE, {"consumer": "fw1"})
    soar.rows(wb.COMMANDS_TABLE)
    soar.update_row(wb.COMMANDS_TABLE, row, {"consumer": "fw2"})
    soar.delete_row(wb.COMMANDS_TABLE, row)
    made = {as_template(call) for call in store.requests()[before:]}
    assert made == documented_calls()


def test_documented_permissions_are_exactly_the_requested_ones():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "doc" / "internals.md").read_text(encoding="utf-8")
    block = text.split("<!-- rest-calls:start -->")[1].split("<!-- rest-calls:end -->")[0]
    needed = {line.split("|")[4].strip() for line in block.splitlines() if line.startswith("| ") and "`" in line}
    granted = {line.strip() for line in (Path(__file__).resolve().parents[2] / "apikey_permissions.txt")
               .read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")}
    assert needed == {"read_all_incidents", "edit_all_incident_notes", "edit_all_incidents_fields"}
    startup = text.split("REST calls made at start-up:")[1].split("\n\n", 2)[1]
    at_startup = {line.split("|")[4].strip() for line in startup.splitlines() if line.startswith("| ") and "`" in line}
    assert at_startup, "the start-up calls table moved"
    # exact: every permission the app's own calls need, the SDK's base block, nothing more
    assert granted == needed | at_startup | {"read_data", "read_function"}
