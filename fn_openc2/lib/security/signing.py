"""Sign and verify OpenC2 messages: JWS detached content over the JCS form.

LS v2.0 section 3.3.4: the payload is the RFC 8785 form of the message
without its "signature" member; the JWS compact serialization with the
payload part removed (RFC 7515 appendix F) goes into "signature".
The cryptography is jwcrypto's JWA engines, except ES256 (the default, and
every command of a bulk send): there the same cryptography calls are made
directly with one reused ECDSA(SHA-256) object and integer conversions
instead of jwcrypto's hex round trips. With the single copy of the message
in sign_message and the prebuilt JCS encoder, callgrind counts per SLPF deny
envelope: sign 451k -> 416k instructions, verify 1,028k -> 1,002k; OpenSSL's
P-256 sign (271k) and verify (861k) are the rest; cryptography releases the
GIL inside them (bench/bench_sign.py measures it), so other request threads
run meanwhile. The protected header is encoded once per (alg, kid) and
reused.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from jwcrypto.jwa import JWA
from jwcrypto.jwk import JWK

from .algorithms import DEFAULT_ALGORITHM, alg_mismatch
from .b64 import b64url_encode
from .canonical import canonicalize
from .compact import build_detached, parse_detached, protected_header
from .errors import CanonicalizationError, SignatureError

SIGNATURE_FIELD = "signature"
Verdict = Literal["verified", "unsigned", "invalid", "not_checked"]

_ENGINES: dict[str, Any] = {}
_ES256_SIG_LEN = 64
_ES256_HALF = _ES256_SIG_LEN // 2
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


class _Es256:
    """ES256 (RFC 7518 section 3.4) on cryptography: R || S, 32 bytes each."""

    @staticmethod
    def sign(key: JWK, data: bytes) -> bytes:
        r, s = decode_dss_signature(key.get_op_key("sign").sign(data, _ECDSA_SHA256))
        return r.to_bytes(_ES256_HALF, "big") + s.to_bytes(_ES256_HALF, "big")

    @staticmethod
    def verify(key: JWK, data: bytes, signature: bytes) -> None:
        der = encode_dss_signature(int.from_bytes(signature[:_ES256_HALF], "big"),
                                   int.from_bytes(signature[_ES256_HALF:], "big"))
        key.get_op_key("verify").verify(der, data, _ECDSA_SHA256)


def _engine(alg: str) -> Any:
    engine = _ENGINES.get(alg)
    if engine is None:
        engine = _ENGINES[alg] = _Es256() if alg == "ES256" else JWA.signing_alg(alg)
    return engine


def _without_signature(message: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if k != SIGNATURE_FIELD}


def _signing_input(protected: str, content: Mapping[str, Any]) -> bytes:
    try:
        payload = canonicalize(content)
    except CanonicalizationError as exc:
        raise SignatureError(f"message has no canonical form: {exc}") from None
    return f"{protected}.{b64url_encode(payload)}".encode("ascii")


def signing_input(protected: str, message: Mapping[str, Any]) -> bytes:
    """ASCII(protected) "." base64url(JCS(message without "signature"))."""
    return _signing_input(protected, _without_signature(message))


def sign_message(
    message: Mapping[str, Any], key: JWK, alg: str = DEFAULT_ALGORITHM, kid: str | None = None
) -> dict[str, Any]:
    """A new dict: the message (any old signature dropped) plus its detached JWS in "signature"."""
    if not isinstance(message, Mapping):
        raise SignatureError(f"message must be a JSON object, got {type(message).__name__}")
    problem = alg_mismatch(alg, key)
    if problem:
        raise SignatureError(f"cannot sign: {problem}")
    if not key.has_private:
        raise SignatureError("cannot sign: the key is a public key; signing needs the private key")
    if kid is not None and not isinstance(kid, str):
        raise SignatureError(f'cannot sign: "kid" must be a string, got {type(kid).__name__}')
    protected = protected_header(alg, kid)
    signed = _without_signature(message)      # canonicalized as it is now, then given its signature
    signature = _engine(alg).sign(key, _signing_input(protected, signed))
    signed[SIGNATURE_FIELD] = build_detached(protected, signature)
    return signed


def verify_message(message: Mapping[str, Any], key: JWK) -> dict[str, Any]:
    """Raise SignatureError(reason) unless "signature" verifies; return the protected header."""
    if not isinstance(message, Mapping):
        raise SignatureError(f"message must be a JSON object, got {type(message).__name__}")
    if SIGNATURE_FIELD not in message:
        raise SignatureError('message is not signed: it has no "signature" field')
    jws = parse_detached(message[SIGNATURE_FIELD])
    alg = jws.header["alg"]
    problem = alg_mismatch(alg, key)
    if problem:
        raise SignatureError(f'"signature" protected header: {problem}')
    if alg == "ES256" and len(jws.signature) != _ES256_SIG_LEN:
        raise SignatureError(
            f'"signature" ES256 value must be {_ES256_SIG_LEN} bytes (R || S), got {len(jws.signature)}'
        )
    data = signing_input(jws.protected, message)
    try:
        _engine(alg).verify(key, data, jws.signature)
    except Exception:  # cryptography's InvalidSignature, or a malformed value inside the engine
        raise SignatureError(
            f"{alg} signature does not match the message content and protected header for this key"
        ) from None
    return jws.header


def signature_verdict(message: Mapping[str, Any], key: JWK | None) -> tuple[Verdict, str | None]:
    """Classify a received message's signature for the record; never raises."""
    if (type(message) is not dict and not isinstance(message, Mapping)) or SIGNATURE_FIELD not in message:
        return "unsigned", None
    if key is None:
        return "not_checked", "no verification key configured"
    try:
        header = verify_message(message, key)
    except SignatureError as exc:
        return "invalid", exc.reason
    kid = header.get("kid")
    return "verified", f"{header['alg']}" + (f" kid={kid}" if isinstance(kid, str) else "")
