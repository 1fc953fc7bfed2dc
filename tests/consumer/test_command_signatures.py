"""The reference consumer with a verify key: only signed commands that verify
are executed; unsigned, tampered or wrongly keyed ones get 401 and change nothing.
Checked through the Python API, over real HTTPS (both dialects) and MQTT."""
from __future__ import annotations

import time
import json
import queue
import uuid
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import requests
from paho.mqtt.enums import CallbackAPIVersion

from fn_openc2.lib.consumer import Actuator, MqttConsumer
from fn_openc2.lib.security import load_private_key, sign_message
from tests.fixtures.consumer import RunningConsumer
from tests.producer.helpers import write_keypair

V11 = "application/openc2+json;version=1.0"
V10_CMD = "application/openc2-cmd+json;version=1.0"
DENY = {"action": "deny", "target": {"ipv4_net": "198.51.100.0/24"}}


@pytest.fixture(scope="module")
def producer_keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    directory = tmp_path_factory.mktemp("producer-keys")
    private, public = write_keypair(directory, "producer")
    other_private, other_public = write_keypair(directory, "stranger")
    return {"private": private, "public": public, "other_private": other_private}


def envelope(command: dict, request_id: str | None = None, to: str = "fw1@example.com") -> dict:
    return {"headers": {"request_id": request_id or str(uuid.uuid4()), "created": int(time.time() * 1000),
                        "from": "soar@example.com", "to": [to]},
            "body": {"openc2": {"request": command}}}


def signed(command: dict, key_path: str, request_id: str | None = None, to: str = "fw1@example.com") -> dict:
    return sign_message(envelope(command, request_id, to), load_private_key(key_path))


def status(answer: dict | None) -> tuple[int, str]:
    assert answer is not None
    response = answer["body"]["openc2"]["response"]
    return response["status"], response.get("status_text", "")


def test_actuator_executes_only_commands_that_verify(producer_keys: dict[str, str]) -> None:
    actuator = Actuator("fw1@example.com", verify_key=producer_keys["public"])
    assert actuator.verifies_signatures

    code, text = status(actuator.handle(envelope(DENY)))
    assert code == 401 and text.startswith("command signature required")

    tampered = signed(DENY, producer_keys["private"])
    tampered["body"]["openc2"]["request"]["target"] = {"ipv4_net": "203.0.113.0/24"}
    code, text = status(actuator.handle(tampered))
    assert code == 401 and text.startswith("command signature invalid")

    code, text = status(actuator.handle(signed(DENY, producer_keys["other_private"])))
    assert code == 401 and text.startswith("command signature invalid")

    garbage = {**envelope(DENY), "signature": "not-a-jws"}
    code, text = status(actuator.handle(garbage))
    assert code == 401 and text.startswith("command signature invalid")

    assert actuator.snapshot()["rules"] == []                     # nothing above had an effect

    answer = actuator.handle(signed(DENY, producer_keys["private"], "good-1"))
    assert status(answer)[0] == 200
    assert answer is not None and answer["headers"]["request_id"] == "good-1"
    assert [r["command_id"] for r in actuator.snapshot()["rules"]] == ["good-1"]


def test_bare_commands_are_refused_when_signatures_are_required(producer_keys: dict[str, str]) -> None:
    actuator = Actuator("fw1@example.com", verify_key=producer_keys["public"])
    response = actuator.respond(DENY, "bare-1")
    assert response is not None and response["status"] == 401
    assert "bare command cannot carry" in response["status_text"]
    assert actuator.snapshot()["rules"] == []


def test_without_a_verify_key_signatures_are_not_required() -> None:
    actuator = Actuator("fw1@example.com")
    assert not actuator.verifies_signatures
    assert status(actuator.handle(envelope(DENY)))[0] == 200


def test_verify_key_that_is_not_a_key_fails_at_construction(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    with pytest.raises(ValueError):
        Actuator("fw1@example.com", verify_key=str(garbage))


def _post(c: RunningConsumer, body: object, content_type: str = V11, **headers: str) -> requests.Response:
    return requests.post(c.url, data=json.dumps(body), verify=c.ca, cert=(c.client_cert, c.client_key),
                         headers={"Content-Type": content_type, **headers}, timeout=10)


def test_https_v11_consumer_answers_401_in_the_body(start_consumer: Callable[..., RunningConsumer],
                                                    producer_keys: dict[str, str]) -> None:
    c = start_consumer(signed=False, verify_key=producer_keys["public"])
    unsigned = _post(c, envelope(DENY, "u-1"), **{"X-Request-ID": "u-1"})
    assert unsigned.status_code == 200                            # v1.1: the status lives in the body
    body = unsigned.json()
    assert body["headers"]["request_id"] == "u-1"
    assert status(body)[0] == 401 and "signature required" in status(body)[1]
    assert c.actuator.snapshot()["rules"] == []

    good = _post(c, signed(DENY, producer_keys["private"], "s-1"), **{"X-Request-ID": "s-1"})
    assert status(good.json())[0] == 200
    assert [r["command_id"] for r in c.actuator.snapshot()["rules"]] == ["s-1"]


def test_signed_envelope_without_request_id_still_verifies(start_consumer: Callable[..., RunningConsumer],
                                                           producer_keys: dict[str, str]) -> None:
    """X-Request-ID fills the missing id without touching the signed envelope."""
    c = start_consumer(signed=False, verify_key=producer_keys["public"])
    message = {"headers": {"from": "soar@example.com", "created": int(time.time() * 1000)},
               "body": {"openc2": {"request": DENY}}}
    message = sign_message(message, load_private_key(producer_keys["private"]))
    r = _post(c, message, **{"X-Request-ID": "hdr-only"})
    assert status(r.json())[0] == 200 and r.json()["headers"]["request_id"] == "hdr-only"
    assert c.actuator.snapshot()["rules"][0]["command_id"] == "hdr-only"


def test_status_line_dialects_answer_http_401(start_consumer: Callable[..., RunningConsumer],
                                              producer_keys: dict[str, str]) -> None:
    v11 = start_consumer("https-v1.1-status", signed=False, verify_key=producer_keys["public"])
    r = _post(v11, envelope(DENY))
    assert r.status_code == 401 and status(r.json())[0] == 401
    assert _post(v11, signed(DENY, producer_keys["private"])).status_code == 200

    v10 = start_consumer("https-v1.0", signed=False, verify_key=producer_keys["public"])
    r = _post(v10, DENY, V10_CMD)
    assert r.status_code == 401 and r.json()["status"] == 401
    assert v10.actuator.snapshot()["rules"] == []


def test_mqtt_consumer_refuses_unsigned_commands(mosquitto, producer_keys: dict[str, str]) -> None:
    answers: queue.Queue[dict] = queue.Queue()
    subscribed: queue.Queue[bool] = queue.Queue()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"sig-test-{uuid.uuid4().hex[:8]}",
                         protocol=mqtt.MQTTv5)
    client.on_connect = lambda c, u, f, r, p: c.subscribe("oc2/rsp", qos=1)
    client.on_subscribe = lambda *a: subscribed.put(True)
    client.on_message = lambda c, u, msg: answers.put(json.loads(msg.payload))
    client.connect(mosquitto.host, mosquitto.port)
    client.loop_start()
    actuator = Actuator("mqtt-fw@example.com", verify_key=producer_keys["public"])
    consumer = MqttConsumer(actuator, mosquitto.host, mosquitto.port).start()
    try:
        subscribed.get(timeout=10)
        topic = "oc2/cmd/device/mqtt-fw@example.com"
        client.publish(topic, json.dumps(envelope(DENY, "m-unsigned")), qos=1).wait_for_publish(10)
        first = answers.get(timeout=10)
        client.publish(topic, json.dumps(signed(DENY, producer_keys["private"], "m-signed", "mqtt-fw@example.com")),
                       qos=1).wait_for_publish(10)
        second = answers.get(timeout=10)
    finally:
        consumer.stop()
        client.disconnect()
        client.loop_stop()
    assert first["headers"]["request_id"] == "m-unsigned" and status(first)[0] == 401
    assert second["headers"]["request_id"] == "m-signed" and status(second)[0] == 200
    assert [r["command_id"] for r in actuator.snapshot()["rules"]] == ["m-signed"]
