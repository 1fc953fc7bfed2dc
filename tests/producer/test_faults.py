"""Faults through the whole producer over real HTTPS: each broken consumer ends
in one clear answer naming it, while a healthy consumer addressed by the same
send keeps its full answer (nothing else is lost)."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from fn_openc2.lib.consumer import Actuator
from fn_openc2.lib.producer.producer import Producer
from fn_openc2.lib.security import load_private_key, sign_message
from fn_openc2.lib.transfer.broker import free_port
from fn_openc2.lib.transfer.devpki import Pki
from tests.producer.helpers import peer_section, https_section, registry
from tests.transfer.oc2server import Answer, Seen

DENY = {"action": "deny", "target": {"ipv4_net": "198.51.100.0/24"}}


def _envelope_answer(req: Seen, request_id: str | None = None, status: int = 200) -> dict:
    rid = request_id if request_id is not None else req.json["headers"]["request_id"]
    return {"headers": {"request_id": rid, "from": "bad@example.com"},
            "body": {"openc2": {"response": {"status": status}}}}


def _tampered(consumer_key: str) -> Callable[[Seen], Answer]:
    def behave(req: Seen) -> Answer:
        signed = sign_message(_envelope_answer(req), load_private_key(consumer_key))
        signed["body"]["openc2"]["response"]["status_text"] = "changed in transit"
        return Answer(200, signed)
    return behave


FAULTS: dict[str, tuple[Callable[..., Any], str]] = {
    # name: (behaviour or None for "nobody listens", expected start of the error)
    "consumer down": (lambda key: None, "connect: consumer bad at https://127.0.0.1:"),
    "timeout": (lambda key: (lambda req: Answer(action="stall")), "timeout: consumer bad at"),
    "connection reset": (lambda key: (lambda req: Answer(action="reset")), "reset: consumer bad at"),
    "non-JSON body": (lambda key: (lambda req: Answer(200, b"<html>maintenance</html>")),
                      "decode: consumer bad at"),
    "wrong request_id": (lambda key: (lambda req: Answer(200, _envelope_answer(req, "someone-elses-id"))),
                         "headers.request_id: answer is for 'someone-elses-id', expected"),
    "tampered signature": (_tampered, "response signature invalid"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_one_broken_consumer_does_not_cost_the_others(fault: str, pki: Pki, reference_consumer: Any, peers: Any,
                                                      consumer_signing_key: tuple[str, str]) -> None:
    make_behaviour, expected = FAULTS[fault]
    behaviour = make_behaviour(consumer_signing_key[0])
    url = peers(behaviour).url if behaviour else f"https://127.0.0.1:{free_port()}"
    extra = {"response_verify_key": consumer_signing_key[1]} if fault == "tampered signature" else {}
    if fault == "timeout":
        extra["timeout"] = "0.5"
    reg = registry(fw1=https_section(reference_consumer), bad=peer_section(url, pki, **extra))
    with Producer(reg) as producer:
        outcome = producer.send(DENY, ["fw1", "bad"])
    by_name = {a.consumer: a for a in outcome.answers}
    assert sorted(by_name) == ["bad", "fw1"] and len(outcome.answers) == 2

    good = by_name["fw1"]
    assert good.ok and good.status == 200 and good.signature == "verified"
    assert good.results == {"slpf": {"rule_number": 1}}
    assert [r["command_id"] for r in reference_consumer.actuator.snapshot()["rules"]] == [good.request_id]

    bad = by_name["bad"]
    assert not bad.ok and bad.consumer == "bad"
    assert (bad.error or "").startswith(expected) or expected in (bad.error or ""), bad.error
    assert bad.request_id != good.request_id


def test_503_then_success_reuses_the_request_id_and_acts_once(pki: Pki, peers: Any) -> None:
    """A real actuator behind a front that is busy once: one rule, two identical deliveries."""
    actuator = Actuator("fw-busy@example.com")

    def behave(req: Seen) -> Answer:
        if len(server.seen) == 1:
            return Answer(503, {"status": 503, "status_text": "busy, try again"})
        answer = actuator.handle(req.json, req.headers.get("X-Request-ID"))
        return Answer(200, answer)
    server = peers(behave)
    reg = registry(busy=peer_section(server.url, pki, retries="2"))
    with Producer(reg) as producer:
        outcome = producer.send(DENY, "busy")
    (answer,) = outcome.answers
    assert answer.ok and answer.status == 200 and answer.attempts == 2
    assert [s.headers["X-Request-ID"] for s in server.seen] == [outcome.request_id] * 2
    assert server.seen[0].body == server.seen[1].body                # the very same signed bytes
    assert [r["command_id"] for r in actuator.snapshot()["rules"]] == [outcome.request_id]


def test_a_repeated_delivery_after_success_still_acts_once(pki: Pki, peers: Any) -> None:
    """If a retry reaches a consumer that had already acted (answer lost), the rule is not doubled."""
    actuator = Actuator("fw-dup@example.com")

    def behave(req: Seen) -> Answer:
        answer = actuator.handle(req.json, req.headers.get("X-Request-ID"))
        if len(server.seen) == 1:
            return Answer(action="reset")                          # acted, then the answer was lost
        return Answer(200, answer)
    server = peers(behave)
    with Producer(registry(dup=peer_section(server.url, pki, retries="1"))) as producer:
        outcome = producer.send(DENY, "dup")
    (answer,) = outcome.answers
    assert answer.ok and answer.status == 200 and answer.attempts == 2
    assert len(actuator.snapshot()["rules"]) == 1


def test_errors_are_shown_per_consumer_in_the_cli_json(pki: Pki, reference_consumer: Any, peers: Any,
                                                       tmp_path: Any) -> None:
    """The operator sees which consumer failed and why; the healthy answer is printed in full."""
    import subprocess
    import sys

    bad = peers(lambda req: Answer(200, b"not json"))
    config = tmp_path / "app.config"
    lines = ["[fn_openc2]", "default_consumers = fw1, bad", "", "[fn_openc2:fw1]"]
    lines += [f"{k} = {v}" for k, v in https_section(reference_consumer).items()]
    lines += ["", "[fn_openc2:bad]"] + [f"{k} = {v}" for k, v in peer_section(bad.url, pki).items()]
    config.write_text("\n".join(lines) + "\n")
    done = subprocess.run([sys.executable, "-m", "fn_openc2.lib.cli.main", "send", "--consumer", "default",
                           "--config", str(config), "-"], input=json.dumps(DENY), capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1
    answers = {a["consumer"]: a for a in json.loads(done.stdout)["answers"]}
    assert answers["fw1"]["ok"] and answers["fw1"]["status"] == 200
    assert answers["bad"]["error"].startswith("decode: consumer bad at")
