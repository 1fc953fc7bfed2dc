"""OfflineSoar's endpoints seen through resilient's own REST client (the
client the components get from ``self.rest_client()``), no circuits."""
from __future__ import annotations

import base64
import json

import pytest
import resilient
from resilient_lib import SOARCommon

from fn_openc2.lib.offline_soar.mock import MOCK_PATH, OfflineSoar
from fn_openc2.lib.offline_soar.schema import EXPORT_PATH
from fn_openc2.lib.offline_soar.store import DEFAULT_ORG, SEED_ENV, get_store

from .conftest import INCIDENT_ID


def export_table(name: str) -> dict:
    doc = json.loads(EXPORT_PATH.read_text(encoding="utf-8"))
    return next(t for t in doc["types"] if t["type_name"] == name)


def export_column(table: str, column: str) -> dict:
    return export_table(table)["fields"][column]


def client_for(org=DEFAULT_ORG):
    opts = {"host": "offline-soar.invalid", "port": 443, "org": org, "email": "offline@example.com",
            "password": "offline", "cafile": "false", "resilient_mock": MOCK_PATH}
    return resilient.get_client(opts, request_max_retries=1, request_retry_delay=0)


@pytest.fixture
def client(probe_store):
    return client_for()


def test_incident_and_artifacts(client):
    incident = client.get(f"/incidents/{INCIDENT_ID}?handle_format=names")
    assert incident["id"] == INCIDENT_ID
    assert incident["name"] == "Phishing from 203.0.113.9"
    arts = client.get(f"/incidents/{INCIDENT_ID}/artifacts?handle_format=names")
    assert [(a["id"], a["type"], a["value"]) for a in arts] == [
        (11, "IP Address", "203.0.113.9"), (12, "Malware Sample", "dropper.txt")]
    by_id = client.get(f"/incidents/{INCIDENT_ID}/artifacts")      # a server's default: types by id
    assert all(isinstance(a["type"], int) for a in by_id) and by_id[0]["type"] != by_id[1]["type"]
    assert arts[0]["attachment"] is None
    assert arts[1]["attachment"]["name"] == "dropper.txt"
    assert arts[1]["attachment"]["size"] == len(b"evil bytes\n")
    paged = client.post(f"/incidents/{INCIDENT_ID}/artifacts/query_paged", {})
    assert paged["recordsTotal"] == 2 and [a["id"] for a in paged["data"]] == [11, 12]
    assert client.get_content(f"/incidents/{INCIDENT_ID}/artifacts/12/contents") == b"evil bytes\n"


def test_attachments(client):
    listed = client.get(f"/incidents/{INCIDENT_ID}/attachments")
    assert [(a["id"], a["name"], a["size"]) for a in listed] == [(21, "iocs.txt", 13)]
    assert client.get_content(f"/incidents/{INCIDENT_ID}/attachments/21/contents") == b"198.51.100.7\n"
    name, b64 = SOARCommon(client).get_case_attachment(INCIDENT_ID, attachment_id=21)
    assert name == "iocs.txt" and base64.b64decode(b64) == b"198.51.100.7\n"


def test_unknown_objects_are_404(client, probe_store):
    for uri in ("/incidents/9999", f"/incidents/{INCIDENT_ID}/artifacts/99",
                f"/incidents/{INCIDENT_ID}/attachments/99/contents",
                f"/incidents/{INCIDENT_ID}/table_data/probe_table/row_data/77"):
        with pytest.raises(resilient.SimpleHTTPException, match="Not Found"):
            client.get(uri)
    with pytest.raises(resilient.SimpleHTTPException, match="no endpoint"):
        client.get("/playbooks")
    assert probe_store.unhandled_requests()[0].startswith("GET https://offline-soar.invalid:443/rest/orgs/201/playbooks")


def test_notes_round_trip(client, probe_store):
    soar = SOARCommon(client)
    posted = soar.create_case_comment(INCIDENT_ID, "<p>one</p>", entity_comment_id="req-1",
                                      entity_comment_header="OpenC2")
    assert posted["text"] == "<b>OpenC2 (req-1):</b><br><p>one</p>"
    assert probe_store.notes(INCIDENT_ID) == ["<b>OpenC2 (req-1):</b><br><p>one</p>"]
    # filter_soar_comments reads the notes back through GET .../comments
    left = soar.filter_soar_comments(INCIDENT_ID, ["<p>one</p>", "<p>two</p>"], soar_header="OpenC2")
    assert left == ["<p>one</p>", "<p>two</p>"]
    assert [c["text"] for c in client.get(f"/incidents/{INCIDENT_ID}/comments")] == probe_store.notes(INCIDENT_ID)


def test_rows_post_get_put_delete(client, probe_store):
    soar = SOARCommon(client)
    r1 = soar.create_datatable_row(INCIDENT_ID, "openc2_commands", {"consumer": "fw1", "status": 200})
    r2 = soar.create_datatable_row(INCIDENT_ID, "openc2_commands", {"consumer": "fw2", "status": 500})
    consumer_id = str(export_column("openc2_commands", "consumer")["id"])
    assert r1["cells"][consumer_id] == {"id": int(consumer_id), "row_id": r1["id"], "value": "fw1"}

    table = client.get(f"/incidents/{INCIDENT_ID}/table_data/openc2_commands?handle_format=names")
    assert [row["id"] for row in table["rows"]] == [r1["id"], r2["id"]]
    assert table["rows"][1]["cells"]["status"]["value"] == 500
    assert "value" not in table["rows"][1]["cells"]["status_text"]       # every column, empty ones without value

    client.put(f"/incidents/{INCIDENT_ID}/table_data/openc2_commands/row_data/{r2['id']}?handle_format=names",
               {"cells": {"status": {"value": 102}, "status_text": {"value": "Processing"}}})
    assert probe_store.rows(INCIDENT_ID, "openc2_commands") == [
        {"consumer": "fw1", "status": 200},
        {"consumer": "fw2", "status": 102, "status_text": "Processing"}]

    types = client.get("/types/openc2_commands?handle_format=names")
    assert set(types["fields"]) == set(export_table("openc2_commands")["fields"])

    assert client.delete(f"/incidents/{INCIDENT_ID}/table_data/openc2_commands/row_data/{r1['id']}") is None
    assert probe_store.rows(INCIDENT_ID, "openc2_commands") == [
        {"consumer": "fw2", "status": 102, "status_text": "Processing"}]
    client.delete(f"/incidents/{INCIDENT_ID}/table_data/openc2_commands/row_data")
    assert probe_store.rows(INCIDENT_ID, "openc2_commands") == []


def test_subclass_endpoint_wins_and_base_is_untouched():
    from resilient.resilient_rest_mock import resilient_endpoint

    class Custom(OfflineSoar):
        @resilient_endpoint("GET", r"/incidents/(?P<inc>\d+)")
        def incident_get(self, request, inc):
            return self._json(request, {"id": int(inc), "custom": True})

    store = OfflineSoar.reset(org="Custom Org")
    store.seed({"id": 5})
    custom = Custom(org_name="Custom Org")
    plain = OfflineSoar(org_name="Custom Org")
    assert [r[2].__qualname__ for r in custom._routes][0].endswith("Custom.incident_get")
    assert all("Custom." not in r[2].__qualname__ for r in plain._routes)


def test_seed_file_and_env(tmp_path, monkeypatch):
    doc = {"tables": {"seeded_table": ["consumer", "versions"]},
           "incidents": [{"incident": {"id": 3003, "name": "from file"},
                          "artifacts": [{"id": 1, "type": "URL", "value": "https://bad.example/x"},
                                        {"id": 2, "type": "Log File", "value": "fw.log",
                                         "content_base64": base64.b64encode(b"\x00\x01log").decode()}],
                          "attachments": [{"id": 9, "name": "rules.json", "content_text": "{}"}]}]}
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(doc))
    monkeypatch.setenv(SEED_ENV, str(path))
    store = get_store("Seeded Org")           # a new store loads the env file
    store.reset()                             # ...and reset forgets it, so it loads again
    store = get_store("Seeded Org")
    assert store.incident_ids() == [3003]
    client = client_for("Seeded Org")
    assert client.get("/incidents/3003")["name"] == "from file"
    assert client.get_content("/incidents/3003/artifacts/2/contents") == b"\x00\x01log"
    assert client.get_content("/incidents/3003/attachments/9/contents") == b"{}"
    assert list(client.get("/types/seeded_table?handle_format=names")["fields"]) == ["consumer", "versions"]
    store.seed_from_env()                     # once per store: no duplicate
    assert store.incident_ids() == [3003]

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"incidents": [{"artifacts": []}]}))
    with pytest.raises(ValueError, match=r"incidents\[0\] has no 'incident'"):
        store.load_seed_file(bad)
