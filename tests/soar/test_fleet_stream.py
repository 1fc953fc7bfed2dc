"""Issue 13.5 end to end: send_command to an MQTT fleet through a real Mosquitto. The answers
stream from the transport to the journal one at a time (counted, spooled to the attachments);
the outcome, the note and the function's payload keep counts and a bounded sample."""
from __future__ import annotations

import csv
import io
import json
import logging
import threading
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
import pytest

from fn_openc2.lib.producer.outcome import STREAM_KEEP
from fn_openc2.lib.soar import runner
from fn_openc2.lib.soar import writeback as wb
from fn_openc2.lib.soar.journal import Journal
from tests.soar.conftest import fresh_store

INCIDENT = 3602
LOG = logging.getLogger("test-fleet-stream")
TOPIC = "oc2/cmd/fleet-stream"
FLEET = 300


@pytest.fixture
def store():
    yield from fresh_store(INCIDENT, "fleet stream")


class Gateway:
    """One connection answering for every device of the fleet (every 30th refuses with 500)."""

    def __init__(self, broker: Any, names: list[str]) -> None:
        subscribed = threading.Event()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id="fleet-stream-gw", protocol=paho.MQTTv5)
        self.client.on_subscribe = lambda *a: subscribed.set()
        self.client.on_connect = lambda c, *a: c.subscribe(TOPIC, qos=1)
        self.client.on_message = lambda c, u, msg: self._answer(c, json.loads(msg.payload), names)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        assert subscribed.wait(5)

    @staticmethod
    def _answer(client: paho.Client, command: dict, names: list[str]) -> None:
        for k, name in enumerate(names):
            status = 500 if k % 30 == 29 else 200
            answer = {"headers": {"request_id": command["headers"]["request_id"], "from": name},
                      "body": {"openc2": {"response": {"status": status}}}}
            client.publish("oc2/rsp", json.dumps(answer), qos=1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_a_fleet_streams_into_the_write_back(store, client, mosquitto, monkeypatch):
    names = [f"agent-{k}@fleet.example.com" for k in range(FLEET)]
    gateway = Gateway(mosquitto, names)
    taken: list[str] = []
    original = Journal.on_answer

    def watching(self, command, consumer, request_id, answer):  # type: ignore[no-untyped-def]
        taken.append(str(answer.responder))
        return original(self, command, consumer, request_id, answer)
    monkeypatch.setattr(Journal, "on_answer", watching)
    opts = {"fn_openc2": {},
            "fn_openc2:edge": {"transport": "mqtt", "broker": mosquitto.url, "topic": TOPIC, "profiles": "slpf",
                               "expected_responders": ", ".join(names), "collect_seconds": "20"}}
    try:
        result = runner.send_command(opts, {"incident_id": INCIDENT, "openc2_action": "deny",
                                            "openc2_target_json": '{"ipv4_net": "203.0.113.0/24"}',
                                            "openc2_consumers": "edge", "openc2_profile": "slpf"}, client, LOG)
    finally:
        gateway.close()
    refused = FLEET // 30
    assert sorted(taken) == sorted(names)                       # every answer went through on_answer
    (row,) = store.rows(INCIDENT, wb.COMMANDS_TABLE)
    assert row["responder"] == f"{FLEET} responders"
    assert row["status_text"] == f"200: {FLEET - refused}, 500: {refused}"
    summary = result["summary"]
    assert (summary["answers"], summary["answers_ok"], summary["success"]) == (FLEET, FLEET - refused, False)
    (command,) = result["commands"]
    assert command["tally"]["total"] == FLEET and command["tally"]["succeeded"] == FLEET - refused
    assert len(command["answers"]) == STREAM_KEEP + refused      # the sample: 50 OK, every one of the 10 not OK
    (note,) = store.notes(INCIDENT)
    assert f"{FLEET - refused} of {FLEET} answers OK" in note and note.count("<li>") == refused
    by_name = {a["name"]: a for a in store.attachments(INCIDENT)}
    command_doc = {"command_id": row["command_id"]}
    table = store.attachment_content(INCIDENT, by_name[wb.fleet_file_name(command_doc, "edge", "csv")]["id"])
    rows = list(csv.DictReader(io.StringIO(table.decode())))
    assert sorted(r["responder"] for r in rows) == sorted(names)
