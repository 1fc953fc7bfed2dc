"""The offline SOAR refuses what a real server refuses (issue 11.3): tables,
columns, field ids, types and select values from the app's export.res;
reads keyed by field id unless names are asked for; 404 for what is not
there; 400 for a cell or note body of the wrong shape. Through resilient's
real REST client, as the components use it."""
from __future__ import annotations

import json
import shutil

import pytest
import resilient

from fn_openc2.lib.offline_soar import schema
from fn_openc2.lib.offline_soar.schema import Column, SchemaError, Table, check_value, export_tables

from .conftest import INCIDENT_ID
from .test_mock_rest import client_for, export_column

ROWS = f"/incidents/{INCIDENT_ID}/table_data/openc2_commands"
NAMES = "?handle_format=names"


@pytest.fixture
def client(probe_store):
    return client_for()


def post_row(client, cells: dict, table: str = "openc2_commands", names: bool = True):
    uri = f"/incidents/{INCIDENT_ID}/table_data/{table}/row_data" + (NAMES if names else "")
    return client.post(uri, {"cells": {k: {"value": v} for k, v in cells.items()}})


def refused(call, status: int, match: str) -> None:
    with pytest.raises(resilient.SimpleHTTPException) as info:
        call()
    assert info.value.response.status_code == status
    body = info.value.response.json()
    assert body["success"] is False and match in body["message"], body


def test_reads_are_keyed_by_field_id_unless_names_are_asked(client):
    row = post_row(client, {"consumer": "fw1", "status": 200, "signature": "verified"})
    status_id = export_column("openc2_commands", "status")["id"]
    signature = export_column("openc2_commands", "signature")
    verified_id = next(v["value"] for v in signature["values"] if v["label"] == "verified")

    by_id = client.get(ROWS)["rows"][0]["cells"]
    assert "consumer" not in by_id and by_id[str(status_id)]["value"] == 200
    assert by_id[str(signature["id"])]["value"] == verified_id           # select value as its id
    by_name = client.get(ROWS + NAMES)["rows"][0]["cells"]
    assert by_name["consumer"]["value"] == "fw1" and by_name["signature"]["value"] == "verified"
    assert client.get(f"{ROWS}/row_data/{row['id']}{NAMES}")["cells"]["status"]["value"] == 200
    assert str(status_id) in client.get(f"{ROWS}/row_data/{row['id']}")["cells"]


def test_input_takes_names_or_field_ids(client, probe_store):
    status_id = export_column("openc2_commands", "status")["id"]
    post_row(client, {str(status_id): 404, "consumer": "fw1"})
    assert probe_store.rows(INCIDENT_ID, "openc2_commands") == [{"status": 404, "consumer": "fw1"}]


def test_unknown_table_is_404_and_unknown_column_400(client, probe_store):
    refused(lambda: client.get(f"/incidents/{INCIDENT_ID}/table_data/no_such_table{NAMES}"), 404, "not found")
    refused(lambda: post_row(client, {"consumer": "x"}, table="no_such_table"), 404, "not found")
    refused(lambda: client.delete(f"/incidents/{INCIDENT_ID}/table_data/no_such_table/row_data"), 404, "not found")
    refused(lambda: post_row(client, {"consumer": "fw1", "colour": "red"}), 400, "no column 'colour'")
    refused(lambda: post_row(client, {"999999": "x"}), 400, "no column")
    assert probe_store.rows(INCIDENT_ID, "openc2_commands") == []      # a refused write changes nothing


@pytest.mark.parametrize("column, value, match", [
    ("status", "200", "is not a number"),
    ("status", True, "is not a number"),
    ("time", "2026-01-01T00:00:00Z", "epoch milliseconds"),
    ("time", 1.5e12, "epoch milliseconds"),
    ("signature", "trusted", "is not one of"),
    ("signature", 1, "is not one of"),
    ("consumer", 7, "is not a string"),
    ("results", ["x"], "is not a string"),
])
def test_values_are_checked_against_the_column_type(client, probe_store, column, value, match):
    refused(lambda: post_row(client, {column: value}), 400, f"column {column}")
    refused(lambda: post_row(client, {column: value}), 400, match)
    assert probe_store.rows(INCIDENT_ID, "openc2_commands") == []


def test_update_is_checked_too_and_a_missing_row_is_404(client, probe_store):
    row = post_row(client, {"consumer": "fw1", "status": 200, "time": 1_700_000_000_000})
    refused(lambda: client.put(f"{ROWS}/row_data/{row['id']}{NAMES}", {"cells": {"status": {"value": "ok"}}}),
            400, "is not a number")
    refused(lambda: client.put(f"{ROWS}/row_data/{row['id']}{NAMES}", {"cells": {"status": 201}}),
            400, "a cell is")
    refused(lambda: client.put(f"{ROWS}/row_data/{row['id']}{NAMES}", {"status": {"value": 201}}), 400, "cells")
    refused(lambda: client.put(f"{ROWS}/row_data/424242{NAMES}", {"cells": {"status": {"value": 201}}}),
            404, "no row")
    assert probe_store.rows(INCIDENT_ID, "openc2_commands") == [
        {"consumer": "fw1", "status": 200, "time": 1_700_000_000_000}]


def test_missing_incident_and_artifact_are_404(client):
    refused(lambda: client.get(f"/incidents/4040/table_data/openc2_commands{NAMES}"), 404, "no incident")
    refused(lambda: client.post("/incidents/4040/comments", {"text": {"format": "html", "content": "x"}}),
            404, "no incident")
    refused(lambda: client.post(f"/incidents/4040/table_data/openc2_commands/row_data{NAMES}",
                                {"cells": {"status": {"value": 1}}}), 404, "no incident")
    refused(lambda: client.get(f"/incidents/{INCIDENT_ID}/artifacts/404"), 404, "no artifact")
    refused(lambda: client.get(f"/incidents/4040/artifacts{NAMES}"), 404, "no incident")


@pytest.mark.parametrize("body", [
    {"text": {"format": "markdown", "content": "x"}},
    {"text": {"format": "html", "content": 5}},
    {"text": {"format": "html", "content": "x", "colour": "red"}},
    {"text": 5},
    {"content": "x"},
    ["x"],
])
def test_note_body_of_the_wrong_shape_is_400(client, probe_store, body):
    refused(lambda: client.post(f"/incidents/{INCIDENT_ID}/comments", body), 400, "a note body is")
    assert probe_store.notes(INCIDENT_ID) == []


def test_text_length_follows_the_column_definition():
    table = Table("t", 1, "t", {"name": Column("name", 10, "text", max_length=5)})
    assert check_value(table, table.columns["name"], "12345") == "12345"
    with pytest.raises(SchemaError, match="6 characters, at most 5"):
        check_value(table, table.columns["name"], "123456")


def test_tables_come_from_the_export_at_run_time(tmp_path, monkeypatch, client, probe_store):
    """Columns others add to export.res are known without touching the stand-in."""
    copy = tmp_path / "export.res"
    shutil.copy(schema.EXPORT_PATH, copy)
    monkeypatch.setattr(schema, "EXPORT_PATH", copy)
    refused(lambda: post_row(client, {"ticket": "active"}), 400, "no column 'ticket'")

    doc = json.loads(copy.read_text(encoding="utf-8"))
    table = next(t for t in doc["types"] if t["type_name"] == "openc2_commands")
    table["fields"]["ticket"] = dict(table["fields"]["consumer"], name="ticket", id=777001,
                                    export_key="openc2_commands/ticket", input_type="select",
                                    values=[{"label": "active", "value": 9001, "enabled": True}])
    copy.write_text(json.dumps(doc), encoding="utf-8")
    assert export_tables()["openc2_commands"].columns["ticket"].id == 777001
    post_row(client, {"ticket": "active"})
    assert probe_store.rows(INCIDENT_ID, "openc2_commands") == [{"ticket": "active"}]
    refused(lambda: post_row(client, {"ticket": "gone"}), 400, "is not one of ['active']")
