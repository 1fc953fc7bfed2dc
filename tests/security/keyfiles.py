"""Writes fresh key pairs (private, public, self-signed certificate) as PEM files for tests."""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class KeyFiles:
    alg: str
    private_pem: Path
    public_pem: Path
    cert_pem: Path


def _private(alg: str):
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg in ("RS256", "PS256"):
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ed25519.Ed25519PrivateKey.generate()


def _self_signed(key) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "producer.test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, algorithm)
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def write_key_files(directory: Path, alg: str) -> KeyFiles:
    key = _private(alg)
    private_pem = directory / f"{alg}-private.pem"
    public_pem = directory / f"{alg}-public.pem"
    cert_pem = directory / f"{alg}-cert.pem"
    private_pem.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    public_pem.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    cert_pem.write_bytes(_self_signed(key))
    return KeyFiles(alg, private_pem, public_pem, cert_pem)


ALL_ALGS = ("ES256", "RS256", "PS256", "EdDSA")
