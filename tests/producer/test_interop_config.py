"""The consumers of the interop facts reached by app.config keys alone (no code),
through the whole producer over real HTTPS with mutual TLS; and proxies
configured the resilient-lib way, proven by a real CONNECT proxy."""
from __future__ import annotations

from typing import Any

import pytest

from fn_openc2.lib.producer.producer import Producer
from fn_openc2.lib.transfer.devpki import Pki
from tests.fixtures.proxy import ConnectProxy
from tests.producer.helpers import peer_section, https_section, registry
from tests.transfer.oc2server import Answer, Seen

V10_CMD = "application/openc2-cmd+json;version=1.0"
V10_RSP = "application/openc2-rsp+json;version=1.0"
DENY = {"action": "deny", "target": {"ipv4_net": "198.51.100.0/24"}, "profile": "slpf"}


def python_framework(req: Seen) -> Answer:
    """POST / only, the exact v1.0 command type, v1.1 envelope, profile as an object,
    HTTP 200 with the status in the body, 204 for none, no request_id in error answers."""
    if req.path != "/" or req.headers.get("Content-Type") != V10_CMD:
        return Answer(400, b"unsupported")
    command = req.json["body"]["openc2"]["request"]
    if command.get("args", {}).get("response_requested") == "none":
        return Answer(204)
    if not isinstance(command.get("profile"), dict):
        return Answer(200, {"headers": {"from": "py-fw"}, "body": {"openc2": {"response": {"status": 400}}}})
    if command["action"] == "delete":
        return Answer(200, {"headers": {"from": "py-fw"},
                            "body": {"openc2": {"response": {"status": 501, "status_text": "no delete"}}}})
    return Answer(200, {"headers": {"request_id": req.json["headers"]["request_id"], "from": "py-fw"},
                        "body": {"openc2": {"response": {"status": 200}}}})


def fastapi_style(req: Seen) -> Answer:
    """/.well-known/openc2_command, OpenC2 headers as HTTP headers, body {"openc2": {...}}."""
    if req.path != "/.well-known/openc2_command" or set(req.json) != {"openc2"}:
        return Answer(404, b"not found")
    if "request_id" not in req.headers or req.headers.get("from") != "soar@interop":
        return Answer(200, {"openc2": {"response": {"status": 500, "status_text": "headers missing"}}})
    return Answer(200, {"openc2": {"response": {"status": 200}}},
                  {"request_id": req.headers["request_id"], "from": "fastapi-fw"})


def status_line_library(req: Seen) -> Answer:
    """v1.1 path and type, OpenC2 status as the HTTP status, LS v1.0 "actuator" form only."""
    if req.path != "/.well-known/openc2" or req.headers.get("Content-Type") != "application/openc2+json;version=1.0":
        return Answer(415, b"")
    command = req.json["body"]["openc2"]["request"]
    rid = req.json["headers"]["request_id"]
    if "profile" in command or "actuator" not in command:
        return Answer(400, {"headers": {"request_id": rid}, "body": {"openc2": {"response": {"status_text": "x"}}}})
    if "slpf:rule_number" in command["target"]:
        return Answer(501, {"body": {"openc2": {"response": {"status_text": "rules are read-only"}}}})
    return Answer(200, {"headers": {"request_id": rid, "from": "lib-fw"}, "body": {"openc2": {"response": {}}}})


def test_python_framework_consumer_by_configuration(pki: Pki, peers: Any) -> None:
    server = peers(python_framework)
    section = peer_section(server.url, pki, path="/", content_type=V10_CMD, accept=V10_RSP, envelope="full",
                       status_in="body", profile_encoding="object")
    with Producer(registry(py=section)) as producer:
        (ok,) = producer.send(DENY, "py").answers
        (quiet,) = producer.send({**DENY, "args": {"response_requested": "none"}}, "py").answers
        deleted = producer.send({"action": "delete", "target": {"slpf": {"rule_number": 3}}, "profile": "slpf"},
                                "py")
    assert ok.ok and ok.status == 200 and ok.responder == "py-fw"
    assert server.seen[0].json["body"]["openc2"]["request"]["profile"] == {"slpf": {}}
    assert quiet.ok and quiet.status is None                               # HTTP 204, nothing awaited
    (error,) = deleted.answers
    assert error.ok and error.status == 501 and error.status_text == "no delete"
    assert error.request_id == deleted.request_id                          # matched though the answer had none
    assert error.message is not None and error.message["headers"]["request_id"] == deleted.request_id


def test_fastapi_style_consumer_by_configuration(pki: Pki, peers: Any) -> None:
    server = peers(fastapi_style)
    section = peer_section(server.url, pki, path="/.well-known/openc2_command", envelope="openc2-only")
    with Producer(registry({"producer_id": "soar@interop"}, fastapi=section)) as producer:
        outcome = producer.send(DENY, "fastapi")
    (answer,) = outcome.answers
    assert answer.ok and answer.status == 200 and answer.responder == "fastapi-fw"
    seen = server.seen[0]
    assert seen.headers["request_id"] == outcome.request_id and seen.headers["to"] == "fastapi"
    assert seen.json == {"openc2": {"request": DENY}}


def test_status_line_library_by_configuration(pki: Pki, peers: Any) -> None:
    server = peers(status_line_library)
    section = peer_section(server.url, pki, status_in="http", profile_encoding="actuator")
    with Producer(registry(lib=section)) as producer:
        (ok,) = producer.send(DENY, "lib").answers
        delete = producer.send({"action": "delete", "target": {"slpf": {"rule_number": 3}}, "profile": "slpf"}, "lib")
    assert ok.ok and ok.status == 200 and ok.http_status == 200
    assert server.seen[0].json["body"]["openc2"]["request"]["actuator"] == {"slpf": {}}
    (refused,) = delete.answers
    assert refused.ok and refused.status == 501 and refused.http_status == 501    # an answer, not a failure
    assert refused.status_text == "rules are read-only" and refused.request_id == delete.request_id
    assert server.seen[1].json["body"]["openc2"]["request"]["target"] == {"slpf:rule_number": 3}


def test_status_line_library_refuses_the_default_encoding(pki: Pki, peers: Any) -> None:
    """Without profile_encoding = actuator the consumer says 400 (in the status line) and the producer shows it."""
    server = peers(status_line_library)
    with Producer(registry(lib=peer_section(server.url, pki, status_in="http"))) as producer:
        (answer,) = producer.send(DENY, "lib").answers
    assert answer.status == 400 and answer.http_status == 400 and answer.error is None


@pytest.mark.parametrize("where", ["consumer", "fn_openc2", "integrations"])
def test_configured_proxy_carries_the_request(where: str, reference_consumer: Any, monkeypatch: Any) -> None:
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    proxy = ConnectProxy()
    try:
        sections: dict[str, dict[str, str]] = {"fn_openc2": {}, "integrations": {}}
        consumer = https_section(reference_consumer)
        target = consumer if where == "consumer" else sections[where]
        target["https_proxy"] = proxy.url
        sections["fn_openc2:fw1"] = consumer
        from fn_openc2.lib.producer.appconfig import load_settings
        with Producer(load_settings(sections)) as producer:
            (answer,) = producer.send({"action": "deny", "target": {"ipv4_net": "198.51.100.0/24"}}, "fw1").answers
    finally:
        proxy.close()
    assert answer.ok and answer.status == 200
    port = reference_consumer.url.split("//", 1)[1].split("/", 1)[0]
    assert proxy.tunnels == [port]


def test_environment_proxy_wins_and_no_proxy_is_honoured(reference_consumer: Any, monkeypatch: Any) -> None:
    proxy = ConnectProxy()
    try:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        sections = {"fn_openc2:fw1": https_section(reference_consumer, https_proxy="http://127.0.0.1:9")}
        from fn_openc2.lib.producer.appconfig import load_settings
        with Producer(load_settings(sections)) as producer:
            assert producer.send({"action": "deny", "target": {"ipv4_net": "198.51.100.1"}}, "fw1").answers[0].ok
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        with Producer(load_settings(sections)) as producer:
            assert producer.send({"action": "deny", "target": {"ipv4_net": "198.51.100.2"}}, "fw1").answers[0].ok
    finally:
        proxy.close()
    assert len(proxy.tunnels) == 1                               # the second went direct


def test_basic_auth_and_bearer_token_from_configuration(pki: Pki, peers: Any) -> None:
    import base64

    server = peers(lambda req: Answer(200, {"status": 200}))
    basic = peer_section(server.url, pki, basic_auth_user="soar", basic_auth_password="pw-basic")
    bearer = peer_section(server.url, pki, bearer_token="tok-123", device_id="fw-bearer")
    with Producer(registry(basic=basic, bearer=bearer)) as producer:
        outcome = producer.send({"action": "deny", "target": {"ipv4_net": "198.51.100.0/24"}}, ["basic", "bearer"])
    assert all(a.ok for a in outcome.answers)
    auth = sorted(s.headers["Authorization"] for s in server.seen)
    assert auth == ["Basic " + base64.b64encode(b"soar:pw-basic").decode(), "Bearer tok-123"]
