"""runner entry points as plain Python (no circuits): configuration errors and
write-back switches, with resilient's REST client against the offline SOAR."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from fn_openc2.lib.soar import runner
from tests.soar.conftest import fresh_store

INCIDENT = 3401
LOG = logging.getLogger("test-runner")
SAMPLES = Path(__file__).resolve().parents[2] / "payload_samples"


@pytest.fixture
def store():
    yield from fresh_store(INCIDENT, "runner")



def test_bad_config_key_is_noted_with_section_and_key(store, client):
    opts = {"fn_openc2": {"default_consumers": "fw1"},
            "fn_openc2:fw1": {"url": "https://fw1.example.com/.well-known/openc2", "colour": "blue"}}
    result = runner.send_command(opts, {"incident_id": INCIDENT, "openc2_action": "deny",
                                        "openc2_artifact_type": "IP Address", "openc2_artifact_value": "203.0.113.7"},
                                 client, LOG)
    assert result["error"]["kind"] == "config"
    assert (result["error"]["section"], result["error"]["key"]) == ("fn_openc2:fw1", "colour")
    assert result["summary"]["success"] is False
    assert result["summary"]["failures"][0].startswith("[fn_openc2:fw1] colour: unknown key")
    (note,) = store.notes(INCIDENT)
    assert "OpenC2 deny — input rejected" in note and "[fn_openc2:fw1] colour: unknown key" in note


def test_write_note_off_in_config_still_writes_rows(store, client, reference_consumer):
    opts = {"fn_openc2": {"write_note": "false"},
            "fn_openc2:fw1": {"url": reference_consumer.url, "verify": reference_consumer.ca,
                              "client_auth_cert": reference_consumer.client_cert,
                              "client_auth_key": reference_consumer.client_key}}
    result = runner.send_command(opts, {"incident_id": INCIDENT, "openc2_action": "allow",
                                        "openc2_target_json": '{"ipv4_net": "203.0.113.0/24"}',
                                        "openc2_consumers": "fw1", "openc2_profile": "slpf"}, client, LOG)
    assert result["summary"]["success"] is True, result["summary"]
    assert store.notes(INCIDENT) == []
    (row,) = store.rows(INCIDENT, "openc2_commands")
    assert row["action"] == "allow" and row["status"] == 200
    assert row["signature"] == "not_checked"        # signed by the consumer, no response_verify_key here


def test_auto_routes_by_what_query_features_learned(store, client, reference_consumer):
    opts = {"fn_openc2": {},
            "fn_openc2:fw1": {"url": reference_consumer.url, "verify": reference_consumer.ca,
                              "client_auth_cert": reference_consumer.client_cert,
                              "client_auth_key": reference_consumer.client_key}}
    inputs = {"incident_id": INCIDENT, "openc2_action": "deny", "openc2_artifact_type": "IP Address",
              "openc2_artifact_value": "203.0.113.7", "openc2_consumers": "auto"}
    before = runner.send_command(opts, inputs, client, LOG)
    assert "run query features first" in before["commands"][0]["refused"]
    assert runner.query_features(opts, {"incident_id": INCIDENT}, client, LOG)["summary"]["success"] is True
    after = runner.send_command(opts, inputs, client, LOG)
    assert after["summary"]["success"] is True
    assert [a["consumer"] for a in after["commands"][0]["answers"]] == ["fw1"]


@pytest.mark.parametrize("function", ["openc2_send_command", "openc2_query_features", "openc2_cancel_command"])
def test_payload_samples_document_the_content_keys(function):
    schema = json.loads((SAMPLES / function / "output_json_schema.json").read_text())
    example = json.loads((SAMPLES / function / "output_json_example.json").read_text())
    content = schema["properties"]["content"]
    assert {"commands", "summary", "error", "writeback"} <= set(content["required"])
    assert set(example["content"]) == set(content["properties"])
    assert example["success"] is True and example["content"]["summary"]["success"] is True


def _fw1(consumer):
    return {"fn_openc2": {"default_consumers": "fw1"},
            "fn_openc2:fw1": {"url": consumer.url, "verify": consumer.ca,
                              "client_auth_cert": consumer.client_cert, "client_auth_key": consumer.client_key}}


@pytest.mark.parametrize("function, extra", [
    (runner.send_command, {"openc2_action": "deny", "openc2_target_json": '{"ipv4_net": "203.0.113.0/24"}'}),
    (runner.cancel_command, {"openc2_command_id": "soar-1-abc", "openc2_consumers": "fw1"}),
])
def test_missing_incident_sends_nothing_and_says_why(store, client, reference_consumer, function, extra):
    """Write-back on and the incident gone: acting anyway would leave a block with no record anywhere."""
    result = function(_fw1(reference_consumer), {"incident_id": 999999, **extra}, client, LOG)
    assert reference_consumer.server.request_log.count == 0
    assert result["commands"] == [] and result["summary"]["sent"] == 0
    assert result["error"]["kind"] == "soar"
    assert "reading the incident (incident 999999" in result["error"]["message"]
    # the note about it could not be written either, and the payload says so
    assert any(e.startswith("writing a note (incident 999999") for e in result["writeback"]["errors"])
    assert result["writeback"]["complete"] is False
    assert result["writeback"]["unwritten"][0].startswith("note 'OpenC2 ")


def test_unknown_incident_with_write_back_off_still_sends(store, client, reference_consumer):
    result = runner.send_command(_fw1(reference_consumer),
                                 {"incident_id": 999999, "openc2_write_back": False, "openc2_action": "deny",
                                  "openc2_target_json": '{"ipv4_net": "203.0.113.0/24"}'}, client, LOG)
    assert result["error"] is None and result["summary"]["success"] is True, result["summary"]
