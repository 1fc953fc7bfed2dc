"""Fuzz the language layer's decoders: whatever arrives (from a consumer, an
operator, a broker), only OpenC2ValidationError may escape, and every issue it
carries names a path ("" meaning the document root, as errors.Issue documents).
Also: valid commands survive parse -> encode -> parse unchanged."""
from __future__ import annotations

import json
from typing import Any, Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fn_openc2.lib.language import (OpenC2ValidationError, encode, loads, parse_command, parse_message,
                                    parse_response, to_dict)
from tests.fuzz import strategies as s

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ROUND_TRIP = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

PARSERS: dict[str, Callable[[Any], Any]] = {
    "command": parse_command, "response": parse_response, "message": parse_message}


def assert_named_issues(error: OpenC2ValidationError, allowed_what: set[str]) -> None:
    """The layer's error rule: at least one issue; each a str path and a non-empty message."""
    assert error.what in allowed_what, error.what
    assert error.issues, f"{error!r} carries no issue"
    for issue in error.issues:
        assert isinstance(issue.path, str), issue
        assert isinstance(issue.message, str) and issue.message.strip(), issue
        # a rendered path never starts with a separator: "a.b[2].c", "[0]" or "" for the root
        assert not issue.path.startswith("."), issue
    assert str(error)


def run_parser(kind: str, doc: Any) -> None:
    try:
        PARSERS[kind](doc)
    except OpenC2ValidationError as exc:
        assert_named_issues(exc, {kind, "json"})
        if not isinstance(doc, (dict, bytes, bytearray, str)):
            # a non-object document is a root problem: the documented path is ""
            assert any(issue.path == "" for issue in exc.issues), exc.issues


@FAST
@given(st.binary(max_size=200))
def test_loads_arbitrary_bytes(data: bytes) -> None:
    try:
        loads(data)
    except OpenC2ValidationError as exc:
        assert_named_issues(exc, {"json"})


@FAST
@given(s.json_values)
def test_loads_of_json_text_agrees_with_json(value: Any) -> None:
    """Anything Python's json writes decodes, or is refused as not I-JSON (NaN, big ints, ...)."""
    text = json.dumps(value)
    try:
        decoded = loads(text)
    except OpenC2ValidationError as exc:
        assert_named_issues(exc, {"json"})
    else:
        assert json.dumps(decoded) == text


@FAST
@given(st.sampled_from(sorted(PARSERS)), s.json_values)
def test_parsers_arbitrary_values(kind: str, doc: Any) -> None:
    run_parser(kind, doc)


@FAST
@given(st.sampled_from(sorted(PARSERS)), st.binary(max_size=200) | st.text(max_size=200))
def test_parsers_arbitrary_bytes_and_text(kind: str, data: bytes | str) -> None:
    run_parser(kind, data)


@FAST
@given(s.command_like)
def test_parse_command_shaped(doc: dict) -> None:
    run_parser("command", doc)
    run_parser("command", json.dumps(doc, allow_nan=True))


@FAST
@given(s.response_like)
def test_parse_response_shaped(doc: dict) -> None:
    run_parser("response", doc)


@FAST
@given(s.message_like)
def test_parse_message_shaped(doc: dict) -> None:
    run_parser("message", doc)


@FAST
@given(s.command_like, st.data())
def test_issue_paths_point_into_the_document(doc: dict, data: st.DataObject) -> None:
    """The first step of every non-root path is a key the document has or a field it misses."""
    try:
        parse_command(doc)
    except OpenC2ValidationError as exc:
        for issue in exc.issues:
            if not issue.path:
                continue
            head = issue.path.split(".", 1)[0].split("[", 1)[0]
            assert head in doc or head in ("action", "target", "args", "profile", "command_id"), issue


@ROUND_TRIP
@given(s.valid_commands)
def test_valid_commands_round_trip(doc: dict) -> None:
    first = parse_command(doc)
    again = parse_command(encode(first))
    assert again == first
    assert to_dict(again) == to_dict(first) == doc
