"""I-JSON (RFC 7493) on decode; compact UTF-8 on encode."""
from __future__ import annotations

import pytest

from fn_openc2.lib.language import OpenC2ValidationError, check_command, dumps, loads


def _json_issues(data: bytes | str) -> list[tuple[str, str]]:
    with pytest.raises(OpenC2ValidationError) as info:
        loads(data)
    assert info.value.what == "json"
    return [(i.path, i.message) for i in info.value.issues]


def test_plain_document_decodes() -> None:
    assert loads(b'{"a":[1,2.5,"\\u00fc",true,null]}') == {"a": [1, 2.5, "ü", True, None]}


def test_duplicate_keys_name_every_path() -> None:
    issues = _json_issues(b'{"target":{"ipv4_connection":{"src_port":1,"src_port":2}},"x":[{"k":1,"k":1}]}')
    assert [p for p, _ in issues] == ["target.ipv4_connection.src_port", "x[0].k"]
    assert "duplicate object key 'src_port'" in issues[0][1]


def test_integer_range() -> None:
    assert loads(b"[9007199254740991,-9007199254740991]") == [2**53 - 1, -(2**53 - 1)]
    assert "I-JSON range" in _json_issues(b"[9007199254740992]")[0][1]
    assert "I-JSON range" in _json_issues(b"[-123456789012345678901]")[0][1]


def test_out_of_range_numbers_are_reported_at_their_path() -> None:
    issues = _json_issues(b'{"a":{"b":[1,9007199254740992]},"c":[{"d":-9007199254740992}],"e":1e400,"f":2}')
    assert [p for p, _ in issues] == ["a.b[1]", "c[0].d", "e"]
    assert issues[0][1] == "integer 9007199254740992 is outside the I-JSON range +-(2**53-1) (RFC 7493 section 2.2)"
    assert _json_issues(b"123456789012345678901")[0][0] == ""
    # duplicates and range problems of one document are reported together
    both = _json_issues(b'{"x":1,"x":2,"y":99999999999999999999}')
    assert [p for p, _ in both] == ["x", "y"]


def test_non_finite_numbers() -> None:
    assert _json_issues(b"[NaN]") == [("[0]", "NaN is not a JSON number")]
    assert _json_issues(b'{"a":{"b":Infinity},"c":[-Infinity]}') == [
        ("a.b", "Infinity is not a JSON number"), ("c[0]", "-Infinity is not a JSON number")]
    assert _json_issues(b"NaN") == [("", "NaN is not a JSON number")]
    assert "IEEE 754" in _json_issues(b"[1e400]")[0][1]


def test_invalid_utf8() -> None:
    assert _json_issues(b'{"a":"\xc3("}')[0][1].startswith("invalid UTF-8 at byte 6")


def test_lone_surrogates_are_rejected_with_path() -> None:
    issues = _json_issues(b'{"a":{"b":["ok","\\ud800"]}}')
    assert issues == [("a.b[1]", "string contains an unpaired UTF-16 surrogate (RFC 7493 section 2.1)")]
    assert _json_issues(b'{"\\udfff":1}')[0][0] == ""


def test_surrogate_pairs_are_fine() -> None:
    assert loads(b'["\\ud83d\\ude00"]') == ["\U0001f600"]
    assert loads(b'["\\\\ud800"]') == ["\\ud800"]  # an escaped backslash, not a surrogate


def test_syntax_errors_and_bom() -> None:
    assert "not valid JSON" in _json_issues(b'{"a":1,}')[0][1]
    assert "byte order mark" in _json_issues("\ufeff{}")[0][1]


def test_check_command_reports_decode_issues() -> None:
    assert [i.path for i in check_command(b'{"action":"deny","action":"deny"}')] == ["action"]


def test_dumps_is_compact_utf8() -> None:
    assert dumps({"a": "ü", "b": [1, 2]}) == '{"a":"ü","b":[1,2]}'.encode()
    with pytest.raises(ValueError):
        dumps({"a": float("nan")})
