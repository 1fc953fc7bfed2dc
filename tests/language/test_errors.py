"""Error reporting: all issues at once, in document order, clean paths."""
from __future__ import annotations

import re

from fn_openc2.lib.language import OpenC2ValidationError, check_command, check_message, parse_command

BAD = {
    "action": "deny",
    "target": {"ipv4_connection": {"src_addr": "1.2.3", "src_port": "80", "dst_port": 70000, "protocol": "gre"}},
    "args": {"start_time": "now", "response_requested": "always", "slpf": {"direction": "up"}, "frob": 1},
    "profile": "slpf",
    "command_id": "two words",
}


def test_all_issues_are_reported_in_document_order() -> None:
    issues = check_command(BAD)
    assert [i.path for i in issues] == [
        "target.ipv4_connection.src_addr",
        "target.ipv4_connection.src_port",
        "target.ipv4_connection.dst_port",
        "target.ipv4_connection.protocol",
        "args.start_time",
        "args.response_requested",
        "args.slpf.direction",
        "args.frob",
        "command_id",
    ]


def test_messages_say_what_was_expected_and_what_came() -> None:
    messages = {i.path: i.message for i in check_command(BAD)}
    assert messages["target.ipv4_connection.src_port"] == "expected an integer 0..65535, got '80' (string)"
    assert messages["target.ipv4_connection.dst_port"] == "expected an integer 0..65535, got 70000 (integer)"
    assert "icmp, tcp, udp" in messages["target.ipv4_connection.protocol"]
    assert "one of none, ack, status, complete" in messages["args.response_requested"]


def test_exception_carries_issues_and_text() -> None:
    try:
        parse_command(BAD)
    except OpenC2ValidationError as exc:
        assert exc.what == "command"
        assert len(exc.issues) == 9
        assert "target.ipv4_connection.src_port: expected an integer 0..65535" in str(exc)
    else:
        raise AssertionError("accepted an invalid command")


_CLEAN = re.compile(r"^([a-z0-9_:-]+|\[\d+\])([.][a-z0-9_:-]+|\[\d+\])*$|^$")


def test_no_pydantic_internals_in_paths() -> None:
    docs = [
        BAD,
        {"action": 5, "target": []},
        {"action": "query", "target": {"features": [1, "x", None]}},
        {"headers": {"to": "x", "created": -1}, "body": {"openc2": {"notification": {}}}},
        {"headers": {"request_id": 1}, "body": {"openc2": {"response": {"status": 200,
                                                                        "results": {"rate_limit": "x",
                                                                                    "pairs": {"x": [1]}}}}}},
        {"action": "deny", "target": {"artifact": {"payload": {"bin": 5}}}},
    ]
    for doc in docs:
        issues = check_message(doc) if "body" in doc or "headers" in doc else check_command(doc)
        assert issues
        for issue in issues:
            assert _CLEAN.match(issue.path), issue
            assert "function-after" not in issue.message and "Input should" not in issue.message, issue


def test_root_type_error() -> None:
    assert [(i.path, i.message) for i in check_command([1, 2])] == [
        ("", "expected a JSON object for the command, got an array")]


def test_keys_with_separators_are_quoted_in_paths() -> None:
    doc = {"action": "deny", "target": {"ipv4_net": "1.2.3.4"}, ".": 1, "args": {"a.b": 1, "": 2}}
    assert [i.path for i in check_command(doc)] == ['["."]', 'args["a.b"]', 'args[""]']
    dup = b'{"action":"deny","target":{"ipv4_net":"1.2.3.4"},"x[0]":1,"x[0]":2}'
    assert [i.path for i in check_command(dup)] == ['["x[0]"]']
