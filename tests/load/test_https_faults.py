"""1,000 commands through Producer.send_many against a consumer that fails in
every way a real one can: every command ends with exactly one recorded
outcome, retries resend the same request, and nothing is executed twice."""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterator

import pytest
from jwcrypto.jwk import JWK

from fn_openc2.lib.consumer import Actuator
from fn_openc2.lib.language import build_command
from fn_openc2.lib.producer import load_registry
from fn_openc2.lib.producer.producer import Producer
from fn_openc2.lib.transfer.devpki import Pki
from tests.load.faulty_consumer import FaultPlan, FaultyConsumer, every

pytestmark = pytest.mark.slow

COMMANDS = 1000
TIMEOUT = 1.0


def addresses(count: int) -> list[str]:
    """Distinct hosts of the 198.18.0.0/15 benchmark range (never protected)."""
    return [f"198.18.{i // 250}.{i % 250 + 1}" for i in range(count)]


@pytest.fixture
def faulty(pki: Pki, consumer_signing_key: tuple[str, str]) -> Iterator[FaultyConsumer]:
    plan = FaultPlan([("stall", every(331, 100)), ("503", every(23, 3)), ("reset", every(29, 5)),
                      ("garbage", every(97, 7)), ("bad_signature", every(89, 11))], max_stalls=3)
    actuator = Actuator("faulty-fw@example.com", profiles=("slpf",), signing_key=consumer_signing_key[0])
    server = FaultyConsumer(actuator, pki.server_cert, pki.server_key, plan, stall_seconds=TIMEOUT + 1.0,
                            wrong_key=JWK.generate(kty="EC", crv="P-256")).start()
    yield server
    server.stop()


def test_bulk_run_against_faults(faulty: FaultyConsumer, pki: Pki, consumer_signing_key: tuple[str, str]) -> None:
    registry = load_registry({
        "fn_openc2": {"producer_id": "soar@example.com", "timeout": str(TIMEOUT), "retries": "2"},
        "fn_openc2:fw": {"url": faulty.url, "verify": pki.ca_cert, "profiles": "slpf",
                         "device_id": "faulty-fw@example.com", "response_verify_key": consumer_signing_key[1]}})
    targets = addresses(COMMANDS)
    commands = [build_command("deny", {"ipv4_net": a}, args={"response_requested": "complete"}, profile="slpf")
                for a in targets]
    with Producer(registry) as producer:
        outcomes = producer.send_many(commands, "fw", concurrency=8)

    # exactly one outcome per command, one answer per (command, consumer), in order
    assert len(outcomes) == COMMANDS
    assert [o.command["target"]["ipv4_net"] for o in outcomes] == targets
    for outcome in outcomes:
        assert outcome.refused is None
        assert len(outcome.answers) == 1, outcome.to_dict()
        assert outcome.answers[0].consumer == "fw"
    request_ids = [o.answers[0].request_id for o in outcomes]
    assert len(set(request_ids)) == COMMANDS

    # every fault kind really happened
    faults = Counter(a.fault for a in faulty.arrivals)
    assert all(faults[kind] for kind in ("503", "reset", "stall", "garbage", "bad_signature")), faults

    # retries reuse the request id, in the HTTP header and in the envelope, with the same bytes
    by_id: dict[str, list] = defaultdict(list)
    for arrival in faulty.arrivals:
        assert arrival.header_request_id == arrival.body_request_id
        by_id[arrival.header_request_id].append(arrival)
    assert set(by_id) <= set(request_ids), "a request reached the consumer under an unknown id"
    retried = {rid: arrivals for rid, arrivals in by_id.items() if len(arrivals) > 1}
    assert retried, "no request was retried"
    for rid, arrivals in retried.items():
        assert len(arrivals) <= 3, f"{rid}: more attempts than retries = 2 allows"
        assert len({json.loads(a.body)["body"]["openc2"]["request"]["target"]["ipv4_net"] for a in arrivals}) == 1
        assert all(a.fault in ("503", "reset", "stall") for a in arrivals[:-1]), \
            f"{rid}: retried after a non-retryable answer {[a.fault for a in arrivals]}"

    # what each command's last arrival got decides its outcome
    answers = {o.answers[0].request_id: o.answers[0] for o in outcomes}
    for rid in set(request_ids) - set(by_id):  # never reached the handler: recorded as a transport error
        assert not answers[rid].ok and answers[rid].error and answers[rid].attempts == 3, answers[rid]
    for rid, arrivals in by_id.items():
        answer = answers[rid]
        last = arrivals[-1].fault
        if last == "ok":
            assert answer.ok and answer.status == 200 and answer.signature == "verified", answer
            # an attempt can time out before its request reaches the handler (a 2-core machine under
            # load, TLS handshake included), so the client may count more attempts than arrivals
            assert len(arrivals) <= answer.attempts <= 3, answer
        elif last == "bad_signature":
            assert not answer.ok and answer.signature == "invalid", answer
        elif last == "garbage":
            assert not answer.ok and answer.error, answer
        elif last == "503":  # retries exhausted; the consumer's own 503 answer is what is recorded
            assert len(arrivals) == 3 and answer.status == 503, answer
        else:  # retries exhausted on reset / stall: a transport error
            assert len(arrivals) == 3 and not answer.ok and answer.error, (last, answer)

    # nothing executed twice: one rule per executed command; one per acknowledged command
    rules = faulty.actuator.snapshot()["rules"]
    per_command = Counter(rule["command_id"] for rule in rules)
    assert max(per_command.values()) == 1, [k for k, v in per_command.items() if v > 1]
    acknowledged = {rid for rid, a in answers.items() if a.ok and a.status == 200}
    assert acknowledged <= set(per_command)
    executed = {rid for rid, arrivals in by_id.items() if any(a.fault not in ("503", "garbage") for a in arrivals)}
    assert set(per_command) == executed
    print(f"faults {dict(faults)}; retried {len(retried)}; acknowledged {len(acknowledged)}; rules {len(rules)}")
    assert len(acknowledged) > COMMANDS * 0.8
