"""Detached JWS over the JCS form: round trips, interop with jwcrypto's JWS object, and rejections."""
from __future__ import annotations

import copy
import json
import string

import pytest
from jwcrypto import jws as jwcrypto_jws
from jwcrypto.jwk import JWK

from fn_openc2.lib.security import (
    SignatureError,
    canonicalize,
    load_private_key,
    load_public_key,
    sign_message,
    signature_verdict,
    verify_message,
)
from fn_openc2.lib.security.b64 import b64url_decode, b64url_encode
from tests.security.keyfiles import ALL_ALGS, KeyFiles


def _keys(files: KeyFiles) -> tuple[JWK, JWK]:
    return load_private_key(str(files.private_pem)), load_public_key(str(files.public_pem))


def _header(signed: dict) -> dict:
    return json.loads(b64url_decode(signed["signature"].split(".")[0]))


def _with_header(signed: dict, header: dict) -> dict:
    _, _, sig = signed["signature"].split(".")
    encoded = b64url_encode(json.dumps(header, separators=(",", ":")).encode())
    return {**signed, "signature": f"{encoded}..{sig}"}


def _reason(message: dict, key: JWK) -> str:
    with pytest.raises(SignatureError) as info:
        verify_message(message, key)
    assert info.value.reason, "every rejection carries a reason"
    return info.value.reason


@pytest.mark.parametrize("alg", ALL_ALGS)
def test_round_trip_each_algorithm(key_files: dict[str, KeyFiles], sample_message: dict, alg: str) -> None:
    private, public = _keys(key_files[alg])
    signed = sign_message(sample_message, private, alg=alg, kid="soar@example.com")
    assert signed is not sample_message and "signature" not in sample_message
    assert {k: v for k, v in signed.items() if k != "signature"} == sample_message
    protected, payload, sig = signed["signature"].split(".")
    assert payload == "", "detached: the payload part is empty"
    assert protected and sig
    assert _header(signed) == {"alg": alg, "kid": "soar@example.com"}
    assert verify_message(signed, public)["alg"] == alg
    assert signature_verdict(signed, public) == ("verified", f"{alg} kid=soar@example.com")


def test_header_has_only_alg_without_kid(key_files: dict[str, KeyFiles], sample_message: dict) -> None:
    private, public = _keys(key_files["ES256"])
    signed = sign_message(sample_message, private)
    assert _header(signed) == {"alg": "ES256"}
    assert signature_verdict(signed, public) == ("verified", "ES256")


@pytest.mark.parametrize("alg", ALL_ALGS)
def test_signature_is_standard_jws_detached(key_files: dict[str, KeyFiles], sample_message: dict, alg: str) -> None:
    """jwcrypto's full JWS object verifies ours, and we verify one it made (RFC 7515 appendix F)."""
    private, public = _keys(key_files[alg])
    payload = canonicalize(sample_message)

    ours = sign_message(sample_message, private, alg=alg)
    theirs = jwcrypto_jws.JWS()
    theirs.deserialize(ours["signature"])
    theirs.verify(public, detached_payload=payload)  # raises when it does not verify

    made = jwcrypto_jws.JWS(payload)
    made.add_signature(private, alg=alg, protected={"alg": alg})
    compact = made.serialize(compact=True)
    head, _, sig = compact.split(".")
    verify_message({**sample_message, "signature": f"{head}..{sig}"}, public)


def test_old_signature_is_replaced_not_signed(key_files: dict[str, KeyFiles], sample_message: dict) -> None:
    private, public = _keys(key_files["ES256"])
    once = sign_message(sample_message, private)
    twice = sign_message(once, private)
    assert twice["signature"] != once["signature"]  # ECDSA is randomised; both cover the same content
    verify_message(twice, public)
    verify_message(once, public)


def test_key_order_and_whitespace_do_not_matter(key_files: dict[str, KeyFiles], sample_message: dict) -> None:
    private, public = _keys(key_files["ES256"])
    signed = sign_message(sample_message, private)

    def reorder(value):
        if isinstance(value, dict):
            return {k: reorder(value[k]) for k in reversed(list(value))}
        if isinstance(value, list):
            return [reorder(v) for v in value]
        return value

    reordered = reorder(signed)
    assert list(reordered) != list(signed)
    pretty = json.dumps(reordered, indent=4, separators=(" ,  ", " :  "))
    received = json.loads(pretty)
    verify_message(received, public)


# --- tampering: every change fails, with a reason -------------------------------------------------


def test_changed_body_value_fails(key_files: dict[str, KeyFiles], sample_message: dict) -> None:
    private, public = _keys(key_files["ES256"])
    signed = sign_message(sample_message, private)
    tampered = copy.deepcopy(signed)
    tampered["body"]["openc2"]["request"]["target"]["ipv4_connection"]["dst_port"] = 444
    assert "does not match the message content" in _reason(tampered, public)
    assert signature_verdict(tampered, public)[0] == "invalid"


def test_added_key_fails(key_files: dict[str, KeyFiles], sample_message: dict) -> None:
    private, public = _keys(key_files["EdDSA"])
    signed = sign_message(sample_message, private, alg="EdDSA")
    tampered = copy.deepcopy(signed)
    tampered["body"]["openc2"]["request"]["args"]["response_requested"] = "none"
    assert "does not match" in _reason(tampered, public)
    top = {**signed, "extra": 1}
    assert "does not match" in _reason(top, public)


def test_removed_key_or_type_change_fails(key_files: dict[str, KeyFiles], sample_message: dict) -> None:
    private, public = _keys(key_files["RS256"])
    signed = sign_message(sample_message, private, alg="RS256")
    removed = copy.deepcopy(signed)
    del removed["headers"]["to"]
    assert "does not match" in _reason(removed, public)
    retyped = copy.deepcopy(signed)
    retyped["headers"]["created"] = "1595268027000"
    assert "does not match" in _reason(retyped, public)


@pytest.mark.parametrize("alg", ALL_ALGS)
def test_every_single_character_change_of_the_signature_field_fails(
    key_files: dict[str, KeyFiles], sample_message: dict, alg: str
) -> None:
    """Header and signature characters, including the last one whose low bits are unused."""
    private, public = _keys(key_files[alg])
    value = sign_message(sample_message, private, alg=alg, kid="k1")["signature"]
    alphabet = string.ascii_letters + string.digits + "-_"
    for index, char in enumerate(value):
        if char == ".":
            continue
        replacement = alphabet[(alphabet.index(char) + 1) % len(alphabet)]
        tampered = {**sample_message, "signature": value[:index] + replacement + value[index + 1 :]}
        verdict, reason = signature_verdict(tampered, public)
        assert verdict == "invalid", f"character {index} changed but the signature still verified"
        assert reason


def test_flipped_signature_byte_fails(key_files: dict[str, KeyFiles], sample_message: dict) -> None:
    private, public = _keys(key_files["PS256"])
    signed = sign_message(sample_message, private, alg="PS256")
    head, _, sig = signed["signature"].split(".")
    raw = bytearray(b64url_decode(sig))
    raw[10] ^= 0x01
    tampered = {**signed, "signature": f"{head}..{b64url_encode(bytes(raw))}"}
    assert "PS256 signature does not match" in _reason(tampered, public)


def test_changed_header_member_fails(key_files: dict[str, KeyFiles], sample_message: dict) -> None:
    private, public = _keys(key_files["ES256"])
    signed = sign_message(sample_message, private, kid="producer-a")
    tampered = _with_header(signed, {"alg": "ES256", "kid": "producer-b"})
    assert "does not match" in _reason(tampered, public)


@pytest.mark.parametrize(
    "signer, claimed, verifier",
    [
        ("ES256", "RS256", "ES256"),  # the appendix C.3 mistake: RS256 header on an ES256 signature
        ("RS256", "PS256", "RS256"),  # same key type, other padding: the signature cannot match
        ("RS256", "ES256", "RS256"),
        ("EdDSA", "ES256", "EdDSA"),
    ],
)
def test_swapped_alg_in_header_fails(
    key_files: dict[str, KeyFiles], sample_message: dict, signer: str, claimed: str, verifier: str
) -> None:
    private, _ = _keys(key_files[signer])
    _, public = _keys(key_files[verifier])
    signed = sign_message(sample_message, private, alg=signer)
    reason = _reason(_with_header(signed, {"alg": claimed}), public)
    if claimed == "PS256":
        assert "PS256 signature does not match" in reason
    else:
        assert f'"alg" {claimed} does not fit the' in reason


def test_alg_none_is_refused(key_files: dict[str, KeyFiles], sample_message: dict) -> None:
    private, public = _keys(key_files["ES256"])
    signed = sign_message(sample_message, private)
    assert '"alg" is "none"' in _reason(_with_header(signed, {"alg": "none"}), public)
    unsigned_style = {**sample_message, "signature": b64url_encode(b'{"alg":"none"}') + ".."}
    assert signature_verdict(unsigned_style, public)[0] == "invalid"


def test_signature_made_with_another_key_fails(key_files: dict[str, KeyFiles], sample_message: dict) -> None:
    other_private = JWK.generate(kty="EC", crv="P-256")
    _, public = _keys(key_files["ES256"])
    signed = sign_message(sample_message, other_private)
    assert "does not match" in _reason(signed, public)


@pytest.mark.parametrize(
    "value, expected",
    [
        (12345, '"signature" must be a string'),
        ({"protected": "x"}, '"signature" must be a string'),
        (None, '"signature" must be a string'),
        ("abc", "with 2 periods, found 0"),
        ("a.b.c.d", "with 2 periods, found 3"),
        ("..c2ln", "empty protected header"),
        ("eyJhbGciOiJFUzI1NiJ9..", "empty signature part"),
        ("eyJhbGciOiJFUzI1NiJ9..a+b/", "signature part: not the canonical base64url"),
        ("e30..c2ln", 'has no "alg"'),
        ("W10..c2ln", "not a JSON object"),
        ("bm90IGpzb24..c2ln", "not valid JSON"),
    ],
)
def test_malformed_signature_fields_are_refused_with_reason(
    key_files: dict[str, KeyFiles], sample_message: dict, value: object, expected: str
) -> None:
    _, public = _keys(key_files["ES256"])
    assert expected in _reason({**sample_message, "signature": value}, public)


def test_attached_payload_is_refused(key_files: dict[str, KeyFiles], sample_message: dict) -> None:
    """A full (non-detached) compact JWS is refused even when it would verify."""
    private, public = _keys(key_files["ES256"])
    made = jwcrypto_jws.JWS(canonicalize(sample_message))
    made.add_signature(private, alg="ES256", protected={"alg": "ES256"})
    reason = _reason({**sample_message, "signature": made.serialize(compact=True)}, public)
    assert "not a detached JWS" in reason


def test_crit_b64_and_duplicate_header_members_are_refused(key_files: dict[str, KeyFiles], sample_message: dict) -> None:
    private, public = _keys(key_files["ES256"])
    signed = sign_message(sample_message, private)
    assert '"crit"' in _reason(_with_header(signed, {"alg": "ES256", "crit": ["exp"], "exp": 1}), public)
    assert '"b64"' in _reason(_with_header(signed, {"alg": "ES256", "b64": False}), public)
    _, _, sig = signed["signature"].split(".")
    duplicated = b64url_encode(b'{"alg":"ES256","alg":"ES256"}')
    assert "duplicate member 'alg'" in _reason({**signed, "signature": f"{duplicated}..{sig}"}, public)


def test_es256_signature_must_be_raw_r_and_s(key_files: dict[str, KeyFiles], sample_message: dict) -> None:
    private, public = _keys(key_files["ES256"])
    signed = sign_message(sample_message, private)
    head, _, sig = signed["signature"].split(".")
    longer = b64url_encode(b64url_decode(sig) + b"\x00")
    assert "must be 64 bytes" in _reason({**signed, "signature": f"{head}..{longer}"}, public)


def test_signing_refuses_wrong_alg_and_public_keys(key_files: dict[str, KeyFiles], sample_message: dict) -> None:
    private, public = _keys(key_files["ES256"])
    with pytest.raises(SignatureError, match='cannot sign: "alg" RS256 does not fit the EC P-256 private key'):
        sign_message(sample_message, private, alg="RS256")
    with pytest.raises(SignatureError, match='"alg" is "none"'):
        sign_message(sample_message, private, alg="none")
    with pytest.raises(SignatureError, match="HS256' is not supported"):
        sign_message(sample_message, private, alg="HS256")
    with pytest.raises(SignatureError, match="needs the private key"):
        sign_message(sample_message, public)


def test_message_without_canonical_form_cannot_be_signed(key_files: dict[str, KeyFiles]) -> None:
    private, _ = _keys(key_files["ES256"])
    with pytest.raises(SignatureError, match="headers.created"):
        sign_message({"headers": {"created": 2**63}}, private)


def test_verdicts(key_files: dict[str, KeyFiles], sample_message: dict) -> None:
    private, public = _keys(key_files["ES256"])
    signed = sign_message(sample_message, private)
    assert signature_verdict(sample_message, public) == ("unsigned", None)
    assert signature_verdict(sample_message, None) == ("unsigned", None)
    assert signature_verdict(signed, None) == ("not_checked", "no verification key configured")
    assert signature_verdict(signed, public) == ("verified", "ES256")
    verdict, reason = signature_verdict({**signed, "signature": 7}, public)
    assert verdict == "invalid" and "must be a string" in reason
    with pytest.raises(SignatureError, match='no "signature" field'):
        verify_message(sample_message, public)
