"""A broker restart in the middle of an MQTT bulk run: every command still ends
with one answer per expected responder (answered, or an error saying it
stayed silent), nothing is dropped silently, and delivery resumes afterwards."""
from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from fn_openc2.lib.consumer import Fleet
from fn_openc2.lib.language import build_command
from fn_openc2.lib.producer import load_settings
from fn_openc2.lib.producer.producer import Producer
from fn_openc2.lib.transfer.broker import Broker
from tests.fixtures.broker import outage_after_freeze

pytestmark = [pytest.mark.mqtt, pytest.mark.slow]

RESPONDERS = 5
COMMANDS = 80
COLLECT = 2.0


def wait_until(predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    """Poll a condition we cannot await as an event (state in another client), bounded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def deny(i: int):  # type: ignore[no-untyped-def]
    return build_command("deny", {"ipv4_net": f"198.19.{i // 250}.{i % 250 + 1}"},
                         args={"response_requested": "complete"}, profile="slpf")


def test_broker_restart_mid_run(fresh_mosquitto: Broker) -> None:
    fleet = Fleet.of(RESPONDERS, fresh_mosquitto.host, fresh_mosquitto.port, prefix="restart",
                     profiles=("slpf",)).start()
    ids = [a.device_id for a in fleet.actuators]
    registry = load_settings({
        "fn_openc2": {"producer_id": "soar@example.com"},
        "fn_openc2:fleet": {"transport": "mqtt", "broker": fresh_mosquitto.url, "profiles": "slpf",
                            "expected_responders": ",".join(ids), "collect_seconds": str(COLLECT)}})
    results: list = []
    try:
        with Producer(registry) as producer:
            runner = threading.Thread(target=lambda: results.extend(
                producer.send_many([deny(i) for i in range(COMMANDS)], "fleet", concurrency=4)))
            runner.start()
            assert wait_until(lambda: len(fleet.actuators[0].snapshot()["rules"]) >= 10, 20), "run did not start"
            fresh_mosquitto.restart()
            runner.join(timeout=120)
            assert not runner.is_alive(), "send_many did not finish"

            # every command: one answer per expected responder (answered, or silent with a stated
            # error), or, when the publish itself failed, one consumer-level error answer
            assert len(results) == COMMANDS
            kinds: Counter[str] = Counter()
            for outcome in results:
                assert outcome.refused is None
                if len(outcome.answers) == 1 and outcome.answers[0].responder is None:
                    assert outcome.answers[0].error, outcome.to_dict()
                    kinds["not published"] += 1
                    print("not published:", outcome.answers[0].error)
                    continue
                assert sorted(a.responder for a in outcome.answers) == sorted(ids), outcome.to_dict()
                for answer in outcome.answers:
                    if answer.ok:
                        assert answer.status == 200, answer
                        kinds["answered"] += 1
                    else:
                        assert answer.error, answer
                        kinds["error"] += 1
            assert kinds["answered"] >= 10 * RESPONDERS

            # an answered deny was applied by that responder, and no target twice: counted per target,
            # not per command id (the responder already acts once per id, so a per-id count could not
            # fail; a command republished under a new id after the reconnect would show here)
            target_of = {o.request_id: o.command["target"]["ipv4_net"] for o in results}
            for actuator in fleet.actuators:
                rules = actuator.snapshot()["rules"]
                per_target = Counter(rule["target"]["ipv4_net"].split("/")[0] for rule in rules)
                assert not per_target or max(per_target.values()) == 1, \
                    [t for t, n in per_target.items() if n > 1]
                applied = {rule["command_id"] for rule in rules}
                assert applied <= set(target_of), "a responder applied a command the producer never sent"
                answered = {a.request_id for o in results for a in o.answers
                            if a.ok and a.responder == actuator.device_id}
                assert answered <= applied

            # delivery resumes after the reconnect (bounded: consumers resubscribe on reconnect)
            def all_answer() -> bool:
                outcome = producer.send(deny(COMMANDS + len(results)), "fleet")
                results.append(outcome)
                return all(a.ok and a.status == 200 for a in outcome.answers)
            assert wait_until(all_answer, 30), results[-1].to_dict()
            print(f"answers {dict(kinds)} over {COMMANDS} commands x {RESPONDERS} responders")
    finally:
        fleet.stop()


def test_publish_not_acknowledged_is_outcome_unknown(fresh_mosquitto: Broker) -> None:
    """Issue 15.6: the broker goes down (frozen, then killed and restarted 1.5 s later on the same
    port) while a command awaits its PUBACK: the answer is "outcome unknown: may have been carried
    out", never a plain failure (paho resends it after reconnecting, so it may well be applied).
    Then down while awaiting answers (acknowledged and applied, the outage inside the collection
    window): each answer is either the one that arrived or unknown, never failed."""
    fleet = Fleet.of(1, fresh_mosquitto.host, fresh_mosquitto.port, prefix="down", profiles=("slpf",)).start()
    (device,) = [a.device_id for a in fleet.actuators]
    registry = load_settings({
        "fn_openc2": {"producer_id": "soar@example.com"},
        "fn_openc2:fleet": {"transport": "mqtt", "broker": fresh_mosquitto.url, "profiles": "slpf",
                            "expected_responders": device, "collect_seconds": "5"},
        # the same responder plus one that never answers: keeps the collection window open
        "fn_openc2:pair": {"transport": "mqtt", "broker": fresh_mosquitto.url, "profiles": "slpf",
                           "expected_responders": f"{device},ghost@example.com", "collect_seconds": "4"}})
    try:
        with Producer(registry) as producer:
            warm = producer.send(deny(0), "fleet")            # connected, and the responder answers
            assert [(a.responder, a.ok, a.outcome_unknown) for a in warm.answers] == [(device, True, False)]

            outage = outage_after_freeze(fresh_mosquitto, freeze=0.4, down=1.5)
            (answer,) = producer.send(deny(1), "fleet").answers
            assert answer.outcome_unknown is True and not answer.ok, answer
            assert answer.responder is None and "before PUBACK" in (answer.error or ""), answer.error

            outage.join(timeout=30)
            assert fresh_mosquitto.running
            # after the restart the same producer delivers again (paho reconnects by itself)
            def answered() -> bool:
                return all(a.ok for a in producer.send(deny(3), "fleet").answers)
            assert wait_until(answered, 30)

            # down while awaiting answers: the command was acknowledged and applied, then the broker
            # goes down inside the collection window; an answer that did not arrive is unknown, not failed
            outcomes: list = []
            runner = threading.Thread(target=lambda: outcomes.append(producer.send(deny(4), "pair")))
            runner.start()
            assert wait_until(lambda: any(r["target"]["ipv4_net"].split("/")[0] == "198.19.0.5"     # deny(4)
                                          for r in fleet.actuators[0].snapshot()["rules"]), 10), "not applied"
            outage_after_freeze(fresh_mosquitto, freeze=0.2, down=1.0).join(timeout=30)
            runner.join(timeout=30)
            assert not runner.is_alive()
            (outcome,) = outcomes
            by_responder = {a.responder: a for a in outcome.answers}
            assert set(by_responder) == {device, "ghost@example.com"}, outcome.to_dict()
            assert by_responder["ghost@example.com"].outcome_unknown is True
            for answer in outcome.answers:      # answered before the outage, or unknown: never plain failed
                assert answer.ok or answer.outcome_unknown, answer
    finally:
        fleet.stop()
