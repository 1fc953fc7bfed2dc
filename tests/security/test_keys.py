"""Key loading: PEM files or bytes, certificates, passwords, and errors that name the file only."""
from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from fn_openc2.lib.security import KeyLoadError, algorithms_for, load_private_key, load_public_key
from tests.security.keyfiles import KeyFiles


def _secret_lines(pem: bytes) -> list[str]:
    return [line for line in pem.decode().splitlines() if line and not line.startswith("-----")]


@pytest.mark.parametrize("alg", ["ES256", "RS256", "PS256", "EdDSA"])
def test_private_key_from_path_bytes_and_text_are_the_same_key(key_files: dict[str, KeyFiles], alg: str) -> None:
    files = key_files[alg]
    from_path = load_private_key(str(files.private_pem))
    from_bytes = load_private_key(files.private_pem.read_bytes())
    from_text = load_private_key(files.private_pem.read_text())
    assert from_path.has_private and from_bytes.has_private and from_text.has_private
    assert from_path.thumbprint() == from_bytes.thumbprint() == from_text.thumbprint()
    assert alg in algorithms_for(from_path)


@pytest.mark.parametrize("alg", ["ES256", "RS256", "EdDSA"])
def test_public_key_from_public_pem_certificate_or_private_pem(key_files: dict[str, KeyFiles], alg: str) -> None:
    files = key_files[alg]
    expected = load_private_key(str(files.private_pem)).thumbprint()
    for source in (files.public_pem, files.cert_pem, files.private_pem):
        key = load_public_key(str(source))
        assert not key.has_private, f"{source.name} gave a key with private parts"
        assert key.thumbprint() == expected, source.name


def test_missing_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(KeyLoadError, match="nope.pem: key file not found"):
        load_private_key(str(missing))
    with pytest.raises(KeyLoadError, match="nope.pem: key file not found"):
        load_public_key(str(missing))


def test_public_pem_is_not_a_private_key_and_error_has_no_key_material(key_files: dict[str, KeyFiles]) -> None:
    files = key_files["ES256"]
    with pytest.raises(KeyLoadError) as info:
        load_private_key(str(files.public_pem))
    message = str(info.value)
    assert str(files.public_pem) in message and "found: public key" in message
    assert not any(line in message for line in _secret_lines(files.public_pem.read_bytes()))


def test_garbage_file_is_reported_as_such(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("hello\n")
    with pytest.raises(KeyLoadError, match=r"junk.pem: .*found: no PEM block"):
        load_public_key(str(junk))


def test_encrypted_private_key_needs_the_right_password(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"s3cret-pass"),
    )
    path = tmp_path / "enc.pem"
    path.write_bytes(pem)
    assert load_private_key(str(path), password=b"s3cret-pass").has_private
    with pytest.raises(KeyLoadError, match="enc.pem: the private key is encrypted; a password is needed"):
        load_private_key(str(path))
    with pytest.raises(KeyLoadError) as info:
        load_private_key(str(path), password=b"wrong-pass")
    assert "wrong password" in str(info.value) and "wrong-pass" not in str(info.value)
    # An encrypted private key is never silently used as a public key source.
    with pytest.raises(KeyLoadError, match="enc.pem"):
        load_public_key(str(path))


@pytest.mark.parametrize(
    "make, what",
    [
        (lambda: ec.generate_private_key(ec.SECP384R1()), "EC P-384"),
        (lambda: rsa.generate_private_key(public_exponent=65537, key_size=1024), "RSA 1024-bit"),
    ],
)
def test_keys_no_supported_algorithm_fits_are_refused(make, what: str) -> None:
    pem = make().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(KeyLoadError, match=f"PEM data: a {what} private key fits none of ES256, RS256, PS256, EdDSA"):
        load_private_key(pem)
