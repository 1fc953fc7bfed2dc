"""Dialect resolution, profile encodings and reply normalisation (pure functions)."""
from __future__ import annotations

import pytest

from fn_openc2.lib.transfer import TransferError, adapt_command, resolve_dialect
from fn_openc2.lib.transfer.dialects import encode_request, normalize_reply

SLPF = {"action": "deny", "target": {"ipv4_net": "192.0.2.0/24"}, "profile": "slpf"}


@pytest.mark.parametrize("encoding, expected", [
    ("string", {"profile": "slpf"}),
    ("object", {"profile": {"slpf": {}}}),
    ("actuator", {"actuator": {"slpf": {}}}),
])
def test_every_profile_encoding_from_every_input_form(encoding: str, expected: dict) -> None:
    base = {"action": "deny", "target": {"ipv4_net": "192.0.2.0/24"}}
    for form in ({"profile": "slpf"}, {"profile": {"slpf": {}}}, {"actuator": {"slpf": {}}}):
        assert adapt_command({**base, **form}, encoding) == {**base, **expected}


def test_actuator_specifiers_survive_object_and_actuator_forms() -> None:
    command = {"action": "deny", "target": {"ipv4_net": "192.0.2.0/24"}, "actuator": {"slpf": {"asset_id": "fw9"}}}
    assert adapt_command(command, "object")["profile"] == {"slpf": {"asset_id": "fw9"}}
    assert adapt_command(command, "actuator")["actuator"] == {"slpf": {"asset_id": "fw9"}}


def test_adapt_does_not_touch_the_input_and_none_keeps_it() -> None:
    original = dict(SLPF)
    assert adapt_command(SLPF, None) == original
    adapt_command(SLPF, "actuator")
    assert SLPF == original


def test_unknown_dialect_and_bad_overrides_name_the_key() -> None:
    with pytest.raises(TransferError, match="dialect = 'https-v9'") as err:
        resolve_dialect("https-v9")
    assert err.value.kind == "config"
    with pytest.raises(TransferError, match="envelope = 'half'"):
        resolve_dialect(envelope="half")
    with pytest.raises(TransferError, match="path = 'openc2'"):
        resolve_dialect(path="openc2")


def test_v10_preset_and_overrides() -> None:
    d = resolve_dialect("https-v1.0", path="/", envelope="full")
    assert (d.path, d.envelope, d.status_in, d.content_type) == (
        "/", "full", "http", "application/openc2-cmd+json;version=1.0")


def test_bare_encoding_sends_only_the_command() -> None:
    message = {"headers": {"request_id": "r1"}, "body": {"openc2": {"request": SLPF}}}
    body, extra = encode_request(message, resolve_dialect("https-v1.0"))
    assert body == b'{"action":"deny","target":{"ipv4_net":"192.0.2.0/24"},"profile":"slpf"}' and extra == {}


def test_x_request_id_fills_a_missing_request_id() -> None:
    reply = normalize_reply(b'{"status":200}', 200, {"x-request-id": "abc"}, resolve_dialect(), "mine", "fw")
    assert reply == {"headers": {"request_id": "abc"}, "body": {"openc2": {"response": {"status": 200}}}}


@pytest.mark.parametrize("status", [102, 400, 401, 403, 404, 500, 501, 503])
def test_openc2_status_in_http_line_with_openc2_body_is_a_reply(status: int) -> None:
    reply = normalize_reply(b'{"status_text":"x"}', status, {}, resolve_dialect(status_in="http"), "r", "fw")
    assert reply is not None and reply["body"]["openc2"]["response"]["status"] == status


def test_204_and_empty_200_are_no_answer() -> None:
    assert normalize_reply(b"", 204, {}, resolve_dialect(), "r", "fw") is None
    assert normalize_reply(b"", 200, {}, resolve_dialect(), "r", "fw") is None
