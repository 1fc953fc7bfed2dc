"""Actuator-profile extensions: slpf, pf, er, and a profile added from outside."""
from __future__ import annotations

from typing import Any, ClassVar, Mapping

import pytest
from pydantic import Field

from fn_openc2.lib.language import (
    Issue, Profile, check_command, check_response, get_profile, parse_command, register_profile, to_dict,
    unregister_profile,
)
from fn_openc2.lib.language.base import ChoiceModel

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
    assert paths_of(parse_command, {**base, "action": "deny", "args": {"slpf": {}}}) == ["args.slpf"]
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
    bad_addr = dict(contain, args={"er": {"permitted_addresses": {"ipv4_net": ["10.0.0.0/33"]}}})
    assert paths_of(parse_command, bad_addr) == ["args.er.permitted_addresses.ipv4_net[0]"]
    assert paths_of(parse_command, {"action": "scan", "target": {"device": {"device_id": "d"}}, "profile": "er"}) == [
        "action"]


class _LockTarget(ChoiceModel):
    type_name: ClassVar[str] = "x-lock:AP-Target"
    door: str = Field(None)


def _no_open_on_weekends(command: Mapping[str, Any]) -> list[Issue]:
    args = command.get("args") or {}
    if command.get("action") == "allow" and args.get("comment") == "weekend":
        return [Issue("args.comment", "x-lock does not open on weekends")]
    return []


def test_a_new_profile_plugs_in_without_core_changes() -> None:
    doc = {"action": "allow", "target": {"x-lock": {"door": "front"}}, "profile": "x-lock"}
    assert paths_of(parse_command, doc) == ["target.x-lock", "profile"]
    register_profile(Profile(nsid="x-lock", title="Door lock", pairs={"allow": ("x-lock:door",)},
                             target_model=_LockTarget, rules=(_no_open_on_weekends,)))
    try:
        assert to_dict(parse_command(doc)) == doc
        assert paths_of(parse_command, {**doc, "args": {"comment": "weekend"}}) == ["args.comment"]
        assert paths_of(parse_command, {**doc, "target": {"ipv4_net": "1.2.3.4"}}) == ["target"]
        with pytest.raises(ValueError):
            register_profile(Profile(nsid="x-lock", title="again", pairs={}))
    finally:
        unregister_profile("x-lock")
    assert check_command(doc) != []
