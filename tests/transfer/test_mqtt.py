"""MQTT transfer through a real mosquitto: broadcast, collection, properties, TLS, faults."""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from fn_openc2.lib.transfer import MqttSettings, MqttTransport, TransferError
from fn_openc2.lib.transfer.broker import Broker
from fn_openc2.lib.transfer.devpki import Pki
from tests.transfer.conftest import envelope


class FakeConsumer:
    """A plain paho client on a command topic that answers (or stays silent)."""

    def __init__(self, broker: Broker, name: str, topic: str = "oc2/cmd/all", answer: bool = True) -> None:
        self.name, self.answer = name, answer
        self.received: list[paho.MQTTMessage] = []
        self.got = threading.Event()
        subscribed = threading.Event()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{name}", protocol=paho.MQTTv5)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *a: subscribed.set()
        self.client.on_connect = lambda c, *a: c.subscribe(topic, qos=1)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        assert subscribed.wait(5), f"{name} could not subscribe"

    def _on_message(self, client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
        self.received.append(msg)
        self.got.set()
        if not self.answer:
            return
        command = json.loads(msg.payload)
        answer = {"headers": {"request_id": command["headers"]["request_id"], "from": self.name,
                              "to": [command["headers"]["from"]]},
                  "body": {"openc2": {"response": {"status": 200}}}}
        props = Properties(PacketTypes.PUBLISH)
        props.UserProperty = [("msgType", "rsp"), ("encoding", "json")]
        client.publish("oc2/rsp", json.dumps(answer), qos=1, properties=props)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def consumers(mosquitto: Broker) -> Iterator[list[FakeConsumer]]:
    made: list[FakeConsumer] = []
    yield made
    for consumer in made:
        consumer.close()


def _settings(server: Broker, **kw: object) -> MqttSettings:
    options: dict[str, object] = {"broker": server.url, "collect_seconds": 5.0}
    options.update(kw)
    return MqttSettings(**options)  # type: ignore[arg-type]


def test_broadcast_collects_each_responder_and_reports_the_silent_one(mosquitto: Broker, consumers) -> None:
    consumers += [FakeConsumer(mosquitto, "fw-a"), FakeConsumer(mosquitto, "fw-b"),
                  FakeConsumer(mosquitto, "fw-c", answer=False)]
    with MqttTransport(_settings(mosquitto, expected_responders=("fw-a", "fw-b", "fw-c"),
                                 collect_seconds=1.5), "edge") as transport:
        message = envelope()
        collected = transport.send(message)
    assert sorted(r.responder for r in collected.replies) == ["fw-a", "fw-b"]
    assert collected.missing == ["fw-c"]
    assert all(r.message["headers"]["request_id"] == message["headers"]["request_id"] for r in collected.replies)
    assert consumers[2].got.is_set()  # it did receive the command


def test_collection_stops_as_soon_as_every_expected_responder_answered(mosquitto: Broker, consumers) -> None:
    consumers += [FakeConsumer(mosquitto, "fw-a"), FakeConsumer(mosquitto, "fw-b")]
    done = threading.Event()
    with MqttTransport(_settings(mosquitto, expected_responders=("fw-a", "fw-b"), collect_seconds=60),
                       "edge") as transport:
        worker = threading.Thread(target=lambda: (transport.send(envelope()), done.set()))
        worker.start()
        assert done.wait(10), "send kept waiting although every expected responder answered"
        worker.join()


def test_command_publish_properties_follow_the_mqtt_transfer_spec(mosquitto: Broker, consumers) -> None:
    consumers.append(FakeConsumer(mosquitto, "probe", topic="oc2/cmd/ap/slpf", answer=False))
    with MqttTransport(_settings(mosquitto, topic="oc2/cmd/ap/slpf"), "edge") as transport:
        message = envelope()
        assert transport.send(message, await_response=False).replies == []
    assert consumers[0].got.wait(5)
    msg = consumers[0].received[0]
    props = msg.properties
    assert json.loads(msg.payload) == message
    assert msg.qos == 1 and not msg.retain
    assert props.ContentType == "application/openc2"
    assert props.PayloadFormatIndicator == 1
    assert props.UserProperty == [("msgType", "req"), ("encoding", "json")]
    assert not hasattr(props, "ResponseTopic")


def test_answers_for_unknown_request_ids_and_on_the_producer_topic(mosquitto: Broker) -> None:
    """A stray answer is ignored; one on oc2/rsp/<producer_id> is collected."""
    stray = paho.Client(CallbackAPIVersion.VERSION2, client_id="test-stray", protocol=paho.MQTTv5)
    got = threading.Event()

    def on_message(client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
        rid = json.loads(msg.payload)["headers"]["request_id"]
        for request_id, sender in (("not-ours", "ghost"), (rid, "fw-direct")):
            client.publish("oc2/rsp/soar@example.com", json.dumps(
                {"headers": {"request_id": request_id, "from": sender},
                 "body": {"openc2": {"response": {"status": 200}}}}), qos=1)
        got.set()
    stray.on_message = on_message
    subscribed = threading.Event()
    stray.on_subscribe = lambda *a: subscribed.set()
    stray.connect(mosquitto.host, mosquitto.port)
    stray.subscribe("oc2/cmd/device/fw-direct", qos=1)
    stray.loop_start()
    try:
        assert subscribed.wait(5)
        with MqttTransport(_settings(mosquitto, topic="oc2/cmd/device/fw-direct",
                                     expected_responders=("fw-direct",)), "direct") as transport:
            collected = transport.send(envelope())
    finally:
        stray.disconnect()
        stray.loop_stop()
    assert [r.responder for r in collected.replies] == ["fw-direct"]
    assert collected.missing == []


def test_tls_to_the_broker_with_the_dev_pki(mosquitto: Broker, pki: Pki) -> None:
    assert mosquitto.tls_url is not None
    with MqttTransport(_settings(mosquitto, broker=mosquitto.tls_url, ca=pki.ca_cert), "tls") as transport:
        assert transport.send(envelope(), await_response=False).missing == []


def test_tls_to_a_broker_with_an_untrusted_ca_is_refused(mosquitto: Broker, pki: Pki) -> None:
    assert mosquitto.tls_url is not None
    transport = MqttTransport(_settings(mosquitto, broker=mosquitto.tls_url, ca=pki.other_ca_cert), "tls")
    with pytest.raises(TransferError) as err:
        transport.send(envelope(), await_response=False)
    assert err.value.kind == "tls"
    transport.close()


def test_a_tls_file_that_cannot_be_loaded_is_a_config_error_naming_the_broker(mosquitto: Broker, tmp_path) -> None:
    """Not an OpenSSL traceback out of the first send: what failed, for which consumer and broker."""
    assert mosquitto.tls_url is not None
    transport = MqttTransport(_settings(mosquitto, broker=mosquitto.tls_url, ca=str(tmp_path / "no-ca.pem")), "tls")
    with pytest.raises(TransferError) as err:
        transport.send(envelope(), await_response=False)
    transport.close()
    assert err.value.kind == "config"
    assert "consumer tls via broker" in err.value.detail and "could not be loaded" in err.value.detail
    assert "No such file" in err.value.detail


def test_broker_down_is_a_connect_error_and_recovers_after_restart(fresh_mosquitto: Broker) -> None:
    transport = MqttTransport(_settings(fresh_mosquitto, connect_timeout=0.5), "edge")
    try:
        assert transport.send(envelope(), await_response=False).replies == []
        fresh_mosquitto.stop()
        with pytest.raises(TransferError) as err:
            transport.send(envelope(), await_response=False)
        assert err.value.kind == "connect"
        fresh_mosquitto.start()
        transport.settings.connect_timeout = 10
        assert transport.send(envelope(), await_response=False).replies == []
    finally:
        transport.close()


def test_broker_not_running_at_first_send(fresh_mosquitto: Broker) -> None:
    fresh_mosquitto.stop()
    with pytest.raises(TransferError) as err:
        MqttTransport(_settings(fresh_mosquitto), "edge").send(envelope())
    assert err.value.kind == "connect" and str(fresh_mosquitto.port) in err.value.detail


def test_many_concurrent_sends_on_one_transport(mosquitto: Broker, consumers) -> None:
    consumers.append(FakeConsumer(mosquitto, "fw-a"))
    results: list[int] = []
    with MqttTransport(_settings(mosquitto, expected_responders=("fw-a",)), "edge") as transport:
        def one() -> None:
            collected = transport.send(envelope())
            results.append(len(collected.replies))
        threads = [threading.Thread(target=one) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(15)
    assert results == [1] * 20


# --- response_requested and interim answers ------------------------------------

def _command(rr: str | None) -> dict:
    command = {"action": "deny", "target": {"ipv4_net": "198.51.100.0/24"}}
    if rr is not None:
        command["args"] = {"response_requested": rr}
    return envelope(command)


def _statuses(collected, responder: str) -> list[int]:
    return [r.message["body"]["openc2"]["response"]["status"] for r in collected.replies if r.responder == responder]


def test_complete_waits_past_an_interim_102_for_the_final_answer(mosquitto: Broker) -> None:
    from tests.fixtures.mqtt_peer import ScriptedResponder

    slow = ScriptedResponder(mosquitto.host, mosquitto.port, "fw-slow", statuses=(102, 200), work_seconds=0.5)
    quick = ScriptedResponder(mosquitto.host, mosquitto.port, "fw-quick")
    try:
        with MqttTransport(_settings(mosquitto, expected_responders=("fw-slow", "fw-quick"), collect_seconds=30),
                           "edge") as transport:
            for rr in ("complete", None):                        # explicit and default
                collected = transport.send(_command(rr))
                assert _statuses(collected, "fw-slow") == [102, 200], rr
                assert _statuses(collected, "fw-quick") == [200], rr
                assert collected.missing == []
    finally:
        slow.close()
        quick.close()


def test_ack_is_settled_by_the_102(mosquitto: Broker) -> None:
    from tests.fixtures.mqtt_peer import ScriptedResponder

    acker = ScriptedResponder(mosquitto.host, mosquitto.port, "fw-ack", statuses=(102,))
    try:
        with MqttTransport(_settings(mosquitto, expected_responders=("fw-ack",), collect_seconds=30),
                           "edge") as transport:
            collected = transport.send(_command("ack"))
    finally:
        acker.close()
    assert _statuses(collected, "fw-ack") == [102] and collected.missing == []


def test_complete_with_only_a_102_keeps_collecting_until_the_window_closes(mosquitto: Broker) -> None:
    from tests.fixtures.mqtt_peer import ScriptedResponder

    stuck = ScriptedResponder(mosquitto.host, mosquitto.port, "fw-stuck", statuses=(102,))
    try:
        with MqttTransport(_settings(mosquitto, expected_responders=("fw-stuck",), collect_seconds=1),
                           "edge") as transport:
            collected = transport.send(_command("complete"))
    finally:
        stuck.close()
    assert _statuses(collected, "fw-stuck") == [102]
    assert collected.missing == []                               # it answered, only not finally


def test_response_requested_is_read_from_the_envelope() -> None:
    from fn_openc2.lib.transfer.mqtt import response_requested

    assert response_requested(_command(None)) == "complete"
    assert response_requested(_command("ack")) == "ack"
    assert response_requested(_command("none")) == "none"
    assert response_requested({"body": {"openc2": {"request": {"args": None}}}}) == "complete"
