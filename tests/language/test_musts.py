"""One test per MUST / MUST NOT / SHALL / REQUIRED of LS v2.0 sections 3-5
that the language layer can decide from a document alone; each test gives a
document that violates it and checks the exact JSON path of the error.

MUSTs of sections 3-5 that belong to other layers, and where they are tested:

- 3.2   Consumer MUST copy request_id from the command's header into each
        response: tests/consumer/test_actuator.py
        (test_deny_answers_rule_number_and_envelope_headers).
- 3.2   Producer MUST include request_id when it requests a response, on the
        wire: tests/producer/test_producer_https.py
        (test_signed_command_is_verified_by_the_consumer checks
        headers.request_id); the document-level rule is tested here too.
- 3.3.1 Consumer MUST use request_id as command_id when command_id is
        absent: tests/consumer/test_actuator.py
        (test_cancel_removes_what_the_command_created) and
        tests/producer/test_producer_https.py
        (test_signed_command_is_verified_by_the_consumer).
- 3.3.4 signed messages MUST be JWS (RFC 7515), compact serialization,
        detached content without the payload, placed in "signature", over
        the RFC 7493 / RFC 8785 form: tests/security/test_sign_verify.py
        (test_signature_is_standard_jws_detached, test_attached_payload_is_refused,
        ...), tests/security/test_canonical.py, tests/security/test_appendix_c3.py.
        Only the shape of the "signature" string is checked here.
- 4.1   Consumer answers to 'query features' (MUST NOT answer 200 to other
        arguments; MUST answer 200 with versions / profiles / pairs):
        tests/consumer/test_actuator.py (test_query_features,
        test_advertised_pairs_are_all_accepted).
- 5.3-1 / 5.4-1 issuing and processing per sections 3-4 as a whole:
        tests/producer and tests/consumer.
- 3.4.1.9 "CBOR serialization SHALL use a binary representation": no CBOR
        serialization is implemented, so nothing to test.
"""
from __future__ import annotations

from fn_openc2.lib.language import (
    check_command, check_message, check_response, encode, loads, parse_command, parse_message, parse_response,
    to_dict,
)

from .helpers import deny, issues_of, paths_of

NET = {"ipv4_net": "192.0.2.0/24"}


# 3.1.4 - the list of Actions SHALL NOT be extended
def test_actions_cannot_be_extended() -> None:
    assert paths_of(parse_command, {"action": "slpf:block", "target": NET}) == ["action"]


# 3.1.4 - extended targets live under a registered namespace
def test_extended_target_must_be_a_known_namespace() -> None:
    assert paths_of(parse_command, deny({"acme:rule": 1})) == ["target.acme:rule"]


# 3.1.4 - extended results MUST be defined within the extended results namespace
def test_extended_results_must_be_in_a_namespace() -> None:
    assert paths_of(parse_response, {"status": 200, "results": {"rule_number": 5}}) == ["results.rule_number"]
    assert paths_of(parse_response, {"status": 200, "results": {"slpf": {"rule": 5}}}) == ["results.slpf.rule"]


# 3.1.5 / 3.3.4 / 5.3-3 / 5.4-3 - JSON MUST be I-JSON (RFC 7493)
def test_received_json_must_be_i_json() -> None:
    issues = issues_of(parse_command, b'{"action":"deny","action":"allow","target":{"ipv4_net":"1.2.3.4"}}')
    assert [p for p, _ in issues] == ["action"]
    too_big = b'{"action":"deny","target":{"ipv4_connection":{"dst_port":1}},"args":{"start_time":9007199254740993}}'
    issues = issues_of(parse_command, too_big)
    assert issues == [("args.start_time",
                       "integer 9007199254740993 is outside the I-JSON range +-(2**53-1) (RFC 7493 section 2.2)")]
    assert paths_of(parse_response, b'{"status":200,"results":{"rate_limit":1e999}}') == ["results.rate_limit"]
    assert paths_of(parse_command, b'{"action":"deny","target":{"uri":"http://x/\\udc00"}}') == ["target.uri"]


# 3.1.4 - extended Target names are prefixed by an nsid; the v2.0 form nests them under it
def test_extended_target_names_carry_the_namespace() -> None:
    assert paths_of(parse_command, {"action": "delete", "target": {"slpf:rule_number": 5}}) == [
        "target.slpf:rule_number"]
    assert paths_of(parse_response, {"status": 200, "results": {"pairs": {"delete": ["rule_number"]}}}) == [
        "results.pairs.delete[0]"]
    assert check_response({"status": 200, "results": {"pairs": {"delete": ["slpf:rule_number"]}}}) == []


# 3.1.5 - JSON serialization requirements of the table: IPv6 ranges in RFC 4291 section 2.3 text
# (every RFC 4291 form is read, RFC 5952 section 4; the canonical one is written), colon-hex MAC,
# hex (Binary /x) hashes, base64url Binary
def test_json_serialization_table() -> None:
    assert to_dict(parse_command(deny({"ipv6_net": "2001:DB8::/32"})))["target"] == {"ipv6_net": "2001:db8::/32"}
    assert paths_of(parse_command, deny({"ipv6_net": "2001:db8::/032"})) == ["target.ipv6_net"]
    assert paths_of(parse_command, deny({"mac_addr": "00-1b-63-84-45-e6"})) == ["target.mac_addr"]
    assert paths_of(parse_command, deny({"file": {"hashes": {"md5": "z" * 32}}})) == ["target.file.hashes.md5"]
    assert paths_of(parse_command, deny({"artifact": {"payload": {"bin": "a+b/"}}})) == [
        "target.artifact.payload.bin"]


# 3.4.1.9 - JSON serialization of an IPv4 range SHALL use the dotted/slash form
def test_ipv4_net_dotted_slash() -> None:
    assert paths_of(parse_command, deny({"ipv4_net": "10.0.0.0/255.0.0.0"})) == ["target.ipv4_net"]
    assert paths_of(parse_command, deny({"ipv4_connection": {"src_addr": "10.0.0.0 255.0.0.0"}})) == [
        "target.ipv4_connection.src_addr"]


# 3.4.1.5 / 3.1.3 - Features is ArrayOf(Feature){0..10}
def test_at_most_ten_features() -> None:
    eleven = {"action": "query", "target": {"features": ["versions", "profiles", "pairs", "rate_limit"] * 2 +
                                                        ["versions", "profiles", "pairs"]}}
    assert paths_of(parse_command, eleven)[0] == "target.features"


# 3.3.4 - the signature field holds a JWS compact serialization with detached content
def test_signature_is_detached_compact_jws() -> None:
    body = {"openc2": {"response": {"status": 200}}}
    assert paths_of(parse_message, {"body": body, "signature": "aGVhZGVy.cGF5bG9hZA.c2ln"}) == ["signature"]
    assert check_message({"body": body, "signature": "eyJhbGciOiJFUzI1NiJ9..c2ln"}) == []


# 5.3-2 / 5.4-2 - generated JSON is I-JSON
def test_generated_json_is_i_json() -> None:
    command = parse_command({"action": "deny", "target": NET, "args": {"start_time": 2**53 - 1}})
    assert loads(encode(command))["args"]["start_time"] == 2**53 - 1
    assert paths_of(parse_command, {"action": "deny", "target": NET, "args": {"start_time": 2**53}}) == [
        "args.start_time"
    ]


# 3.2 - a Producer MUST include request_id if it requests a Response
def test_message_requesting_response_needs_request_id() -> None:
    doc = {"headers": {"from": "p"}, "body": {"openc2": {"request": {"action": "deny", "target": NET}}}}
    assert paths_of(parse_message, doc) == ["headers.request_id"]
    doc["body"]["openc2"]["request"]["args"] = {"response_requested": "none"}
    assert check_message(doc) == []


# 3.3.1 - if present, args MUST contain at least one element
def test_args_must_not_be_empty() -> None:
    assert paths_of(parse_command, deny(NET, args={})) == ["args"]


# 3.3.1.1 / 5.1-2 - exactly one action
def test_exactly_one_action() -> None:
    assert paths_of(parse_command, {"target": NET}) == ["action"]
    assert paths_of(parse_command, {"action": ["deny", "allow"], "target": NET}) == ["action"]


# 3.3.1.2 / 5.1-3 - exactly one target
def test_exactly_one_target() -> None:
    assert paths_of(parse_command, deny({**NET, "ipv6_net": "2001:db8::/32"})) == ["target"]
    assert paths_of(parse_command, deny({})) == ["target"]
    assert paths_of(parse_command, {"action": "deny"}) == ["target"]


# 5.1-4 - zero or one profile, defined in 3.3.1.3
def test_zero_or_one_profile() -> None:
    assert paths_of(parse_command, deny(NET, profile=["slpf", "er"])) == ["profile"]
    assert paths_of(parse_command, deny(NET, profile="nosuch")) == ["profile"]


# 5.1-5 - zero or one args, defined in 3.3.1.4
def test_zero_or_one_args_object() -> None:
    assert paths_of(parse_command, deny(NET, args=[{"duration": 1}])) == ["args"]
    assert paths_of(parse_command, deny(NET, args={"priority": 1})) == ["args.priority"]


# 5.1-1 - structured per 3.3.1: no other members
def test_command_has_no_other_members() -> None:
    assert paths_of(parse_command, deny(NET, actuator={"slpf": {}})) == ["actuator"]


# 3.3.1.4 - only two of start_time, stop_time, duration
def test_only_two_of_the_three_times() -> None:
    args = {"start_time": 1, "stop_time": 5, "duration": 4}
    assert paths_of(parse_command, deny(NET, args=args)) == ["args"]


# 3.3.2 / 5.2-2 - all Responses MUST contain (exactly one) status
def test_response_must_contain_status() -> None:
    assert paths_of(parse_response, {"status_text": "OK"}) == ["status"]
    assert paths_of(parse_response, {"status": [200]}) == ["status"]
    assert paths_of(parse_response, {"status": 299}) == ["status"]


# 5.2-1 - structured per 3.3.2
def test_response_has_no_other_members() -> None:
    assert paths_of(parse_response, {"status": 200, "request_id": "x"}) == ["request_id"]


# 3.4.1.1 - an Artifact MUST contain at least one property
def test_artifact_not_empty() -> None:
    assert paths_of(parse_command, deny({"artifact": {}})) == ["target.artifact"]


# 3.4.1.2 - a Device MUST contain at least one property
def test_device_not_empty() -> None:
    assert paths_of(parse_command, {"action": "contain", "target": {"device": {}}}) == ["target.device"]


# 3.4.1.5 - a Producer MUST NOT send a feature twice
def test_features_unique() -> None:
    doc = {"action": "query", "target": {"features": ["versions", "pairs", "versions"]}}
    assert paths_of(parse_command, doc) == ["target.features[2]"]


# 3.4.1.6 - a File MUST contain at least one property
def test_file_not_empty() -> None:
    assert paths_of(parse_command, deny({"file": {}})) == ["target.file"]


# 3.4.1.10 - an IPv4-Connection MUST contain at least one property
def test_ipv4_connection_not_empty() -> None:
    assert paths_of(parse_command, deny({"ipv4_connection": {}})) == ["target.ipv4_connection"]


# 3.4.1.12 - an IPv6-Connection MUST contain at least one property
def test_ipv6_connection_not_empty() -> None:
    assert paths_of(parse_command, deny({"ipv6_connection": {}})) == ["target.ipv6_connection"]


# 3.4.1.15 - a Process MUST contain at least one property (nested ones too)
def test_process_not_empty() -> None:
    assert paths_of(parse_command, {"action": "stop", "target": {"process": {}}}) == ["target.process"]
    doc = {"action": "stop", "target": {"process": {"parent": {}}}}
    assert paths_of(parse_command, doc) == ["target.process.parent"]


# 3.4.2.6 - Hashes MUST contain at least one key
def test_hashes_not_empty() -> None:
    assert paths_of(parse_command, deny({"file": {"hashes": {}}})) == ["target.file.hashes"]


# 3.4.2.14 - Payload url MUST be a valid URL
def test_payload_url_must_be_a_url() -> None:
    doc = deny({"artifact": {"payload": {"url": "not a url"}}})
    assert paths_of(parse_command, doc) == ["target.artifact.payload.url"]


# 3.4.2.18 - a Version MUST contain major and minor integers
def test_version_major_minor() -> None:
    doc = {"status": 200, "results": {"versions": ["2.0", "2"]}}
    assert paths_of(parse_response, doc) == ["results.versions[1]"]


# 4.1 - 'query features' MUST NOT include any Argument but response_requested complete
def test_query_features_only_response_requested() -> None:
    doc = {"action": "query", "target": {"features": []}, "args": {"duration": 5}}
    assert paths_of(parse_command, doc) == ["args.duration"]
    doc["args"] = {"response_requested": "ack"}
    assert paths_of(parse_command, doc) == ["args.response_requested"]
    doc["args"] = {"response_requested": "complete"}
    assert check_command(doc) == []


# 3.2 Message is a Record: body is required, content is a choice of one
def test_message_body_required_and_single_content() -> None:
    assert paths_of(parse_message, {"headers": {"request_id": "1"}}) == ["body"]
    doc = {"headers": {"request_id": "1"},
           "body": {"openc2": {"request": {"action": "deny", "target": NET}, "response": {"status": 200}}}}
    assert paths_of(parse_message, doc) == ["body.openc2"]


def test_response_message_validates_its_content() -> None:
    doc = {"headers": {"request_id": "1"}, "body": {"openc2": {"response": {"status": 700}}}}
    assert paths_of(parse_message, doc) == ["body.openc2.response.status"]
    assert check_response({"status": 200}) == []
