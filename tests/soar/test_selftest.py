"""selftest_function: per-consumer reachability and versions, failure names the failing consumers.

The producer is replaced by a stub returning real CommandOutcome/ConsumerAnswer
objects, so these tests check the selftest's own logic (config loading,
per-consumer querying, the report); the producer has its own tests.
"""
from __future__ import annotations

from typing import Any

from fn_openc2.lib.producer.outcome import CommandOutcome, ConsumerAnswer
from fn_openc2.util.selftest import app_sections, run_selftest

OPTS: dict[str, Any] = {
    "resilient": {"host": "soar.example.com"},
    "integrations": {},
    "fn_openc2": {"producer_id": "soar@example.com", "default_consumers": "fw1"},
    "fn_openc2:fw1": {"transport": "https", "url": "https://fw1.example.com/.well-known/openc2"},
    "fn_openc2:edge": {"transport": "mqtt", "broker": "mqtts://broker.example.com:8883",
                       "expected_responders": "fw-a, fw-b"},
}


class StubProducer:
    def __init__(self, answers: dict[str, list[ConsumerAnswer]], registry: Any) -> None:
        self.answers, self.settings, self.asked = answers, registry, []

    def query_features(self, consumers: list[str]) -> CommandOutcome:
        self.asked.append(list(consumers))
        (name,) = consumers
        if name not in self.answers:
            raise ConnectionError(f"cannot reach {name}")
        return CommandOutcome(command={"action": "query", "target": {"features": ["versions"]}},
                              request_id="r1", answers=self.answers[name])


def _ok(consumer: str, responder: str, versions: list[str]) -> ConsumerAnswer:
    return ConsumerAnswer(consumer=consumer, responder=responder, request_id="r1", status=200,
                          results={"versions": versions})


def test_app_sections_keeps_only_openc2_and_integrations() -> None:
    assert set(app_sections(OPTS)) == {"integrations", "fn_openc2", "fn_openc2:fw1", "fn_openc2:edge"}


def test_all_reachable_is_success_with_versions() -> None:
    stubs: list[StubProducer] = []

    def factory(registry: Any) -> StubProducer:
        stubs.append(StubProducer({"fw1": [_ok("fw1", "fw1", ["2.0"])],
                                   "edge": [_ok("edge", "fw-a", ["1.0", "2.0"]), _ok("edge", "fw-b", ["2.0"])]},
                                  registry))
        return stubs[-1]

    result = run_selftest(OPTS, factory)
    assert result["state"] == "success"
    assert "fw1: fw1 reachable (versions: 2.0)" in result["reason"]
    assert "edge: fw-a reachable (versions: 1.0, 2.0); fw-b reachable (versions: 2.0)" in result["reason"]
    assert sorted(stubs[0].asked) == [["edge"], ["fw1"]]  # one query per consumer


def test_failing_consumers_are_named_and_others_still_reported() -> None:
    missing = ConsumerAnswer(consumer="edge", responder="fw-b", request_id="r1",
                             error="no response within 10 s")

    def factory(registry: Any) -> StubProducer:
        return StubProducer({"edge": [_ok("edge", "fw-a", ["2.0"]), missing]}, registry)

    result = run_selftest(OPTS, factory)
    assert result["state"] == "failure"
    assert result["reason"].startswith("failing consumers: edge, fw1.")
    assert "fw-b unreachable or failing (no response within 10 s)" in result["reason"]
    assert "fw1: ConnectionError: cannot reach fw1" in result["reason"]
    assert "fw-a reachable (versions: 2.0)" in result["reason"]


def test_non_200_status_is_a_failure() -> None:
    bad = ConsumerAnswer(consumer="fw1", responder="fw1", request_id="r1", status=500, status_text="Internal Error")

    def factory(registry: Any) -> StubProducer:
        return StubProducer({"fw1": [bad], "edge": [_ok("edge", "fw-a", ["2.0"])]}, registry)

    result = run_selftest(OPTS, factory)
    assert result["state"] == "failure"
    assert "failing consumers: fw1." in result["reason"]
    assert "status 500 Internal Error" in result["reason"]


def test_bad_config_is_a_failure_naming_section_and_key() -> None:
    opts = dict(OPTS, **{"fn_openc2:fw1": {"transport": "https", "url": "https://fw1.example.com",
                                           "colour": "blue"}})
    result = run_selftest(opts, lambda registry: None)
    assert result["state"] == "failure"
    assert "fn_openc2:fw1" in result["reason"] and "colour" in result["reason"]


def test_no_consumer_is_a_failure() -> None:
    result = run_selftest({"fn_openc2": {}}, lambda registry: None)
    assert result == {"state": "failure", "reason": "no consumer configured: add a [fn_openc2:<name>] section"}


def test_consumers_are_queried_at_the_same_time() -> None:
    """Every consumer's query is in flight together (so the selftest lasts about one timeout):
    each stub call waits at a barrier that only opens when all of them have arrived."""
    import threading

    opts = dict(OPTS, **{f"fn_openc2:fw{n}": {"transport": "https", "url": f"https://fw{n}.example.com/oc2"}
                         for n in range(2, 6)})
    names = ["edge", "fw1", "fw2", "fw3", "fw4", "fw5"]
    barrier = threading.Barrier(len(names), timeout=10)

    class Together(StubProducer):
        def query_features(self, consumers: list[str]) -> CommandOutcome:
            barrier.wait()          # sequential queries would break the barrier (BrokenBarrierError)
            return super().query_features(consumers)

    result = run_selftest(opts, lambda reg: Together({n: [_ok(n, n, ["2.0"])] for n in names}, reg))
    assert result["state"] == "success", result["reason"]
    assert result["reason"].split(" | ")[0].startswith("edge:")          # reported in name order
    assert [line.split(":")[0] for line in result["reason"].split(" | ")] == names


def test_each_consumer_is_tried_once() -> None:
    """No retries in the selftest: a dead consumer costs one timeout, not (retries + 1)."""
    seen: list[Any] = []

    def factory(registry: Any) -> StubProducer:
        seen.append(registry)
        return StubProducer({"fw1": [_ok("fw1", "fw1", ["2.0"])], "edge": [_ok("edge", "fw-a", ["2.0"])]}, registry)

    opts = dict(OPTS, fn_openc2=dict(OPTS["fn_openc2"], retries="3"))
    assert run_selftest(opts, factory)["state"] == "success"
    assert {name: c.retries for name, c in seen[0].consumers.items()} == {"fw1": 0, "edge": 0}
