"""The reference consumer and a Fleet through a real mosquitto broker (MQTT v5)."""
from __future__ import annotations

import time
import json
import queue
import socket
import uuid
from collections.abc import Iterator

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from fn_openc2.lib.consumer import Actuator, Fleet, MqttConsumer


class Producer:
    """A bare paho v5 client playing the producer: publish commands, collect oc2/rsp."""

    def __init__(self, host: str, port: int) -> None:
        self.received: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"prod-{uuid.uuid4().hex[:8]}",
                                  protocol=mqtt.MQTTv5)
        subscribed = queue.Queue()
        self.client.on_connect = lambda c, u, f, r, p: c.subscribe("oc2/rsp", qos=1)
        self.client.on_subscribe = lambda c, u, m, r, p: subscribed.put(True)
        self.client.on_message = lambda c, u, msg: self.received.put(msg)
        self.client.connect(host, port)
        self.client.loop_start()
        subscribed.get(timeout=10)

    def send(self, topic: str, command: dict, request_id: str) -> None:
        props = Properties(PacketTypes.PUBLISH)
        props.PayloadFormatIndicator = 1
        props.ContentType = "application/openc2"
        props.UserProperty = [("msgType", "req"), ("encoding", "json")]
        message = {"headers": {"request_id": request_id, "created": int(time.time() * 1000), "from": "soar@example.com"},
                   "body": {"openc2": {"request": command}}}
        self.client.publish(topic, json.dumps(message), qos=1, properties=props).wait_for_publish(10)

    def collect(self, n: int) -> list[mqtt.MQTTMessage]:
        return [self.received.get(timeout=10) for _ in range(n)]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def producer(mosquitto) -> Iterator[Producer]:
    p = Producer(mosquitto.host, mosquitto.port)
    yield p
    p.close()


def test_consumer_answers_on_oc2_rsp_with_properties(mosquitto, producer: Producer) -> None:
    actuator = Actuator("edge-1@example.com")
    consumer = MqttConsumer(actuator, mosquitto.host, mosquitto.port).start()
    try:
        producer.send("oc2/cmd/all", {"action": "deny", "target": {"ipv4_net": "192.0.2.0/24"}}, "m-1")
        msg, = producer.collect(1)
        assert msg.topic == "oc2/rsp" and msg.qos == 1 and not msg.retain
        props = msg.properties
        assert props.PayloadFormatIndicator == 1 and props.ContentType == "application/openc2"
        assert props.UserProperty == [("msgType", "rsp"), ("encoding", "json")]
        assert not hasattr(props, "ResponseTopic")
        body = json.loads(msg.payload)
        assert body["headers"]["request_id"] == "m-1" and body["headers"]["from"] == "edge-1@example.com"
        assert body["body"]["openc2"]["response"]["results"] == {"slpf": {"rule_number": 1}}
        sock = consumer.client.socket()
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        consumer.stop()


def test_consumer_listens_on_profile_and_device_topics(mosquitto, producer: Producer) -> None:
    consumer = MqttConsumer(Actuator("edge-2", profiles=("er",)), mosquitto.host, mosquitto.port).start()
    try:
        q = {"action": "query", "target": {"features": ["profiles"]}}
        producer.send("oc2/cmd/ap/er", q, "ap")
        producer.send("oc2/cmd/device/edge-2", q, "dev")
        producer.send("oc2/cmd/ap/slpf", q, "not-mine")      # not subscribed: stays silent
        producer.send("oc2/cmd/all", q, "all")
        ids = [json.loads(m.payload)["headers"]["request_id"] for m in producer.collect(3)]
        assert ids == ["ap", "dev", "all"]
        assert producer.received.empty()
    finally:
        consumer.stop()


def test_fleet_members_answer_with_their_own_from(mosquitto, producer: Producer) -> None:
    fleet = Fleet([Actuator(f"sim-{i}", profiles=("slpf",) if i % 2 else ("er",)) for i in range(6)],
                  mosquitto.host, mosquitto.port).start()
    try:
        q = {"action": "query", "target": {"features": []}}
        producer.send("oc2/cmd/all", q, "everyone")
        senders = {json.loads(m.payload)["headers"]["from"] for m in producer.collect(6)}
        assert senders == {f"sim-{i}" for i in range(6)}
        producer.send("oc2/cmd/ap/slpf", q, "slpf-only")
        senders = {json.loads(m.payload)["headers"]["from"] for m in producer.collect(3)}
        assert senders == {"sim-1", "sim-3", "sim-5"}
        producer.send("oc2/cmd/device/sim-4", {"action": "contain", "target": {"device": {"hostname": "h"}}}, "one")
        msg, = producer.collect(1)
        assert json.loads(msg.payload)["headers"]["from"] == "sim-4"
        assert fleet.actuators[4].snapshot()["contained_devices"]
        assert producer.received.empty()
    finally:
        fleet.stop()
