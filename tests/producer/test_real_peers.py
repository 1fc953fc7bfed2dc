"""Issue 10: the wire behaviours of the two real consumers, each played by a
scripted peer over a real socket (HTTPS with mutual TLS, or a real Mosquitto),
through the whole producer or the CLI."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import uuid
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from fn_openc2.lib.producer.errors import ConfigError
from fn_openc2.lib.producer.producer import Producer
from fn_openc2.lib.transfer.devpki import Pki
from tests.producer.helpers import peer_section, registry
from tests.transfer.oc2server import Answer, Oc2Peer, Seen

DENY = {"action": "deny", "target": {"ipv4_net": "198.51.100.0/24"}, "profile": "slpf"}
CLI = [sys.executable, "-m", "fn_openc2.lib.cli.main"]


def _envelope(req: Seen, status: int, text: str | None = None, results: dict | None = None,
              request_id: str | None = "echo") -> dict:
    response: dict[str, Any] = {"status": status}
    if text is not None:
        response["status_text"] = text
    if results is not None:
        response["results"] = results
    headers: dict[str, Any] = {"from": "peer@example.com"}
    if request_id == "echo":
        headers["request_id"] = req.json["headers"]["request_id"]
    elif request_id is not None:
        headers["request_id"] = request_id
    return {"headers": headers, "body": {"openc2": {"response": response}}}


# ---------------------------------------------------------------- 10.1 the URL's own path

def test_a_path_written_in_the_url_is_the_path(pki: Pki, peers: Any) -> None:
    server = peers(lambda req: Answer(200, _envelope(req, 200)))
    reg = registry(root=peer_section(server.url + "/", pki), bare=peer_section(server.url, pki, device_id="b"),
                   deep=peer_section(server.url + "/api/oc2", pki, device_id="d"))
    with Producer(reg) as producer:
        outcome = producer.send(DENY, ["root", "bare", "deep"])
    assert all(a.ok and a.status == 200 for a in outcome.answers)
    assert sorted(s.path for s in server.seen) == ["/", "/.well-known/openc2", "/api/oc2"]


def test_url_path_and_path_key_that_disagree_fail_at_load(pki: Pki) -> None:
    with pytest.raises(ConfigError) as caught:
        registry(fw=peer_section("https://127.0.0.1:9/", pki, path="/openc2"))
    assert caught.value.section == "fn_openc2:fw" and caught.value.key == "path"
    assert "url already names the path /" in str(caught.value)
    registry(fw=peer_section("https://127.0.0.1:9/openc2", pki, path="/openc2"))   # the same path twice is fine


# ---------------------------------------------------------------- 10.2 query features with a profile

def profile_required(req: Seen) -> Answer:
    """The Python framework: POST /, needs "profile": {"slpf": {}} even on query features."""
    command = req.json["body"]["openc2"]["request"]
    if not isinstance(command.get("profile"), dict):
        return Answer(200, _envelope(req, 400, "Missing profile", request_id=None))
    return Answer(200, _envelope(req, 200, results={"versions": ["1.0"], "profiles": ["slpf"],
                                                      "pairs": {"deny": ["ipv4_net"]}}))


def test_query_features_carries_the_consumers_profile_in_its_encoding(pki: Pki, peers: Any) -> None:
    server = peers(profile_required)
    with_profiles = peer_section(server.url + "/", pki, profiles="slpf", profile_encoding="object")
    explicit = peer_section(server.url + "/", pki, query_profile="slpf", profile_encoding="object", device_id="q")
    without = peer_section(server.url + "/", pki, profile_encoding="object", device_id="w")
    with Producer(registry(py=with_profiles, q=explicit, w=without)) as producer:
        outcome = producer.query_features(["py", "q", "w"])
        cached = producer.capabilities.get("py")
    by_name = {a.consumer: a for a in outcome.answers}
    assert by_name["py"].succeeded and by_name["q"].succeeded
    assert by_name["w"].status == 400 and by_name["w"].status_text == "Missing profile"
    assert cached is not None and cached.pairs == {"deny": ("ipv4_net",)}
    sent = [s.json["body"]["openc2"]["request"] for s in server.seen]
    assert sorted(json.dumps(c.get("profile")) for c in sent) == ["null", '{"slpf": {}}', '{"slpf": {}}']


# ---------------------------------------------------------------- 10.3 a schema nit is a warning

def test_a_features_answer_with_a_schema_nit_is_an_answer_and_cached(pki: Pki, peers: Any) -> None:
    results = {"versions": ["1.0"], "pairs": {"deny": ["ipv4_net"]}, "slpf": {}, "rate_limit": "60/min"}
    server = peers(lambda req: Answer(200, _envelope(req, 200, results=results)))
    with Producer(registry(fw=peer_section(server.url, pki))) as producer:
        (answer,) = producer.query_features("fw").answers
        cached = producer.capabilities.get("fw")
    assert answer.ok and answer.status == 200 and answer.results == results
    assert [w.split(":")[0] for w in answer.warnings] == ["body.openc2.response.results.rate_limit"], answer.warnings
    assert cached is not None and cached.versions == ("1.0",)
    assert "warning" in answer.line() and answer.line().startswith("fw (peer@example.com): 200 OK")


# ---------------------------------------------------------------- 10.4 an ack is an answer

@pytest.mark.parametrize("status_in", [None, "body"])
def test_http_102_with_an_empty_body_is_an_ack(status_in: str | None, pki: Pki, peers: Any) -> None:
    server = peers(lambda req: Answer(102))
    extra = {"status_in": status_in} if status_in else {}
    with Producer(registry(fw=peer_section(server.url, pki, **extra))) as producer:
        (answer,) = producer.send({**DENY, "args": {"response_requested": "ack"}}, "fw").answers
    assert answer.ok and answer.status == 102 and answer.http_status == 102 and answer.succeeded


def test_an_empty_200_is_a_status_answer(pki: Pki, peers: Any) -> None:
    server = peers(lambda req: Answer(200))
    with Producer(registry(fw=peer_section(server.url, pki))) as producer:
        (answer,) = producer.send(DENY, "fw").answers
    assert answer.ok and answer.status == 200 and answer.results is None


# ---------------------------------------------------------------- 10.5 MQTT answers without request_id

class NoIdResponder:
    """Answers every command on oc2/cmd with 400 "Malformed OpenC2 message" and no request_id."""

    def __init__(self, host: str, port: int, name: str, to: list[str] | None) -> None:
        self.name, self.to = name, to
        self.got = threading.Event()
        subscribed = threading.Event()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"noid-{uuid.uuid4().hex[:6]}",
                                  protocol=paho.MQTTv5)
        self.client.on_connect = lambda c, *a: c.subscribe("oc2/cmd", qos=1)
        self.client.on_subscribe = lambda *a: subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect(host, port)
        self.client.loop_start()
        assert subscribed.wait(10)

    def _on_message(self, client: paho.Client, userdata: Any, msg: Any) -> None:
        headers: dict[str, Any] = {"from": self.name}
        if self.to is not None:
            headers["to"] = self.to
        doc = {"headers": headers,
               "body": {"openc2": {"response": {"status": 400, "status_text": "Malformed OpenC2 message"}}}}
        client.publish("oc2/rsp", json.dumps(doc), qos=1)
        self.got.set()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _mqtt_section(mosquitto: Any, **extra: str) -> dict[str, str]:
    return {"transport": "mqtt", "broker": mosquitto.url, "topic": "oc2/cmd", "collect_seconds": "2", **extra}


def test_mqtt_answer_without_request_id_is_attributed_to_its_expected_sender(mosquitto: Any) -> None:
    peer = NoIdResponder(mosquitto.host, mosquitto.port, "py-fw", to=["soar@example.com"])
    try:
        with Producer(registry(py=_mqtt_section(mosquitto, expected_responders="py-fw"))) as producer:
            (answer,) = producer.send(DENY, "py").answers
    finally:
        peer.close()
    assert answer.responder == "py-fw" and answer.status == 400
    assert answer.status_text == "Malformed OpenC2 message" and not answer.correlated
    assert answer.line().startswith("py (py-fw): 400 Malformed OpenC2 message")
    assert "uncorrelated" in answer.line()


def test_mqtt_answer_that_cannot_be_matched_is_listed_not_silenced(mosquitto: Any) -> None:
    peer = NoIdResponder(mosquitto.host, mosquitto.port, "py-fw", to=None)
    try:
        with Producer(registry(py=_mqtt_section(mosquitto))) as producer:   # no expected_responders
            (answer,) = producer.send(DENY, "py").answers
    finally:
        peer.close()
    assert not answer.ok
    assert answer.error == ("no answer within 2s; answers that could not be matched: from 'py-fw', 400 Malformed "
                            "OpenC2 message (no request_id)")


def test_an_answer_addressed_to_another_producer_is_not_ours(mosquitto: Any) -> None:
    peer = NoIdResponder(mosquitto.host, mosquitto.port, "py-fw", to=["someone-else"])
    try:
        with Producer(registry(py=_mqtt_section(mosquitto, collect_seconds="1"))) as producer:
            (answer,) = producer.send(DENY, "py").answers
    finally:
        peer.close()
    assert peer.got.is_set() and answer.error == "no answer within 1s"


# ---------------------------------------------------------------- 10.6 the peer's own words lead

def test_an_error_answer_for_another_request_leads_with_the_peers_words(pki: Pki, peers: Any) -> None:
    server = peers(lambda req: Answer(200, _envelope(req, 400, "Invalid message", request_id="not-yours")))
    with Producer(registry(fw=peer_section(server.url, pki))) as producer:
        (answer,) = producer.send(DENY, "fw").answers
    line = answer.line()
    assert line.startswith("fw (peer@example.com): 400 Invalid message — headers.request_id: answer is for "
                           "'not-yours', expected"), line


def test_a_plain_text_http_error_quotes_the_peer(pki: Pki, peers: Any) -> None:
    server = peers(lambda req: Answer(415, b"Unsupported media type\r\nX-Injected: 1"))
    with Producer(registry(fw=peer_section(server.url, pki))) as producer:
        (answer,) = producer.send(DENY, "fw").answers
    assert answer.http_status == 415 and not answer.ok
    assert "HTTP 415 Unsupported Media Type: 'Unsupported media type X-Injected: 1'" in answer.line()
    assert "\r" not in answer.line() and "\n" not in answer.line()


# ---------------------------------------------------------------- 10.7 exit codes

def _cli_peer(pki: Pki, behave: Any) -> Oc2Peer:
    return Oc2Peer(behave, cert=pki.server_cert, key=pki.server_key).start()


EXIT_CASES = {
    "200": (lambda req: Answer(200, _envelope(req, 200)), {}, 0),
    "102": (lambda req: Answer(102), {"response_requested": "ack"}, 0),
    "204": (lambda req: Answer(204), {"response_requested": "none"}, 0),
    "400": (lambda req: Answer(200, _envelope(req, 400, "Bad")), {}, 1),
    "401": (lambda req: Answer(401, _envelope(req, 401, "Unauthorized")), {}, 1),
    "501": (lambda req: Answer(200, _envelope(req, 501, "Not implemented")), {}, 1),
    "silence": (lambda req: Answer(action="stall"), {}, 1),
}


@pytest.mark.parametrize("case", list(EXIT_CASES))
def test_exit_codes_match_the_readme(case: str, pki: Pki) -> None:
    behave, args, expected = EXIT_CASES[case]
    server = _cli_peer(pki, behave)
    try:
        command = {**DENY, "args": args} if args else DENY
        done = subprocess.run([*CLI, "send", "--url", server.url, "--ca", pki.ca_cert, "--timeout", "1",
                               "--status-in", "http" if case == "401" else "body", "-"],
                              input=json.dumps(command), capture_output=True, text=True, timeout=60)
    finally:
        server.stop()
    assert done.returncode == expected, done.stderr
    (answer,) = json.loads(done.stdout)["answers"]
    if case == "204":
        assert answer["http_status"] == 204 and answer["status"] is None and answer["ok"]
    elif case != "silence":
        assert answer["status"] == int(case)
        assert done.stderr.strip().startswith(("error: " if expected else "") + f"cli (peer@example.com): {case}"
                                              if case not in ("102",) else f"cli: {case}"), done.stderr
    assert "Traceback" not in done.stderr


def test_readme_exit_code_table_is_what_the_cli_says() -> None:
    from pathlib import Path

    from fn_openc2.lib.cli.util import EXIT_CODES

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for code in ("0", "1", "2"):
        line = next(li for li in EXIT_CODES.splitlines() if li.strip().startswith(code))
        assert f"| {code} | {line.strip()[1:].strip()}" in " ".join(readme.split()), line


# ---------------------------------------------------------------- 10.8 a refused feature

def rate_limit_refused(req: Seen) -> Answer:
    features = req.json["body"]["openc2"]["request"]["target"]["features"]
    if "rate_limit" in features:
        return Answer(200, _envelope(req, 501, "Feature 'rate_limit' not yet implemented"))
    return Answer(200, _envelope(req, 200, results={"versions": ["2.0"], "pairs": {"deny": ["ipv4_net"]}}))


def test_a_refused_feature_is_asked_again_without_it(pki: Pki, peers: Any) -> None:
    server = peers(rate_limit_refused)
    with Producer(registry(fw=peer_section(server.url, pki))) as producer:
        outcome = producer.query_features("fw")
        cached = producer.capabilities.get("fw")
    (answer,) = outcome.answers
    assert answer.succeeded and answer.results == {"versions": ["2.0"], "pairs": {"deny": ["ipv4_net"]}}
    assert [e["status"] for e in answer.earlier] == [501]
    assert answer.earlier[0]["status_text"] == "Feature 'rate_limit' not yet implemented"
    assert answer.warnings[0] == ("asked again without rate_limit: the first answer was 501 Feature 'rate_limit' "
                                  "not yet implemented")
    assert [s.json["body"]["openc2"]["request"]["target"]["features"] for s in server.seen] == [
        ["versions", "profiles", "pairs", "rate_limit"], ["versions", "profiles", "pairs"]]
    assert cached is not None and cached.pairs == {"deny": ("ipv4_net",)}


def test_adhoc_url_takes_every_wire_flag(pki: Pki) -> None:
    """Issue 10.9: any peer can be tried without a config file: --path, --content-type, --accept,
    --status-in, --envelope on `fn-openc2 send --url`."""
    def behave(req: Seen) -> Answer:
        if (req.path, req.headers.get("Content-Type"), req.headers.get("Accept")) != (
                "/x/oc2", "application/openc2-cmd+json;version=1.0", "application/openc2-rsp+json;version=1.0"):
            return Answer(404, b"no")
        if set(req.json) != {"openc2"} or "request_id" not in req.headers:
            return Answer(400, {"openc2": {"response": {"status": 400, "status_text": "envelope"}}})
        return Answer(501, {"openc2": {"response": {"status_text": "not here"}}}, {"from": "adhoc-fw"})

    server = _cli_peer(pki, behave)
    try:
        done = subprocess.run([*CLI, "send", "--url", server.url, "--ca", pki.ca_cert, "--path", "/x/oc2",
                               "--content-type", "application/openc2-cmd+json;version=1.0",
                               "--accept", "application/openc2-rsp+json;version=1.0", "--status-in", "http",
                               "--envelope", "openc2-only", "-"],
                              input=json.dumps(DENY), capture_output=True, text=True, timeout=60)
    finally:
        server.stop()
    (answer,) = json.loads(done.stdout)["answers"]
    assert answer["status"] == 501 and answer["status_text"] == "not here" and answer["responder"] == "adhoc-fw"
    assert done.returncode == 1 and done.stderr.strip().splitlines()[-1].startswith("error: cli (adhoc-fw): 501 not here")
    mqtt_only = subprocess.run([*CLI, "send", "--url", "mqtt://127.0.0.1:1", "--path", "/x", "-"],
                               input=json.dumps(DENY), capture_output=True, text=True, timeout=60)
    assert mqtt_only.returncode == 2 and "--path only apply to an https:// or http:// --url" in mqtt_only.stderr


def test_cli_path_help_says_what_a_conflicting_url_does() -> None:
    """The --path help promises a config error (exit 2) for a --url naming another path; it is one,
    and nothing is sent (port 1 would refuse a connection with exit 1)."""
    shown = subprocess.run([*CLI, "send", "--help"], capture_output=True, text=True, timeout=60)
    assert "a --url naming a different path is a config error (exit 2)" in " ".join(shown.stdout.split())
    done = subprocess.run([*CLI, "send", "--url", "https://127.0.0.1:1/x/y", "--path", "/other", "-"],
                          input=json.dumps(DENY), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "path = /other but the url already names the path /x/y" in done.stderr
    same = subprocess.run([*CLI, "send", "--url", "https://127.0.0.1:1/x/y", "--path", "/x/y", "-"],
                          input=json.dumps(DENY), capture_output=True, text=True, timeout=60)
    assert same.returncode == 1 and "already names the path" not in same.stderr
