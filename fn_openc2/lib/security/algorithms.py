"""Which JWS algorithm fits which key.

Checked on both sides: a signer must not produce, and a verifier must not
accept, a header whose "alg" does not belong to the key (RFC 8725 section 3.1).
"""
from __future__ import annotations

from typing import Literal, get_args

from jwcrypto.jwk import JWK

from .b64 import b64url_decode_lenient

#: The JWS algorithms a command or response may be signed with (written once: the config key
#: signing_alg, the CLI --alg choices and the verifier all read these).
Algorithm = Literal["ES256", "RS256", "PS256", "EdDSA"]
ALGORITHMS: tuple[str, ...] = get_args(Algorithm)
DEFAULT_ALGORITHM: Algorithm = "ES256"
MIN_RSA_BITS = 2048


def describe_key(key: JWK) -> str:
    """Short, secret-free description such as "EC P-256 public key"."""
    kty = key.get("kty")
    part = "private" if key.has_private else "public"
    if kty in ("EC", "OKP"):
        return f"{kty} {key.get('crv')} {part} key"
    if kty == "RSA":
        return f"RSA {_rsa_bits(key)}-bit {part} key"
    return f"{kty} key"


def algorithms_for(key: JWK) -> tuple[str, ...]:
    """The algorithms of ALGORITHMS this key can sign/verify with (empty when none)."""
    kty = key.get("kty")
    if kty == "EC" and key.get("crv") == "P-256":
        return ("ES256",)
    if kty == "RSA" and _rsa_bits(key) >= MIN_RSA_BITS:
        return ("RS256", "PS256")
    if kty == "OKP" and key.get("crv") in ("Ed25519", "Ed448"):
        return ("EdDSA",)
    return ()


def default_algorithm_for(key: JWK) -> str:
    """ES256 for P-256, RS256 for RSA, EdDSA for Ed25519: lets callers omit --alg."""
    usable = algorithms_for(key)
    if not usable:
        raise ValueError(f"no supported algorithm for a {describe_key(key)}")
    return usable[0]


def alg_mismatch(alg: object, key: JWK) -> str | None:
    """Why ``alg`` cannot be used with ``key``, or None when it can."""
    if not isinstance(alg, str):
        return f'"alg" must be a string, got {type(alg).__name__}'
    if alg.lower() == "none":
        return '"alg" is "none": unsecured JWS is never accepted'
    if alg not in ALGORITHMS:
        return f'"alg" {alg!r} is not supported (supported: {", ".join(ALGORITHMS)})'
    usable = algorithms_for(key)
    if alg not in usable:
        fits = ", ".join(usable) if usable else "none of " + ", ".join(ALGORITHMS)
        return f'"alg" {alg} does not fit the {describe_key(key)} (it fits {fits})'
    return None


def _rsa_bits(key: JWK) -> int:
    return int.from_bytes(b64url_decode_lenient(key.get("n", "")), "big").bit_length()
