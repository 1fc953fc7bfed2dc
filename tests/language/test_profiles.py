"""Actuator-profile extensions: slpf, pf, er, and a profile added from outside."""
from __future__ import annotations

from typing import Annotated, Any, ClassVar, Mapping

import pytest
from pydantic import Field

from fn_openc2.lib.language import (
    Issue, Profile, build_command, check_command, check_response, get_profile, parse_command, parse_response,
    register_profile, registered_profiles, to_dict, unregister_profile,
)
from fn_openc2.lib.language.base import ChoiceModel, NonEmptyModel
from fn_openc2.lib.language.types import Expect

from .helpers import issues_of, paths_of

CONN = {"ipv4_connection": {"dst_addr": "198.51.100.7", "dst_port": 443, "protocol": "tcp"}}


def test_shipped_profiles_are_registered() -> None:
    for nsid in ("slpf", "pf", "er"):
        profile = get_profile(nsid)
        assert profile is not None and profile.nsid == nsid
    assert get_profile("nosuch") is None


def test_slpf_v2_forms_round_trip() -> None:
    docs = [
        {"action": "delete", "target": {"slpf": {"rule_number": 1234}}, "profile": "slpf"},
        {"action": "deny", "target": CONN, "profile": "slpf",
         "args": {"duration": 60000, "slpf": {"direction": "ingress", "persistent": False, "drop_process": "reject",
                                              "insert_rule": 7}}},
        {"action": "query", "target": {"features": ["pairs"]}, "profile": "slpf"},
        {"action": "update", "target": {"file": {"name": "rules.txt"}}, "profile": "slpf"},
    ]
    for doc in docs:
        assert to_dict(parse_command(doc)) == doc
    assert check_response({"status": 200, "results": {"slpf": {"rule_number": 1234}}}) == []


def test_slpf_pairs() -> None:
    assert paths_of(parse_command, {"action": "contain", "target": CONN, "profile": "slpf"}) == ["action"]
    issues = issues_of(parse_command, {"action": "deny", "target": {"device": {"device_id": "x"}}, "profile": "slpf"})
    assert issues[0][0] == "target" and "deny device" in issues[0][1]
    assert paths_of(parse_command, {"action": "delete", "target": CONN, "profile": "slpf"}) == ["target"]


def test_slpf_args_rules() -> None:
    base = {"target": CONN, "profile": "slpf"}
    assert paths_of(parse_command, {**base, "action": "allow", "args": {"slpf": {"drop_process": "none"}}}) == [
        "args.slpf.drop_process"]
    doc = {**base, "action": "deny", "args": {"response_requested": "ack", "slpf": {"insert_rule": 5}}}
    assert paths_of(parse_command, doc) == ["args.slpf.insert_rule"]
    assert paths_of(parse_command, {**base, "action": "deny", "args": {"slpf": {"direction": "inbound"}}}) == [
        "args.slpf.direction"]
    assert check_command({**base, "action": "deny", "args": {"slpf": {}}}) == []  # AP-Args is a Map, may be empty
    assert paths_of(parse_command, {**base, "action": "deny", "args": {"slpf": {"persistent": "yes"}}}) == [
        "args.slpf.persistent"]


def test_slpf_per_action_args() -> None:
    doc = {"action": "delete", "target": {"slpf": {"rule_number": 1}}, "profile": "slpf",
           "args": {"duration": 5, "start_time": 1}}
    assert paths_of(parse_command, doc) == ["args.duration"]


def test_slpf_rules_apply_when_its_args_are_used_without_naming_it() -> None:
    doc = {"action": "allow", "target": CONN, "args": {"slpf": {"drop_process": "none"}}}
    assert paths_of(parse_command, doc) == ["args.slpf.drop_process"]


def test_extended_target_errors_are_under_the_namespace() -> None:
    assert paths_of(parse_command, {"action": "delete", "target": {"slpf": {"rule_number": "7"}}}) == [
        "target.slpf.rule_number"]
    assert paths_of(parse_command, {"action": "delete", "target": {"slpf": {"rule_id": 7}}}) == ["target.slpf.rule_id"]


def test_pf_additions() -> None:
    doc = {"action": "deny", "profile": "pf",
           "target": {"pf": {"advanced_connection": {"src_addr": "2001:db8::/48", "dst_port": 22}}},
           "args": {"pf": {"logged": True, "description": "ssh", "stateful": True, "priority": 3,
                           "direction": "ingress"}}}
    assert check_command(doc) == []
    doc["target"] = {"domain_name": "bad.example"}
    assert check_command(doc) == []
    doc["args"]["pf"]["logged"] = "yes"
    assert paths_of(parse_command, doc) == ["args.pf.logged"]
    # slpf args under profile pf: wrong namespace, and not an argument pf's deny takes
    assert set(paths_of(parse_command, {"action": "deny", "profile": "pf", "target": CONN,
                                        "args": {"slpf": {"direction": "both"}}})) == {"args.slpf"}


def test_er_commands() -> None:
    contain = {"action": "contain", "target": {"device": {"device_id": "d1"}}, "profile": "er",
               "args": {"er": {"device_containment": "network_isolation",
                               "permitted_addresses": {"ipv4_net": ["10.0.0.0/8"], "domain_name": ["upd.example"]}}}}
    assert check_command(contain) == []
    disable = {"action": "set", "target": {"er": {"account": {"account_name": "bob"}}}, "profile": "er",
               "args": {"er": {"account_status": "disabled"}}}
    assert check_command(disable) == []
    wrong = {"action": "deny", "target": {"file": {"name": "x"}}, "profile": "er",
             "args": {"er": {"account_status": "disabled", "device_containment": "isolate"}}}
    # device_containment is both a bad value and misplaced: two issues at one path
    assert paths_of(parse_command, wrong) == ["args.er.account_status", "args.er.device_containment",
                                              "args.er.device_containment"]
    misuse = {"action": "deny", "target": {"file": {"name": "x"}}, "profile": "er",
              "args": {"er": {"device_containment": "app_restriction"}}}
    assert paths_of(parse_command, misuse) == ["args.er.device_containment"]
    bad_addr = dict(contain, args={"er": {"device_containment": "network_isolation",
                                          "permitted_addresses": {"ipv4_net": ["10.0.0.0/33"]}}})
    assert paths_of(parse_command, bad_addr) == ["args.er.permitted_addresses.ipv4_net[0]"]
    assert paths_of(parse_command, {"action": "locate", "target": {"device": {"device_id": "d"}}, "profile": "er"}) == [
        "action"]


# --- fidelity to the published documents (see each profile module's docstring) ---

def test_slpf_follows_cs01_pairs() -> None:
    # domain_name and 'query slpf:rule_number' are drafts beyond CS01: refused when slpf is named
    assert paths_of(parse_command, {"action": "deny", "target": {"domain_name": "x.example"}, "profile": "slpf"}) == [
        "target"]
    assert paths_of(parse_command, {"action": "query", "target": {"slpf": {"rule_number": 1}}, "profile": "slpf"}) == [
        "target"]
    for target in ({"ipv4_net": "10.0.0.0/8"}, {"ipv6_net": "2001:db8::/32"}, CONN,
                   {"ipv6_connection": {"src_port": 21, "protocol": "tcp"}}):
        for action in ("allow", "deny"):
            assert check_command({"action": action, "target": target, "profile": "slpf"}) == []


def test_slpf_argument_matrix() -> None:
    base = {"target": CONN, "profile": "slpf"}
    issues = issues_of(parse_command, {**base, "action": "deny", "args": {"comment": "why"}})
    assert [p for p, _ in issues] == ["args.comment"] and "'deny ipv4_connection'" in issues[0][1]
    full = {"start_time": 1, "stop_time": 2, "response_requested": "complete",
            "slpf": {"persistent": True, "direction": "egress", "insert_rule": 3, "drop_process": "false_ack"}}
    assert check_command({**base, "action": "deny", "args": full}) == []
    query = {"action": "query", "target": {"features": []}, "profile": "slpf", "args": {"slpf": {"direction": "both"}}}
    assert paths_of(parse_command, query) == ["args.slpf"]
    delete = {"action": "delete", "target": {"slpf": {"rule_number": 5}}, "profile": "slpf",
              "args": {"start_time": 1, "response_requested": "ack"}}
    assert check_command(delete) == []


def test_slpf_update_file_rules() -> None:
    doc = {"action": "update", "target": {"file": {"path": "/etc/fw"}}, "profile": "slpf",
           "args": {"response_requested": "status"}}
    assert paths_of(parse_command, doc) == ["target.file.name", "args.response_requested"]
    doc = {"action": "update", "target": {"file": {"name": "fw.conf", "path": "/etc"}}, "profile": "slpf",
           "args": {"response_requested": "ack", "start_time": 5}}
    assert check_command(doc) == []


def test_pf_follows_csd02() -> None:
    tag = {"action": "deny", "profile": "pf",  # appendix E.1.5, in the v2.0 form
           "target": {"pf": {"advanced_connection": {"src_addr": "webservers", "network": "default",
                                                     "protocol": "udp", "dst_port": 123}}},
           "args": {"pf": {"direction": "egress", "priority": 500}}}
    assert to_dict(parse_command(tag)) == tag
    choice = {"action": "allow", "profile": "pf",
              "target": {"pf": {"advanced_connection": {"src_addr": {"v4addr": "10.0.0.0/8"},
                                                        "dst_addr": {"net_tag": "db"}}}}}
    assert check_command(choice) == []
    query = {"action": "query", "target": {"pf": {"rule_number": 20}}, "profile": "pf"}
    assert check_command(query) == []
    assert paths_of(parse_command, {**query, "args": {"start_time": 1}}) == ["args.start_time"]
    assert paths_of(parse_command, {"action": "delete", "target": {"pf": {"rule_number": -1}}}) == [
        "target.pf.rule_number"]
    assert paths_of(parse_command, {"action": "deny", "target": {"pf": {"adv_connection": {"network": "x"}}}}) == [
        "target.pf.adv_connection"]
    assert paths_of(parse_command, {"action": "update", "target": {"file": {"name": "x"}}, "profile": "pf",
                                    "args": {"start_time": 1}}) == ["args.start_time"]


def test_pf_address_union_reports_one_issue_saying_what_was_expected() -> None:
    doc = {"action": "deny", "profile": "pf", "target": {"pf": {"advanced_connection": {"src_addr": 7}}}}
    issues = issues_of(parse_command, doc)
    assert [p for p, _ in issues] == ["target.pf.advanced_connection.src_addr"]
    assert issues[0][1] == ("expected an IPv4 range, an IPv6 range or a network tag (a string, or one of v4addr, "
                            "v6addr, net_tag), got 7 (integer)")
    bad_v6 = {"action": "deny", "profile": "pf", "target": {"pf": {"advanced_connection": {"dst_addr": "2001:db8:::1"}}}}
    assert paths_of(parse_command, bad_v6) == ["target.pf.advanced_connection.dst_addr"]
    # the member whose type matched speaks; the other member's "wrong type" is not reported
    inner = {"action": "deny", "target": {"pf": {"advanced_connection": {"src_addr": {"v4addr": "1.2.3.999"}}}}}
    issues = issues_of(parse_command, inner)
    assert [p for p, _ in issues] == ["target.pf.advanced_connection.src_addr.v4addr"]
    assert "dotted-quad" in issues[0][1]
    two = {"action": "deny", "target": {"pf": {"advanced_connection": {"src_addr": {"v4addr": "1.2.3.4",
                                                                                    "net_tag": "x"}}}}}
    assert issues_of(parse_command, two) == [("target.pf.advanced_connection.src_addr",
                                              "expected exactly one of v4addr, v6addr, net_tag in pf:Adv-Addr, got 2")]


def test_er_follows_the_draft() -> None:
    scan = {"action": "scan", "target": {"device": {"hostname": "pc1"}}, "profile": "er",
            "args": {"er": {"scan_depth": "deep", "periodic_scan": "enabled"}}}
    assert check_command(scan) == []
    assert paths_of(parse_command, {**scan, "action": "restart"}) == ["args.er.scan_depth", "args.er.periodic_scan"]
    contain = {"action": "contain", "target": {"device": {"hostname": "pc1"}}, "profile": "er"}
    issues = issues_of(parse_command, contain)
    assert [p for p, _ in issues] == ["args"] and "device_containment" in issues[0][1]
    account = {"action": "set", "target": {"er": {"account": {"uid": "1001"}}}, "profile": "er",
               "args": {"er": {"downstream_device": {"devices": [{"hostname": "pc1"}]}}}}
    assert paths_of(parse_command, account) == ["args.er.account_status"]
    assert paths_of(parse_command, {"action": "set", "target": {"ipv4_net": "10.1.2.3/24"}, "profile": "er"}) == [
        "target.ipv4_net"]
    assert check_command({"action": "set", "target": {"ipv6_net": "2001:db8::5/128"}, "profile": "er"}) == []
    entry = {"action": "create", "target": {"er": {"registry_entry": {"key": "HKLM\\Software\\x"}}}, "profile": "er"}
    assert paths_of(parse_command, entry) == ["target.er.registry_entry.type"]
    for action, target in (("start", {"process": {"pid": 4}}), ("query", {"device": {"hostname": "h"}}),
                           ("update", {"device": {"hostname": "h"}})):
        assert paths_of(parse_command, {"action": action, "target": target, "profile": "er"}) == ["target"]
    assert check_command({"action": "stop", "target": {"er": {"service": {"name": "sshd"}}}, "profile": "er"}) == []
    assert paths_of(parse_response, {"status": 200, "results": {"er": {"x": 1}}}) == ["results.er"]


class _LockTarget(ChoiceModel):
    type_name: ClassVar[str] = "x-lock:AP-Target"
    door: str = Field(None)


class _LockArgs(NonEmptyModel):
    type_name: ClassVar[str] = "x-lock:AP-Args"
    minutes: Annotated[int, Field(ge=1, le=60), Expect("1..60 minutes")] = Field(None)


class _LockResults(NonEmptyModel):
    type_name: ClassVar[str] = "x-lock:AP-Results"
    locked: bool = Field(None)


def _no_open_on_weekends(command: Mapping[str, Any]) -> list[Issue]:
    args = command.get("args") or {}
    if command.get("action") == "allow" and args.get("comment") == "weekend":
        return [Issue("args.comment", "x-lock does not open on weekends")]
    return []


def test_a_new_profile_plugs_in_without_core_changes() -> None:
    """A profile defined only here: registered, used in commands and a response, unregistered."""
    doc = {"action": "allow", "target": {"x-lock": {"door": "front"}}, "profile": "x-lock",
           "args": {"x-lock": {"minutes": 5}}}
    answer = {"status": 200, "results": {"x-lock": {"locked": False}}}
    before = registered_profiles()
    assert paths_of(parse_command, doc) == ["target.x-lock", "profile", "args.x-lock"]
    assert paths_of(parse_response, answer) == ["results.x-lock"]
    register_profile(Profile(nsid="x-lock", title="Door lock",
                             pairs={"allow": ("x-lock:door",), "deny": ("x-lock:door",)}, target_model=_LockTarget, args_model=_LockArgs, results_model=_LockResults,
                             rules=(_no_open_on_weekends,)))
    try:
        assert "x-lock" in registered_profiles()
        assert to_dict(parse_command(doc)) == doc
        assert to_dict(parse_response(answer)) == answer
        built = build_command("deny", {"x-lock": {"door": "back"}}, profile="x-lock")
        assert (built.target_name, built.target_value) == ("x-lock", {"door": "back"})
        issues = issues_of(parse_command, {**doc, "args": {"x-lock": {"minutes": 90}}})
        assert issues == [("args.x-lock.minutes", "expected 1..60 minutes, got 90 (integer)")]
        assert paths_of(parse_command, {**doc, "args": {"comment": "weekend"}}) == ["args.comment"]
        assert paths_of(parse_command, {**doc, "target": {"ipv4_net": "1.2.3.4"}}) == ["target"]
        assert paths_of(parse_command, {**doc, "action": "contain"}) == ["action"]
        assert paths_of(parse_response, {"status": 200, "results": {"x-lock": {"locked": "no"}}}) == [
            "results.x-lock.locked"]
        with pytest.raises(ValueError):
            register_profile(Profile(nsid="x-lock", title="again", pairs={}))
    finally:
        unregister_profile("x-lock")
    assert registered_profiles() == before
    assert check_command(doc) != []
