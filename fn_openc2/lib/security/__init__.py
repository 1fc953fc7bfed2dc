"""OpenC2 message signatures: JCS (RFC 8785) + JWS detached content (RFC 7515).

Knows nothing of transports or SOAR; see doc/internals.md for the contract.
"""
from __future__ import annotations

from .algorithms import ALGORITHMS, DEFAULT_ALGORITHM, algorithms_for, default_algorithm_for, describe_key
from .canonical import canonicalize
from .errors import CanonicalizationError, KeyLoadError, SignatureError
from .keys import load_private_key, load_public_key
from .signing import SIGNATURE_FIELD, sign_message, signature_verdict, signing_input, verify_message

__all__ = [
    "ALGORITHMS",
    "DEFAULT_ALGORITHM",
    "SIGNATURE_FIELD",
    "CanonicalizationError",
    "KeyLoadError",
    "SignatureError",
    "algorithms_for",
    "canonicalize",
    "default_algorithm_for",
    "describe_key",
    "load_private_key",
    "load_public_key",
    "sign_message",
    "signature_verdict",
    "signing_input",
    "verify_message",
]
