"""SOAR is the journal, even when SOAR fails: the real function components in
the real resilient-circuits runtime, the reference consumer (and scripted
consumers) over real mutual-TLS HTTPS and a real Mosquitto, and the offline
SOAR told to fail (``fn_openc2.lib.offline_soar.faults``). One test class per
point of issue 15 (1-7) and the stored-XSS point of issue 12."""
from __future__ import annotations

import html
import json
import re
import time
from typing import Any

import pytest

from fn_openc2.lib.consumer import Fleet
from fn_openc2.lib.offline_soar.faults import faults_for
from fn_openc2.lib.offline_soar.mock import OfflineSoar
from fn_openc2.lib.soar import writeback as wb
from fn_openc2.lib.transfer.broker import start_mosquitto
from tests.fixtures.broker import outage_after_freeze
from tests.soar import harness
from tests.soar.harness import INCIDENT_ID, call
from tests.transfer.oc2server import Answer, Oc2Peer, Seen

config_data = ""            # written by the module fixture before circuits_app starts
resilient_mock = harness.RESILIENT_MOCK

SEND = "openc2_send_command"
ROWS = r"/incidents/\d+/table_data/openc2_commands/row_data"
ROW = ROWS + r"/\d+"
TABLE = r"/incidents/\d+/table_data/openc2_commands"
NOTES = r"/incidents/\d+/comments"
SOAR_TIMEOUT = 0.5
BUDGET = 3.0
EVIL = "<img src=x onerror=alert(1)>"


def _envelope(seen: Seen, status: int, status_text: str | None = None, results: Any = None) -> dict:
    doc = seen.json
    response: dict[str, Any] = {"status": status}
    if status_text is not None:
        response["status_text"] = status_text
    if results is not None:
        response["results"] = results
    return {"headers": {"request_id": doc["headers"]["request_id"], "from": "<b>evil</b>@example.com",
                        "created": int(time.time() * 1000)},
            "body": {"openc2": {"response": response}}}


def _hostile(seen: Seen) -> Answer:
    """A consumer whose every word is markup: status_text, results, pairs, responder."""
    action = seen.json["body"]["openc2"]["request"]["action"]
    if action == "query":
        return Answer(200, _envelope(seen, 200, "<script>alert(1)</script>", {
            "versions": ["2.0"], "profiles": ["slpf"],
            "pairs": {"deny": ["ipv4_net", "<script>alert(2)</script>"], "<b>x</b>": ["y"]}}))
    return Answer(200, _envelope(seen, 400, "<script>alert(1)</script>", {"x-evil": {"note": EVIL}}))


@pytest.fixture(scope="module", autouse=True)
def fw(request, pki, consumer_signing_key, mosquitto, tmp_path_factory):
    setup = harness.module_setup(request, pki, consumer_signing_key)
    fw = next(setup)
    # a private broker the 15.6 test takes down, with one real MQTT responder on it
    private = start_mosquitto(workdir=str(tmp_path_factory.mktemp("mosquitto-outage")))
    fleet = Fleet.of(1, private.host, private.port, prefix="outage", profiles=("slpf",)).start()
    hostile = Oc2Peer(_hostile, cert=pki.server_cert, key=pki.server_key, client_ca=pki.ca_cert).start()
    slow = Oc2Peer(lambda seen: Answer(action="stall"), cert=pki.server_cert, key=pki.server_key,
                   client_ca=pki.ca_cert).start()
    peers = "".join(f"""
[fn_openc2:{name}]
transport = https
url = {peer.url}/.well-known/openc2
verify = {pki.ca_cert}
client_auth_cert = {pki.client_cert}
client_auth_key = {pki.client_key}
timeout = 1
retries = 0
""" for name, peer in (("hostile", hostile), ("slow", slow)))
    peers += f"""
[fn_openc2:edge]
transport = mqtt
broker = mqtt://{mosquitto.host}:{mosquitto.port}
topic = oc2/cmd/journal-test
expected_responders = ghost@example.com
collect_seconds = 1

[fn_openc2:outage]
transport = mqtt
broker = mqtt://{private.host}:{private.port}
profiles = slpf
expected_responders = {fleet.actuators[0].device_id}
collect_seconds = 5
"""
    request.module.config_data = request.module.config_data.replace(
        "[fn_openc2]\n", f"[fn_openc2]\nsoar_timeout = {SOAR_TIMEOUT}\nwriteback_budget = {BUDGET}\n", 1) + peers
    fw.hostile, fw.slow, fw.private_broker, fw.fleet = hostile, slow, private, fleet
    try:
        yield fw
    finally:
        hostile.stop()
        slow.stop()
        fleet.stop()
        private.stop()
        next(setup, None)


IPS = [f"203.0.113.{n}" for n in range(10, 30)]


@pytest.fixture
def soar():
    store = OfflineSoar.reset()          # also clears injected faults and the call record
    store.seed({"id": INCIDENT_ID, "name": "journal"},
               artifacts=[{"id": 100 + n, "type": "IP Address", "value": ip} for n, ip in enumerate(IPS)])
    return store


@pytest.fixture
def faults(soar):
    return faults_for()


def deny_all(**extra) -> dict:
    inputs = {"incident_id": INCIDENT_ID, "openc2_action": "deny", "openc2_artifact_type": "IP Address",
              "openc2_all_artifacts": True, "openc2_consumers": "fw1", "openc2_profile": "slpf",
              "openc2_duration": "1h"}
    inputs.update(extra)
    return inputs


def rules_for(fw, result) -> list[dict]:
    ids = {c["command"]["command_id"] for c in result["content"]["commands"]}
    return [r for r in fw.rules() if r["command_id"] in ids]


class TestFailedWriteBackFailsTheFunction:
    """15.1: every SOAR write refused: the consumer acted, the function says what the incident lacks."""

    def test_every_write_503(self, circuits_app, soar, faults, fw):
        for method in ("POST", "PUT"):
            faults.add(method, r"/incidents/\d+/.*", status=503)
        before = fw.request_count
        started = time.monotonic()
        result = call(circuits_app, SEND, deny_all())
        elapsed = time.monotonic() - started
        # no record, no command: the incident could not show it, so nothing went out
        assert fw.request_count == before and rules_for(fw, result) == []
        assert soar.notes(INCIDENT_ID) == [] and soar.rows(INCIDENT_ID, "openc2_commands") == []
        assert result["success"] is False
        for cmd in result["content"]["commands"]:
            (line,) = cmd["unsent"]
            assert "not sent: its openc2_commands row could not be written first" in line
            assert line in result["reason"]
        writeback = result["content"]["writeback"]
        assert writeback["complete"] is False and writeback["retries"] >= 1
        (note,) = writeback["unwritten"]                              # exactly what is missing: the batch note
        assert note.startswith("note 'OpenC2 deny — batch of 20 targets — 0 sent, 0 refused, 0 failed, 20 not sent")
        assert result["reason"].endswith(f"write-back incomplete: 1 item(s) not written to incident {INCIDENT_ID}: "
                                         f"{note}")
        assert elapsed < BUDGET + 15                                 # bounded, not 25 minutes

    def test_rows_503_after_sending_rows_landed(self, circuits_app, soar, faults, fw):
        faults.add("PUT", ROW, status=503)                           # answers cannot be recorded
        result = call(circuits_app, SEND, deny_all())
        applied = {r["command_id"] for r in rules_for(fw, result)}
        rows = soar.rows(INCIDENT_ID, "openc2_commands")
        # every command the firewall applied has its row (written before it went out) ...
        assert applied and applied == {r["command_id"] for r in rows} and {r["state"] for r in rows} == {"sending"}
        # ... and once the budget was spent on the failing updates, the rest were not sent, and say so
        unsent = [c for c in result["content"]["commands"] if c["unsent"]]
        assert len(applied) + len(unsent) == len(IPS)
        assert result["success"] is False
        assert f"write-back incomplete: {len(applied)} item(s) not written" in result["reason"]


class TestFailedWritesAreRetried:
    """15.2: retries with backoff; a failed read never blocks a write; one note lists what is missing."""

    def test_every_7th_row_write_503_loses_nothing(self, circuits_app, soar, faults, fw):
        faults.add("POST", ROWS, status=503, every=7)
        faults.add("PUT", ROW, status=503, every=7)
        result = call(circuits_app, SEND, deny_all())
        assert result["success"] is True, result["reason"]
        rows = soar.rows(INCIDENT_ID, "openc2_commands")
        assert len(rows) == len(IPS) and {r["state"] for r in rows} == {"active"}
        assert faults.count("POST", ROWS) > len(IPS)                 # the failed ones were sent again
        assert result["content"]["writeback"]["retries"] >= 2

    def test_failed_reads_do_not_block_writes(self, circuits_app, soar, faults, fw):
        faults.add("GET", TABLE, status=500, times=1)                # the in-effect check: retried
        faults.add("GET", NOTES, status=500)                         # the notes repeat check: never answers
        result = call(circuits_app, SEND, deny_all())
        assert result["success"] is True, result["reason"]
        assert len(soar.rows(INCIDENT_ID, "openc2_commands")) == len(IPS)
        (note,) = soar.notes(INCIDENT_ID)
        assert "batch of 20 targets" in note

    def test_one_note_lists_exactly_what_was_not_written(self, circuits_app, soar, faults, fw):
        targets = IPS[:3]
        faults.add("PUT", ROW, status=400)                           # refused for good: answers never recorded
        result = call(circuits_app, SEND, deny_all(openc2_all_artifacts=False, openc2_artifact_value="\n".join(targets)))
        unwritten = result["content"]["writeback"]["unwritten"]
        assert len(unwritten) == 3 and all("state active" in u for u in unwritten)
        notes = soar.notes(INCIDENT_ID)
        assert len(notes) == 2 and "batch of 3 targets" in notes[0]
        assert notes[1].startswith(f"<p><b>OpenC2 write-back incomplete — 3 item(s) could not be written to "
                                   f"incident {INCIDENT_ID}</b></p>")
        assert re.findall(r"<li>(.*?)</li>", notes[1]) == [html.escape(u) for u in unwritten]
        # the rows still show what went out: each command's 'sending' row, with its command id
        rows = soar.rows(INCIDENT_ID, "openc2_commands")
        assert {r["state"] for r in rows} == {"sending"} and len(rows) == 3
        assert result["success"] is False and "write-back incomplete: 3 item(s)" in result["reason"]


class TestRetriedWritesDoNotDouble:
    """15.3: the server saved the write and lost the reply: the retry finds it instead of adding it again."""

    @pytest.mark.parametrize("kind", ["reset", "status", "timeout"])
    def test_lost_replies(self, circuits_app, soar, faults, fw, kind):
        faults.add("POST", ROWS, kind=kind, when="after", every=10)    # the 10th and 20th 'sending' rows
        faults.add("POST", NOTES, kind=kind, when="after", times=1)
        result = call(circuits_app, SEND, deny_all())
        assert result["success"] is True, result["reason"]
        rows = soar.rows(INCIDENT_ID, "openc2_commands")
        assert len(rows) == len(IPS)                                 # not one more
        assert len({r["request_id"] for r in rows}) == len(IPS) and {r["state"] for r in rows} == {"active"}
        assert len(soar.notes(INCIDENT_ID)) == 1
        assert result["content"]["writeback"]["landed_after_error"] == 3
        # every retry first read the table with handle_format=names (cells by column name)
        assert any(c.method == "GET" and c.path.endswith("/table_data/openc2_commands") for c in faults.calls)


class TestRerunSendsNothingTwice:
    """15.5: what the incident holds as in effect is not sent again, unless openc2_force."""

    def test_rerun(self, circuits_app, soar, faults, fw):
        first = call(circuits_app, SEND, deny_all())
        assert first["success"] is True, first["reason"]
        before = fw.request_count
        again = call(circuits_app, SEND, deny_all())
        assert fw.request_count == before                            # nothing went out
        assert again["success"] is True and again["content"]["summary"]["skipped"] == len(IPS)
        by_target = {c["command"]["target"]["ipv4_net"]: c for c in first["content"]["commands"]}
        for cmd in again["content"]["commands"]:
            (reason,) = cmd["skipped"]
            old = by_target[cmd["command"]["target"]["ipv4_net"]]["command"]["command_id"]
            assert re.search(rf"already active since \d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\dZ, command_id {old};", reason)
        note = soar.notes(INCIDENT_ID)[-1]
        assert "20 not sent" in note and "already active since" in note
        assert len(soar.rows(INCIDENT_ID, "openc2_commands")) == len(IPS)
        forced = call(circuits_app, SEND, deny_all(openc2_force=True))
        assert forced["success"] is True and fw.request_count == before + len(IPS)

    def test_only_in_effect_rows_count(self, circuits_app, soar, faults, fw):
        now = int(time.time() * 1000)
        base = {"consumer": "fw1", "action": "deny", "profile": "slpf", "command_id": "soar-old", "time": now - 5000}
        for ip, state, expires in ((IPS[0], "sending", None), (IPS[1], "active", now - 1000),
                                   (IPS[2], "removed", None), (IPS[3], "failed", None), (IPS[4], "unknown", None)):
            soar.add_row(INCIDENT_ID, "openc2_commands", dict(base, target=wb.compact({"ipv4_net": ip}),
                                                              state=state, expires=expires, request_id=ip))
        result = call(circuits_app, SEND, deny_all(openc2_all_artifacts=False, openc2_artifact_value="\n".join(IPS[:5])))
        sent = {c["command"]["target"]["ipv4_net"] for c in result["content"]["commands"] if c["answers"]}
        assert sent == {IPS[1], IPS[2], IPS[3]}                      # expired, removed and failed are not in effect
        skipped = {c["command"]["target"]["ipv4_net"]: c["skipped"][0] for c in result["content"]["commands"]
                   if c["skipped"]}
        assert "still sending (or interrupted while sending)" in skipped[IPS[0]]
        assert "outcome unknown (may have been carried out)" in skipped[IPS[4]]

    def test_unreadable_table_sends_nothing(self, circuits_app, soar, faults, fw):
        faults.add("GET", TABLE, status=503)
        before = fw.request_count
        result = call(circuits_app, SEND, deny_all())
        assert fw.request_count == before and result["success"] is False
        assert "cannot read openc2_commands" in result["reason"] and "openc2_force" in result["reason"]


class TestOutcomeUnknown:
    """15.6: sent but unanswered is 'outcome unknown: may have been carried out', counted apart."""

    def test_https_read_timeout_after_sending(self, circuits_app, soar, faults, fw):
        result = call(circuits_app, SEND, deny_all(openc2_all_artifacts=False, openc2_artifact_value=IPS[0],
                                                   openc2_consumers="slow"))
        assert len(fw.slow.seen) >= 1                                # it reached the consumer
        (answer,) = result["content"]["commands"][0]["answers"]
        assert answer["outcome_unknown"] is True and answer["state"] == "unknown"
        assert answer["error"].startswith("outcome unknown: may have been carried out: timeout:")
        summary = result["content"]["summary"]
        assert summary["outcome_unknown"] == 1 and summary["answers_ok"] == 0 and summary["success"] is False
        assert "outcome unknown: may have been carried out" in result["reason"]
        (row,) = soar.rows(INCIDENT_ID, "openc2_commands")
        assert row["state"] == "unknown"
        assert "OUTCOME UNKNOWN (may have been carried out)" in soar.notes(INCIDENT_ID)[0]

    def test_mqtt_responder_silent(self, circuits_app, soar, faults, fw):
        result = call(circuits_app, SEND, deny_all(openc2_all_artifacts=False, openc2_artifact_value=IPS[1],
                                                   openc2_consumers="edge"))
        (answer,) = result["content"]["commands"][0]["answers"]
        assert answer["responder"] == "ghost@example.com" and answer["state"] == "unknown"
        assert answer["error"].startswith("outcome unknown: may have been carried out: no answer within 1s")
        (row,) = soar.rows(INCIDENT_ID, "openc2_commands")
        assert row["state"] == "unknown" and row["responder"] == "ghost@example.com"
        assert result["content"]["summary"]["outcome_unknown"] == 1


    def test_mqtt_broker_down_before_puback(self, circuits_app, soar, faults, fw):
        """The broker goes down mid-publish (frozen, killed, back 1.5 s later on the same port):
        the command is 'outcome unknown' in the payload, the note and its row, counted apart."""
        warm = call(circuits_app, SEND, deny_all(openc2_all_artifacts=False, openc2_artifact_value=IPS[2],
                                                 openc2_consumers="outage"))
        assert warm["success"] is True, warm["reason"]      # connected, the responder answered
        outage = outage_after_freeze(fw.private_broker, freeze=0.4, down=1.5)
        try:
            result = call(circuits_app, SEND, deny_all(openc2_all_artifacts=False, openc2_artifact_value=IPS[3],
                                                       openc2_consumers="outage"))
        finally:
            outage.join(timeout=30)
        (answer,) = result["content"]["commands"][0]["answers"]
        assert answer["outcome_unknown"] is True and answer["state"] == "unknown", answer
        assert answer["error"].startswith("outcome unknown: may have been carried out: connect:"), answer["error"]
        assert "before PUBACK" in answer["error"]
        summary = result["content"]["summary"]
        assert summary["outcome_unknown"] == 1 and summary["answers_ok"] == 0 and summary["success"] is False
        assert "outcome unknown: may have been carried out" in result["reason"]
        warm_row, row = soar.rows(INCIDENT_ID, "openc2_commands")   # the warm-up deny, then this one
        assert warm_row["state"] == "active" and IPS[2] in str(warm_row["target"])
        assert row["state"] == "unknown" and IPS[3] in str(row["target"]), row
        assert row["command_id"] == result["content"]["commands"][0]["command"]["command_id"]
        note = soar.notes(INCIDENT_ID)[-1]
        assert IPS[3] in note and "OUTCOME UNKNOWN (may have been carried out)" in note
        assert fw.private_broker.running


class TestEverySoarCallHasATimeout:
    """15.7: no SOAR call without a timeout; a SOAR outage ends within the app.config budget."""

    def test_calls_carry_the_timeout(self, circuits_app, soar, faults, fw):
        call(circuits_app, SEND, deny_all())
        incident_calls = [c for c in faults.calls if c.path.startswith("/incidents/")]
        assert incident_calls and all(c.timeout == SOAR_TIMEOUT for c in incident_calls), \
            [c for c in incident_calls if c.timeout != SOAR_TIMEOUT]

    def test_writes_hanging_end_within_the_budget(self, circuits_app, soar, faults, fw):
        for method in ("POST", "PUT"):
            faults.add(method, r"/incidents/\d+/.*", kind="timeout")
        started = time.monotonic()
        result = call(circuits_app, SEND, deny_all())
        elapsed = time.monotonic() - started
        assert result["success"] is False and rules_for(fw, result) == []
        # the budget, plus the call running when it ran out, plus one last try per note
        assert elapsed < BUDGET + 3 * SOAR_TIMEOUT + 10
        writes = faults.count("POST") + faults.count("PUT")
        assert writes <= BUDGET / SOAR_TIMEOUT + 3                  # then no further SOAR writes


    def test_soar_down_sends_nothing_and_returns(self, circuits_app, soar, faults, fw):
        faults.add("*", r"/incidents/.*", kind="timeout")
        before = fw.request_count
        started = time.monotonic()
        result = call(circuits_app, SEND, deny_all())
        assert time.monotonic() - started < BUDGET + 2 * SOAR_TIMEOUT + 5
        assert fw.request_count == before and result["success"] is False
        assert result["content"]["error"]["kind"] == "soar"


class TestHostileConsumerCannotInjectMarkup:
    """12.1: everything a consumer says is escaped in every rich-text column and in the note."""

    def test_rich_text_cells_and_note(self, circuits_app, soar, faults, fw):
        query = call(circuits_app, "openc2_query_features", {"incident_id": INCIDENT_ID,
                                                             "openc2_consumers": "hostile"})
        deny = call(circuits_app, SEND, deny_all(openc2_all_artifacts=False, openc2_artifact_value=IPS[0],
                                                 openc2_consumers="hostile"))
        assert query["content"]["consumers"] and deny["content"]["commands"][0]["answers"]
        checked = 0
        for table, columns in wb.RICH_TEXT_COLUMNS.items():
            for row in soar.rows(INCIDENT_ID, table):
                for column in columns:
                    value = row[column]
                    assert value, (table, column)
                    assert "<script" not in value and "<img" not in value and "<b>" not in value, (table, column)
                    checked += 1
        assert checked == 2
        (command_row,) = soar.rows(INCIDENT_ID, "openc2_commands")
        assert html.unescape(command_row["results"]) == json.dumps({"x-evil": {"note": EVIL}})
        (consumer_row,) = soar.rows(INCIDENT_ID, "openc2_consumers")
        assert consumer_row["pairs"].split("<br>") == [
            "deny: ipv4_net, &lt;script&gt;alert(2)&lt;/script&gt;", "&lt;b&gt;x&lt;/b&gt;: y"]
        for note in soar.notes(INCIDENT_ID):
            assert "<script" not in note and "<img" not in note and "<b>evil" not in note
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in soar.notes(INCIDENT_ID)[-1]
