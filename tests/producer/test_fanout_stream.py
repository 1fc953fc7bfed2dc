"""A fan-out streams (issue 13.5): each answer is passed on, judged, as soon as its responder
has settled, while the collection window is still open; the outcome keeps counts, not answers."""
from __future__ import annotations

import json
import threading
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from fn_openc2.lib.producer.outcome import STREAM_KEEP, ConsumerAnswer
from fn_openc2.lib.producer.producer import Producer
from tests.producer.helpers import registry

DENY = {"action": "deny", "target": {"ipv4_net": "198.51.100.0/24"}, "profile": "slpf"}
TOPIC = "oc2/cmd/stream"


class Responder:
    """A device on the broker that answers each command once ``go`` is set (at once when it is)."""

    def __init__(self, broker: Any, name: str, statuses: tuple[int, ...] = (200,)) -> None:
        self.name, self.statuses = name, statuses
        self.go = threading.Event()
        subscribed = threading.Event()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"stream-{name}", protocol=paho.MQTTv5)
        self.client.on_subscribe = lambda *a: subscribed.set()
        self.client.on_connect = lambda c, *a: c.subscribe(TOPIC, qos=1)
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        assert subscribed.wait(5), f"{name} could not subscribe"

    def _on_message(self, client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
        command = json.loads(msg.payload)
        threading.Thread(target=self._answer, args=(command,), daemon=True).start()

    def _answer(self, command: dict) -> None:
        if not self.go.wait(20):
            return
        for status in self.statuses:
            answer = {"headers": {"request_id": command["headers"]["request_id"], "from": self.name,
                                  "to": [command["headers"]["from"]]},
                      "body": {"openc2": {"response": {"status": status}}}}
            self.client.publish("oc2/rsp", json.dumps(answer), qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_answers_reach_the_consumer_one_by_one_before_the_round_ends(mosquitto: Any) -> None:
    """fw-b answers only once the consumer has fw-a's answer, fw-c only once it has fw-b's:
    the round can complete only if each answer is passed on while the window is open."""
    a, b, c = (Responder(mosquitto, f"fw-{x}@example.com") for x in "abc")
    slow = Responder(mosquitto, "fw-d@example.com", statuses=(102, 200))   # interim first: passed on at its final
    released = {"fw-a@example.com": b.go, "fw-b@example.com": c.go, "fw-c@example.com": slow.go}
    a.go.set()
    seen: list[ConsumerAnswer] = []
    returned = threading.Event()
    early: list[str] = []

    def consume(answer: ConsumerAnswer) -> None:
        if not returned.is_set():
            early.append(str(answer.responder))
        seen.append(answer)
        if answer.responder in released:
            released[str(answer.responder)].set()

    names = "fw-a@example.com, fw-b@example.com, fw-c@example.com, fw-d@example.com, fw-silent@example.com"
    reg = registry(edge={"transport": "mqtt", "broker": mosquitto.url, "topic": TOPIC, "collect_seconds": "4",
                         "expected_responders": names})       # fw-silent ends the round when the window closes
    try:
        with Producer(reg) as producer:
            outcome = producer.send(DENY, "edge", on_answer=consume)
            returned.set()
    finally:
        for responder in (a, b, c, slow):
            responder.close()
    assert [x.responder for x in seen] == ["fw-a@example.com", "fw-b@example.com", "fw-c@example.com",
                                           "fw-d@example.com", "fw-silent@example.com"]
    assert early == [x.responder for x in seen]                  # every one before send returned
    assert [x.status for x in seen[:4]] == [200, 200, 200, 200] and all(x.ok for x in seen[:4])
    assert seen[4].error is not None and seen[4].outcome_unknown        # silent: said once, at the end
    assert outcome.tally is not None and outcome.tally.total == 5
    assert outcome.tally.succeeded == 4 and outcome.tally.outcome_unknown == 1
    assert outcome.tally.by_status == {"200": 4, "unknown": 1}
    assert not outcome.succeeded and [x.responder for x in outcome.answers] == [x.responder for x in seen]


def test_a_streamed_outcome_keeps_counts_and_a_bounded_sample(mosquitto: Any) -> None:
    """More answers than the sample holds: every one is passed on, the outcome keeps STREAM_KEEP."""
    many = STREAM_KEEP + 20
    names = [f"fw{i}@example.com" for i in range(many)]

    class Gateway:
        """One connection answering for every device name (an EDR relay)."""

        def __init__(self) -> None:
            subscribed = threading.Event()
            self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id="stream-gateway", protocol=paho.MQTTv5)
            self.client.on_subscribe = lambda *a: subscribed.set()
            self.client.on_connect = lambda c, *a: c.subscribe(TOPIC, qos=1)
            self.client.on_message = self._on_message
            self.client.connect(mosquitto.host, mosquitto.port)
            self.client.loop_start()
            assert subscribed.wait(5)

        def _on_message(self, client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
            command = json.loads(msg.payload)
            for name in names:
                answer = {"headers": {"request_id": command["headers"]["request_id"], "from": name},
                          "body": {"openc2": {"response": {"status": 200}}}}
                client.publish("oc2/rsp", json.dumps(answer), qos=1)

    gateway = Gateway()
    reg = registry(edge={"transport": "mqtt", "broker": mosquitto.url, "topic": TOPIC, "collect_seconds": "20",
                         "expected_responders": ", ".join(names)})
    count = [0]
    try:
        with Producer(reg) as producer:
            outcome = producer.send(DENY, "edge", on_answer=lambda answer: count.__setitem__(0, count[0] + 1))
    finally:
        gateway.client.disconnect()
        gateway.client.loop_stop()
    assert count[0] == many
    assert outcome.tally is not None and outcome.tally.total == many and outcome.tally.succeeded == many
    assert len(outcome.answers) == STREAM_KEEP and outcome.succeeded
    assert outcome.to_dict()["tally"]["total"] == many


def test_streaming_is_not_combined_with_whole_answer_hooks(mosquitto: Any) -> None:
    reg = registry(edge={"transport": "mqtt", "broker": mosquitto.url, "topic": TOPIC})

    class Hooks:
        def before_send(self, *args: Any) -> bool:
            raise AssertionError("nothing may be sent")

        def after_answers(self, *args: Any) -> None:
            raise AssertionError("nothing may be sent")

    with Producer(reg) as producer:
        try:
            producer.send(DENY, "edge", hooks=Hooks(), on_answer=lambda answer: None)
        except ValueError as exc:
            assert "on_answer" in str(exc)
        else:
            raise AssertionError("send accepted on_answer with hooks")
