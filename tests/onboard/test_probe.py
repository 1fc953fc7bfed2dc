"""``fn-openc2 probe``: finds every dialect the reference consumer rehearses, over real
HTTPS (mutual TLS) and a real Mosquitto, and the section it prints works with ``send``."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

import pytest

from fn_openc2.lib.cli.main import main
from fn_openc2.lib.consumer import Actuator
from fn_openc2.lib.consumer.dialects import DIALECTS as REHEARSED
from fn_openc2.lib.onboard.probe import ProbeRequest, dialect_keys, probe
from fn_openc2.lib.producer.settings import CONFIG_KEYS_CONSUMER
from fn_openc2.lib.transfer.dialects import DIALECTS
from tests.transfer.oc2server import Answer, Oc2Peer, Seen

DENY = {"action": "deny", "target": {"ipv4_net": "198.51.100.9/32"}}


def _base(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _section(out: str) -> str:
    """The pasteable section: everything from the [fn_openc2:...] line on."""
    start = out.index("[fn_openc2:")
    return out[start:]


def _send_with(tmp_path: Path, section: str, name: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, Any]:
    config = tmp_path / "app.config"
    config.write_text("[fn_openc2]\n\n" + section, encoding="utf-8")
    command = tmp_path / "deny.json"
    command.write_text(json.dumps(DENY), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "fn_openc2.lib.cli.main", "send", "--consumer", name,
                           "--config", str(config), str(command)], capture_output=True, text=True, timeout=60)
    return done.returncode, json.loads(done.stdout)


@pytest.mark.parametrize("dialect", sorted(REHEARSED))
def test_probe_finds_each_rehearsed_https_dialect_and_send_uses_the_section(
        dialect: str, start_consumer: Callable[..., Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    consumer = start_consumer(dialect)
    code = main(["probe", _base(consumer.url), "--name", "fw1", "--ca", consumer.ca,
                 "--cert", consumer.client_cert, "--key", consumer.client_key])
    out = capsys.readouterr().out
    assert code == 0, out
    section = _section(out)
    assert section.splitlines()[0] == "[fn_openc2:fw1]"
    assert "versions: 2.0" in out and "profiles: slpf, er" in out
    # only keys that differ from the defaults: the rehearsed path is the only way to tell the v1.0 path
    served = REHEARSED[dialect]
    if served.path != DIALECTS["https-v1.1"].path:
        assert f"path = {served.path}" in section
        # the spec's path answered like any web server's unknown route: said so once, never tried again
        assert ("-> HTTP 404 Not Found: 'Not Found' (text/plain; charset=utf-8, not an OpenC2 response) from "
                f"consumer fw1 at {_base(consumer.url)}/.well-known/openc2: no OpenC2 endpoint at this URL's "
                "path; check the consumer's url and path keys [no]") in out
        misses = [e for e in consumer.server.request_log.entries if e.path != served.path]
        assert [(e.path, e.http_status) for e in misses] == [("/.well-known/openc2", 404)]
    else:
        assert "path =" not in section
    assert "timeout" not in section and "retries" not in section      # probe-only settings stay out
    # where the status goes is learnt too (one query it must refuse): written only where not the preset's
    assert ("status_in = http" in section) is (served.status_in_line and dialect != "https-v1.0")
    before = len(consumer.actuator.snapshot()["rules"])
    code, outcome = _send_with(tmp_path, section, "fw1", capsys)
    assert code == 0, outcome
    assert outcome["answers"][0]["status"] == 200
    assert len(consumer.actuator.snapshot()["rules"]) == before + 1


def test_probe_sends_only_query_features(start_consumer: Callable[..., Any], capsys: pytest.CaptureFixture[str]) -> None:
    consumer = start_consumer("https-v1.0")
    code = main(["probe", _base(consumer.url), "--ca", consumer.ca, "--cert", consumer.client_cert,
                 "--key", consumer.client_key])
    assert code == 0
    assert consumer.actuator.snapshot()["rules"] == []
    log = consumer.server.request_log.entries
    assert len(log) >= 2 and all(entry.method == "POST" for entry in log)


def test_probe_over_mqtt_finds_the_consumers_own_topic(mosquitto: Any, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from fn_openc2.lib.consumer import MqttConsumer

    actuator = Actuator("fw-mqtt@example.com", profiles=("slpf",))
    consumer = MqttConsumer(actuator, mosquitto.host, mosquitto.port, topics=["oc2/cmd"],
                            client_id="onboard-probe-fw").start()
    try:
        code = main(["probe", f"mqtt://{mosquitto.host}:{mosquitto.port}", "--name", "fleet",
                     "--collect-seconds", "1"])
        out = capsys.readouterr().out
        assert code == 0, out
        section = _section(out)
        assert "topic = oc2/cmd\n" in section
        assert "expected_responders = fw-mqtt@example.com" in section
        assert "publish on oc2/cmd/all" in out            # the spec's topic was tried first, and explained
        code, outcome = _send_with(tmp_path, section, "fleet", capsys)
        assert code == 0, outcome
        assert [a["responder"] for a in outcome["answers"]] == ["fw-mqtt@example.com"]
        assert len(actuator.snapshot()["rules"]) == 1
    finally:
        consumer.stop()


def test_probe_against_an_all_bad_consumer_exits_1_with_every_attempt_explained(
        pki: Any, capsys: pytest.CaptureFixture[str]) -> None:
    def behave(seen: Seen) -> Answer:
        return Answer(400, {"status": 400, "status_text": "nope\x1b[31m <b>never</b>"})

    peer = Oc2Peer(behave, cert=pki.server_cert, key=pki.server_key, client_ca=pki.ca_cert).start()
    try:
        code = main(["probe", peer.url, "--ca", pki.ca_cert, "--cert", pki.client_cert, "--key", pki.client_key,
                     "--max-attempts", "9"])
        out = capsys.readouterr().out
    finally:
        peer.stop()
    assert code == 1
    assert "no dialect worked" in out and "[fn_openc2:" not in out
    attempts = [line for line in out.splitlines() if line.strip().startswith("->")]
    assert len(attempts) == len(peer.seen) == 9                       # bounded, and each one explained
    assert len({s.client for s in peer.seen}) == 1                    # every dialect tried on one connection
    for line in attempts:
        assert "HTTP 400" in line and "consumer said: 400 nope" in line
    assert "\x1b" not in out                                          # the peer's escape codes are neutralised
    assert all(json.loads(s.body).get("body", {}).get("openc2", {}).get("request", json.loads(s.body).get(
        "openc2", {}).get("request", json.loads(s.body)))["action"] == "query" for s in peer.seen)
    assert "stopped after 9 attempts" in out


def test_an_openc2_404_keeps_the_path_a_plain_404_ends_it(pki: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """A path is dropped only for a web server's unknown route (plain HTTP 404): an OpenC2 404
    came from the consumer's OpenC2 handler, so the path is right and the probe goes on there
    (here: asked again naming the profile, which this consumer dispatches on)."""
    def behave(seen: Seen) -> Answer:
        if seen.path != "/.well-known/openc2":
            return Answer(404, {"detail": "Not Found"})                       # FastAPI's unknown route
        request = json.loads(seen.body)["body"]["openc2"]["request"]
        rid = json.loads(seen.body)["headers"]["request_id"]
        if "profile" not in request:
            return Answer(200, {"headers": {"request_id": rid}, "body": {"openc2": {"response": {
                "status": 404, "status_text": "no actuator for this command"}}}})
        results = {"versions": ["2.0"], "profiles": ["slpf"]} if request["target"]["features"] else {}
        return Answer(200, {"headers": {"request_id": rid, "from": "fw404"},
                            "body": {"openc2": {"response": {"status": 200, "results": results}}}})

    peer = Oc2Peer(behave, cert=pki.server_cert, key=pki.server_key, client_ca=pki.ca_cert).start()
    try:
        code = main(["probe", peer.url, "--ca", pki.ca_cert, "--cert", pki.client_cert, "--key", pki.client_key])
        out = capsys.readouterr().out
    finally:
        peer.stop()
    assert code == 0, out
    assert "HTTP 200, consumer said: 404 no actuator for this command [no]" in out
    assert "[fn_openc2:consumer]" in out and "path =" not in _section(out)
    assert {s.path for s in peer.seen} == {"/.well-known/openc2"}


def test_probe_unreachable_consumer_stops_at_once(pki: Any, capsys: pytest.CaptureFixture[str]) -> None:
    peer = Oc2Peer(lambda seen: Answer(200), cert=pki.server_cert, key=pki.server_key).start()
    url = peer.url
    peer.stop()
    code = main(["probe", url, "--ca", pki.ca_cert])
    out = capsys.readouterr().out
    assert code == 1
    assert out.count("->") == 1 and "could not be reached" in out


@pytest.mark.parametrize("argv, message", [
    (["probe", "ftp://host"], "expected https://"),
    (["probe", "https://host", "--cert", "/etc/hostname"], "--cert and --key go together"),
    (["probe", "https://host", "--topic", "oc2/cmd"], "only for mqtt"),
    (["probe", "https://host", "--ca", "/nonexistent/ca.pem"], "not found"),
])
def test_probe_bad_input_exits_2(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_probe_never_prints_secrets(pki: Any, capsys: pytest.CaptureFixture[str]) -> None:
    peer = Oc2Peer(lambda seen: Answer(401, {"status": 401, "status_text": "who are you"}),
                   cert=pki.server_cert, key=pki.server_key).start()
    try:
        code = main(["probe", peer.url, "--ca", pki.ca_cert, "--user", "admin", "--password", "s3cr3t-pw",
                     "--max-attempts", "2"])
    finally:
        peer.stop()
    captured = capsys.readouterr()
    assert code == 1
    assert "s3cr3t-pw" not in captured.out + captured.err
    assert any(s.headers.get("Authorization", "").startswith("Basic ") for s in peer.seen)


def test_section_keys_derive_from_the_presets() -> None:
    for name, preset in DIALECTS.items():
        wire = {k: getattr(preset, k) for k in ("path", "content_type", "accept", "envelope", "status_in",
                                                 "profile_encoding")}
        assert dialect_keys(wire) == ({} if name == "https-v1.1" else {"dialect": name})
    v11 = DIALECTS["https-v1.1"]
    wire = {k: getattr(v11, k) for k in ("path", "content_type", "accept", "envelope", "status_in",
                                          "profile_encoding")}
    assert dialect_keys({**wire, "status_in": "http"}) == {"status_in": "http"}
    assert probe.__doc__
    assert ProbeRequest("https://x").max_attempts >= 1


V10_COMMAND_TYPE = "application/openc2-cmd+json;version=1.0"


def _framework(seen: Seen) -> Answer:
    """The Python consumer framework of the interop facts: only POST /, the exact v1.0
    command type, the v1.1 envelope, "profile" as an object and required, HTTP 200 always
    with the status in the body, no request_id in error answers, and rate_limit refused."""
    if seen.path != "/":
        return Answer(404, b"<html>Not Found</html>", {"Content-Type": "text/html"})
    if seen.headers.get("Content-Type") != V10_COMMAND_TYPE:
        return Answer(200, {"headers": {}, "body": {"openc2": {"response": {
            "status": 400, "status_text": "Malformed HTTP Request"}}}})
    doc = json.loads(seen.body)
    request = doc.get("body", {}).get("openc2", {}).get("request") if isinstance(doc.get("body"), dict) else None
    if not isinstance(request, dict):
        return Answer(200, {"headers": {}, "body": {"openc2": {"response": {
            "status": 400, "status_text": "Malformed OpenC2 message"}}}})
    headers = {"request_id": doc["headers"]["request_id"], "from": "framework@example.com"}
    if not isinstance(request.get("profile"), dict):
        return Answer(200, {"headers": {}, "body": {"openc2": {"response": {
            "status": 400, "status_text": "Missing profile"}}}})
    features = request.get("target", {}).get("features")
    if features is not None and "rate_limit" in features:
        return Answer(200, {"headers": headers, "body": {"openc2": {"response": {
            "status": 501, "status_text": "Feature 'rate_limit' not yet implemented"}}}})
    results = {"versions": ["1.0"], "profiles": ["slpf"], "pairs": {"deny": ["ipv4_net"], "query": ["features"]}}
    response = {"status": 200, "results": results} if features else {"status": 200}
    return Answer(200, {"headers": headers, "body": {"openc2": {"response": response}}})


def test_probe_finds_the_framework_consumer_and_send_reaches_it(pki: Any, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    peer = Oc2Peer(_framework, cert=pki.server_cert, key=pki.server_key, client_ca=pki.ca_cert).start()
    try:
        code = main(["probe", peer.url, "--name", "fw9", "--ca", pki.ca_cert, "--cert", pki.client_cert,
                     "--key", pki.client_key])
        out = capsys.readouterr().out
        assert code == 0, out
        section = _section(out)
        for line in ("path = /\n", f"content_type = {V10_COMMAND_TYPE}\n", "profile_encoding = object\n",
                     "profiles = slpf\n"):
            assert line in section, section
        assert "consumer said: 400 Missing profile" in out
        assert "Feature 'rate_limit' not yet implemented" in out
        assert "note: the consumer refused feature(s) rate_limit" in out
        deny = dict(DENY, profile="slpf")
        config = tmp_path / "app.config"
        config.write_text("[fn_openc2]\n\n" + section, encoding="utf-8")
        (tmp_path / "deny.json").write_text(json.dumps(deny), encoding="utf-8")
        done = subprocess.run([sys.executable, "-m", "fn_openc2.lib.cli.main", "send", "--consumer", "fw9",
                               "--config", str(config), str(tmp_path / "deny.json")],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
        sent = json.loads(peer.seen[-1].body)["body"]["openc2"]["request"]
        assert sent["action"] == "deny" and sent["profile"] == {"slpf": {}}
    finally:
        peer.stop()


def test_probe_listens_on_response_topic_candidates_and_says_when_the_app_cannot(
        mosquitto: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from fn_openc2.lib.consumer import MqttConsumer

    consumer = MqttConsumer(Actuator("fw-rsp@example.com", profiles=("slpf",)), mosquitto.host, mosquitto.port,
                            topics=["oc2/cmd"], client_id="onboard-probe-rsp", response_topic="acme/answers").start()
    try:
        code = main(["probe", f"mqtt://{mosquitto.host}:{mosquitto.port}", "--topic", "oc2/cmd",
                     "--response-topic", "acme/answers", "--collect-seconds", "1", "--json"])
        doc = json.loads(capsys.readouterr().out)
    finally:
        consumer.stop()
    tried = [a["tried"] for a in doc["attempts"]]
    assert tried[0] == "publish on oc2/cmd, answers awaited on oc2/rsp, oc2/rsp/soar@example.com"
    assert doc["attempts"][0]["error"].startswith("no answer within 1s")
    assert any(t.startswith("publish on oc2/cmd, answers awaited on acme/answers") for t in tried)
    features = doc["features"]["fw-rsp@example.com"]
    assert features["versions"] == ["2.0"] and features["profiles"] == ["slpf"]
    if "response_topics" in CONFIG_KEYS_CONSUMER:      # once the app can listen there, the section says so
        assert code == 0 and "response_topics = acme/answers" in doc["section"]
    else:                                               # until then: found, explained, and not pasteable
        assert code == 1 and doc["section"] is None
        assert any("answers on acme/answers" in r and "cannot use this consumer yet" in r for r in doc["remarks"])
