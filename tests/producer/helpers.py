"""Test helpers: registries pointing at the fixtures' real consumers and keys."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from fn_openc2.lib.producer.appconfig import load_settings
from fn_openc2.lib.producer.settings import AppSettings


def write_keypair(directory: Path, stem: str) -> tuple[str, str]:
    """(private PEM path, public PEM path) of a fresh P-256 key."""
    key = ec.generate_private_key(ec.SECP256R1())
    private, public = directory / f"{stem}.key.pem", directory / f"{stem}.pub.pem"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return str(private), str(public)


def https_section(consumer: Any, **extra: str) -> dict[str, str]:
    """app.config keys for a RunningConsumer from tests/fixtures/consumer.py."""
    section = {"url": consumer.url, "verify": consumer.ca, "client_auth_cert": consumer.client_cert,
               "client_auth_key": consumer.client_key, "timeout": "10", "retries": "0",
               "device_id": consumer.device_id}    # headers.to: a consumer that verifies commands checks it
    if consumer.public_key:
        section["response_verify_key"] = consumer.public_key
    section.update(extra)
    return section


def registry(producer: dict[str, str] | None = None, **consumers: dict[str, str]) -> AppSettings:
    sections: dict[str, dict[str, str]] = {"fn_openc2": dict(producer or {})}
    for name, section in consumers.items():
        sections[f"fn_openc2:{name}"] = section
    return load_settings(sections)


def peer_section(url: str, pki: Any, **extra: str) -> dict[str, str]:
    """A consumer section for a scripted peer: mutual TLS, short timeout, no retries unless asked."""
    return {"url": url, "verify": pki.ca_cert, "client_auth_cert": pki.client_cert,
            "client_auth_key": pki.client_key, "timeout": "5", "retries": "0", **extra}
