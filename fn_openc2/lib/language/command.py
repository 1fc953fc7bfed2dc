"""OpenC2-Command (LS v2.0 section 3.3.1): Target choice, Args map, Command record.

Profile extensions (``target.slpf``, ``args.slpf``) are kept as extra members
here and checked against the profile registry by :mod:`.rules`, so adding a
profile needs no change to these models.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import Field

from .addresses import Address, command_addresses
from .base import NonEmptyModel, Opt, StrictModel
from .constants import RESPONSE_TYPES
from .targets import Artifact, Device, File, IPv4Connection, IPv6Connection, Process
from .types import (
    Action,
    CommandId,
    DateTime,
    Duration,
    EmailAddr,
    Expect,
    Feature,
    Hostname,
    IdnEmailAddr,
    IdnHostname,
    IPv4Net,
    IPv6Net,
    Iri,
    MacAddr,
    Nsid,
    ResponseType,
    Uri,
)

Features = Annotated[
    list[Feature], Field(max_length=10), Expect("an array of at most 10 distinct features")
]


class Target(StrictModel, extra="allow"):
    """Section 3.3.1.2, a Choice; extension members are profile nsids."""

    artifact: Opt[Artifact] = None
    command: Opt[CommandId] = None
    device: Opt[Device] = None
    domain_name: Opt[Hostname] = None
    email_addr: Opt[EmailAddr] = None
    features: Opt[Features] = None
    file: Opt[File] = None
    idn_domain_name: Opt[IdnHostname] = None
    idn_email_addr: Opt[IdnEmailAddr] = None
    ipv4_net: Opt[IPv4Net] = None
    ipv6_net: Opt[IPv6Net] = None
    ipv4_connection: Opt[IPv4Connection] = None
    ipv6_connection: Opt[IPv6Connection] = None
    iri: Opt[Iri] = None
    mac_addr: Opt[MacAddr] = None
    process: Opt[Process] = None
    uri: Opt[Uri] = None

    @property
    def name(self) -> str:
        """The chosen member ("ipv4_net", or a profile nsid such as "slpf")."""
        for key in self.__pydantic_fields_set__:
            return key
        return next(iter(self.__pydantic_extra__ or {}), "")


class Args(NonEmptyModel, extra="allow"):
    """Section 3.3.1.4, Map{1..*}; extension members are profile nsids."""

    type_name: ClassVar[str] = "Args"
    start_time: Opt[DateTime] = None
    stop_time: Opt[DateTime] = None
    duration: Opt[Duration] = None
    response_requested: Opt[ResponseType] = None
    comment: Opt[str] = None


class Command(StrictModel):
    """Section 3.3.1 OpenC2-Command."""

    action: Action
    target: Target
    args: Opt[Args] = None
    profile: Opt[Nsid] = None
    command_id: Opt[CommandId] = None

    @property
    def target_name(self) -> str:
        """The one key of ``target``: "ipv4_net", or the profile nsid ("slpf") of an extended target."""
        return self.target.name

    @property
    def target_value(self) -> Any:
        """The target's value as JSON."""
        name = self.target.name
        if name in self.target.__pydantic_fields_set__:
            return self.target.model_dump(mode="json", by_alias=True, exclude_unset=True)[name]
        return (self.target.__pydantic_extra__ or {}).get(name)

    @property
    def response_requested(self) -> str:
        """``args.response_requested``, or "complete" (the spec's default)."""
        # pylint: disable-next=no-member  # pydantic model field: pylint infers the FieldInfo default, not the model instance
        if self.args is not None and "response_requested" in self.args.__pydantic_fields_set__:
            return str(self.args.response_requested)  # pylint: disable=no-member  # pydantic model field: pylint infers the FieldInfo default, not the model instance
        return "complete"

    def addresses(self) -> list[Address]:
        """Every place this command names: the language's targets and each profile's ``addresses`` hook."""
        from .build import to_dict

        return command_addresses(to_dict(self))

    def extension_args(self, nsid: str) -> dict[str, Any] | None:
        """``args.<nsid>`` as JSON, or None."""
        if self.args is None or not self.args.__pydantic_extra__:  # pylint: disable=no-member  # pydantic model field: pylint infers the FieldInfo default, not the model instance
            return None
        value = self.args.__pydantic_extra__.get(nsid)  # pylint: disable=no-member  # pydantic model field: pylint infers the FieldInfo default, not the model instance
        return value if isinstance(value, dict) else None


def requested_response(command: object) -> str:
    """What a command (as JSON) asks to be answered with: ``args.response_requested`` when it
    is a response type, else "complete" (the spec's default, LS v2.0 section 3.3.1.4). The one
    reading of it for JSON (the producer, the MQTT transport's collection, onboarding)."""
    args = command.get("args") if isinstance(command, Mapping) else None
    value = args.get("response_requested") if isinstance(args, Mapping) else None
    return value if isinstance(value, str) and value in RESPONSE_TYPES else "complete"
