"""Sign and verify OpenC2 messages: JWS detached content over the JCS form.

LS v2.0 section 3.3.4: the payload is the RFC 8785 form of the message
without its "signature" member; the JWS compact serialization with the
payload part removed (RFC 7515 appendix F) goes into "signature".
The cryptography is jwcrypto's JWA engines; the protected header is encoded
once per (alg, kid) and reused.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

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


def _engine(alg: str) -> Any:
    engine = _ENGINES.get(alg)
    if engine is None:
        engine = _ENGINES[alg] = JWA.signing_alg(alg)
    return engine


def signing_input(protected: str, message: Mapping[str, Any]) -> bytes:
    """ASCII(protected) "." base64url(JCS(message without "signature"))."""
    content = {k: v for k, v in message.items() if k != SIGNATURE_FIELD}
    try:
        payload = canonicalize(content)
    except CanonicalizationError as exc:
        raise SignatureError(f"message has no canonical form: {exc}") from None
    return f"{protected}.{b64url_encode(payload)}".encode("ascii")


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
    signature = _engine(alg).sign(key, signing_input(protected, message))
    signed = {k: v for k, v in message.items() if k != SIGNATURE_FIELD}
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
    if not isinstance(message, Mapping) or SIGNATURE_FIELD not in message:
        return "unsigned", None
    if key is None:
        return "not_checked", "no verification key configured"
    try:
        header = verify_message(message, key)
    except SignatureError as exc:
        return "invalid", exc.reason
    kid = header.get("kid")
    return "verified", f"{header['alg']}" + (f" kid={kid}" if isinstance(kid, str) else "")
