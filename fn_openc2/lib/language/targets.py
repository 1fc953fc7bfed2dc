"""Target types of LS v2.0 section 3.4.1 (the structured ones)."""
from __future__ import annotations

from typing import ClassVar

from .base import ChoiceModel, NonEmptyModel, Opt
from .types import (
    Binary,
    Hostname,
    IdnHostname,
    IPv4Net,
    IPv6Net,
    L4Protocol,
    Md5,
    NonNegInt,
    Port,
    Sha1,
    Sha256,
    Uri,
)


class Hashes(NonEmptyModel):
    """Section 3.4.2.6, Map{1..*}."""

    type_name: ClassVar[str] = "Hashes"
    md5: Opt[Md5] = None
    sha1: Opt[Sha1] = None
    sha256: Opt[Sha256] = None


class Payload(ChoiceModel):
    """Section 3.4.2.14: literal content or a URL to it."""

    type_name: ClassVar[str] = "Payload"
    bin: Opt[Binary] = None
    url: Opt[Uri] = None


class Artifact(NonEmptyModel):
    """Section 3.4.1.1, Record{1..*}."""

    type_name: ClassVar[str] = "Artifact"
    media_type: Opt[str] = None
    payload: Opt[Payload] = None
    hashes: Opt[Hashes] = None


class Device(NonEmptyModel):
    """Section 3.4.1.2, Map{1..*}."""

    type_name: ClassVar[str] = "Device"
    hostname: Opt[Hostname] = None
    idn_hostname: Opt[IdnHostname] = None
    device_id: Opt[str] = None


class File(NonEmptyModel):
    """Section 3.4.1.6, Map{1..*}."""

    type_name: ClassVar[str] = "File"
    name: Opt[str] = None
    path: Opt[str] = None
    hashes: Opt[Hashes] = None


class IPv4Connection(NonEmptyModel):
    """Section 3.4.1.10, Record{1..*}."""

    type_name: ClassVar[str] = "IPv4-Connection"
    src_addr: Opt[IPv4Net] = None
    src_port: Opt[Port] = None
    dst_addr: Opt[IPv4Net] = None
    dst_port: Opt[Port] = None
    protocol: Opt[L4Protocol] = None


class IPv6Connection(NonEmptyModel):
    """Section 3.4.1.12, Record{1..*}."""

    type_name: ClassVar[str] = "IPv6-Connection"
    src_addr: Opt[IPv6Net] = None
    src_port: Opt[Port] = None
    dst_addr: Opt[IPv6Net] = None
    dst_port: Opt[Port] = None
    protocol: Opt[L4Protocol] = None


class Process(NonEmptyModel):
    """Section 3.4.1.15, Map{1..*}; ``parent`` nests another Process."""

    type_name: ClassVar[str] = "Process"
    pid: Opt[NonNegInt] = None
    name: Opt[str] = None
    cwd: Opt[str] = None
    executable: Opt[File] = None
    parent: Opt[Process] = None
    command_line: Opt[str] = None


Process.model_rebuild()
