"""MQTT broadcast through a real mosquitto: one answer per responder, silence reported."""
from __future__ import annotations

from typing import Any

from fn_openc2.lib.producer.producer import Producer
from tests.producer.helpers import registry

DENY = {"action": "deny", "target": {"ipv4_net": "198.51.100.0/24"}}


def _edge(mosquitto: Any, **extra: str) -> dict[str, str]:
    return {"transport": "mqtt", "broker": mosquitto.url, "topic": "oc2/cmd/ap/slpf", **extra}


def test_broadcast_gives_one_answer_per_responder_and_reports_silence(mosquitto: Any, two_consumers: Any) -> None:
    responders = "fw-a@example.com, fw-b@example.com, fw-c@example.com"
    reg = registry({"producer_id": "soar-mqtt-test@example.com"},
                   edge=_edge(mosquitto, expected_responders=responders, collect_seconds="1.5"))
    with Producer(reg) as producer:
        outcome = producer.send(DENY, "edge")
    by_responder = {a.responder: a for a in outcome.answers}
    assert sorted(by_responder) == ["fw-a@example.com", "fw-b@example.com", "fw-c@example.com"]
    for name in ("fw-a@example.com", "fw-b@example.com"):
        assert by_responder[name].ok and by_responder[name].status == 200
        assert by_responder[name].consumer == "edge" and by_responder[name].transport == "mqtt"
    silent = by_responder["fw-c@example.com"]
    assert not silent.ok and silent.error == "no answer within 1.5s" and silent.status is None
    assert {a.request_id for a in outcome.answers} == {outcome.request_id}


def test_broadcast_without_expected_list_collects_whoever_answers(mosquitto: Any, two_consumers: Any) -> None:
    reg = registry(edge=_edge(mosquitto, collect_seconds="1"))
    with Producer(reg) as producer:
        outcome = producer.query_features("edge", ("pairs",))
    assert sorted(a.responder for a in outcome.answers) == ["fw-a@example.com", "fw-b@example.com"]
    assert all(a.ok and a.status == 200 for a in outcome.answers)


def test_nobody_listening_gives_one_failed_answer(mosquitto: Any) -> None:
    reg = registry(edge=_edge(mosquitto, topic="oc2/cmd/device/nobody@example.com", collect_seconds="0.5"))
    with Producer(reg) as producer:
        (answer,) = producer.send(DENY, "edge").answers
    assert answer.consumer == "edge" and answer.error == "no answer within 0.5s"


def test_broker_over_tls_with_the_configured_ca(mosquitto: Any, two_consumers: Any, pki: Any) -> None:
    reg = registry(edge={"transport": "mqtt", "broker": mosquitto.tls_url, "topic": "oc2/cmd/ap/slpf",
                         "verify": pki.ca_cert, "expected_responders": "fw-a@example.com, fw-b@example.com",
                         "collect_seconds": "5"})
    assert reg.consumers["edge"].ca == pki.ca_cert
    with Producer(reg) as producer:
        outcome = producer.send(DENY, "edge")
    assert sorted(a.responder or "" for a in outcome.answers) == ["fw-a@example.com", "fw-b@example.com"]
    assert all(a.ok for a in outcome.answers)


def test_broker_with_an_untrusted_ca_fails_every_responder_once(mosquitto: Any, pki: Any) -> None:
    reg = registry(edge={"transport": "mqtt", "broker": mosquitto.tls_url, "ca": pki.other_ca_cert,
                         "collect_seconds": "1"})
    with Producer(reg) as producer:
        (answer,) = producer.send(DENY, "edge").answers
    assert not answer.ok and answer.consumer == "edge"
    assert (answer.error or "").startswith("tls") and "CERTIFICATE_VERIFY_FAILED" in (answer.error or "")
