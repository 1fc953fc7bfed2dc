"""1,000 commands through Producer.send_many against a consumer that fails in
every way a real one can: every command ends with exactly one recorded
outcome, retries resend the same request, and nothing is executed twice.

The consumer's faults are scripted per command (see faulty_consumer), so every
branch of the checks below runs on every run; ``check_run`` returns which
branches it took and the test requires all of them. The tests at the end feed
``check_run`` a recorded run with one thing broken each (the misreports of
issue 15) and require it to fail: the checks can fail."""
from __future__ import annotations

import copy
import dataclasses
import json
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from jwcrypto.jwk import JWK

from fn_openc2.lib.consumer import Actuator
from fn_openc2.lib.language import build_command
from fn_openc2.lib.producer import load_settings
from fn_openc2.lib.producer.outcome import CommandOutcome
from fn_openc2.lib.producer.producer import Producer
from fn_openc2.lib.transfer.devpki import Pki
from tests.load.faulty_consumer import EXECUTED, Arrival, FaultyConsumer

pytestmark = pytest.mark.slow

COMMANDS = 1000
TIMEOUT = 2.0
RETRYABLE = ("503", "reset", "stall", "drop")
TRANSPORT = ("reset", "stall", "drop")
BRANCHES = {"ok", "ok after retry", "bad signature", "garbage", "503 exhausted", "reset exhausted",
            "stall exhausted", "never reached the actuator"}


def addresses(count: int) -> list[str]:
    """Distinct hosts of the 198.18.0.0/15 benchmark range (never protected)."""
    return [f"198.18.{i // 250}.{i % 250 + 1}" for i in range(count)]


def index_of(address: str) -> int:
    _, _, third, fourth = address.split("/")[0].split(".")
    return int(third) * 250 + int(fourth) - 1


def script_for(index: int) -> Sequence[str]:
    """The faults the i-th command's 1st, 2nd, 3rd arrival get (retries = 2: three at most)."""
    if index == 27:
        return ("stall",) * 3                      # every attempt times out
    if index % 500 == 25:
        return ("stall",)
    scripted = {19: ("503",) * 3, 21: ("reset",) * 3, 23: ("drop",) * 3}.get(index % 200)
    if scripted:
        return scripted
    return {3: ("503",), 5: ("reset",), 7: ("garbage",), 11: ("bad_signature",), 13: ("drop",),
            17: ("503", "reset")}.get(index % 40, ())


def script(doc: Any) -> Sequence[str]:
    try:
        return script_for(index_of(doc["body"]["openc2"]["request"]["target"]["ipv4_net"]))
    except (KeyError, TypeError, ValueError):
        return ()


@dataclass
class Run:
    targets: list[str]
    outcomes: list[CommandOutcome]
    arrivals: list[Arrival]
    rules: list[dict]


def check_run(run: Run) -> Counter[str]:
    """Every assertion about one recorded run; returns how often each outcome branch ran."""
    branches: Counter[str] = Counter()
    # exactly one outcome per command, one answer per (command, consumer), in order
    assert len(run.outcomes) == len(run.targets)
    assert [o.command["target"]["ipv4_net"] for o in run.outcomes] == run.targets
    for outcome in run.outcomes:
        assert outcome.refused is None
        assert len(outcome.answers) == 1, outcome.to_dict()
        assert outcome.answers[0].consumer == "fw"
    answers = {o.answers[0].request_id: o.answers[0] for o in run.outcomes}
    assert len(answers) == len(run.targets), "two commands share a request id"
    target_of = {o.answers[0].request_id: o.command["target"]["ipv4_net"] for o in run.outcomes}

    # what reached the consumer: known ids, header id == envelope id, one id per target (the app
    # never sends a command again as a new one), a retry resends the same bytes, only after a
    # failure that left the outcome unknown, and never more than retries = 2 allows
    by_id: dict[str, list[Arrival]] = defaultdict(list)
    ids_per_target: dict[str, set] = defaultdict(set)
    for arrival in run.arrivals:
        assert arrival.header_request_id == arrival.body_request_id, arrival
        by_id[arrival.header_request_id].append(arrival)
        sent = json.loads(arrival.body)["body"]["openc2"]["request"]["target"]["ipv4_net"]
        ids_per_target[sent].add(arrival.header_request_id)
    doubled = {t: ids for t, ids in ids_per_target.items() if len(ids) > 1}
    assert not doubled, f"targets sent under several request ids: {doubled}"
    unknown = set(by_id) - set(answers)
    assert not unknown, f"requests under ids no outcome carries: {unknown}"
    for rid, arrivals in by_id.items():
        arrivals.sort(key=lambda a: a.attempt)
        assert len(arrivals) <= 3, f"{rid}: more attempts than retries = 2 allows"
        assert len({a.body for a in arrivals}) == 1, f"{rid}: a retry changed the bytes"
        assert all(a.fault in RETRYABLE for a in arrivals[:-1]), \
            f"{rid}: resent after an answer {[a.fault for a in arrivals]}"

    # each command's outcome follows from what its arrivals got
    for rid, answer in answers.items():
        arrivals = by_id.get(rid, [])
        last = arrivals[-1].fault if arrivals else None
        if last is None or all(a.fault == "drop" for a in arrivals) and len(arrivals) == 3:
            # never reached the actuator (dropped every time, or attempts that timed out unseen)
            assert not answer.ok and answer.error and answer.attempts == 3, answer
            assert "after 3 attempt(s)" in answer.error, answer.error
            branches["never reached the actuator"] += 1
        elif last == "ok":
            assert answer.ok and answer.status == 200 and answer.signature == "verified", answer
            # an attempt can time out before its request reaches the handler (a loaded machine),
            # so the client may count more attempts than the consumer saw
            assert len(arrivals) <= answer.attempts <= 3, answer
            branches["ok" if len(arrivals) == 1 else "ok after retry"] += 1
        elif last == "bad_signature":
            assert not answer.ok and answer.signature == "invalid", answer
            branches["bad signature"] += 1
        elif last == "garbage":
            assert not answer.ok and answer.error and answer.attempts >= len(arrivals), answer
            branches["garbage"] += 1
        elif last == "503" and len(arrivals) == 3:    # the consumer's own last 503 answer is recorded
            assert not answer.ok and answer.status == 503 and answer.attempts == 3, answer
            branches["503 exhausted"] += 1
        else:    # a transport failure (or a 503 whose retry timed out unseen) after the last retry
            assert not answer.ok and answer.error and answer.attempts == 3, (last, answer)
            assert "after 3 attempt(s)" in answer.error, answer.error
            if len(arrivals) == 3 and last in TRANSPORT:
                branches[f"{last} exhausted"] += 1

    # nothing executed twice, counted per target: each executed command left exactly one rule and
    # a command the actuator never saw left none (the app reuses the request id on every retry and
    # sends each target once; the actuator then acts once per request id)
    per_target = Counter(index_of(rule["target"]["ipv4_net"]) for rule in run.rules)
    twice = [run.targets[i] for i, n in per_target.items() if n > 1]
    assert not twice, f"executed twice: {twice}"
    executed = {index_of(target_of[rid]) for rid, arrivals in by_id.items()
                if any(a.fault in EXECUTED for a in arrivals)}
    assert set(per_target) == executed, (sorted(set(per_target) - executed), sorted(executed - set(per_target)))
    acknowledged = {index_of(target_of[rid]) for rid, a in answers.items() if a.ok and a.status == 200}
    assert acknowledged <= executed
    assert len(acknowledged) > len(run.targets) * 0.8
    return branches


@pytest.fixture(scope="module")
def recorded(pki: Pki, consumer_signing_key: tuple[str, str]) -> Iterator[Run]:
    """One bulk run of COMMANDS commands against the scripted consumer, shared by the tests below."""
    actuator = Actuator("faulty-fw@example.com", profiles=("slpf",), signing_key=consumer_signing_key[0])
    faulty = FaultyConsumer(actuator, pki.server_cert, pki.server_key, script, stall_seconds=TIMEOUT + 1.0,
                            wrong_key=JWK.generate(kty="EC", crv="P-256")).start()
    try:
        registry = load_settings({
            "fn_openc2": {"producer_id": "soar@example.com", "timeout": str(TIMEOUT), "retries": "2"},
            "fn_openc2:fw": {"url": faulty.url, "verify": pki.ca_cert, "profiles": "slpf",
                             "device_id": "faulty-fw@example.com", "response_verify_key": consumer_signing_key[1]}})
        targets = addresses(COMMANDS)
        commands = [build_command("deny", {"ipv4_net": a}, args={"response_requested": "complete"}, profile="slpf")
                    for a in targets]
        with Producer(registry) as producer:
            outcomes = producer.send_many(commands, "fw", concurrency=8)
        yield Run(targets, outcomes, list(faulty.arrivals), actuator.snapshot()["rules"])
    finally:
        faulty.stop()


def test_bulk_run_against_faults(recorded: Run) -> None:
    branches = check_run(recorded)
    faults = Counter(a.fault for a in recorded.arrivals)
    print(f"faults {dict(faults)}; outcome branches {dict(branches)}")
    assert BRANCHES <= set(branches), f"branches never taken: {BRANCHES - set(branches)}"


# --- the checks can fail: one broken thing each ----------------------------------------------

def _answer_of(run: Run, index: int):  # type: ignore[no-untyped-def]
    return run.outcomes[index].answers[0]


def _broken(run: Run) -> Run:
    return copy.deepcopy(run)


def test_check_fails_on_attempts_misreport(recorded: Run) -> None:
    """Issue 15 point 9: a transport failure "after 3 attempt(s)" reported with attempts = 1."""
    run = _broken(recorded)
    index = next(i for i in range(COMMANDS) if script_for(i) == ("drop",) * 3)
    run.outcomes[index].answers[0] = dataclasses.replace(_answer_of(run, index), attempts=1)
    with pytest.raises(AssertionError, match="attempts=1"):
        check_run(run)


def test_check_fails_when_a_retry_is_a_new_command(recorded: Run) -> None:
    """A retry sent under a fresh request id is executed again by a de-duplicating consumer:
    the per-target count sees it (a per-request-id count would not)."""
    run = _broken(recorded)
    index = next(i for i in range(COMMANDS) if script_for(i) == ("reset",))
    rid = _answer_of(run, index).request_id
    retry = next(a for a in run.arrivals if a.header_request_id == rid and a.attempt == 2)
    fresh = "0" * 8 + rid[8:]
    run.arrivals[retry.number] = dataclasses.replace(
        retry, header_request_id=fresh, body_request_id=fresh, attempt=1,
        body=retry.body.replace(rid.encode(), fresh.encode()))
    with pytest.raises(AssertionError, match="several request ids"):
        check_run(run)


def test_check_fails_when_a_target_is_executed_twice(recorded: Run) -> None:
    """Two rules for one target (the same command executed under two ids) fail the per-target count."""
    run = _broken(recorded)
    index = next(i for i in range(COMMANDS) if script_for(i) == ("reset",))
    rule = next(r for r in run.rules if index_of(r["target"]["ipv4_net"]) == index)
    run.rules.append({**rule, "command_id": "another-id", "rule_number": 10 ** 6})
    with pytest.raises(AssertionError, match="executed twice"):
        check_run(run)


def test_check_fails_on_exhausted_retries_reported_ok(recorded: Run) -> None:
    run = _broken(recorded)
    index = next(i for i in range(COMMANDS) if script_for(i) == ("503",) * 3)
    run.outcomes[index].answers[0] = dataclasses.replace(_answer_of(run, index), status=200, error=None)
    with pytest.raises(AssertionError):
        check_run(run)


def test_check_fails_on_a_resend_after_an_answer(recorded: Run) -> None:
    run = _broken(recorded)
    index = next(i for i in range(COMMANDS) if script_for(i) == ("garbage",))
    rid = _answer_of(run, index).request_id
    first = next(a for a in run.arrivals if a.header_request_id == rid)
    run.arrivals.append(dataclasses.replace(first, number=len(run.arrivals), attempt=2, fault="ok"))
    with pytest.raises(AssertionError, match="resent after an answer"):
        check_run(run)


def test_check_fails_when_a_dropped_command_was_executed(recorded: Run) -> None:
    run = _broken(recorded)
    index = next(i for i in range(COMMANDS) if script_for(i) == ("drop",) * 3)
    run.rules.append({"target": {"ipv4_net": run.targets[index] + "/32"}, "command_id": "x", "rule_number": 0})
    with pytest.raises(AssertionError):
        check_run(run)
