"""Target types of LS v2.0 section 3.4.1 (the structured ones)."""
from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from .base import ChoiceModel, NonEmptyModel
from .types import (
    Binary, Hostname, IdnHostname, IPv4Net, IPv6Net, L4Protocol, Md5, NonNegInt, Port, Sha1, Sha256, Uri,
)


class Hashes(NonEmptyModel):
    """Section 3.4.2.6, Map{1..*}."""

    type_name: ClassVar[str] = "Hashes"
    md5: Md5 = Field(None)
    sha1: Sha1 = Field(None)
    sha256: Sha256 = Field(None)


class Payload(ChoiceModel):
    """Section 3.4.2.14: literal content or a URL to it."""

    type_name: ClassVar[str] = "Payload"
    bin: Binary = Field(None)
    url: Uri = Field(None)


class Artifact(NonEmptyModel):
    """Section 3.4.1.1, Record{1..*}."""

    type_name: ClassVar[str] = "Artifact"
    media_type: str = Field(None)
    payload: Payload = Field(None)
    hashes: Hashes = Field(None)


class Device(NonEmptyModel):
    """Section 3.4.1.2, Map{1..*}."""

    type_name: ClassVar[str] = "Device"
    hostname: Hostname = Field(None)
    idn_hostname: IdnHostname = Field(None)
    device_id: str = Field(None)


class File(NonEmptyModel):
    """Section 3.4.1.6, Map{1..*}."""

    type_name: ClassVar[str] = "File"
    name: str = Field(None)
    path: str = Field(None)
    hashes: Hashes = Field(None)


class IPv4Connection(NonEmptyModel):
    """Section 3.4.1.10, Record{1..*}."""

    type_name: ClassVar[str] = "IPv4-Connection"
    src_addr: IPv4Net = Field(None)
    src_port: Port = Field(None)
    dst_addr: IPv4Net = Field(None)
    dst_port: Port = Field(None)
    protocol: L4Protocol = Field(None)


class IPv6Connection(NonEmptyModel):
    """Section 3.4.1.12, Record{1..*}."""

    type_name: ClassVar[str] = "IPv6-Connection"
    src_addr: IPv6Net = Field(None)
    src_port: Port = Field(None)
    dst_addr: IPv6Net = Field(None)
    dst_port: Port = Field(None)
    protocol: L4Protocol = Field(None)


class Process(NonEmptyModel):
    """Section 3.4.1.15, Map{1..*}; ``parent`` nests another Process."""

    type_name: ClassVar[str] = "Process"
    pid: NonNegInt = Field(None)
    name: str = Field(None)
    cwd: str = Field(None)
    executable: File = Field(None)
    parent: "Process" = Field(None)
    command_line: str = Field(None)


Process.model_rebuild()
