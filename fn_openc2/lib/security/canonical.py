"""RFC 8785 (JCS) canonical form: the exact bytes a message signature covers.

Signing cost matters (every command is signed, every answer verified), so a
fast path hands the common case to the C JSON encoder: for documents whose
object keys are ASCII and whose numbers are integers within I-JSON range,
``json.dumps(sort_keys=True, ensure_ascii=False)`` produces exactly the JCS
bytes (same member order, same escapes: the short forms and lowercase
``\\u00xx`` for other control characters, nothing else escaped). Anything
else (floats, non-ASCII keys whose UTF-16 order may differ, lone surrogates)
goes to the ``rfc8785`` package. tests/security/test_canonical.py checks the
two agree.
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import rfc8785

from .errors import CanonicalizationError

_MAX_SAFE_INT = 2**53 - 1


def _not_json(value: Any) -> Any:
    raise TypeError(f"value of type {type(value).__name__} is not JSON")


def _make_encoder() -> Callable[[Any], str]:
    """The C encoder built once: ``JSONEncoder.encode`` builds it anew on every call
    (callgrind, an SLPF deny envelope: 90k -> 78k instructions per JCS). Same settings
    as ``JSONEncoder(ensure_ascii=False, allow_nan=False, sort_keys=True,
    separators=(",", ":"))``; no circular-reference markers: ``_plain`` walked the
    value first."""
    c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
    if c_make_encoder is None:  # an interpreter without the C accelerator
        return json.JSONEncoder(ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")).encode
    encoder = c_make_encoder(None, _not_json, json.encoder.encode_basestring, None, ":", ",", True, False, False)
    join = "".join

    def encode(value: Any) -> str:
        return join(encoder(value, 0))

    return encode


_encode_plain = _make_encoder()


def canonicalize(obj: Any) -> bytes:
    """Return the JCS bytes of ``obj``; raise CanonicalizationError naming the bad value's path."""
    if _plain(obj):
        try:
            return _encode_plain(obj).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: let the reference path report it
            pass
    return canonicalize_reference(obj)


def canonicalize_reference(obj: Any) -> bytes:
    """JCS through the ``rfc8785`` package only (every input; the fast path's yardstick)."""
    try:
        return rfc8785.dumps(obj)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        path, message = _locate(obj, "")
        if message is None:  # the walk found nothing more precise than the library
            message = str(exc) or type(exc).__name__
        raise CanonicalizationError(path, message) from exc


def _plain(value: Any) -> bool:
    """True when the C encoder's output is already canonical (see the module docstring)."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return bool(-_MAX_SAFE_INT <= value <= _MAX_SAFE_INT)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not key.isascii() or not _plain(item):
                return False
        return True
    if kind is list:
        for item in value:
            if not _plain(item):
                return False
        return True
    return False


def _locate(value: Any, path: str) -> tuple[str, str | None]:
    """Find the first value JCS cannot encode (only run after a failure, so speed is moot)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return path, None
    if isinstance(value, int):
        if abs(value) > _MAX_SAFE_INT:
            return path, f"integer {value} is outside the I-JSON range of +/-(2**53 - 1)"
        return path, None
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return path, f"number {value} is not representable in JSON"
        return path, None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return path, f"object key {key!r} is not a string"
            found = _locate(item, f"{path}.{key}" if path else key)
            if found[1] is not None:
                return found
        return path, None
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = _locate(item, f"{path}[{index}]")
            if found[1] is not None:
                return found
        return path, None
    return path, f"value of type {type(value).__name__} is not JSON"
