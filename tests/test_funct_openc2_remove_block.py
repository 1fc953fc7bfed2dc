# -*- coding: utf-8 -*-
# Generated with resilient-sdk v51.0.9.1, then written against a real consumer.
"""Function 'openc2_remove_block' (the "OpenC2: Remove block" row action) in the
real resilient-circuits runtime: a deny sent through openc2_send_command is
lifted with 'delete slpf:rule_number' (the rule number its row holds), or
'cancel' when the row has none and the consumer advertises it, or not at all,
with a note saying why. The row's state follows."""
from __future__ import annotations

import time


from fn_openc2.lib.soar import writeback as wb
from tests.soar import harness
from tests.soar.harness import INCIDENT_ID, call, fw, soar  # noqa: F401  (fixtures used by name)

FUNCTION_NAME = "openc2_remove_block"

config_data = ""            # written by the fw fixture before circuits_app starts
resilient_mock = harness.RESILIENT_MOCK


def _deny(circuits, value: str) -> dict:
    result = call(circuits, "openc2_send_command", {
        "incident_id": INCIDENT_ID, "openc2_action": "deny", "openc2_artifact_type": "IP Address",
        "openc2_artifact_value": value, "openc2_consumers": "fw1", "openc2_profile": "slpf",
        "openc2_duration": "1h"})
    assert result["success"] is True, result["reason"]
    return result["content"]["commands"][0]


def _row(soar, command_id: str) -> tuple[int, dict]:
    (found,) = [(rid, soar.rows(INCIDENT_ID, "openc2_commands")[n])
                for n, rid in enumerate(soar.row_ids(INCIDENT_ID, "openc2_commands"))
                if soar.rows(INCIDENT_ID, "openc2_commands")[n]["command_id"] == command_id]
    return found


class TestRemoveBlock:

    def test_delete_rule_number(self, circuits_app, soar, fw):
        kept = _deny(circuits_app, "203.0.113.30")["command"]["command_id"]
        deny = _deny(circuits_app, "203.0.113.31")
        lifted = deny["command"]["command_id"]
        number = deny["answers"][0]["results"]["slpf"]["rule_number"]
        assert _row(soar, lifted)[1]["rule_number"] == number

        result = call(circuits_app, FUNCTION_NAME, {"incident_id": INCIDENT_ID, "openc2_command_id": lifted,
                                                    "openc2_consumers": "fw1"})
        assert result["success"] is True, result["reason"]
        (cmd,) = result["content"]["commands"]
        assert cmd["command"]["action"] == "delete"
        assert cmd["command"]["target"] == {"slpf": {"rule_number": number}} and cmd["command"]["profile"] == "slpf"
        remaining = {r["command_id"] for r in fw.rules()}
        assert lifted not in remaining and kept in remaining

        assert _row(soar, lifted)[1]["state"] == "removed"
        assert _row(soar, kept)[1]["state"] == "active"
        delete_row = _row(soar, cmd["command"]["command_id"])[1]
        assert delete_row["action"] == "delete" and delete_row["state"] == "done"
        note = soar.notes(INCIDENT_ID)[-1]
        assert f"Comment: removes the block of command {lifted} (deletes rule)" in note

        again = call(circuits_app, FUNCTION_NAME, {"incident_id": INCIDENT_ID, "openc2_command_id": lifted})
        assert again["success"] is False
        assert f"Command {lifted} on fw1 is already removed; nothing was sent" in again["reason"]

    def test_cancel_when_the_row_holds_no_rule_number(self, circuits_app, soar, fw):
        lifted = _deny(circuits_app, "203.0.113.32")["command"]["command_id"]
        row_id, cells = _row(soar, lifted)
        soar.update_row(INCIDENT_ID, "openc2_commands", row_id, {"rule_number": None})
        result = call(circuits_app, FUNCTION_NAME, {"incident_id": INCIDENT_ID, "openc2_command_id": lifted})
        assert result["success"] is True, result["reason"]
        (cmd,) = result["content"]["commands"]
        assert cmd["command"]["action"] == "cancel" and cmd["command"]["target"] == {"command": lifted}
        assert lifted not in {r["command_id"] for r in fw.rules()}
        assert _row(soar, lifted)[1]["state"] == "removed"

    def test_says_why_it_cannot(self, circuits_app, soar, fw):
        soar.add_row(INCIDENT_ID, "openc2_commands", {
            "time": int(time.time() * 1000), "state": "active", "consumer": "down", "action": "deny",
            "target": wb.compact({"ipv4_net": "203.0.113.33"}), "profile": "slpf", "command_id": "soar-old-1",
            "request_id": "r-old-1", "rule_number": None})
        before = fw.request_count
        result = call(circuits_app, FUNCTION_NAME, {"incident_id": INCIDENT_ID, "openc2_command_id": "soar-old-1"})
        assert result["success"] is False and fw.request_count == before
        reason = result["reason"]
        assert "Cannot remove the block of command soar-old-1 on down: its row holds no rule number" in reason
        assert "does not advertise 'cancel command'" in reason
        note = soar.notes(INCIDENT_ID)[-1]
        assert "OpenC2 remove block — input rejected" in note and "Cannot remove the block" in note
        assert _row(soar, "soar-old-1")[1]["state"] == "active"

    def test_unknown_command_id(self, circuits_app, soar, fw):
        result = call(circuits_app, FUNCTION_NAME, {"incident_id": INCIDENT_ID, "openc2_command_id": "nope"})
        assert result["success"] is False
        assert f"no openc2_commands row of incident {INCIDENT_ID} holds command_id 'nope'" in result["reason"]
