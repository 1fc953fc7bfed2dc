"""Builders, encoders, convenience properties and the tolerant reader."""
from __future__ import annotations

import json

import pytest

from fn_openc2.lib.language import (
    ACTIONS, STATUS_TEXT, TARGETS, OpenC2ValidationError, build_command, build_response, encode, parse_command,
    query_features, read_command, to_dict,
)


def test_build_command_and_properties() -> None:
    cmd = build_command("deny", {"ipv4_net": "203.0.113.9"}, args={"duration": 3600000}, profile="slpf",
                        command_id="c-1")
    assert cmd.target_name == "ipv4_net"
    assert cmd.target_value == "203.0.113.9"
    assert cmd.response_requested == "complete"
    assert to_dict(cmd) == {"action": "deny", "target": {"ipv4_net": "203.0.113.9"}, "args": {"duration": 3600000},
                            "profile": "slpf", "command_id": "c-1"}


def test_build_command_takes_a_target_model_and_extended_targets() -> None:
    first = build_command("deny", {"ipv6_connection": {"dst_port": 53, "protocol": "udp"}})
    again = build_command("allow", first.target, args={"response_requested": "none"})
    assert again.target_value == {"dst_port": 53, "protocol": "udp"}
    assert again.response_requested == "none"
    ext = build_command("delete", {"slpf": {"rule_number": 9}}, profile="slpf")
    assert (ext.target_name, ext.target_value) == ("slpf", {"rule_number": 9})


def test_build_command_rejects_with_paths() -> None:
    with pytest.raises(OpenC2ValidationError) as info:
        build_command("deny", {"ipv4_net": "300.1.1.1"}, args={"duration": -5})
    assert info.value.what == "command"
    assert [i.path for i in info.value.issues] == ["target.ipv4_net", "args.duration"]


def test_build_response() -> None:
    rsp = build_response(200, STATUS_TEXT[200], {"versions": ["2.0"], "rate_limit": 30})
    assert json.loads(encode(rsp)) == {"status": 200, "status_text": "OK", "results": {"versions": ["2.0"],
                                                                                         "rate_limit": 30}}
    assert encode(build_response(102)) == b'{"status":102}'
    with pytest.raises(OpenC2ValidationError):
        build_response(418)


def test_query_features() -> None:
    assert to_dict(query_features()) == {"action": "query", "target": {"features": []}}
    q = query_features("versions", "profiles", "pairs", "rate_limit")
    assert q.target_value == ["versions", "profiles", "pairs", "rate_limit"]
    with pytest.raises(OpenC2ValidationError):
        query_features("versions", "versions")


def test_encode_keeps_numbers_and_unset_fields_out() -> None:
    raw = b'{"action":"deny","target":{"ipv4_connection":{"dst_port":80}},"args":{"start_time":1534775460000}}'
    assert encode(parse_command(raw)) == raw


def test_vocabularies() -> None:
    assert len(ACTIONS) == 20 and len(TARGETS) == 17
    assert sorted(STATUS_TEXT) == [102, 200, 400, 401, 403, 404, 500, 501, 503]


def test_read_command_accepts_v1_actuator() -> None:
    cmd, warnings = read_command(b'{"action":"deny","target":{"ipv4_net":"1.2.3.4"},'
                                 b'"actuator":{"slpf":{"asset_id":"fw-7"}}}')
    assert to_dict(cmd) == {"action": "deny", "target": {"ipv4_net": "1.2.3.4"}, "profile": "slpf"}
    assert len(warnings) == 1 and "actuator" in warnings[0] and "asset_id" in warnings[0]


def test_read_command_accepts_profile_object_and_colon_target() -> None:
    cmd, warnings = read_command({"action": "delete", "target": {"slpf:rule_number": 5}, "profile": {"slpf": {}}})
    assert to_dict(cmd) == {"action": "delete", "target": {"slpf": {"rule_number": 5}}, "profile": "slpf"}
    assert len(warnings) == 2


def test_read_command_v2_input_has_no_warnings() -> None:
    cmd, warnings = read_command({"action": "deny", "target": {"ipv4_net": "1.2.3.4"}, "profile": "slpf"})
    assert warnings == [] and cmd.profile == "slpf"


def test_read_command_still_validates() -> None:
    with pytest.raises(OpenC2ValidationError) as info:
        read_command({"action": "deny", "target": {"ipv4_net": "1.2.3.4"}, "actuator": {"slpf": {}},
                      "profile": "er"})
    assert [i.path for i in info.value.issues] == ["actuator"]


def test_requested_response_reads_json_as_the_model_does() -> None:
    """One reading of args.response_requested for JSON: the value when it is a response type, else complete."""
    from fn_openc2.lib.language import requested_response

    assert requested_response({"action": "deny", "args": {"response_requested": "ack"}}) == "ack"
    assert requested_response({"action": "deny"}) == "complete"
    for odd in ({"args": {"response_requested": "bogus"}}, {"args": {"response_requested": 1}}, {"args": []}, None):
        assert requested_response(odd) == "complete"
    model = build_command("deny", {"ipv4_net": "198.51.100.1"}, args={"response_requested": "none"})
    assert requested_response(to_dict(model)) == model.response_requested == "none"
