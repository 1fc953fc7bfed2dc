# -*- coding: utf-8 -*-
# Generated with resilient-sdk v51.0.9.1, then written against a real consumer.
"""Function 'openc2_send_command' in the real resilient-circuits runtime, against
the reference consumer over HTTPS with mutual TLS; the offline SOAR records
notes and rows (see tests/soar/harness.py)."""
from __future__ import annotations

import hashlib
import html
import json
import re
import time

import pytest

from tests.soar import harness
from tests.soar.harness import INCIDENT_ID, call, fw, soar  # noqa: F401  (fixtures used by name)

COLUMNS = {"time", "consumer", "responder", "action", "target", "profile", "args", "command_id", "request_id",
           "status", "status_text", "results", "signature", "expires", "error", "warnings", "state", "rule_number"}

FUNCTION_NAME = "openc2_send_command"

config_data = ""            # written by the fw fixture before circuits_app starts
resilient_mock = harness.RESILIENT_MOCK


def deny_inputs(**extra):
    inputs = {"incident_id": INCIDENT_ID, "openc2_action": "deny", "openc2_artifact_type": "IP Address",
              "openc2_artifact_value": "203.0.113.7", "openc2_consumers": "fw1", "openc2_profile": "slpf",
              "openc2_duration": "1h", "openc2_comment": "phish <b>source</b>", "openc2_write_back": True}
    inputs.update(extra)
    return inputs


class TestSendCommand:

    def test_deny_ip_artifact(self, circuits_app, soar, fw):
        before = fw.request_count
        started = int(time.time() * 1000)
        result = call(circuits_app, FUNCTION_NAME, deny_inputs())
        finished = int(time.time() * 1000)

        assert result["success"] is True, result["reason"]
        content = result["content"]
        (cmd,) = content["commands"]
        command = cmd["command"]
        assert command["action"] == "deny"
        assert command["target"] == {"ipv4_net": "203.0.113.7"}
        assert command["profile"] == "slpf"
        assert command["args"] == {"duration": 3_600_000}
        assert re.fullmatch(rf"soar-{INCIDENT_ID}-[0-9a-f]{{12}}", command["command_id"])
        (answer,) = cmd["answers"]
        assert answer["status"] == 200 and answer["signature"] == "verified" and answer["succeeded"] is True
        assert content["summary"] == {"commands": 1, "sent": 1, "refused": 0, "skipped": 0, "answers": 1,
                                      "answers_ok": 1, "outcome_unknown": 0, "success": True, "failures": []}
        assert fw.request_count == before + 1

        # the consumer now enforces the rule, created by this command
        rules = [r for r in fw.rules() if r["command_id"] == command["command_id"]]
        assert len(rules) == 1
        assert rules[0]["target"] == {"ipv4_net": "203.0.113.7/32"}
        assert rules[0]["action"] == "deny"
        rule_number = rules[0]["rule_number"]

        (note,) = soar.notes(INCIDENT_ID)
        header = f"OpenC2 deny ipv4_net 203.0.113.7 — request {cmd['request_id']}"
        assert note.startswith(f"<p><b>{html.escape(header)}</b></p>")
        assert "<p>Comment: phish &lt;b&gt;source&lt;/b&gt;</p>" in note
        assert "<p>Sent to fw1: 1 of 1 answers OK.</p>" in note
        assert f"<pre>{html.escape(json.dumps(command, indent=2))}</pre>" in note
        assert ("<li><b>fw1 (responder fw1@example.com)</b>: OK; status 200 OK; signature verified (ES256); "
                f"request id {answer['request_id']}<br>Results:") in note
        assert f"request id {answer['request_id']}" in note
        assert f"&quot;rule_number&quot;: {rule_number}" in note

        (row,) = soar.rows(INCIDENT_ID, "openc2_commands")
        assert set(row) == COLUMNS
        assert started <= row["time"] <= finished
        assert row["consumer"] == "fw1"
        assert row["responder"] == "fw1@example.com"
        assert row["action"] == "deny"
        assert row["target"] == '{"ipv4_net": "203.0.113.7"}'
        assert row["profile"] == "slpf"
        assert row["args"] == '{"duration": 3600000}'
        assert row["command_id"] == command["command_id"]
        assert row["request_id"] == answer["request_id"] == cmd["request_id"]
        assert row["status"] == 200
        assert row["status_text"] is None
        assert row["results"] == html.escape(json.dumps({"slpf": {"rule_number": rule_number}}))
        assert row["rule_number"] == rule_number and row["state"] == "active"
        assert row["signature"] == "verified"
        assert abs(row["expires"] - (row["time"] + 3_600_000)) <= 1000      # datetimepicker: epoch ms
        assert row["error"] is None
        assert soar.unhandled_requests() == []

    def test_several_values_make_several_commands(self, circuits_app, soar, fw):
        result = call(circuits_app, FUNCTION_NAME, deny_inputs(
            openc2_artifact_value="203.0.113.8\n\n2001:db8::7\n", openc2_duration="90s"))
        assert result["success"] is True, result["reason"]
        targets = [c["command"]["target"] for c in result["content"]["commands"]]
        assert targets == [{"ipv4_net": "203.0.113.8"}, {"ipv6_net": "2001:db8::7"}]
        (note,) = soar.notes(INCIDENT_ID)           # a batch: one summary note
        assert note.startswith("<p><b>OpenC2 deny — batch of 2 targets — 2 sent, 0 refused, 0 failed — batch ")
        rows = soar.rows(INCIDENT_ID, "openc2_commands")
        # rows are written as each command goes out (concurrently): their order is the sending order
        assert sorted(r["target"] for r in rows) == ['{"ipv4_net": "203.0.113.8"}', '{"ipv6_net": "2001:db8::7"}']
        assert all(r["args"] == '{"duration": 90000}' for r in rows)

    def test_attachment_becomes_file_hashes(self, circuits_app, soar, fw):
        result = call(circuits_app, FUNCTION_NAME, {
            "incident_id": INCIDENT_ID, "openc2_action": "deny", "openc2_attachment_id": 21,
            "openc2_consumers": "fw1"})
        (cmd,) = result["content"]["commands"]
        digest = hashlib.sha256(b"MZ evil bytes\n").hexdigest().upper()
        assert cmd["command"]["target"] == {"file": {"hashes": {
            "md5": hashlib.md5(b"MZ evil bytes\n").hexdigest().upper(),
            "sha1": hashlib.sha1(b"MZ evil bytes\n").hexdigest().upper(), "sha256": digest}}}
        assert cmd["source"] == "attachment dropper.exe"
        (answer,) = cmd["answers"]              # the reference actuator speaks er: 'deny file' is its pair
        assert answer["status"] == 200
        assert result["success"] is True, result["reason"]
        (row,) = soar.rows(INCIDENT_ID, "openc2_commands")
        assert row["status"] == 200 and json.loads(row["target"]) == cmd["command"]["target"]

    def test_write_back_off_leaves_the_incident_alone(self, circuits_app, soar, fw):
        result = call(circuits_app, FUNCTION_NAME, deny_inputs(openc2_write_back=False,
                                                               openc2_artifact_value="203.0.113.9"))
        assert result["success"] is True
        assert result["content"]["writeback"]["enabled"] is False
        assert soar.notes(INCIDENT_ID) == []
        assert soar.rows(INCIDENT_ID, "openc2_commands") == []

    def test_expert_command_json(self, circuits_app, soar, fw):
        doc = {"action": "deny", "target": {"ipv4_connection": {"dst_addr": "203.0.113.10", "protocol": "tcp",
                                                                  "dst_port": 443}},
               "args": {"stop_time": int(time.time() * 1000) + 600_000}, "profile": "slpf"}
        result = call(circuits_app, FUNCTION_NAME, {"incident_id": INCIDENT_ID,
                                                    "openc2_command_json": json.dumps(doc),
                                                    "openc2_consumers": "default"})
        assert result["success"] is True, result["reason"]
        (row,) = soar.rows(INCIDENT_ID, "openc2_commands")
        assert row["expires"] == doc["args"]["stop_time"]
        assert json.loads(row["target"]) == doc["target"]


class TestRefusals:
    """Each bad input: a note saying why, no row, nothing reaches the consumer."""

    @pytest.mark.parametrize("extra, words", [
        ({"openc2_artifact_type": "Password"}, ["artifact type &#x27;Password&#x27; has no OpenC2 target"]),
        ({"openc2_artifact_value": "203.0.113.300"}, ["&#x27;203.0.113.300&#x27; is not an IPv4 or IPv6 address"]),
        ({"openc2_consumers": "fw9"}, ["openc2_consumers: unknown consumer &#x27;fw9&#x27;", "known: down, fw1"]),
        ({"openc2_duration": "soon"}, ["openc2_duration: &#x27;soon&#x27; is not a duration"]),
        ({"openc2_profile_args": '{"drop_process": }'},
         ["openc2_profile_args: not valid JSON: Expecting value at line 1 column 18 (character 17)"]),
        ({"openc2_artifact_value": "203.0.113.11\nnot-an-ip"},
         ["value 2 (not-an-ip)"]),
    ], ids=["artifact-type", "malformed-value", "unknown-consumer", "duration", "bad-json", "one-of-two-bad"])
    def test_bad_input(self, circuits_app, soar, fw, extra, words):
        before = fw.request_count
        result = call(circuits_app, FUNCTION_NAME, deny_inputs(**extra))
        assert result["success"] is False
        assert result["content"]["commands"] == []
        assert result["content"]["error"]["kind"] == "input"
        (note,) = soar.notes(INCIDENT_ID)
        assert note.startswith("<p><b>OpenC2 deny — input rejected</b></p><p>Nothing was sent.")
        for word in words:
            assert word in note
        assert html.unescape(words[0]).split(" (")[0] in result["reason"]
        assert soar.rows(INCIDENT_ID, "openc2_commands") == []
        assert fw.request_count == before

    @pytest.mark.parametrize("value, why", [("127.0.0.1", "loopback"), ("198.51.100.20", harness.PROTECTED_NET)])
    def test_protected_address_is_refused(self, circuits_app, soar, fw, value, why):
        before = fw.request_count
        result = call(circuits_app, FUNCTION_NAME, deny_inputs(openc2_artifact_value=value))
        assert result["success"] is False
        (cmd,) = result["content"]["commands"]
        assert cmd["refused"] and why in cmd["refused"]
        assert cmd["answers"] == []
        (note,) = soar.notes(INCIDENT_ID)
        assert f"OpenC2 deny ipv4_net {value} — request {cmd['request_id']}" in note
        assert f"<b>Refused, nothing was sent:</b> {html.escape(cmd['refused'])}" in note
        assert soar.rows(INCIDENT_ID, "openc2_commands") == []
        assert fw.request_count == before

    def test_consumer_down(self, circuits_app, soar, fw):
        result = call(circuits_app, FUNCTION_NAME, deny_inputs(openc2_consumers="down",
                                                               openc2_artifact_value="203.0.113.12"))
        assert result["success"] is False
        (cmd,) = result["content"]["commands"]
        (answer,) = cmd["answers"]
        assert answer["error"] and answer["status"] is None
        assert result["reason"] == f"down: {answer['error']}"
        (note,) = soar.notes(INCIDENT_ID)
        assert "<b>down</b>: FAILED" in note
        assert f"Error: {html.escape(answer['error'])}" in note
        (row,) = soar.rows(INCIDENT_ID, "openc2_commands")
        assert row["consumer"] == "down" and row["status"] is None and row["responder"] is None
        assert row["error"] == answer["error"]
        assert row["signature"] == "unsigned"


# ------------------------------------------------------------------ batches

SENT_IPS = [f"203.0.113.{n}" for n in range(20, 40)] + ["2001:db8::1"]      # 21 distinct, sendable
IP_ARTIFACTS = (
    [{"id": 100 + n, "type": "IP Address", "value": ip} for n, ip in enumerate(SENT_IPS)]
    + [{"id": 130, "type": "IP Address", "value": "198.51.100.20"},           # protected: refused
       {"id": 131, "type": "IP Address", "value": "203.0.113.20"},            # duplicates of 100, 101, 120
       {"id": 132, "type": "ip address", "value": " 203.0.113.21 "},
       {"id": 133, "type": "IP Address", "value": "2001:0db8:0:0::1"}])
OTHER_ARTIFACTS = [{"id": 140, "type": "DNS Name", "value": "evil.example"},
                   {"id": 141, "type": "URL", "value": "https://evil.example/x"}]
ROW = re.compile(r"<tr>(.*?)</tr>")
CELL = re.compile(r"<td>(.*?)</td>")


def batch_lines(note: str) -> list[list[str]]:
    """The note's table body as [[target, consumer, status, status text, signature, request id, error], ...]."""
    body = note.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [[html.unescape(c) for c in CELL.findall(row)] for row in ROW.findall(body)]


def seed_batch(artifacts):
    store = harness.seed_incident()
    for artifact in artifacts:
        store.add_artifact(INCIDENT_ID, artifact)
    return store


class TestBatch:
    """Many targets from one call: sent with send_many, one summary note, one row per (target, consumer)."""

    def test_all_ip_artifacts_of_the_incident(self, circuits_app, fw):
        soar = seed_batch(IP_ARTIFACTS + OTHER_ARTIFACTS)
        assert len(IP_ARTIFACTS) == 25
        before_requests, before_rules = fw.request_count, len(fw.rules())
        result = call(circuits_app, FUNCTION_NAME, {
            "incident_id": INCIDENT_ID, "openc2_action": "deny", "openc2_artifact_type": "IP Address",
            "openc2_all_artifacts": True, "openc2_consumers": "fw1", "openc2_profile": "slpf",
            "openc2_duration": "2h", "openc2_comment": "campaign <x>", "openc2_write_back": True})

        content = result["content"]
        commands = content["commands"]
        # artifact 11 of the standard seed (203.0.113.7) is an IP artifact too: 22 sendable + 1 refused
        expected_ips = ["203.0.113.7"] + SENT_IPS
        assert [c["command"]["target"] for c in commands if not c["refused"]] == [
            {"ipv6_net" if ":" in ip else "ipv4_net": ip} for ip in expected_ips]
        assert [c["source"] for c in commands][:2] == ["IP Address 203.0.113.7 (artifact 11)",
                                                       "IP Address 203.0.113.20 (artifact 100)"]
        (refused,) = [c for c in commands if c["refused"]]
        assert refused["command"]["target"] == {"ipv4_net": "198.51.100.20"}
        assert harness.PROTECTED_NET in refused["refused"]
        assert content["duplicates"] == [
            "IP Address 203.0.113.20 (artifact 131) (same target as IP Address 203.0.113.20 (artifact 100))",
            "IP Address  203.0.113.21  (artifact 132) (same target as IP Address 203.0.113.21 (artifact 101))",
            "IP Address 2001:0db8:0:0::1 (artifact 133) (same target as IP Address 2001:db8::1 (artifact 120))"]
        summary = content["summary"]
        assert (summary["commands"], summary["sent"], summary["refused"], summary["answers"],
                summary["answers_ok"]) == (23, 22, 1, 22, 22)
        assert result["success"] is False and "198.51.100.20: refused" in result["reason"]

        # the consumer got exactly one request per sent target, and holds one rule for each
        assert fw.request_count == before_requests + 22
        ids = {c["command"]["command_id"] for c in commands if not c["refused"]}
        rules = [r for r in fw.rules() if r["command_id"] in ids]
        assert len(fw.rules()) == before_rules + 22
        assert sorted(r["command_id"] for r in rules) == sorted(ids)
        assert {json.dumps(r["target"], sort_keys=True) for r in rules} == {
            json.dumps({"ipv6_net": f"{ip}/128"} if ":" in ip else {"ipv4_net": f"{ip}/32"}, sort_keys=True)
            for ip in expected_ips}

        # one summary note, one line per (target, consumer), the refused one with its reason
        (note,) = soar.notes(INCIDENT_ID)
        assert note.startswith("<p><b>OpenC2 deny — batch of 23 targets — 22 sent, 1 refused, 0 failed — batch ")
        assert "<p>Comment: campaign &lt;x&gt;</p>" in note
        assert "Duplicates skipped (3):" in note and "(artifact 133)" in note
        lines = batch_lines(note)
        assert len(lines) == 23
        by_request = {line[5]: line for line in lines}
        for cmd in commands:
            line = by_request[cmd["request_id"]]
            artifact = cmd["source"].rsplit("(", 1)[1].rstrip(")")
            if cmd["refused"]:
                assert line == ["ipv4_net 198.51.100.20 (artifact 130)", "—", "refused", "", "",
                                cmd["request_id"], cmd["refused"]]
            else:
                name, value = next(iter(cmd["command"]["target"].items()))
                assert line == [f"{name} {value} ({artifact})", "fw1 (fw1@example.com)", "200", "OK",
                                "verified (ES256)", cmd["request_id"], ""]

        # one row per (target, consumer answer); a few checked field by field
        rows = soar.rows(INCIDENT_ID, "openc2_commands")
        assert len(rows) == 22
        assert len({(r["request_id"], r["consumer"]) for r in rows}) == 22
        by_id = {r["request_id"]: r for r in rows}
        for cmd in [c for c in commands if not c["refused"]][::7]:
            row, (answer,) = by_id[cmd["request_id"]], cmd["answers"]
            rule = next(r for r in rules if r["command_id"] == cmd["command"]["command_id"])
            assert set(row) == COLUMNS
            assert row["consumer"] == "fw1" and row["responder"] == "fw1@example.com"
            assert row["action"] == "deny" and row["profile"] == "slpf"
            assert row["target"] == json.dumps(cmd["command"]["target"])
            assert row["args"] == '{"duration": 7200000}'
            assert row["command_id"] == cmd["command"]["command_id"]
            assert row["request_id"] == answer["request_id"]
            assert row["status"] == 200 and row["signature"] == "verified" and row["error"] is None
            assert row["results"] == html.escape(json.dumps({"slpf": {"rule_number": rule["rule_number"]}}))
            assert row["rule_number"] == rule["rule_number"] and row["state"] == "active"
            assert row["expires"] > row["time"]
        assert soar.unhandled_requests() == []

    def test_a_malformed_artifact_refuses_the_whole_batch(self, circuits_app, fw):
        soar = seed_batch(IP_ARTIFACTS[:5] + [{"id": 150, "type": "IP Address", "value": "203.0.113.300"},
                                              {"id": 151, "type": "IP Address", "value": "<b>host</b>"}])
        before_requests, before_rules = fw.request_count, len(fw.rules())
        result = call(circuits_app, FUNCTION_NAME, {
            "incident_id": INCIDENT_ID, "openc2_action": "deny", "openc2_artifact_type": "ip address",
            "openc2_all_artifacts": "true", "openc2_consumers": "fw1"})
        assert result["success"] is False
        content = result["content"]
        assert content["commands"] == [] and content["error"]["kind"] == "input"
        issues = content["error"]["issues"]
        assert [issue.split(":")[0] for issue in issues] == ["artifact 150 (203.0.113.300)",
                                                             "artifact 151 (<b>host</b>)"]
        assert "2 of 8 artifacts of type 'ip address' cannot become an OpenC2 target" in result["reason"]
        (note,) = soar.notes(INCIDENT_ID)
        assert note.startswith("<p><b>OpenC2 deny — input rejected</b></p><p>Nothing was sent.")
        assert "<li>artifact 150 (203.0.113.300): " in note
        assert "<li>artifact 151 (&lt;b&gt;host&lt;/b&gt;): " in note and "<b>host" not in note
        assert soar.rows(INCIDENT_ID, "openc2_commands") == []
        assert fw.request_count == before_requests and len(fw.rules()) == before_rules

    @pytest.mark.parametrize("extra, words", [
        ({"openc2_artifact_value": "203.0.113.50"},
         "openc2_all_artifacts: takes every artifact of openc2_artifact_type; leave openc2_artifact_value empty"),
        ({"openc2_artifact_type": ""}, "openc2_artifact_type: required with openc2_all_artifacts"),
        ({"openc2_artifact_type": "MAC Address"}, f"openc2_artifact_type: incident {INCIDENT_ID} has no artifact "
                                                  "of type 'MAC Address'"),
    ], ids=["value-too", "no-type", "none-of-that-type"])
    def test_all_artifacts_input_errors(self, circuits_app, fw, extra, words):
        soar = seed_batch(IP_ARTIFACTS[:3])
        before = fw.request_count
        inputs = {"incident_id": INCIDENT_ID, "openc2_action": "deny", "openc2_artifact_type": "IP Address",
                  "openc2_all_artifacts": True, "openc2_consumers": "fw1"}
        result = call(circuits_app, FUNCTION_NAME, dict(inputs, **extra))
        assert result["success"] is False and result["content"]["commands"] == []
        assert words in result["reason"]
        (note,) = soar.notes(INCIDENT_ID)
        assert "input rejected" in note and html.escape(words, quote=True) in note
        assert fw.request_count == before

    def test_list_to_two_consumers_one_line_per_target_and_consumer(self, circuits_app, soar, fw):
        before = fw.request_count
        result = call(circuits_app, FUNCTION_NAME, deny_inputs(
            openc2_artifact_value="203.0.113.60\n203.0.113.61\n203.0.113.60", openc2_consumers="fw1, down"))
        commands = result["content"]["commands"]
        assert [c["command"]["target"] for c in commands] == [{"ipv4_net": "203.0.113.60"},
                                                              {"ipv4_net": "203.0.113.61"}]
        assert result["content"]["duplicates"] == [
            "IP Address 203.0.113.60 (same target as IP Address 203.0.113.60)"]
        assert fw.request_count == before + 2
        (note,) = soar.notes(INCIDENT_ID)
        assert note.startswith("<p><b>OpenC2 deny — batch of 2 targets — 0 sent, 0 refused, 2 failed — batch ")
        lines = batch_lines(note)
        assert [(line[0], line[1], line[2]) for line in lines] == [
            ("ipv4_net 203.0.113.60", "fw1 (fw1@example.com)", "200"), ("ipv4_net 203.0.113.60", "down", "failed"),
            ("ipv4_net 203.0.113.61", "fw1 (fw1@example.com)", "200"), ("ipv4_net 203.0.113.61", "down", "failed")]
        down = [a for c in commands for a in c["answers"] if a["consumer"] == "down"]
        assert [line[6] for line in lines if line[1] == "down"] == [a["error"] for a in down]
        assert all(a["error"] for a in down)
        rows = soar.rows(INCIDENT_ID, "openc2_commands")
        assert sorted((r["target"], r["consumer"]) for r in rows) == [
            ('{"ipv4_net": "203.0.113.60"}', "down"), ('{"ipv4_net": "203.0.113.60"}', "fw1"),
            ('{"ipv4_net": "203.0.113.61"}', "down"), ('{"ipv4_net": "203.0.113.61"}', "fw1")]
