"""SOAR artifact -> OpenC2 target.

Analysts act on artifacts; OpenC2 acts on targets. This table says, for each
SOAR artifact type that has an OpenC2 counterpart, which target it becomes and
how its value is checked and normalised. The language layer validates the whole
command later; this mapper catches bad values early with messages that speak
of artifacts, which is what the analyst sees.

Choices worth knowing:
- "IP Address" becomes ipv4_net / ipv6_net without a prefix (a single host, as
  LS v2.0 section 3.4.1.9 allows); IPv6 text is RFC 5952 canonical.
- "Port" has no address family in SOAR; it becomes
  ``{"ipv4_connection": {"dst_port": N}}`` (plus ``protocol`` for "N/tcp"),
  the SLPF way of blocking a service. Use an explicit target for IPv6.
- "MAC Address" is normalised to lower-case colon form (aa:bb:cc:dd:ee:ff).
- Hashes are written as upper-case Base16, the JSON form of Binary /x.
- An attachment (content bytes given) becomes a ``file`` target carrying
  md5/sha1/sha256 of the bytes (the er profile's deny/allow/contain file).
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from fn_openc2.lib.errors import OpenC2Error
from fn_openc2.lib.soar import values

Target = dict[str, Any]


class ArtifactError(OpenC2Error, ValueError):
    """An artifact that cannot become an OpenC2 target; the message says why."""

    def __init__(self, artifact_type: str, message: str) -> None:
        super().__init__(message)
        self.artifact_type = artifact_type


def _ip(value: str) -> Target:
    address = values.ip_address(value)
    return {"ipv4_net" if address.version == 4 else "ipv6_net": address.compressed}


def _cidr(value: str) -> Target:
    network = values.ip_network(value)
    return {"ipv4_net" if network.version == 4 else "ipv6_net": network.with_prefixlen}


def _domain(value: str) -> Target:
    idn, name = values.any_hostname(value)
    return {"idn_domain_name" if idn else "domain_name": name}


def _url(value: str) -> Target:
    iri, text = values.uri(value)
    return {"iri" if iri else "uri": text}


def _email(value: str) -> Target:
    idn, address = values.email(value)
    return {"idn_email_addr" if idn else "email_addr": address}


def _mac(value: str) -> Target:
    return {"mac_addr": values.mac(value)}


def _hash(name: str, length: int) -> Callable[[str], Target]:
    def convert(value: str) -> Target:
        return {"file": {"hashes": {name: values.hex_digest(value, length)}}}
    return convert


def _file_name(value: str) -> Target:
    return {"file": {"name": values.file_name(value)}}


def _file_path(value: str) -> Target:
    return {"file": {"path": values.absolute_path(value)}}


def _system(value: str) -> Target:
    idn, name = values.any_hostname(value)
    return {"device": {"idn_hostname" if idn else "hostname": name}}


def _process(value: str) -> Target:
    return {"process": {"name": value}}


def _port(value: str) -> Target:
    number, protocol = values.port(value)
    connection: dict[str, Any] = {"dst_port": number}
    if protocol:
        connection["protocol"] = protocol
    return {"ipv4_connection": connection}


CONVERTERS: dict[str, Callable[[str], Target]] = {
    "IP Address": _ip,
    "Network CIDR Range": _cidr,
    "DNS Name": _domain,
    "URL": _url,
    "Email Sender": _email,
    "Email Recipient": _email,
    "MAC Address": _mac,
    "Malware MD5 Hash": _hash("md5", 32),
    "Malware SHA-1 Hash": _hash("sha1", 40),
    "Malware SHA-256 Hash": _hash("sha256", 64),
    "File Name": _file_name,
    "File Path": _file_path,
    "System Name": _system,
    "Process Name": _process,
    "Port": _port,
}

# SOAR artifact types that carry a file (an attachment) rather than a text value.
FILE_ARTIFACT_TYPES = ("Malware Sample", "Other File", "Email Attachment", "Log File",
                       "RFC 822 Email Message File", "X509 Certificate File")

SUPPORTED_TYPES: tuple[str, ...] = tuple(CONVERTERS) + FILE_ARTIFACT_TYPES


# pylint: disable-next=unused-argument  (file_name: kept for callers; a hash needs no name)
def attachment_target(content: bytes, file_name: str | None = None) -> Target:
    """A ``file`` target identifying the content by its hashes alone.

    ``file`` (LS v2.0 section 3.4.1.6), not ``artifact``: it is the target the
    bundled profiles act on (er: deny/allow/contain file), so "deny this
    attachment" reaches an EDR; an ``artifact`` target is in no profile's
    pairs and every bundled consumer answers it 501. The name is left out:
    a hash identifies the content wherever it lies, under any name."""
    return {"file": {"hashes": {
        "md5": hashlib.md5(content, usedforsecurity=False).hexdigest().upper(),
        "sha1": hashlib.sha1(content, usedforsecurity=False).hexdigest().upper(),
        "sha256": hashlib.sha256(content).hexdigest().upper(),
    }}}


def _canonical_type(artifact_type: str) -> str | None:
    wanted = artifact_type.strip()
    if wanted in SUPPORTED_TYPES:
        return wanted
    folded = wanted.casefold()
    return next((t for t in SUPPORTED_TYPES if t.casefold() == folded), None)


def artifact_to_target(artifact_type: str, value: str, *, content: bytes | None = None) -> Target:
    """The OpenC2 target JSON for one artifact value; ArtifactError when there is none.

    ``content`` (the attachment bytes) turns any artifact into an ``artifact``
    target by hash; file artifact types require it.
    """
    if not isinstance(artifact_type, str) or not isinstance(value, (str, type(None))):
        raise ArtifactError(str(artifact_type), f"artifact type {str(artifact_type)!r} and its value must be text, "
                                                f"got {type(artifact_type).__name__} and {type(value).__name__}")
    kind = _canonical_type(artifact_type)
    text = (value or "").strip()
    if content is not None:
        return attachment_target(content, text or None)
    if kind is None:
        raise ArtifactError(artifact_type, f"artifact type {artifact_type!r} has no OpenC2 target; "
                                           f"supported types: {', '.join(SUPPORTED_TYPES)}")
    if kind in FILE_ARTIFACT_TYPES:
        raise ArtifactError(kind, f"artifact type {kind!r} needs the attachment content to compute its hashes")
    try:
        return CONVERTERS[kind](values.no_control(text))
    except ValueError as err:
        raise ArtifactError(kind, f"artifact type {kind!r}: value is not valid: {err}") from None


def split_values(text: str | None) -> list[str]:
    """One value per line (the function input allows many); blank lines are skipped."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]
