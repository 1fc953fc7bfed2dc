"""The reference consumer over real HTTPS (TLS 1.2+, mutual TLS) in both
wire dialects, checked with the requests client against the dev CA."""
from __future__ import annotations

import time
import json
import ssl
import uuid
import warnings
from collections.abc import Callable

import pytest
import requests

from tests.fixtures.consumer import RunningConsumer

V11 = "application/openc2+json;version=1.0"
V10_CMD = "application/openc2-cmd+json;version=1.0"
DENY = {"action": "deny", "target": {"ipv4_net": "198.51.100.0/24"}}


def envelope(command: dict, request_id: str) -> dict:
    return {"headers": {"request_id": request_id, "created": int(time.time() * 1000), "from": "soar@example.com"},
            "body": {"openc2": {"request": command}}}


def post(c: RunningConsumer, body: object, content_type: str = V11, url: str | None = None,
         headers: dict | None = None, session: requests.Session | None = None) -> requests.Response:
    sender = session or requests
    return sender.post(url or c.url, data=json.dumps(body), verify=c.ca, cert=(c.client_cert, c.client_key),
                       headers={"Content-Type": content_type, **(headers or {})}, timeout=10)


def test_v11_envelope_answer_over_mutual_tls(reference_consumer: RunningConsumer) -> None:
    c = reference_consumer
    rid = str(uuid.uuid4())
    r = post(c, envelope(DENY, rid), headers={"X-Request-ID": rid})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == V11 and r.headers["X-Request-ID"] == rid
    body = r.json()
    assert body["headers"]["request_id"] == rid and body["headers"]["from"] == c.device_id
    assert body["body"]["openc2"]["response"] == {"status": 200, "results": {"slpf": {"rule_number": 1}}}
    assert c.server.request_log.request_ids == [rid]
    assert c.url.startswith("https://127.0.0.1:") and c.url.endswith("/.well-known/openc2")


def test_signed_response_verifies_with_public_key(reference_consumer: RunningConsumer) -> None:
    from fn_openc2.lib import security
    c = reference_consumer
    body = post(c, envelope(DENY, "sig-1")).json()
    assert isinstance(body.get("signature"), str) and ".." in body["signature"]
    key = security.load_public_key(c.public_key)
    security.verify_message(body, key)                      # raises when it does not verify
    tampered = json.loads(json.dumps(body))
    tampered["body"]["openc2"]["response"]["status"] = 500
    with pytest.raises(security.SignatureError):
        security.verify_message(tampered, key)


def test_client_certificate_required(reference_consumer: RunningConsumer) -> None:
    c = reference_consumer
    with pytest.raises(requests.exceptions.SSLError):
        requests.post(c.url, data=json.dumps(envelope(DENY, "nocert")), verify=c.ca,
                      headers={"Content-Type": V11}, timeout=10)
    assert c.server.request_log.count == 0


def test_tls_below_1_2_refused(reference_consumer: RunningConsumer) -> None:
    import socket
    context = ssl.create_default_context(cafile=reference_consumer.ca)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # old versions on purpose
        context.maximum_version = ssl.TLSVersion.TLSv1_1
        context.minimum_version = ssl.TLSVersion.TLSv1
    with socket.create_connection(("127.0.0.1", reference_consumer.server.port), timeout=10) as raw:
        with pytest.raises(ssl.SSLError):
            context.wrap_socket(raw, server_hostname="127.0.0.1").close()


def test_wrong_content_type_path_and_method(reference_consumer: RunningConsumer) -> None:
    c = reference_consumer
    # answered in the dialect's own form with an OpenC2 status code (415 is not one): issue 10.9
    for rid, content_type in (("ct", "application/json"), ("ct2", "application/openc2+json;version=2.0")):
        r = post(c, envelope(DENY, rid), content_type=content_type)
        assert r.status_code == 200 and r.json()["headers"]["request_id"] == rid
        assert r.json()["body"]["openc2"]["response"] == {
            "status": 400, "status_text": "Content-Type must be application/openc2+json;version=1.0"}
    r = requests.get(c.url, verify=c.ca, cert=(c.client_cert, c.client_key), timeout=10)
    assert r.status_code == 405 and r.headers["Allow"] == "POST"
    assert c.actuator.snapshot()["rules"] == []


@pytest.mark.parametrize("dialect", ["https-v1.1", "https-v1.1-status", "https-v1.0"])
def test_wrong_path_is_a_plain_http_404_whatever_the_method(
        dialect: str, start_consumer: Callable[..., RunningConsumer]) -> None:
    """An unknown route never reaches the OpenC2 handler of a real consumer's web framework:
    plain HTTP 404, no OpenC2 body, no X-Request-ID echo, nothing done; still logged."""
    c = start_consumer(dialect, signed=False)
    base = c.url[: -len(c.server.dialect.path)]
    wrong = base + ("/openc2" if c.server.dialect.path != "/openc2" else "/.well-known/openc2")
    body = envelope(DENY, "p") if dialect != "https-v1.0" else DENY
    content_type = V10_CMD if dialect == "https-v1.0" else V11
    with requests.Session() as s:
        r = post(c, body, content_type=content_type, url=wrong + "?x=1", headers={"X-Request-ID": "p"}, session=s)
        assert (r.status_code, r.headers["Content-Type"], r.text) == (404, "text/plain; charset=utf-8", "Not Found\n")
        assert "X-Request-ID" not in r.headers
        for method in ("GET", "PUT", "DELETE", "OPTIONS"):
            r = s.request(method, wrong, verify=c.ca, cert=(c.client_cert, c.client_key), timeout=10)
            assert (r.status_code, r.text, "Allow" in r.headers) == (404, "Not Found\n", False), method
        r = s.head(wrong, verify=c.ca, cert=(c.client_cert, c.client_key), timeout=10)
        assert r.status_code == 404 and r.content == b""
        r = post(c, body, content_type=content_type, session=s)           # same connection, right path
        assert r.status_code == 200 and "rule_number" in r.text
    assert [(e.method, e.http_status) for e in c.server.request_log.entries] == [
        ("POST", 404), ("GET", 404), ("PUT", 404), ("DELETE", 404), ("OPTIONS", 404), ("HEAD", 404), ("POST", 200)]
    assert c.server.request_log.entries[0].path == wrong.removeprefix(base) + "?x=1"
    assert len(c.actuator.snapshot()["rules"]) == 1


def test_no_response_is_http_204(reference_consumer: RunningConsumer) -> None:
    c = reference_consumer
    cmd = {**DENY, "args": {"response_requested": "none"}}
    r = post(c, envelope(cmd, "quiet"), headers={"X-Request-ID": "quiet"})
    assert r.status_code == 204 and r.content == b"" and r.headers["X-Request-ID"] == "quiet"
    assert len(c.actuator.snapshot()["rules"]) == 1
    assert c.server.request_log.request_ids == ["quiet"]


def test_invalid_json_is_400_in_body(reference_consumer: RunningConsumer) -> None:
    c = reference_consumer
    r = requests.post(c.url, data=b'{"headers": {', verify=c.ca, cert=(c.client_cert, c.client_key),
                      headers={"Content-Type": V11, "X-Request-ID": "broken"}, timeout=10)
    assert r.status_code == 200
    assert r.json()["body"]["openc2"]["response"]["status"] == 400
    assert r.headers["X-Request-ID"] == "broken"


def test_request_id_taken_from_header_when_envelope_lacks_it(reference_consumer: RunningConsumer) -> None:
    c = reference_consumer
    msg = {"headers": {"from": "soar"}, "body": {"openc2": {"request": DENY}}}
    r = post(c, msg, headers={"X-Request-ID": "hdr-1"})
    assert r.json()["headers"]["request_id"] == "hdr-1"
    assert c.actuator.snapshot()["rules"][0]["command_id"] == "hdr-1"


def test_keep_alive_serves_many_requests_on_one_connection(reference_consumer: RunningConsumer) -> None:
    c = reference_consumer
    with requests.Session() as s:
        for i in range(50):
            q = envelope({"action": "query", "target": {"features": []}}, f"ka-{i}")
            assert post(c, q, session=s).status_code == 200
    assert c.server.request_log.count == 50


def test_v10_bare_dialect_status_in_status_line(start_consumer: Callable[..., RunningConsumer]) -> None:
    c = start_consumer("https-v1.0", signed=False)
    assert c.url.endswith("/openc2")
    r = post(c, DENY, content_type=V10_CMD, headers={"X-Request-ID": "bare-1"})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/openc2-rsp+json;version=1.0"
    assert r.headers["X-Request-ID"] == "bare-1"
    assert r.json() == {"status": 200, "results": {"slpf": {"rule_number": 1}}}
    assert c.actuator.snapshot()["rules"][0]["command_id"] == "bare-1"
    r = post(c, {"action": "scan", "target": {"ipv4_net": "10.0.0.0/8"}}, content_type=V10_CMD)
    assert r.status_code == 501 and r.json()["status"] == 501
    r = post(c, {"action": "delete", "target": {"slpf": {"rule_number": 77}}}, content_type=V10_CMD)
    assert r.status_code == 404
    wrong = post(c, DENY, content_type=V11)            # the v1.0 form: status in the line, bare body
    assert wrong.status_code == 400 and wrong.json()["status_text"].startswith("Content-Type must be")


def test_plain_http_for_testing(start_consumer: Callable[..., RunningConsumer]) -> None:
    c = start_consumer(tls=False, signed=False)
    assert c.url.startswith("http://")
    r = requests.post(c.url, data=json.dumps(envelope(DENY, "plain")), headers={"Content-Type": V11},
                      verify=False, timeout=10)
    assert r.json()["body"]["openc2"]["response"]["status"] == 200


def test_stop_closes_keep_alive_connections(start_consumer: Callable[..., RunningConsumer]) -> None:
    c = start_consumer(signed=False)
    with requests.Session() as s:
        assert post(c, envelope(DENY, "before"), session=s).status_code == 200
        c.server.stop()
        with pytest.raises(requests.exceptions.ConnectionError):
            post(c, envelope(DENY, "after"), session=s)
    assert c.server.request_log.request_ids == ["before"]


def test_v10_ack_is_http_102_without_body(start_consumer: Callable[..., RunningConsumer]) -> None:
    c = start_consumer("https-v1.0", signed=False)
    cmd = {**DENY, "args": {"response_requested": "ack"}}
    r = post(c, cmd, content_type=V10_CMD, headers={"X-Request-ID": "ack-1"})
    assert r.status_code == 102 and r.content == b"" and r.headers["X-Request-ID"] == "ack-1"
    assert len(c.actuator.snapshot()["rules"]) == 1


def test_a_v10_command_gets_answers_a_v10_producer_can_decode(reference_consumer: RunningConsumer) -> None:
    """Issue 10.9: "actuator": {"slpf": {}} in, LS v1.0 versions and target names out."""
    query = {"action": "query", "target": {"features": ["versions", "pairs"]}, "actuator": {"slpf": {}}}
    r = post(reference_consumer, envelope(query, "v10-q"))
    results = r.json()["body"]["openc2"]["response"]["results"]
    assert results["versions"] == ["1.0"]
    assert "slpf:rule_number" in results["pairs"]["delete"] and "slpf" not in results["pairs"]["delete"]
    current = post(reference_consumer, envelope({"action": "query", "target": {"features": ["versions"]},
                                                 "profile": "slpf"}, "v20-q"))
    assert current.json()["body"]["openc2"]["response"]["results"]["versions"] == ["2.0"]
