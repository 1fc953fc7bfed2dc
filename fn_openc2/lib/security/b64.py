"""Strict base64url without padding (RFC 7515 section 2).

Strict means one encoding per byte string: padding, characters outside the
alphabet and non-zero unused trailing bits are rejected, so a changed
character in a signature can never decode to the same bytes.
"""
from __future__ import annotations

import base64
import binascii


def b64url_encode(data: bytes) -> str:
    """Encode without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode, raising ValueError unless ``text`` is the canonical encoding of its bytes."""
    if len(text) % 4 == 1:
        raise ValueError("length is not a valid base64url length")
    try:
        raw = text.encode("ascii")
        data = base64.b64decode(raw + b"=" * (-len(raw) % 4), altchars=b"-_", validate=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise ValueError("not base64url (RFC 4648 section 5, no padding)") from exc
    if b64url_encode(data) != text:
        raise ValueError("not the canonical base64url encoding (stray characters or trailing bits)")
    return data


def b64url_decode_lenient(text: str) -> bytes:
    """Decode a trusted value (e.g. a JWK member we produced); no canonical check."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
