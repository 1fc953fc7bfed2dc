"""Loading signing and verification keys from PEM files or PEM bytes.

A ``str`` is a file path (or PEM text when it starts with "-----BEGIN");
``bytes`` are PEM data. Errors name the file (or "PEM data") and what was
found, never the key material or password.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from jwcrypto.jwk import JWK

from .algorithms import ALGORITHMS, algorithms_for, describe_key
from .errors import KeyLoadError

_PEM_MARK = b"-----BEGIN "


def load_private_key(source: str | bytes, password: bytes | None = None) -> JWK:
    """A private key for signing (PKCS#8, traditional EC/RSA, optionally encrypted)."""
    data, where = _read(source)
    try:
        pyca = serialization.load_pem_private_key(data, password=password)
    except TypeError as exc:  # cryptography: password missing / given for an unencrypted key
        if password is None:
            raise KeyLoadError(f"{where}: the private key is encrypted; a password is needed") from None
        raise KeyLoadError(f"{where}: the private key is not encrypted; do not give a password") from exc
    except ValueError:
        kind = _what_is_it(data)
        if kind == "encrypted private key":
            raise KeyLoadError(f"{where}: wrong password for the encrypted private key") from None
        raise KeyLoadError(f"{where}: not a PEM private key (found: {kind})") from None
    except UnsupportedAlgorithm:
        raise KeyLoadError(f"{where}: private key of an unsupported type") from None
    return _usable(_to_jwk(pyca, where), where)


def load_public_key(source: str | bytes) -> JWK:
    """A public key for verifying: a public key, a certificate's key, or a private key's public half."""
    data, where = _read(source)
    pyca: Any
    try:
        pyca = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        try:
            pyca = x509.load_pem_x509_certificate(data).public_key()
        except (ValueError, UnsupportedAlgorithm):
            try:
                pyca = serialization.load_pem_private_key(data, password=None).public_key()
            except (TypeError, ValueError, UnsupportedAlgorithm):
                kind = _what_is_it(data)
                raise KeyLoadError(
                    f"{where}: no usable public key, certificate or unencrypted private key (found: {kind})"
                ) from None
    return _usable(_to_jwk(pyca, where), where)


def _read(source: str | bytes) -> tuple[bytes, str]:
    if isinstance(source, bytes):
        return source, "PEM data"
    if isinstance(source, str) and source.lstrip().startswith("-----BEGIN"):
        return source.encode("ascii", "replace"), "PEM data"
    if not isinstance(source, (str, Path)):
        raise KeyLoadError(f"key source must be a file path or PEM bytes, got {type(source).__name__}")
    path = Path(source)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise KeyLoadError(f"{path}: key file not found") from None
    except IsADirectoryError:
        raise KeyLoadError(f"{path}: is a directory, not a key file") from None
    except OSError as exc:
        raise KeyLoadError(f"{path}: cannot read key file ({exc.strerror})") from None
    return data, str(path)


def _what_is_it(data: bytes) -> str:
    """Name the first PEM block's label, so a wrong file is easy to spot."""
    start = data.find(_PEM_MARK)
    if start < 0:
        return "no PEM block"
    end = data.find(b"-----", start + len(_PEM_MARK))
    label = data[start + len(_PEM_MARK) : end].decode("ascii", "replace").strip().lower()
    return label or "an unlabelled PEM block"


def _to_jwk(pyca: Any, where: str) -> JWK:
    try:
        return JWK.from_pyca(pyca)
    except Exception:  # jwcrypto raises several types for key kinds it lacks
        raise KeyLoadError(f"{where}: key type {type(pyca).__name__} cannot be used for JWS") from None


def _usable(key: JWK, where: str) -> JWK:
    if not algorithms_for(key):
        raise KeyLoadError(
            f"{where}: a {describe_key(key)} fits none of {', '.join(ALGORITHMS)}"
            " (needs EC P-256, RSA >= 2048 bits, or Ed25519/Ed448)"
        )
    return key
