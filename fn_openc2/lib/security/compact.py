"""Parsing and building the detached JWS compact form "<protected>..<signature>".

RFC 7515 section 7.1 with the payload part emptied as in appendix F. Parsing
is strict so that every byte of the header and the signature is covered:
the header text is signed as-is and the signature must be canonical
base64url.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .b64 import b64url_decode, b64url_encode
from .errors import SignatureError


@dataclass(frozen=True)
class DetachedJws:
    protected: str            # base64url header text exactly as received (part of the signing input)
    header: dict[str, Any]    # decoded protected header
    signature: bytes


def build_detached(protected: str, signature: bytes) -> str:
    """The compact serialization with an empty payload part."""
    return f"{protected}..{b64url_encode(signature)}"


@lru_cache(maxsize=256)
def protected_header(alg: str, kid: str | None) -> str:
    """Encoded protected header, cached: it is the same for every message of one key."""
    header: dict[str, str] = {"alg": alg}
    if kid is not None:
        header["kid"] = kid
    return b64url_encode(json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def parse_detached(value: object) -> DetachedJws:
    """Split and check a "signature" field value; SignatureError says what is malformed."""
    if not isinstance(value, str):
        raise SignatureError(f'"signature" must be a string (JWS compact form), got {type(value).__name__}')
    parts = value.split(".")
    if len(parts) != 3:
        raise SignatureError(
            f'"signature" must be a JWS compact form "<header>..<signature>" with 2 periods, found {len(parts) - 1}'
        )
    protected, payload, sig_text = parts
    if payload:
        raise SignatureError(
            '"signature" is not a detached JWS: its payload part is not empty (RFC 7515 appendix F)'
        )
    if not protected:
        raise SignatureError('"signature" has an empty protected header')
    header = _decode_header(protected)
    try:
        signature = b64url_decode(sig_text)
    except ValueError as exc:
        raise SignatureError(f'"signature" signature part: {exc}') from None
    if not signature:
        raise SignatureError('"signature" has an empty signature part')
    return DetachedJws(protected, header, signature)


@lru_cache(maxsize=256)
def _decode_header_cached(protected: str) -> tuple[tuple[str, Any], ...]:
    try:
        text = b64url_decode(protected).decode("utf-8")
    except ValueError as exc:  # includes UnicodeDecodeError
        raise SignatureError(f'"signature" protected header: {exc}') from None
    try:
        header = json.loads(text, object_pairs_hook=_no_duplicates)
    except ValueError as exc:
        raise SignatureError(f'"signature" protected header is not valid JSON: {exc}') from None
    if not isinstance(header, dict):
        raise SignatureError('"signature" protected header is not a JSON object')
    if "alg" not in header:
        raise SignatureError('"signature" protected header has no "alg"')
    if "crit" in header:  # RFC 7515 section 4.1.11: we implement no extensions
        raise SignatureError('"signature" protected header lists "crit" extensions this verifier does not implement')
    if "b64" in header:  # RFC 7797 unencoded payloads change the signing input; never used by OpenC2
        raise SignatureError('"signature" protected header uses "b64", which OpenC2 signatures do not allow')
    return tuple(header.items())


def _decode_header(protected: str) -> dict[str, Any]:
    # The cache holds immutable pairs; callers get a fresh dict each time.
    return dict(_decode_header_cached(protected))


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate member {key!r}")
        result[key] = value
    return result
