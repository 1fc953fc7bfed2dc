"""The producer end to end over real HTTPS (mutual TLS) against the reference consumer."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from fn_openc2.lib.consumer import Actuator, HttpsConsumerServer
from fn_openc2.lib.language import build_command
from fn_openc2.lib.producer.producer import Producer
from fn_openc2.lib.security import load_public_key, verify_message
from fn_openc2.lib.transfer.devpki import Pki
from tests.producer.helpers import https_section, registry, write_keypair

DENY = {"action": "deny", "target": {"ipv4_net": "198.51.100.0/24"}}


def _with_rr(rr: str) -> dict:
    return {**DENY, "args": {"response_requested": rr}}


class TamperingActuator(Actuator):
    """A consumer (or a man in the middle) whose answers change after signing."""

    def handle(self, message: Any, request_id: str | None = None) -> dict | None:
        answer = super().handle(message, request_id)
        if answer is not None:
            answer["body"]["openc2"]["response"]["status_text"] = "tampered"
        return answer


def _serve(actuator: Actuator, pki: Pki) -> HttpsConsumerServer:
    return HttpsConsumerServer(actuator, "127.0.0.1", 0, tls_cert=pki.server_cert, tls_key=pki.server_key,
                               client_ca=pki.ca_cert).start()


def _section(server: HttpsConsumerServer, pki: Pki, **extra: str) -> dict[str, str]:
    return {"url": server.url, "verify": pki.ca_cert, "client_auth_cert": pki.client_cert,
            "client_auth_key": pki.client_key, "timeout": "10", "retries": "0", **extra}


def test_signed_command_is_verified_by_the_consumer(pki: Pki, tmp_path: Path,
                                                    consumer_signing_key: tuple[str, str]) -> None:
    """The consumer's verify_key option: the producer's signed command is executed."""
    private, public = write_keypair(tmp_path, "producer")
    actuator = RecordingActuator("fw1@example.com", verify_key=public, signing_key=consumer_signing_key[0])
    server = _serve(actuator, pki)
    try:
        reg = registry({"signing_key": private, "producer_id": "soar@test"},
                       fw1=_section(server, pki, device_id="fw1@example.com"))   # headers.to: checked
        with Producer(reg) as producer:
            outcome = producer.send(DENY, ["fw1"])
    finally:
        server.stop()
    (received,) = actuator.messages
    verify_message(received, load_public_key(public))              # the envelope as it arrived verifies
    headers = received["headers"]
    assert headers["from"] == "soar@test" and headers["to"] == ["fw1@example.com"]
    assert headers["request_id"] == outcome.request_id == outcome.answers[0].request_id
    assert isinstance(headers["created"], int) and headers["created"] > 1_600_000_000_000
    assert outcome.answers[0].ok and outcome.answers[0].status == 200
    assert [r["command_id"] for r in actuator.snapshot()["rules"]] == [outcome.request_id]


@pytest.mark.parametrize("signer", ["none", "stranger"])
def test_consumer_refuses_unsigned_or_wrongly_signed_commands(pki: Pki, tmp_path: Path, signer: str) -> None:
    """A consumer that requires signatures answers 401 and does nothing; the producer reports it."""
    _private, public = write_keypair(tmp_path, "producer")
    stranger, _ = write_keypair(tmp_path, "stranger")
    actuator = Actuator("fw1@example.com", verify_key=public)
    server = _serve(actuator, pki)
    producer_settings = {"signing_key": stranger} if signer == "stranger" else {}
    try:
        with Producer(registry(producer_settings, fw1=_section(server, pki))) as producer:
            (answer,) = producer.send(DENY, "fw1").answers
    finally:
        server.stop()
    assert answer.status == 401 and answer.error is None   # an OpenC2 answer, not a transport failure
    expected = "command signature invalid" if signer == "stranger" else "command signature required"
    assert (answer.status_text or "").startswith(expected)
    assert actuator.snapshot()["rules"] == []


def test_signed_response_is_verified(reference_consumer: Any) -> None:
    reg = registry(fw1=https_section(reference_consumer))
    with Producer(reg) as producer:
        outcome = producer.send(DENY, "fw1")
    (answer,) = outcome.answers
    assert answer.ok, answer.error
    assert answer.signature == "verified" and answer.status == 200
    assert answer.responder == reference_consumer.device_id


def test_tampered_response_is_invalid(pki: Pki, consumer_signing_key: tuple[str, str]) -> None:
    private, public = consumer_signing_key
    server = _serve(TamperingActuator("fw1@example.com", signing_key=private), pki)
    try:
        reg = registry(fw1=_section(server, pki, response_verify_key=public))
        with Producer(reg) as producer:
            outcome = producer.send(DENY, "fw1")
    finally:
        server.stop()
    (answer,) = outcome.answers
    assert answer.signature == "invalid"
    assert answer.status == 200 and not answer.ok          # keeps its status, but is not trusted
    assert answer.error is not None and answer.error.startswith("response signature invalid")


def test_unsigned_response_without_key_is_reported_unsigned(start_consumer: Callable[..., Any]) -> None:
    consumer = start_consumer(signed=False)
    with Producer(registry(fw1=https_section(consumer))) as producer:
        (answer,) = producer.send(DENY, "fw1").answers
    assert answer.ok and answer.signature == "unsigned"


def test_unsigned_response_with_key_configured_is_not_ok(start_consumer: Callable[..., Any],
                                                         consumer_signing_key: tuple[str, str]) -> None:
    """A consumer expected to sign (response_verify_key set) that answers unsigned is not trusted."""
    consumer = start_consumer(signed=False)
    section = https_section(consumer, response_verify_key=consumer_signing_key[1])
    with Producer(registry(fw1=section)) as producer:
        (answer,) = producer.send(DENY, "fw1").answers
    assert answer.signature == "unsigned" and answer.status == 200 and not answer.ok
    assert answer.error == "response not signed but response_verify_key is configured"


def test_response_requested_none_awaits_nothing(reference_consumer: Any) -> None:
    with Producer(registry(fw1=https_section(reference_consumer))) as producer:
        (answer,) = producer.send(_with_rr("none"), "fw1").answers
    assert answer.ok and answer.status is None and answer.error is None
    assert reference_consumer.server.request_log.count == 1


def test_response_requested_ack_counts_102_as_success(reference_consumer: Any) -> None:
    with Producer(registry(fw1=https_section(reference_consumer))) as producer:
        (answer,) = producer.send(_with_rr("ack"), "fw1").answers
    assert answer.ok and answer.status == 102


def test_response_requested_complete_waits_for_the_final_answer(reference_consumer: Any) -> None:
    with Producer(registry(fw1=https_section(reference_consumer))) as producer:
        (answer,) = producer.send(_with_rr("complete"), "fw1").answers
    assert answer.ok and answer.status == 200


def test_v1_0_dialect_consumer(start_consumer: Callable[..., Any]) -> None:
    consumer = start_consumer(dialect="https-v1.0")
    reg = registry(fw1=https_section(consumer, dialect="https-v1.0"))
    with Producer(reg) as producer:
        (answer,) = producer.send(DENY, "fw1").answers
    assert answer.ok, answer.error
    assert answer.status == 200 and answer.http_status == 200
    # the bare v1.0 body has no place for a signature: recorded, not counted as a failure
    assert answer.signature == "unsigned" and "no place for a signature" in (answer.signature_reason or "")


def test_refusals_send_nothing(reference_consumer: Any) -> None:
    log = reference_consumer.server.request_log
    reg = registry({"protected_networks": "10.0.0.0/8"}, fw1=https_section(reference_consumer))
    with Producer(reg) as producer:
        guarded = producer.send({"action": "deny", "target": {"ipv4_net": "10.0.0.0/7"}}, "fw1")
        own = producer.send({"action": "contain", "target": {"ipv4_net": "127.0.0.1"}}, "fw1")
        invalid = producer.send({"action": "deny", "target": {"ipv4_net": "not-an-address"}}, "fw1")
        unknown = producer.send(DENY, ["fw1", "fw9"])
    assert guarded.refused and "10.0.0.0/8" in guarded.refused and "10.0.0.0/7" in guarded.refused
    assert own.refused and "127.0.0.1" in own.refused
    assert invalid.refused and "target.ipv4_net" in invalid.refused
    assert unknown.refused and "'fw9'" in unknown.refused and "fw1" in unknown.refused
    for outcome in (guarded, own, invalid, unknown):
        assert outcome.answers == []
    assert log.count == 0


def test_every_consumer_answers_once_even_when_unreachable(reference_consumer: Any, pki: Pki) -> None:
    dead = {"url": "https://127.0.0.1:9/.well-known/openc2", "verify": pki.ca_cert, "timeout": "5",
            "retries": "0"}
    reg = registry({"default_consumers": "fw1, dead"}, fw1=https_section(reference_consumer), dead=dead)
    with Producer(reg) as producer:
        outcome = producer.send(build_command("deny", {"ipv4_net": "198.51.100.7"}))
    by_name = {a.consumer: a for a in outcome.answers}
    assert sorted(by_name) == ["dead", "fw1"]
    assert by_name["fw1"].ok
    assert not by_name["dead"].ok and "connect" in (by_name["dead"].error or "")
    assert by_name["fw1"].request_id != by_name["dead"].request_id


def test_wrong_ca_is_a_tls_error(reference_consumer: Any, pki: Pki) -> None:
    reg = registry(fw1=https_section(reference_consumer, verify=pki.other_ca_cert))
    with Producer(reg) as producer:
        (answer,) = producer.send(DENY, "fw1").answers
    assert not answer.ok and (answer.error or "").startswith("tls")


@pytest.mark.parametrize("dialect", ["https-v1.1", "https-v1.1-status", "https-v1.0"])
def test_a_wrong_url_path_is_an_http_404_that_is_not_an_openc2_answer(
        dialect: str, start_consumer: Callable[..., Any]) -> None:
    """A consumer reached at a path it does not serve answers like any web server (plain HTTP
    404 "Not Found"): the producer says so in the peer's words first, then what is wrong and
    where, never as the consumer's OpenC2 404 verdict, even where the status is in the HTTP line."""
    consumer = start_consumer(dialect)
    served = consumer.server.dialect.path
    base = consumer.url[: -len(served)]
    wrong = base + ("/openc2" if served != "/openc2" else "/.well-known/openc2")
    extra = {"dialect": "https-v1.0"} if dialect == "https-v1.0" else {}
    with Producer(registry(fw1=https_section(consumer, url=wrong, **extra))) as producer:
        (answer,) = producer.send(DENY, "fw1").answers
    assert not answer.ok and answer.status is None and answer.http_status == 404 and answer.responder is None
    assert answer.error == (
        f"http: HTTP 404 Not Found: 'Not Found' (text/plain; charset=utf-8, not an OpenC2 response) from "
        f"consumer fw1 at {wrong}: no OpenC2 endpoint at this URL's path; check the consumer's url and path keys")
    assert answer.line() == f"fw1: {answer.error}"            # what the incident note and the CLI show
    log = consumer.server.request_log.entries
    assert [(e.method, e.path, e.http_status) for e in log] == [("POST", wrong.removeprefix(base), 404)]
    assert consumer.actuator.snapshot()["rules"] == []


def test_query_features_fills_the_cache_for_auto_routing(start_consumer: Callable[..., Any]) -> None:
    fw = start_consumer(profiles=("slpf",), rate_limit=600, device_id="fw@example.com")
    edr = start_consumer(profiles=("er",), device_id="edr@example.com")
    reg = registry(fw=https_section(fw), edr=https_section(edr))
    with Producer(reg) as producer:
        features = producer.query_features(["fw", "edr"])
        assert all(a.ok and a.status == 200 for a in features.answers)
        assert producer.capabilities.get("fw") is not None
        assert producer.rate_limits.limit("fw") == 600
        deny_net = producer.send(DENY, "auto")
        contain = producer.send({"action": "contain", "target": {"device": {"hostname": "pc1.example.com"}}},
                                "auto")
    assert [a.consumer for a in deny_net.answers] == ["fw"]
    assert [a.consumer for a in contain.answers] == ["edr"]


def test_send_many_reuses_connections(reference_consumer: Any) -> None:
    commands = [build_command("deny", {"ipv4_net": f"198.51.100.{i}"}) for i in range(20)]
    with Producer(registry(fw1=https_section(reference_consumer))) as producer:
        outcomes = producer.send_many(commands, "fw1", concurrency=4)
    assert len(outcomes) == 20 and all(o.ok for o in outcomes)
    ids = [o.request_id for o in outcomes]
    assert len(set(ids)) == 20
    assert sorted(reference_consumer.server.request_log.request_ids) == sorted(ids)


class BrokenActuator(Actuator):
    """A consumer whose answers break the language spec."""

    def handle(self, message: Any, request_id: str | None = None) -> dict | None:
        answer = super().handle(message, request_id)
        if answer is not None:
            answer["body"]["openc2"]["response"]["results"] = {"versions": "2.0"}
        return answer


def test_invalid_response_is_read_with_a_warning_naming_its_json_path(pki: Pki) -> None:
    """Tolerant reading (issue 10.3): the status can be read, so it is an answer; the deviation is a warning."""
    server = _serve(BrokenActuator("fw1@example.com"), pki)
    try:
        with Producer(registry(fw1=_section(server, pki))) as producer:
            (answer,) = producer.send(DENY, "fw1").answers
    finally:
        server.stop()
    assert answer.ok and answer.status == 200 and answer.results == {"versions": "2.0"}
    assert answer.warnings == ["body.openc2.response.results.versions: expected an array, got '2.0' (string)"]


def test_rate_limit_is_honoured_per_consumer(reference_consumer: Any) -> None:
    from fn_openc2.lib.producer.ratelimit import RateLimits

    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limits = RateLimits(clock=lambda: now[0], sleep=sleep)
    reg = registry(fw1=https_section(reference_consumer, rate_limit="60"))
    with Producer(reg, rate_limits=limits) as producer:
        outcomes = [producer.send(DENY, "fw1") for _ in range(3)]
    assert all(o.ok for o in outcomes)
    assert slept == [pytest.approx(1.0), pytest.approx(1.0)]


def test_signing_key_problems_fail_at_start(tmp_path: Path) -> None:
    from fn_openc2.lib.producer.errors import ConfigError

    private, public = write_keypair(tmp_path, "producer")
    with pytest.raises(ConfigError, match=r"^\[fn_openc2\] signing_alg: RS256 does not fit the signing_key"):
        Producer(registry({"signing_key": private, "signing_alg": "RS256"}))
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    with pytest.raises(ConfigError, match=r"^\[fn_openc2\] signing_key: cannot load the private key"):
        Producer(registry({"signing_key": str(garbage)}))
    with pytest.raises(ConfigError, match=r"^\[fn_openc2:fw1\] response_verify_key: cannot load the public key"):
        Producer(registry(fw1={"url": "https://127.0.0.1:9/", "response_verify_key": str(garbage)}))


class RecordingActuator(Actuator):
    """A consumer that keeps every envelope it received."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.messages: list[dict] = []

    def handle(self, message: Any, request_id: str | None = None) -> dict | None:
        self.messages.append(message)
        return super().handle(message, request_id)


@pytest.mark.parametrize("encoding, expected", [
    ("string", {"profile": "slpf"}),
    ("object", {"profile": {"slpf": {}}}),
    ("actuator", {"actuator": {"slpf": {}}}),
])
def test_command_is_adapted_to_the_profile_encoding(pki: Pki, encoding: str, expected: dict) -> None:
    actuator = RecordingActuator("fw1@example.com")
    server = _serve(actuator, pki)
    try:
        reg = registry(fw1=_section(server, pki, profile_encoding=encoding, device_id="fw1@example.com"))
        with Producer(reg) as producer:
            outcome = producer.send({**DENY, "profile": "slpf"}, "fw1")
    finally:
        server.stop()
    (received,) = actuator.messages
    request = received["body"]["openc2"]["request"]
    assert {k: v for k, v in request.items() if k in ("profile", "actuator")} == expected
    assert received["headers"]["to"] == ["fw1@example.com"]
    assert outcome.command["profile"] == "slpf"       # the outcome keeps the command as the producer wrote it
