"""Each wire dialect against a peer that behaves like a consumer from the interop facts."""
from __future__ import annotations

from fn_openc2.lib.transfer import HttpsSettings, HttpsTransport, adapt_command
from fn_openc2.lib.transfer.devpki import Pki
from tests.transfer.conftest import envelope
from tests.transfer.oc2server import Answer, Seen

V11 = "application/openc2+json;version=1.0"
V10_CMD = "application/openc2-cmd+json;version=1.0"
V10_RSP = "application/openc2-rsp+json;version=1.0"


def _transport(pki: Pki, url: str, **kw: object) -> HttpsTransport:
    return HttpsTransport(HttpsSettings(url=url, verify=pki.ca_cert, retries=0, **kw), "fw1")  # type: ignore[arg-type]


def test_v11_default_sends_envelope_to_well_known_path_with_exact_headers(pki: Pki, peer) -> None:
    def behave(req: Seen) -> Answer:
        msg = req.json
        return Answer(200, {"headers": {"request_id": msg["headers"]["request_id"], "from": "fw1@example.com"},
                            "body": {"openc2": {"response": {"status": 200}}}})
    server = peer(behave)
    message = envelope()
    replies = _transport(pki, server.url).send(message).replies
    seen = server.seen[0]
    assert seen.path == "/.well-known/openc2"
    assert seen.headers["Content-Type"] == V11
    assert seen.headers["Accept"] == V11
    assert seen.headers["Cache-Control"] == "no-cache"
    assert seen.headers["X-Request-ID"] == message["headers"]["request_id"]
    assert seen.headers["Date"].endswith(" GMT")
    assert seen.json == message
    assert len(replies) == 1
    assert replies[0].message["body"]["openc2"]["response"]["status"] == 200
    assert replies[0].responder == "fw1@example.com"
    assert replies[0].http_status == 200 and replies[0].transport == "https"


def test_v10_sends_bare_command_and_reads_status_from_http_line(pki: Pki, peer) -> None:
    def behave(req: Seen) -> Answer:
        if req.headers["Content-Type"] != V10_CMD:
            return Answer(415, b"")
        return Answer(501, {"status_text": "not implemented"}, {"X-Request-ID": req.headers["X-Request-ID"]})
    server = peer(behave)
    message = envelope()
    replies = _transport(pki, server.url, dialect="https-v1.0").send(message).replies
    seen = server.seen[0]
    assert seen.headers["Accept"] == V10_RSP
    assert seen.json == message["body"]["openc2"]["request"]
    reply = replies[0].message
    assert reply["body"]["openc2"]["response"] == {"status": 501, "status_text": "not implemented"}
    assert reply["headers"]["request_id"] == message["headers"]["request_id"]
    assert replies[0].http_status == 501 and replies[0].responder == "fw1"


def test_python_framework_consumer_root_path_v10_type_envelope_object_profile(pki: Pki, peer) -> None:
    """POST / only, exact v1.0 content type, envelope body, profile object, 200 with
    status in body, request_id dropped from error answers, 204 for none."""
    def behave(req: Seen) -> Answer:
        if req.path != "/" or req.headers["Content-Type"] != V10_CMD:
            return Answer(400, {"status": 400, "status_text": "bad request"})
        command = req.json["body"]["openc2"]["request"]
        if not isinstance(command.get("profile"), dict):
            return Answer(200, {"headers": {"from": "py"}, "body": {"openc2": {"response": {"status": 400}}}})
        if command.get("args", {}).get("response_requested") == "none":
            return Answer(204)
        return Answer(200, {"headers": {"from": "py"}, "body": {"openc2": {"response": {
            "status": 500, "status_text": "kaputt"}}}})
    server = peer(behave)
    transport = _transport(pki, server.url, path="/", content_type=V10_CMD, accept=V10_RSP, envelope="full",
                           status_in="body", profile_encoding="object")
    assert transport.profile_encoding == "object"
    message = envelope(adapt_command(envelope()["body"]["openc2"]["request"], transport.profile_encoding))
    replies = transport.send(message).replies
    assert server.seen[0].json["body"]["openc2"]["request"]["profile"] == {"slpf": {}}
    assert replies[0].message["body"]["openc2"]["response"]["status"] == 500
    assert replies[0].message["headers"]["request_id"] == message["headers"]["request_id"]
    assert replies[0].responder == "py"

    quiet = dict(message["body"]["openc2"]["request"], args={"response_requested": "none"})
    (nothing,) = transport.send(envelope(quiet)).replies           # HTTP 204: recorded, with no body
    assert nothing.http_status == 204 and nothing.raw == b""


def test_fastapi_style_consumer_openc2_only_body_and_headers_as_http_headers(pki: Pki, peer) -> None:
    def behave(req: Seen) -> Answer:
        if req.path != "/.well-known/openc2_command" or "openc2" not in req.json:
            return Answer(404, b"not found")
        return Answer(200, {"openc2": {"response": {"status": 200, "results": {"versions": ["1.0"]}}}},
                      {"X-Request-ID": req.headers["request_id"], "from": "fastapi-fw"})
    server = peer(behave)
    transport = _transport(pki, server.url, path="/.well-known/openc2_command", envelope="openc2-only")
    message = envelope()
    replies = transport.send(message).replies
    seen = server.seen[0]
    assert seen.json == {"openc2": {"request": message["body"]["openc2"]["request"]}}
    assert seen.headers["request_id"] == message["headers"]["request_id"]
    assert seen.headers["from"] == "soar@example.com"
    assert seen.headers["to"] == "fw1"
    reply = replies[0].message
    assert reply["headers"] == {"request_id": message["headers"]["request_id"], "from": "fastapi-fw"}
    assert reply["body"]["openc2"]["response"]["results"] == {"versions": ["1.0"]}


def test_v11_library_with_status_in_http_line_and_actuator_encoding(pki: Pki, peer) -> None:
    """Rejects "profile" strings with HTTP 400, dispatches on "actuator", 501 for unknown targets."""
    def behave(req: Seen) -> Answer:
        command = req.json["body"]["openc2"]["request"]
        rid = req.json["headers"]["request_id"]
        if "profile" in command:
            return Answer(400, {"headers": {"request_id": rid},
                                "body": {"openc2": {"response": {"status": 400}}}})
        if "slpf:rule_number" in command["target"]:
            return Answer(501, {"body": {"openc2": {"response": {"status_text": "no rules here"}}}})
        return Answer(200, {"headers": {"request_id": rid}, "body": {"openc2": {"response": {"status": 200}}}})
    server = peer(behave)
    string_form = _transport(pki, server.url, status_in="http")
    message = envelope()
    refused = string_form.send(message).replies
    assert refused[0].http_status == 400
    assert refused[0].message["body"]["openc2"]["response"]["status"] == 400

    delete = {"action": "delete", "target": {"slpf": {"rule_number": 7}}, "profile": "slpf"}
    adapted = adapt_command(delete, "actuator")
    assert adapted == {"action": "delete", "target": {"slpf:rule_number": 7}, "actuator": {"slpf": {}}}
    unknown = string_form.send(envelope(adapted)).replies
    assert unknown[0].message["body"]["openc2"]["response"] == {"status": 501, "status_text": "no rules here"}
    assert unknown[0].message["headers"]["request_id"]  # filled from the exchange

    ok = string_form.send(envelope(adapt_command(message["body"]["openc2"]["request"], "actuator"))).replies
    assert ok[0].message["body"]["openc2"]["response"]["status"] == 200


def test_error_answer_without_any_request_id_is_matched_to_its_exchange(pki: Pki, peer) -> None:
    server = peer(lambda req: Answer(200, {"status": 400, "status_text": "bad target"}))
    message = envelope()
    replies = _transport(pki, server.url).send(message).replies
    assert replies[0].message == {"headers": {"request_id": message["headers"]["request_id"]},
                                  "body": {"openc2": {"response": {"status": 400, "status_text": "bad target"}}}}
    assert replies[0].raw == b'{"status": 400, "status_text": "bad target"}'
