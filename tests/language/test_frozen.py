"""A validated model stays valid: it cannot be changed in place, a changed copy is
validated like a new document, and an absent optional field is None while JSON
null is refused."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from fn_openc2.lib.language import (
    OpenC2ValidationError, check_command, check_message, encode, parse_command, parse_message, parse_response,
    to_dict,
)

from .helpers import deny

DENY = {"action": "deny", "target": {"ipv4_net": "198.51.100.4"}, "args": {"slpf": {"drop_process": "none"}},
        "profile": "slpf"}


def test_a_validated_command_cannot_be_changed_in_place() -> None:
    command = parse_command(DENY)
    before = encode(command)
    with pytest.raises(ValidationError, match="frozen"):
        command.action = "bogus"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        command.target.ipv4_net = 12345  # type: ignore[misc, assignment]
    assert command.args is not None
    with pytest.raises(ValidationError, match="frozen"):
        command.args.duration = -1  # type: ignore[misc]
    assert encode(command) == before


def test_responses_and_messages_are_frozen_too() -> None:
    response = parse_response({"status": 200, "results": {"versions": ["2.0"]}})
    with pytest.raises(ValidationError, match="frozen"):
        response.status = 999  # type: ignore[misc, assignment]
    message = parse_message({"headers": {"request_id": "r-9"}, "body": {"openc2": {"response": {"status": 200}}}})
    assert message.headers is not None
    with pytest.raises(ValidationError, match="frozen"):
        message.headers.request_id = "someone else"  # type: ignore[misc]


def test_a_changed_copy_is_validated_like_a_new_command() -> None:
    command = parse_command(DENY)
    allowed = command.model_copy(update={"action": "allow", "args": {"slpf": {"direction": "ingress"}}})
    assert to_dict(allowed)["action"] == "allow" and to_dict(command)["action"] == "deny"
    with pytest.raises(OpenC2ValidationError) as info:
        command.model_copy(update={"action": "bogus"})
    assert [i.path for i in info.value.issues] == ["action"]
    # the profile rules run on the copy too: drop_process is a deny-only argument of slpf
    with pytest.raises(OpenC2ValidationError) as info:
        command.model_copy(update={"action": "allow"})
    assert [i.path for i in info.value.issues] == ["args.slpf.drop_process"]


def test_a_changed_copy_of_a_part_is_checked_against_its_type() -> None:
    command = parse_command(deny({"ipv4_connection": {"dst_port": 443, "protocol": "tcp"}}))
    connection = command.target.ipv4_connection
    assert connection is not None
    assert connection.model_copy(update={"dst_port": 8443}).dst_port == 8443
    with pytest.raises(OpenC2ValidationError) as info:
        connection.model_copy(update={"dst_port": 70000})
    assert [i.path for i in info.value.issues] == ["dst_port"]


def test_absent_optional_fields_are_none_and_json_null_is_refused() -> None:
    command = parse_command(deny({"ipv4_net": "192.0.2.1"}))
    assert command.args is None and command.profile is None and command.target.ipv6_net is None
    assert to_dict(command) == deny({"ipv4_net": "192.0.2.1"})  # absent stays absent
    issues = check_command(deny({"ipv4_connection": {"src_port": None, "dst_port": "x"}}, args=None))
    assert [(i.path, i.message) for i in issues] == [
        ("target.ipv4_connection.src_port", "expected an integer 0..65535, got null"),
        ("target.ipv4_connection.dst_port", "expected an integer 0..65535, got 'x' (string)"),
        ("args", "expected an object, got null"),
    ]
    issues = check_message({"headers": {"from": None}, "body": {"openc2": {"response": {"status": 200}}}})
    assert [(i.path, i.message) for i in issues] == [("headers.from", "expected a string, got null")]
