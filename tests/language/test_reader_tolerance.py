"""What outside conformance sets showed about reading: every RFC 4291 IPv6 form is read
and kept in RFC 5952 form, integers are JSON integers only, an empty profile map is a
valid Map, profiles the spec names but nobody implements are named as such, and a
part that already failed brings no follow-on rule findings."""
from __future__ import annotations

import copy
from typing import Any

import pytest

from fn_openc2.lib.language import (
    OpenC2ValidationError, build_command, build_response, check_command, check_message, check_response, encode, parse_command,
    parse_message, parse_response, review, to_dict,
)

from .helpers import deny, issues_of

NO_SCHEMA = "is defined in LS v2.0 §3.3.1.3 but this validator has no schema for it"


# --- IPv6 text -------------------------------------------------------------------------------------
def test_ipv6_in_profile_maps_is_read_in_any_form_and_kept_canonical() -> None:
    pf = {"action": "deny", "profile": "pf", "target": {"pf": {"advanced_connection": {
        "src_addr": "2001:0DB8:0000:0000:0000:0000:0000:0010", "dst_addr": {"v6addr": "FE80:0:0::9/64"}}}}}
    kept = copy.deepcopy(pf)
    conn = to_dict(parse_command(pf))["target"]["pf"]["advanced_connection"]
    assert conn == {"src_addr": "2001:db8::10", "dst_addr": {"v6addr": "fe80::9/64"}}
    assert pf == kept, "the caller's document is not rewritten in place"

    er = {"action": "contain", "profile": "er", "target": {"device": {"device_id": "d-1"}},
          "args": {"er": {"device_containment": "network_isolation",
                          "permitted_addresses": {"ipv6_net": ["2001:DB8:AA::/48", "::ffff:c000:0201"]}}}}
    command = parse_command(er)
    assert command.extension_args("er")["permitted_addresses"] == {"ipv6_net": ["2001:db8:aa::/48", "::ffff:192.0.2.1"]}
    assert b"2001:db8:aa::/48" in encode(command)


def test_ipv6_in_a_message_envelope_is_kept_canonical() -> None:
    doc = {"headers": {"request_id": "r-1"},
           "body": {"openc2": {"request": deny({"ipv6_connection": {"dst_addr": "2001:DB8::0:7", "protocol": "tcp"}})}}}
    assert to_dict(parse_message(doc))["body"]["openc2"]["request"]["target"] == {
        "ipv6_connection": {"dst_addr": "2001:db8::7", "protocol": "tcp"}}


def test_what_we_build_carries_the_canonical_form() -> None:
    command = build_command("deny", {"ipv6_net": "2001:DB8:0:0:0:0:2:1"}, profile="slpf")
    assert encode(command) == b'{"action":"deny","target":{"ipv6_net":"2001:db8::2:1"},"profile":"slpf"}'
    assert command.target_value == "2001:db8::2:1"


@pytest.mark.parametrize("value", ["2001:db8::1::2", "2001:db8::12345", "2001:db8::1/129", "2001:db8::/032",
                                   "fe80::1%eth0", "::ffff:192.0.2.256", "::ffff:192.0.2.01", "2001:db8:1"])
def test_text_that_is_no_rfc4291_address_is_still_refused(value: str) -> None:
    assert [p for p, _ in issues_of(parse_command, deny({"ipv6_net": value}))] == ["target.ipv6_net"]


def test_review_notes_non_canonical_text_without_making_it_an_error() -> None:
    result = review(deny({"ipv6_net": "2001:DB8::/32"}), "command")
    assert result.issues == [] and result.model is not None
    assert [(n.path, "'2001:db8::/32'" in n.message) for n in result.notes] == [("target.ipv6_net", True)]
    assert review(deny({"ipv6_net": "2001:db8::/32"}), "command").notes == []


# --- integers ------------------------------------------------------------------------------------
INTEGER_FIELDS: list[tuple[str, Any, str]] = [
    # (kind, document with the value at X, path of X)
    ("response", {"status": "X"}, "status"),
    ("command", deny({"ipv4_connection": {"src_port": "X"}}), "target.ipv4_connection.src_port"),
    ("command", deny({"ipv4_net": "10.0.0.1"}, args={"duration": "X"}), "args.duration"),
    ("command", deny({"ipv4_net": "10.0.0.1"}, args={"start_time": "X"}), "args.start_time"),
    ("command", {"action": "delete", "target": {"slpf": {"rule_number": "X"}}}, "target.slpf.rule_number"),
    ("command", deny({"ipv4_net": "10.0.0.1"}, args={"pf": {"priority": "X"}}), "args.pf.priority"),
    ("command", {"action": "stop", "target": {"process": {"pid": "X"}}}, "target.process.pid"),
    ("response", {"status": 200, "results": {"slpf": {"rule_number": "X"}}}, "results.slpf.rule_number"),
    ("message", {"headers": {"request_id": "r", "created": "X"},
                 "body": {"openc2": {"response": {"status": 200}}}}, "headers.created"),
]


def _with(doc: Any, value: Any) -> Any:
    if doc == "X":
        return value
    if isinstance(doc, dict):
        return {k: _with(v, value) for k, v in doc.items()}
    return doc


@pytest.mark.parametrize("kind,doc,path", INTEGER_FIELDS, ids=[p for _, _, p in INTEGER_FIELDS])
def test_integer_fields_take_json_integers_only(kind: str, doc: Any, path: str) -> None:
    check = {"command": check_command, "response": check_response, "message": check_message}[kind]
    good = 200 if path == "status" else 80
    assert check(_with(doc, good)) == []
    for number in (float(good), good + 0.5, 1e2):
        issues = check(_with(doc, number))
        assert [i.path for i in issues] == [path], issues
        assert issues[0].message.startswith("expected ") and f"got {number} (number)" in issues[0].message


def test_status_200_point_0_is_refused_like_port_80_point_0() -> None:
    status = check_response({"status": 200.0})[0].message
    port = check_command(deny({"ipv4_connection": {"dst_port": 80.0}}))[0].message
    assert status.endswith("got 200.0 (number)") and port.endswith("got 80.0 (number)")
    with pytest.raises(OpenC2ValidationError) as info:
        build_response(200.0)  # type: ignore[arg-type]
    assert info.value.issues[0].path == "status"


# --- empty profile maps ----------------------------------------------------------------------------
@pytest.mark.parametrize("nsid", ["slpf", "pf"])
def test_an_empty_profile_map_under_args_is_a_valid_map(nsid: str) -> None:
    doc = deny({"ipv4_net": "192.0.2.9"}, args={nsid: {}}, profile=nsid)
    assert check_command(doc) == []
    assert to_dict(parse_command(doc)) == doc


def test_an_empty_er_map_under_args_and_empty_maps_under_results() -> None:
    assert check_command({"action": "stop", "target": {"process": {"pid": 7}}, "args": {"er": {}}, "profile": "er"}) == []
    assert check_response({"status": 200, "results": {"slpf": {}}}) == []
    assert check_response({"status": 200, "results": {"pf": {}, "slpf": {}}}) == []
    assert to_dict(parse_response({"status": 200, "results": {"slpf": {}}})) == {"status": 200, "results": {"slpf": {}}}


def test_an_empty_profile_target_is_still_no_target() -> None:
    # a target is a Choice: {"slpf": {}} names no slpf target at all
    assert [i.path for i in check_command({"action": "delete", "target": {"slpf": {}}})] == ["target.slpf"]


def test_an_empty_map_where_the_profile_takes_no_own_argument_carries_nothing() -> None:
    delete = {"action": "delete", "target": {"slpf": {"rule_number": 3}}, "profile": "slpf"}
    assert check_command({**delete, "args": {"slpf": {}}}) == []
    assert [i.path for i in check_command({**delete, "args": {"slpf": {"direction": "both"}}})] == ["args.slpf"]
    # LS 4.1: 'query features' MUST NOT include any Argument but response_requested, empty or not
    assert [i.path for i in check_command({"action": "query", "target": {"features": []}, "args": {"slpf": {}}})] == [
        "args.slpf"]


# --- profiles the spec names without a schema here ----------------------------------------------------
@pytest.mark.parametrize("nsid", ["sbom", "pac"])
def test_spec_named_profiles_are_named_as_such(nsid: str) -> None:
    doc = {"action": "query", "target": {nsid: {"anything": 1}}, "args": {nsid: {"x": True}}}
    issues = check_command(doc)
    assert [(i.path, i.message) for i in issues] == [
        (f"target.{nsid}", f"profile {nsid!r} {NO_SCHEMA}"), (f"args.{nsid}", f"profile {nsid!r} {NO_SCHEMA}")]
    assert [(i.path, i.message) for i in check_response({"status": 200, "results": {nsid: {}}})] == [
        (f"results.{nsid}", f"profile {nsid!r} {NO_SCHEMA}")]


def test_a_made_up_namespace_keeps_its_own_message() -> None:
    (issue,) = check_command({"action": "query", "target": {"acme": {"door": 1}}})
    assert "neither a target of LS v2.0 nor a registered profile namespace" in issue.message


def test_lenient_profiles_skips_only_the_unschemed_contents() -> None:
    doc = {"action": "query", "target": {"sbom": {"whatever": [1, 2]}},
           "args": {"response_requested": "sometimes", "pac": {"x": 1}, "acme": {}}, "profile": "sbom"}
    result = review(doc, "command", lenient_profiles=True)
    # everything else is still checked: the bad response_requested and the made-up namespace
    assert [i.path for i in result.issues] == ["args.response_requested", "args.acme"]
    assert [n.path for n in result.notes] == ["target.sbom", "args.pac", "profile"]
    assert all(NO_SCHEMA in n.message for n in result.notes)

    fixed = {**doc, "args": {"pac": {"x": 1}}}
    assert review(fixed, "command", lenient_profiles=True).issues == []
    assert to_dict(review(fixed, "command", lenient_profiles=True).model) == fixed
    assert [i.path for i in review(fixed, "command").issues] == ["target.sbom", "args.pac"]


def test_lenient_profiles_reaches_into_messages() -> None:
    doc = {"headers": {"request_id": "r"}, "body": {"openc2": {"response": {"status": 200, "results": {"sbom": {"a": 1}}}}}}
    assert [i.path for i in review(doc, "message").issues] == ["body.openc2.response.results.sbom"]
    lenient = review(doc, "message", lenient_profiles=True)
    assert lenient.issues == [] and [n.path for n in lenient.notes] == ["body.openc2.response.results.sbom"]


# --- no follow-on findings ------------------------------------------------------------------------------
def test_an_unknown_target_brings_no_pair_or_argument_findings() -> None:
    doc = {"action": "set", "target": {"account": {"account_name": "mallory"}},
           "args": {"er": {"account_status": "disabled"}}, "profile": "er"}
    assert [(i.path, "unknown target 'account'" in i.message) for i in check_command(doc)] == [("target.account", True)]


def test_an_unknown_extended_target_member_brings_no_follow_on() -> None:
    doc = {"action": "set", "target": {"er": {"acount": {"account_name": "mallory"}}}, "profile": "er"}
    assert [i.path for i in check_command(doc)] == ["target.er.acount"]


def test_a_broken_profile_map_brings_no_findings_about_its_inside() -> None:
    doc = {"action": "contain", "target": {"device": {"device_id": "d-2"}}, "args": {"er": "isolate"}, "profile": "er"}
    assert [i.path for i in check_command(doc)] == ["args.er"]


def test_independent_findings_still_come_in_one_pass() -> None:
    # the target is understood ('set er:account'), only its content is empty: the missing argument is real
    doc = {"action": "set", "target": {"er": {"account": {}}}, "profile": "er"}
    assert [i.path for i in check_command(doc)] == ["target.er.account", "args"]


def test_a_value_rule_says_nothing_about_a_value_that_is_no_address() -> None:
    bad = {"action": "set", "target": {"ipv6_net": "fw-7/64"}, "profile": "er"}
    assert [(i.path, "RFC 4291" in i.message) for i in check_command(bad)] == [("target.ipv6_net", True)]
    ranged = {"action": "set", "target": {"ipv6_net": "2001:DB8::1/64"}, "profile": "er"}
    assert [(i.path, "single address" in i.message) for i in check_command(ranged)] == [("target.ipv6_net", True)]
