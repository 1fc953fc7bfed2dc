"""``fn-openc2 grade``: the reference consumer passes in every dialect it rehearses; a
deliberately non-conforming scripted consumer fails, each failure naming its clause."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest

from fn_openc2.lib.cli.main import main
from fn_openc2.lib.consumer import Actuator
from fn_openc2.lib.consumer.dialects import DIALECTS as REHEARSED
from fn_openc2.lib.onboard.grade import FAIL, PASS, grade
from tests.producer.helpers import https_section, peer_section, registry
from tests.transfer.oc2server import Answer, Oc2Peer, Seen


def _dialect_keys(dialect: str) -> dict[str, str]:
    served = REHEARSED[dialect]
    keys = {"dialect": "https-v1.0" if dialect == "https-v1.0" else "https-v1.1"}
    if served.status_in_line and dialect != "https-v1.0":
        keys["status_in"] = "http"
    return keys


@pytest.mark.parametrize("dialect", sorted(REHEARSED))
def test_reference_consumer_grades_perfectly_in_each_https_dialect(dialect: str,
                                                                   start_consumer: Callable[..., Any]) -> None:
    consumer = start_consumer(dialect)
    section = https_section(consumer, **_dialect_keys(dialect))
    report = grade(registry(fw1=section), "fw1")
    assert report.passed, report.render()
    assert not [c for c in report.checks if c.verdict == FAIL], report.render()
    verdicts = {c.title: c.verdict for c in report.checks}
    assert verdicts["query features with no features is answered 200"] == PASS
    assert verdicts["a pair the consumer does not list is answered 501, not 200"] == PASS
    # response_verify_key is configured: signatures are checked wherever the body form can carry one
    assert verdicts["answers are signed (JWS detached) and verify"] == (PASS if REHEARSED[dialect].envelope == "full" else "n.a.")
    assert consumer.actuator.snapshot()["rules"] == []                         # read-only: nothing changed


def test_reference_consumer_grades_perfectly_over_mqtt(mosquitto: Any) -> None:
    from fn_openc2.lib.consumer import MqttConsumer

    actuator = Actuator("fw-grade@example.com", profiles=("slpf",))
    consumer = MqttConsumer(actuator, mosquitto.host, mosquitto.port, client_id="onboard-grade-fw").start()
    try:
        section = {"transport": "mqtt", "broker": f"mqtt://{mosquitto.host}:{mosquitto.port}",
                   "expected_responders": "fw-grade@example.com", "collect_seconds": "3"}
        report = grade(registry(fleet=section), "fleet")
    finally:
        consumer.stop()
    assert report.passed, report.render()
    titles = {c.title: c.verdict for c in report.checks}
    assert titles["consumers set headers.from"] == PASS


def test_state_changing_checks_run_only_when_allowed_and_are_undone(start_consumer: Callable[..., Any]) -> None:
    consumer = start_consumer()
    reg = registry(fw1=https_section(consumer))
    read_only = grade(reg, "fw1")
    assert not any("response_requested" in c.title and "deny" in c.title for c in read_only.checks)
    report = grade(reg, "fw1", allow_changes=True, target="198.51.100.77")
    assert report.passed, report.render()
    assert any(c.title.startswith("deny ipv4_net") and c.verdict == PASS for c in report.checks)
    assert consumer.actuator.snapshot()["rules"] == []                         # every deny was cancelled
    assert any(r.startswith("undone:") for r in report.remarks)


def _nonconforming(seen: Seen) -> Answer:
    """Says 200 to everything, echoes a made-up request_id, lists a v2 version badly,
    answers without status, answers HTTP 299, labels its answers application/json
    and sends no Cache-Control."""
    answer = _nonconforming_answer(seen)
    answer.headers["Content-Type"] = "application/json"
    return answer


def _nonconforming_answer(seen: Seen) -> Answer:
    doc = json.loads(seen.body)
    request = doc["body"]["openc2"]["request"]
    target = request.get("target") or {}
    headers = {"request_id": "not-yours", "from": "bad@example.com"}
    if "features" in target and target["features"]:
        results = {"versions": ["v2"], "profiles": ["slpf"], "pairs": {"deny": ["ipv4_net"]}}
        return Answer(200, {"headers": headers, "body": {"openc2": {"response": {"status": 200, "results": results}}}})
    if "features" in target and request.get("args"):
        return Answer(299, {"headers": headers, "body": {"openc2": {"response": {"status": 299}}}})
    if "features" in target:
        return Answer(200, {"headers": headers, "body": {"openc2": {"response": {"status_text": "fine"}}}})
    return Answer(200, {"headers": headers, "body": {"openc2": {"response": {"status": 200}}}})


def test_grade_names_each_failed_clause_of_a_nonconforming_consumer(
        pki: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    peer = Oc2Peer(_nonconforming, cert=pki.server_cert, key=pki.server_key, client_ca=pki.ca_cert).start()
    try:
        section = peer_section(peer.url, pki)
        config = tmp_path / "app.config"
        config.write_text("[fn_openc2:bad]\n" + "".join(f"{k} = {v}\n" for k, v in section.items()))
        code = main(["grade", "bad", "--config", str(config), "--json"])
        doc = json.loads(capsys.readouterr().out)
    finally:
        peer.stop()
    assert code == 1
    failed = {(c["clause"], c["title"]) for c in doc["checks"] if c["verdict"] == "fail"}
    assert failed == {
        ("LS v2.0 §3.4.2.18", "each version is \"Major.Minor\""),
        ("LS v2.0 §4.1", "... and is answered 400 (500 allowed)"),
        ("LS v2.0 §3.3.2.1", "a pair the consumer does not list is answered 501, not 200"),
        ("LS v2.0 §3.3.2.1, §5.1-3", "a malformed command (no target) is answered 400, not 200"),
        ("LS v2.0 §3.2, HTTPS v1.1 §3.3.3", "the command's request_id is copied into each response"),
        ("LS v2.0 §3.3.2, §5.2-2", "every response contains a status"),
        ("LS v2.0 §3.3.2.1", "status codes come from the spec's set"),
        ("HTTPS v1.1 §4.2.1 (8)", "HTTP responses use only OpenC2 status codes"),
        ("HTTPS v1.1 §3.2.1", "responses carry Cache-control: no-cache"),
        ("HTTPS v1.1 §3.4", "responses carry Content-type application/openc2+json;version=1.0"),
        ("HTTPS v1.1 §3.3.2", "answers carry headers.from and headers.created"),     # MAY: shown, not counted
    }, json.dumps(doc["checks"], indent=1)
    assert "failed LS v2.0 §3.4.2.18 (MUST)" in doc["summary"] and "MAY" not in doc["summary"]
    # nothing but queries reached it without --allow-changes
    assert {json.loads(s.body)["body"]["openc2"]["request"]["action"] for s in peer.seen} == {"query"}


@pytest.mark.parametrize("argv, message", [
    (["--allow-changes"], "--allow-changes needs --target"),
    (["--target", "198.51.100.1"], "only used with --allow-changes"),
    (["--allow-changes", "--target", "127.0.0.1"], "refused deny"),
    (["--allow-changes", "--target", "not-an-ip"], "not an IP address"),
])
def test_grade_bad_input_exits_2_and_sends_nothing(argv: list[str], message: str, pki: Any, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    peer = Oc2Peer(lambda seen: Answer(200), cert=pki.server_cert, key=pki.server_key,
                   client_ca=pki.ca_cert).start()
    try:
        config = tmp_path / "app.config"
        config.write_text("[fn_openc2:fw1]\n" + "".join(f"{k} = {v}\n" for k, v in peer_section(peer.url, pki).items()))
        assert main(["grade", "fw1", "--config", str(config), *argv]) == 2
        assert message in capsys.readouterr().err
        assert main(["grade", "nope", "--config", str(config)]) == 2
        assert "unknown consumer 'nope'" in capsys.readouterr().err
    finally:
        peer.stop()
    assert peer.seen == []
