"""A throw-away PKI for tests and the demo: one trusted CA, a server and a
client certificate it signs, and an unrelated CA with its own server cert
(so "an untrusted certificate is refused" can be shown). Not for production."""
from __future__ import annotations

import datetime as _dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALIDITY = _dt.timedelta(days=2)
_SERVER_NAMES: tuple[x509.GeneralName, ...] = (
    x509.DNSName("localhost"),
    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    x509.IPAddress(ipaddress.ip_address("::1")),
)


@dataclass(frozen=True)
class Pki:
    """PEM file paths (as str) of every credential make_pki wrote."""

    directory: str
    ca_cert: str
    ca_key: str
    server_cert: str
    server_key: str
    client_cert: str
    client_key: str
    other_ca_cert: str
    other_ca_key: str
    other_server_cert: str
    other_server_key: str


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "fn_openc2 dev"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _builder(subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey) -> x509.CertificateBuilder:
    now = _dt.datetime.now(_dt.UTC)
    return (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(issuer).public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _dt.timedelta(minutes=5))
            .not_valid_after(now + _VALIDITY))


def _make_ca(cn: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _key()
    cert = (_builder(_name(cn), _name(cn), key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=True,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return cert, key


def _make_leaf(cn: str, ca_cert: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey,
               *, server: bool) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _key()
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (_builder(_name(cn), ca_cert.subject, key.public_key())
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                            key_encipherment=False, data_encipherment=False,
                                            key_agreement=True, key_cert_sign=False, crl_sign=False,
                                            encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                              critical=False))
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(_SERVER_NAMES)), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def _write(directory: Path, stem: str, cert: x509.Certificate,
           key: ec.EllipticCurvePrivateKey) -> tuple[str, str]:
    cert_path = directory / f"{stem}.crt"
    key_path = directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return str(cert_path), str(key_path)


def make_pki(directory: str | Path) -> Pki:
    """Write a fresh dev PKI into `directory` (created if missing)."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    ca_cert, ca_key = _make_ca("fn_openc2 dev CA")
    server_cert, server_key = _make_leaf("localhost", ca_cert, ca_key, server=True)
    client_cert, client_key = _make_leaf("soar-producer", ca_cert, ca_key, server=False)
    other_ca_cert, other_ca_key = _make_ca("untrusted dev CA")
    other_cert, other_key = _make_leaf("localhost", other_ca_cert, other_ca_key, server=True)
    ca = _write(out, "ca", ca_cert, ca_key)
    srv = _write(out, "server", server_cert, server_key)
    cli = _write(out, "client", client_cert, client_key)
    oca = _write(out, "other-ca", other_ca_cert, other_ca_key)
    osrv = _write(out, "other-server", other_cert, other_key)
    return Pki(directory=str(out), ca_cert=ca[0], ca_key=ca[1], server_cert=srv[0], server_key=srv[1],
               client_cert=cli[0], client_key=cli[1], other_ca_cert=oca[0], other_ca_key=oca[1],
               other_server_cert=osrv[0], other_server_key=osrv[1])
