"""Every JSON example of LS v2.0 (sections 1-4 and appendix C) is either
accepted and round-trips, or is documented in the manifest as not valid v2.0
and rejected at the expected place."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from fn_openc2.lib.language import (
    OpenC2ValidationError, encode, loads, parse_command, parse_message, parse_response, to_dict,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "spec_examples"
MANIFEST = json.loads((DATA / "manifest.json").read_text())["examples"]
SPEC = Path(__file__).resolve().parents[3] / "shared" / "spec" / "oc2ls-v2.0-csd01.md"
PARSERS = {"command": parse_command, "response": parse_response, "message": parse_message}

JSON_EXAMPLES = [e for e in MANIFEST if e.get("file")]
VALID = [e for e in JSON_EXAMPLES if e["valid"]]
INVALID = [e for e in JSON_EXAMPLES if not e["valid"]]


def _id(e: dict) -> str:
    return e["file"]


@pytest.mark.parametrize("example", VALID, ids=_id)
def test_valid_example_is_accepted_and_round_trips(example: dict) -> None:
    raw = (DATA / example["file"]).read_bytes()
    model = PARSERS[example["kind"]](raw)
    assert to_dict(model) == json.loads(raw)
    assert json.loads(encode(model)) == json.loads(raw)


@pytest.mark.parametrize("example", INVALID, ids=_id)
def test_invalid_example_is_rejected_as_json(example: dict) -> None:
    # all three are not JSON at all (ellipsis placeholder, missing comma)
    with pytest.raises(OpenC2ValidationError) as info:
        PARSERS[example["kind"]]((DATA / example["file"]).read_bytes())
    assert info.value.what == "json"
    assert info.value.issues[0].path == ""
    assert "not valid JSON" in info.value.issues[0].message


def test_the_examples_cover_each_section() -> None:
    sections = {e["section"].split()[0] for e in VALID}
    assert {"3.1.4", "3.2", "3.3.2", "4.2.1", "4.2.2", "C.1", "C.2", "C.3.2", "C.3.3"} <= sections


@pytest.mark.skipif(not SPEC.exists(), reason="../shared/spec not beside the repository")
def test_copies_match_the_spec_text() -> None:
    """The files in tests/data are exactly the spec's fenced blocks."""
    lines = SPEC.read_text().split("\n")
    blocks: dict[int, str] = {}
    start = None
    for number, line in enumerate(lines, 1):
        if line.startswith("~~~"):
            if start is None:
                start, body = number, []
            else:
                blocks[start] = "\n".join(body) + "\n"
                start = None
        elif start is not None:
            body.append(line)
    assert sorted(blocks) == sorted(e["spec_line"] for e in MANIFEST)
    for e in JSON_EXAMPLES:
        assert (DATA / e["file"]).read_text() == blocks[e["spec_line"]], e["file"]


def test_the_ellipsis_examples_are_valid_once_filled_in() -> None:
    """Section 3.1.4's two abbreviated examples, with a value where the spec wrote {...}."""
    for e in INVALID[:2]:
        text = (DATA / e["file"]).read_text()
        value = '"2001:db8::/32"' if "ipv6_net" in text else '{"dst_port": 443}'
        model = parse_command(re.sub(r"\{\.\.\.\}", value, text))
        assert to_dict(model)["action"] == "deny"


def test_the_signed_message_example_is_valid_once_the_comma_is_added() -> None:
    e = next(e for e in INVALID if e["kind"] == "message")
    text = (DATA / e["file"]).read_text().replace('}\n    "signature"', '},\n    "signature"')
    model = parse_message(loads(text))
    assert to_dict(model)["signature"].startswith("eyJ")
