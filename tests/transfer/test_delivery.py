"""The transfer layer says what arrived: one Delivery from both transports, each Reply
carrying the answer exactly as received beside its normalised envelope (issue 16.3)."""
from __future__ import annotations

import json
from pathlib import Path

from fn_openc2.lib.security import load_private_key, load_public_key, sign_message, verify_message
from fn_openc2.lib.transfer import Delivery, HttpsSettings, HttpsTransport, MqttSettings, MqttTransport
from fn_openc2.lib.transfer.broker import Broker
from fn_openc2.lib.transfer.devpki import Pki
from tests.producer.helpers import write_keypair
from tests.transfer.conftest import envelope
from tests.transfer.oc2server import Answer, Seen
from tests.transfer.test_mqtt import FakeConsumer


def _https(pki: Pki, url: str, **kw: object) -> HttpsTransport:
    return HttpsTransport(HttpsSettings(url=url, verify=pki.ca_cert, retries=0, **kw), "fw1")  # type: ignore[arg-type]


def test_both_transports_return_one_delivery_type(pki: Pki, peer, mosquitto: Broker) -> None:
    server = peer(lambda req: Answer(200, {"headers": {"request_id": req.json["headers"]["request_id"],
                                                       "from": "fw1@example.com"},
                                           "body": {"openc2": {"response": {"status": 200}}}}))
    with _https(pki, server.url) as https:
        over_https = https.send(envelope())
    responder = FakeConsumer(mosquitto, "fw-delivery")
    try:
        with MqttTransport(MqttSettings(broker=mosquitto.url, expected_responders=("fw-delivery", "fw-silent"),
                                        collect_seconds=3.0), "edge") as mqtt:
            over_mqtt = mqtt.send(envelope())
    finally:
        responder.close()
    assert type(over_https) is Delivery and type(over_mqtt) is Delivery
    assert [r.responder for r in over_https.replies] == ["fw1@example.com"] and over_https.missing == []
    assert [r.responder for r in over_mqtt.replies] == ["fw-delivery"] and over_mqtt.missing == ["fw-silent"]
    for reply in over_https.replies + over_mqtt.replies:
        assert reply.received is not None and not reply.empty and reply.envelope == "full"
    (mqtt_reply,) = over_mqtt.replies
    assert mqtt_reply.received is mqtt_reply.message      # MQTT rewrites nothing: one decode, one object


def test_the_envelope_as_received_is_kept_when_the_transport_fills_headers(pki: Pki, peer, tmp_path: Path) -> None:
    """A consumer that signs an answer without request_id: the transport fills headers.request_id
    (and from) into the normalised envelope; the received form stays as signed, and verifies."""
    private, public = write_keypair(tmp_path, "consumer")
    signed = sign_message({"headers": {"created": 1595268027000},
                           "body": {"openc2": {"response": {"status": 200, "status_text": "done"}}}},
                          load_private_key(private))
    wire = json.dumps(signed).encode()
    server = peer(lambda req: Answer(200, wire, {"X-Request-ID": req.headers["X-Request-ID"],
                                                 "from": "fw1@example.com"}))
    message = envelope()
    with _https(pki, server.url) as https:
        (reply,) = https.send(message).replies
    assert reply.received == json.loads(wire)                           # exactly what was on the wire
    assert "request_id" not in reply.received["headers"] and "from" not in reply.received["headers"]
    assert reply.message["headers"]["request_id"] == message["headers"]["request_id"]
    assert reply.message["headers"]["from"] == "fw1@example.com"
    assert reply.signed and reply.as_signed is reply.received
    verify_message(reply.as_signed, load_public_key(public))          # raises if the form were rewritten


def test_a_bare_answer_keeps_its_own_form_when_its_status_comes_from_the_http_line(pki: Pki, peer) -> None:
    server = peer(lambda req: Answer(501, {"status_text": "not implemented"}))
    with _https(pki, server.url, dialect="https-v1.0") as https:
        (reply,) = https.send(envelope()).replies
    assert reply.received == {"status_text": "not implemented"}            # not wrapped, no status added
    assert reply.message["body"]["openc2"]["response"] == {"status": 501, "status_text": "not implemented"}
    assert reply.envelope == "bare" and not reply.signed and not reply.empty


def test_an_empty_body_is_said_to_be_empty(pki: Pki, peer) -> None:
    def behave(req: Seen) -> Answer:
        return Answer(204, b"")
    server = peer(behave)
    with _https(pki, server.url) as https:
        (reply,) = https.send(envelope()).replies
    assert reply.empty and reply.received is None and reply.http_status == 204
    assert reply.message["body"]["openc2"]["response"] == {"status": 204}
