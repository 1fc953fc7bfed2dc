"""Endpoint Response (ER, committee draft): host-level actions on devices,
files, processes, registry entries, accounts and services."""
from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Mapping

from pydantic import Field

from ..base import ChoiceModel, NonEmptyModel
from ..errors import Issue
from ..types import Expect, Hostname, IPv4Net, IPv6Net
from .common import ext_args
from .registry import Profile, register_profile


class RegistryEntry(NonEmptyModel):
    type_name: ClassVar[str] = "er:Registry-Entry"
    key: str = Field(None)
    type: str = Field(None)
    value: str = Field(None)


class Account(NonEmptyModel):
    type_name: ClassVar[str] = "er:Account"
    uid: str = Field(None)
    account_name: str = Field(None)
    directory: str = Field(None)


class Service(NonEmptyModel):
    type_name: ClassVar[str] = "er:Service"
    name: str = Field(None)
    display_name: str = Field(None)


class ErTarget(ChoiceModel):
    type_name: ClassVar[str] = "er:AP-Target"
    registry_entry: RegistryEntry = Field(None)
    account: Account = Field(None)
    service: Service = Field(None)


class PermittedAddresses(NonEmptyModel):
    """Addresses a contained device may still reach."""

    type_name: ClassVar[str] = "er:Permitted-Addresses"
    domain_name: Annotated[list[Hostname], Field(min_length=1), Expect("a non-empty array of hostnames")] = Field(None)
    ipv4_net: Annotated[list[IPv4Net], Field(min_length=1), Expect("a non-empty array of IPv4 ranges")] = Field(None)
    ipv6_net: Annotated[list[IPv6Net], Field(min_length=1), Expect("a non-empty array of IPv6 ranges")] = Field(None)


class ErArgs(NonEmptyModel):
    type_name: ClassVar[str] = "er:AP-Args"
    account_status: Annotated[Literal["enabled", "disabled"], Expect("one of enabled, disabled")] = Field(None)
    device_containment: Annotated[
        Literal["network_isolation", "app_restriction", "disable_nic"],
        Expect("one of network_isolation, app_restriction, disable_nic"),
    ] = Field(None)
    permitted_addresses: PermittedAddresses = Field(None)
    subdirectory: str = Field(None)
    name_only: bool = Field(None)


def _target_key(command: Mapping[str, Any]) -> str | None:
    target = command.get("target")
    if isinstance(target, dict) and len(target) == 1:
        key, value = next(iter(target.items()))
        if key == "er" and isinstance(value, dict) and len(value) == 1:
            return f"er:{next(iter(value))}"
        return key
    return None


def containment_args(command: Mapping[str, Any]) -> list[Issue]:
    """device_containment / permitted_addresses belong to 'contain device'."""
    er = ext_args(command, "er")
    out = []
    for key in ("device_containment", "permitted_addresses"):
        if key in er and (command.get("action"), _target_key(command)) != ("contain", "device"):
            out.append(Issue(f"args.er.{key}", f"{key} is only valid with 'contain device'"))
    if "permitted_addresses" in er and er.get("device_containment", "network_isolation") != "network_isolation":
        out.append(Issue("args.er.permitted_addresses", "permitted_addresses needs device_containment 'network_isolation'"))
    return out


def account_status_args(command: Mapping[str, Any]) -> list[Issue]:
    """account_status belongs to 'set er:account'."""
    if "account_status" in ext_args(command, "er") and (command.get("action"), _target_key(command)) != ("set", "er:account"):
        return [Issue("args.er.account_status", "account_status is only valid with 'set er:account'")]
    return []


ER = register_profile(Profile(
    nsid="er",
    title="Endpoint Response",
    pairs={
        "query": ("features", "device", "file", "process", "er:registry_entry", "er:account", "er:service"),
        "deny": ("file", "ipv4_net", "ipv6_net", "domain_name"),
        "contain": ("device", "file"),
        "allow": ("device", "file", "ipv4_net", "ipv6_net", "domain_name"),
        "start": ("file", "process", "er:service"),
        "stop": ("device", "process", "er:service"),
        "restart": ("device", "process", "er:service"),
        "set": ("er:registry_entry", "er:account"),
        "update": ("device", "file"),
        "create": ("er:registry_entry",),
        "delete": ("file", "process", "er:registry_entry", "er:service"),
    },
    target_model=ErTarget,
    args_model=ErArgs,
    rules=(containment_args, account_status_args),
))
