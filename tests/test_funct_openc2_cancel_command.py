# -*- coding: utf-8 -*-
# Generated with resilient-sdk v51.0.9.1, then written against a real consumer.
"""Function 'openc2_cancel_command' in the real resilient-circuits runtime: a deny
sent through openc2_send_command is cancelled on the consumer that ran it (found
from the openc2_commands row) and its rule leaves the reference firewall."""
from __future__ import annotations

import json


from tests.soar import harness
from tests.soar.harness import INCIDENT_ID, call, fw, soar  # noqa: F401  (fixtures used by name)

FUNCTION_NAME = "openc2_cancel_command"

config_data = ""            # written by the fw fixture before circuits_app starts
resilient_mock = harness.RESILIENT_MOCK


def _deny(circuits, value: str) -> str:
    result = call(circuits, "openc2_send_command", {
        "incident_id": INCIDENT_ID, "openc2_action": "deny", "openc2_artifact_type": "IP Address",
        "openc2_artifact_value": value, "openc2_consumers": "fw1", "openc2_profile": "slpf"})
    assert result["success"] is True, result["reason"]
    return result["content"]["commands"][0]["command"]["command_id"]


class TestCancelCommand:

    def test_cancel_removes_the_rule(self, circuits_app, soar, fw):
        kept = _deny(circuits_app, "203.0.113.20")
        cancelled = _deny(circuits_app, "203.0.113.21")
        assert {r["command_id"] for r in fw.rules()} >= {kept, cancelled}

        # no consumer named: the consumer column of the deny's row decides
        result = call(circuits_app, FUNCTION_NAME, {"incident_id": INCIDENT_ID, "openc2_command_id": cancelled})
        assert result["success"] is True, result["reason"]
        (cmd,) = result["content"]["commands"]
        assert cmd["command"]["action"] == "cancel"
        assert cmd["command"]["target"] == {"command": cancelled}
        (answer,) = cmd["answers"]
        assert answer["consumer"] == "fw1" and answer["status"] == 200

        remaining = {r["command_id"] for r in fw.rules()}
        assert cancelled not in remaining and kept in remaining

        rows = soar.rows(INCIDENT_ID, "openc2_commands")
        assert [r["action"] for r in rows] == ["deny", "deny", "cancel"]
        assert rows[2]["target"] == json.dumps({"command": cancelled})
        assert rows[2]["status"] == 200 and rows[2]["consumer"] == "fw1"
        assert rows[2]["command_id"] != cancelled                  # the cancel has its own id
        note = soar.notes(INCIDENT_ID)[-1]
        assert f"OpenC2 cancel command {cancelled} — request {cmd['request_id']}" in note
        assert f"Comment: cancels command {cancelled}" in note

    def test_cancel_of_an_unknown_command_reports_the_consumer_answer(self, circuits_app, soar, fw):
        result = call(circuits_app, FUNCTION_NAME, {"incident_id": INCIDENT_ID, "openc2_command_id": "soar-x-none",
                                                    "openc2_consumers": "fw1"})
        assert result["success"] is False
        (answer,) = result["content"]["commands"][0]["answers"]
        assert answer["status"] == 404
        assert result["reason"] == f"fw1 (fw1@example.com): status 404 {answer['status_text']}"
        (row,) = soar.rows(INCIDENT_ID, "openc2_commands")
        assert row["status"] == 404

    def test_unknown_consumer_sends_nothing(self, circuits_app, soar, fw):
        before = fw.request_count
        result = call(circuits_app, FUNCTION_NAME, {"incident_id": INCIDENT_ID, "openc2_command_id": "soar-x-1",
                                                    "openc2_consumers": "fw7"})
        assert result["success"] is False
        assert result["content"]["error"] == {
            "kind": "input", "field": "openc2_consumers", "issues": [],
            "message": "openc2_consumers: unknown consumer 'fw7' (known: down, fw1; or 'default', 'auto')"}
        (note,) = soar.notes(INCIDENT_ID)
        assert note.startswith("<p><b>OpenC2 cancel — input rejected</b></p>")
        assert fw.request_count == before
