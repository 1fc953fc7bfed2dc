"""The codec's shortcuts change nothing a caller can see: patterns checked in
pydantic-core accept exactly what the Python checks accept, encode() writes
exactly to_dict(), and rules marked for some actions still run for those."""
from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fn_openc2.lib.language import (
    OpenC2ValidationError, Profile, build_command, check_command, dumps, encode, parse_command, parse_message,
    parse_response, register_profile, review, to_dict, unregister_profile,
)
from fn_openc2.lib.language import semantic
from fn_openc2.lib.language.errors import Issue
from fn_openc2.lib.language.profiles.common import only_for

CHECKS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _python_accepts(check: Any, value: str) -> bool:
    try:
        check(value)
    except ValueError:
        return False
    return True


def _model_accepts(target: dict[str, Any]) -> bool:
    return check_command({"action": "deny", "target": target}) == []


ipv4_like = st.text(alphabet="0123456789./ \n", max_size=22) | st.from_regex(
    r"\A[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(/[0-9]{1,3})?\Z")
host_like = st.text(alphabet="aZ09-.\u00e9_", max_size=70) | st.from_regex(
    r"\A[a-z0-9-]{1,64}(\.[a-z0-9-]{1,64}){0,4}\Z")


@CHECKS
@given(ipv4_like)
def test_ipv4_pattern_accepts_what_the_python_check_accepts(value: str) -> None:
    assert _model_accepts({"ipv4_net": value}) == _python_accepts(semantic.check_ipv4_net, value), value


@CHECKS
@given(host_like)
def test_hostname_pattern_accepts_what_the_python_check_accepts(value: str) -> None:
    assert _model_accepts({"domain_name": value}) == _python_accepts(semantic.check_hostname, value), value


def test_a_refused_value_is_explained_by_the_python_check() -> None:
    for target, fragment in (({"ipv4_net": "10.0.0.0/33"}, "prefix length 0..32"),
                             ({"ipv4_connection": {"dst_addr": "10.0.0.256"}}, "dotted-quad"),
                             ({"domain_name": "a" * 254}, "1..253 characters"),
                             ({"device": {"hostname": "-lead.example"}}, "not starting or ending with '-'")):
        (issue,) = check_command({"action": "deny", "target": target})
        assert fragment in issue.message, issue


# --- encode --------------------------------------------------------------------------------------
DOCS: list[tuple[Any, dict[str, Any]]] = [
    (parse_command, {"action": "deny", "target": {"ipv4_connection": {"src_addr": "10.1.2.3", "dst_port": 443}},
                     "args": {"duration": 5000, "slpf": {"direction": "ingress"}}, "profile": "slpf"}),
    (parse_command, {"action": "query", "target": {"features": []}}),
    (parse_command, {"action": "deny", "target": {"ipv4_net": "10.0.0.1"}, "args": {"slpf": {}}}),
    (parse_response, {"status": 200, "results": {"versions": ["2.0"], "rate_limit": 3.0, "slpf": {}}}),
    (parse_message, {"headers": {"request_id": "r", "x-trace": None, "x-map": {"a": None}},
                     "body": {"openc2": {"response": {"status": 200, "status_text": "OK"}}}}),
]


@pytest.mark.parametrize("parse,doc", DOCS)
def test_encode_writes_what_to_dict_holds(parse: Any, doc: dict[str, Any]) -> None:
    model = parse(doc)
    assert json.loads(encode(model)) == to_dict(model) == doc
    assert encode(model) == dumps(to_dict(model))


def test_lenient_profile_members_are_objects_so_encode_keeps_them() -> None:
    doc = {"action": "query", "target": {"sbom": {"format": None}}}
    result = review(doc, "command", lenient_profiles=True)
    assert result.issues == [] and json.loads(encode(result.model)) == doc
    bad = review({"action": "query", "target": {"sbom": None}}, "command", lenient_profiles=True)
    assert [i.path for i in bad.issues] == ["target.sbom"]


# --- rules marked for some actions --------------------------------------------------------------
def test_a_rule_marked_for_an_action_runs_for_it_and_only_for_it() -> None:
    seen: list[str] = []

    def on_delete(command: Any) -> list[Issue]:
        seen.append(command["action"])
        return [Issue("target", "toy: nothing may be deleted")]

    register_profile(Profile(nsid="toyact", title="toy", pairs={"deny": ("ipv4_net",), "delete": ("ipv4_net",)},
                             rules=(only_for(("delete",), on_delete),)))
    try:
        assert check_command({"action": "deny", "target": {"ipv4_net": "10.0.0.1"}, "profile": "toyact"}) == []
        with pytest.raises(OpenC2ValidationError, match="nothing may be deleted"):
            build_command("delete", {"ipv4_net": "10.0.0.1"}, profile="toyact")
        assert seen == ["delete"]
    finally:
        unregister_profile("toyact")


CHECKED = [
    ({"action": "deny", "target": {"ipv4_net": "10.0.0.0/8"}, "args": {"slpf": {"drop_process": "none"}},
      "profile": "slpf"}, "command"),
    ({"action": "deny", "target": {"ipv4_net": "10.0.0.0/33"}, "profile": "slpf"}, "command"),
    ({"action": "deny", "target": {"ipv4_net": "10.0.0.0/8"}, "args": {"slpf": {"drop_process": "bogus"}}}, "command"),
    # non-canonical text in a profile map (a rewrite stops the plain pass), then a finding after it
    ({"action": "deny", "target": {"pf": {"advanced_connection": {"src_addr": "2001:0DB8::10"}}}, "profile": "pf"}, "command"),
    ({"action": "deny", "target": {"pf": {"advanced_connection": {"src_addr": "2001:0DB8::10"}}},
      "args": {"pf": {"insert_rule": 1.5}}, "profile": "pf"}, "command"),
    ({"status": 200, "results": {"slpf": {"rule_number": 124}}}, "response"),
    ({"status": 200, "results": {"slpf": {"rule_number": "x"}}}, "response"),
    ({"status": 200, "results": {"nope": {}}}, "response"),
]


@pytest.mark.parametrize(("doc", "kind"), CHECKED)
def test_check_fast_path_says_what_the_full_pass_says(doc: dict[str, Any], kind: str) -> None:
    from fn_openc2.lib.language import check_response, rules
    from fn_openc2.lib.language.command import Command
    from fn_openc2.lib.language.response import Response
    from fn_openc2.lib.language.validate import _run

    model, rule_pass, check = {"command": (Command, rules.command_issues, check_command),
                               "response": (Response, rules.response_issues, check_response)}[kind]
    full = _run(model, doc, kind, rule_pass).issues
    if "2001:0DB8::10" in str(doc):   # these stop the plain pass: the check must finish it the full way
        with pytest.raises(rules.Rewritten):
            rule_pass(doc, rules.PLAIN)
    assert [(i.path, i.message) for i in check(doc)] == [(i.path, i.message) for i in full]
