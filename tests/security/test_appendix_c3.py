"""LS v2.0 appendix C.3 (message signature example), checked piece by piece.

What the appendix gets right and wrong (worked out with the spec's own key pair):
- The message (C.3.2 step 1) and its JCS form (step 2) agree, and the payload
  in step 3.C is exactly base64url(JCS).
- Step 3.B shows the protected header {"alg":"ES256","kid":"Producer1@example.com"}
  (eyJhbGciOiJFUzI1NiIs...), and the signature value of step 3.E is a valid
  ES256 signature by the appendix's private key over THAT header + "." + payload.
- From step 3.D on, every string (signing input, the detached JWS of 3.F, the
  "signature" of step 4 and the whole C.3.3 validation walk-through) uses a
  different header, eyJhbGciOiJSUzI1NiIs... = {"alg":"RS256",...}. That header
  contradicts the EC key and the ES256 signature; with it the signing input
  differs, so the appendix's own detached JWS does not verify, with any key.
- The signed JSON of step 4 is also not JSON (no comma before "signature").
So: message + JCS + ES256 header (3.B) + signature (3.E) + public key (C.3.3)
verify together; the published "signature" string does not, and a correct
verifier must refuse it (alg/key mismatch) rather than accept it.
"""
from __future__ import annotations

import json

import pytest

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

PRIVATE_PEM = b"""-----BEGIN PRIVATE KEY-----
MIGTAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBHkwdwIBAQQg6XxMFXhcYT5QN9w5TIg2aSKsbcj+
pj4BnZkK7ZOt4B+gCgYIKoZIzj0DAQehRANCAAToErGm3Lxwj57EPMKSH6ChTp1ercxtxjRx3Uto
DGI2tZgm3L1M5uOI9y7dm+QT8kJaEPdbX9g9lfoM3lMVmlHY
-----END PRIVATE KEY-----
"""
PUBLIC_PEM = b"""-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE6BKxpty8cI+exDzCkh+goU6dXq3MbcY0cd1LaAxi
NrWYJty9TObjiPcu3ZvkE/JCWhD3W1/YPZX6DN5TFZpR2A==
-----END PUBLIC KEY-----
"""
MESSAGE = {
    "headers": {
        "request_id": "95ad511c-3339-4111-9c47-9156c47d37d3",
        "created": 1595268027000,
        "from": "Producer1@example.com",
        "to": ["consumer1@example.com", "consumer2@example.com", "consumer3@example.com"],
    },
    "body": {"openc2": {"request": {"action": "deny", "target": {"uri": "http://www.example.com"}}}},
}
# Step 2, with the presentation line breaks removed.
JCS = (
    '{"body":{"openc2":{"request":{"action":"deny","target":{"uri":"http://www.example.com"}}}},'
    '"headers":{"created":1595268027000,"from":"Producer1@example.com",'
    '"request_id":"95ad511c-3339-4111-9c47-9156c47d37d3",'
    '"to":["consumer1@example.com","consumer2@example.com","consumer3@example.com"]}}'
)
HEADER_STEP_3B = "eyJhbGciOiJFUzI1NiIsImtpZCI6IlByb2R1Y2VyMUBleGFtcGxlLmNvbSJ9"
HEADER_STEP_3D_ON = "eyJhbGciOiJSUzI1NiIsImtpZCI6IlByb2R1Y2VyMUBleGFtcGxlLmNvbSJ9"
PAYLOAD_STEP_3C = (
    "eyJib2R5Ijp7Im9wZW5jMiI6eyJyZXF1ZXN0Ijp7ImFjdGlvbiI6ImRlbnkiLCJ0YXJnZXQiOnsidXJpIjoiaHR0cDovL3d3dy5leGFtcGxl"
    "LmNvbSJ9fX19LCJoZWFkZXJzIjp7ImNyZWF0ZWQiOjE1OTUyNjgwMjcwMDAsImZyb20iOiJQcm9kdWNlcjFAZXhhbXBsZS5jb20iLCJyZXF1"
    "ZXN0X2lkIjoiOTVhZDUxMWMtMzMzOS00MTExLTljNDctOTE1NmM0N2QzN2QzIiwidG8iOlsiY29uc3VtZXIxQGV4YW1wbGUuY29tIiwiY29u"
    "c3VtZXIyQGV4YW1wbGUuY29tIiwiY29uc3VtZXIzQGV4YW1wbGUuY29tIl19fQ"
)
SIGNATURE_STEP_3E = "PsJmWi726O_HTK-Svp_fIlZ8FdIH6jeWslM9F5Qrv1gFqv7EwREGOUU4rd53hHS59Yr0Zapk4Ryv9XFmPxHObw"
PUBLISHED_SIGNATURE = f"{HEADER_STEP_3D_ON}..{SIGNATURE_STEP_3E}"  # steps 3.F and 4, C.3.3 1.B


def test_message_jcs_and_payload_agree() -> None:
    assert canonicalize(MESSAGE) == JCS.encode()
    assert b64url_encode(JCS.encode()) == PAYLOAD_STEP_3C


def test_the_two_headers_differ_only_in_alg() -> None:
    assert json.loads(b64url_decode(HEADER_STEP_3B)) == {"alg": "ES256", "kid": "Producer1@example.com"}
    assert json.loads(b64url_decode(HEADER_STEP_3D_ON)) == {"alg": "RS256", "kid": "Producer1@example.com"}


def test_spec_key_pair_belongs_together() -> None:
    assert load_private_key(PRIVATE_PEM).thumbprint() == load_public_key(PUBLIC_PEM).thumbprint()


def test_appendix_message_verifies_with_the_es256_header() -> None:
    public = load_public_key(PUBLIC_PEM)
    signed = {**MESSAGE, "signature": f"{HEADER_STEP_3B}..{SIGNATURE_STEP_3E}"}
    assert signature_verdict(signed, public) == ("verified", "ES256 kid=Producer1@example.com")


def test_published_signature_string_is_refused() -> None:
    """The RS256 header does not fit the EC key: refused before any crypto is tried."""
    public = load_public_key(PUBLIC_PEM)
    with pytest.raises(SignatureError, match='"alg" RS256 does not fit the EC P-256 public key'):
        verify_message({**MESSAGE, "signature": PUBLISHED_SIGNATURE}, public)


def test_published_signing_input_does_not_match_the_signature_even_as_es256() -> None:
    """Prove the RS256 header string is not what was signed: ES256-verify its signing input directly."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    raw = b64url_decode(SIGNATURE_STEP_3E)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key = load_pem_public_key(PUBLIC_PEM)
    key.verify(der, f"{HEADER_STEP_3B}.{PAYLOAD_STEP_3C}".encode(), ec.ECDSA(hashes.SHA256()))
    with pytest.raises(InvalidSignature):
        key.verify(der, f"{HEADER_STEP_3D_ON}.{PAYLOAD_STEP_3C}".encode(), ec.ECDSA(hashes.SHA256()))


def test_we_produce_the_appendix_header_and_a_signature_the_spec_key_verifies() -> None:
    signed = sign_message(MESSAGE, load_private_key(PRIVATE_PEM), alg="ES256", kid="Producer1@example.com")
    assert signed["signature"].startswith(HEADER_STEP_3B + "..")
    verify_message(signed, load_public_key(PUBLIC_PEM))
