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


# --- response_requested over MQTT -------------------------------------------------

def _deny(rr: str) -> dict:
    return {**DENY, "args": {"response_requested": rr}}


def test_complete_answer_is_the_final_one_after_an_interim_102(mosquitto: Any) -> None:
    from tests.fixtures.mqtt_peer import ScriptedResponder

    slow = ScriptedResponder(mosquitto.host, mosquitto.port, "fw-slow@example.com", topic="oc2/cmd/ap/slpf",
                             statuses=(102, 200), work_seconds=0.5)
    try:
        reg = registry(edge=_edge(mosquitto, expected_responders="fw-slow@example.com", collect_seconds="30"))
        with Producer(reg) as producer:
            (answer,) = producer.send(_deny("complete"), "edge").answers
    finally:
        slow.close()
    assert answer.responder == "fw-slow@example.com"
    assert answer.ok and answer.status == 200, answer.error


def test_complete_with_only_an_interim_answer_is_an_error(mosquitto: Any) -> None:
    from tests.fixtures.mqtt_peer import ScriptedResponder

    stuck = ScriptedResponder(mosquitto.host, mosquitto.port, "fw-stuck@example.com", topic="oc2/cmd/ap/slpf",
                              statuses=(102,))
    try:
        reg = registry(edge=_edge(mosquitto, expected_responders="fw-stuck@example.com", collect_seconds="1"))
        with Producer(reg) as producer:
            (answer,) = producer.send(_deny("complete"), "edge").answers
    finally:
        stuck.close()
    assert answer.status == 102 and not answer.ok
    assert "only an interim answer" in (answer.error or "")


def test_ack_over_mqtt_counts_the_102_as_success(mosquitto: Any, two_consumers: Any) -> None:
    reg = registry(edge=_edge(mosquitto, expected_responders="fw-a@example.com, fw-b@example.com",
                              collect_seconds="30"))
    with Producer(reg) as producer:
        outcome = producer.send(_deny("ack"), "edge")
    assert sorted(a.responder or "" for a in outcome.answers) == ["fw-a@example.com", "fw-b@example.com"]
    assert all(a.ok and a.status == 102 for a in outcome.answers)


def test_none_over_mqtt_awaits_nothing_but_the_command_is_delivered(mosquitto: Any) -> None:
    from tests.fixtures.mqtt_peer import ScriptedResponder

    listener = ScriptedResponder(mosquitto.host, mosquitto.port, "fw-quiet@example.com", topic="oc2/cmd/ap/slpf",
                                 statuses=())
    try:
        reg = registry(edge=_edge(mosquitto, expected_responders="fw-quiet@example.com", collect_seconds="30"))
        with Producer(reg) as producer:
            outcome = producer.send(_deny("none"), "edge")
        (answer,) = outcome.answers
        assert answer.ok and answer.status is None and answer.error is None
        assert listener.got.wait(10), "the command never reached the consumer"
    finally:
        listener.close()
    assert listener.received[0]["headers"]["request_id"] == outcome.request_id


# --- "auto" routing for a fleet behind one topic -----------------------------------

def test_auto_routing_merges_the_features_of_every_responder(mosquitto: Any) -> None:
    from fn_openc2.lib.consumer import Actuator, MqttConsumer

    members = [MqttConsumer(Actuator("fw@example.com", profiles=("slpf",), rate_limit=600),
                            mosquitto.host, mosquitto.port, client_id="auto-fw"),
               MqttConsumer(Actuator("edr@example.com", profiles=("er",), rate_limit=120),
                            mosquitto.host, mosquitto.port, client_id="auto-edr")]
    for member in members:
        member.start()
    try:
        reg = registry(fleet={"transport": "mqtt", "broker": mosquitto.url, "topic": "oc2/cmd/all",
                              "expected_responders": "fw@example.com, edr@example.com", "collect_seconds": "30"})
        with Producer(reg) as producer:
            features = producer.query_features("fleet")
            assert len(features.answers) == 2 and all(a.ok for a in features.answers)
            cached = producer.capabilities.get("fleet")
            assert cached is not None and set(cached.profiles) == {"slpf", "er"}
            assert cached.supports("deny", "ipv4_net") and cached.supports("contain", "device")
            assert producer.rate_limits.limit("fleet") == 120          # the lowest: every member gets each message
            deny = producer.send(DENY, "auto")                         # only the slpf member lists deny ipv4_net
            contain = producer.send({"action": "contain", "target": {"device": {"hostname": "pc1"}}}, "auto")
    finally:
        for member in members:
            member.stop()
    assert {a.consumer for a in deny.answers} == {"fleet"}
    assert {a.consumer for a in contain.answers} == {"fleet"}
    deny_by = {a.responder: a.status for a in deny.answers}
    contain_by = {a.responder: a.status for a in contain.answers}
    assert deny_by == {"fw@example.com": 200, "edr@example.com": 501}
    assert contain_by == {"fw@example.com": 501, "edr@example.com": 200}


# --- broker TLS with username and password ------------------------------------------

def test_broker_over_tls_with_username_and_password(pki: Any, tmp_path: Any) -> None:
    import ssl

    from fn_openc2.lib.consumer import Actuator, MqttConsumer
    from fn_openc2.lib.transfer.broker import start_mosquitto

    tls = ssl.create_default_context(cafile=pki.ca_cert)
    with start_mosquitto(tls=pki, passwords={"soar": "producer-pw", "fw": "consumer-pw"},
                         workdir=str(tmp_path)) as broker:
        consumer = MqttConsumer(Actuator("fw-tls@example.com", profiles=("slpf",)), broker.host,
                                broker.tls_port, tls=tls, username="fw", password="consumer-pw").start()
        try:
            section = {"transport": "mqtt", "broker": broker.tls_url, "topic": "oc2/cmd/ap/slpf", "verify": pki.ca_cert,
                       "username": "soar", "password": "producer-pw",
                       "expected_responders": "fw-tls@example.com", "collect_seconds": "30"}
            with Producer(registry(edge=section)) as producer:
                (answer,) = producer.send(DENY, "edge").answers
            wrong = {**section, "password": "guessed-pw"}
            with Producer(registry(edge=wrong)) as producer:
                (refused,) = producer.send(DENY, "edge").answers
        finally:
            consumer.stop()
    assert answer.ok and answer.status == 200 and answer.responder == "fw-tls@example.com"
    assert not refused.ok and refused.consumer == "edge"
    assert (refused.error or "").startswith("connect") and "guessed-pw" not in (refused.error or "")
    assert refused.status is None


def test_fleet_broadcast_five_answer_and_the_silent_one_is_named(mosquitto: Any) -> None:
    from fn_openc2.lib.consumer import Fleet

    fleet = Fleet.of(5, mosquitto.host, mosquitto.port, prefix="edge", profiles=("slpf",),
                     client_id="producer-test-fleet").start()
    try:
        expected = [f"edge-{n}@example.com" for n in range(5)] + ["edge-down@example.com"]
        reg = registry(edge=_edge(mosquitto, expected_responders=", ".join(expected), collect_seconds="1.5"))
        with Producer(reg) as producer:
            outcome = producer.send(DENY, "edge")
    finally:
        fleet.stop()
    by_responder = {a.responder: a for a in outcome.answers}
    assert sorted(by_responder) == sorted(expected) and len(outcome.answers) == 6
    for name in expected[:5]:
        assert by_responder[name].ok and by_responder[name].status == 200
        assert by_responder[name].results == {"slpf": {"rule_number": 1}}
    assert by_responder["edge-down@example.com"].error == "no answer within 1.5s"
    assert all(len(a.snapshot()["rules"]) == 1 for a in fleet.actuators)     # each acted once
