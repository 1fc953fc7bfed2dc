"""Endpoint Response, nsid ``er``.

No committee specification of this profile is published. This follows the
working draft *OpenC2 Actuator Profile for Endpoint Detection and Response
Version 1.0* in oasis-tcs/openc2-ap-er (``oc2edr.md``, the revision after
CSD01 of 02 December 2020 that adds ``scan``, scan_depth, periodic_scan and
downstream_device), written in the LS v2.0 extension form
(``{"er": {"account": {...}}}``, ``"args": {"er": {...}}``, ``"profile": "er"``).

From that draft:

- pairs (Table 2.3-1, plus 'scan device' of section 2.3.X and Table 2.3-2):
  scan device; query features; deny/allow domain_name, file, ipv4_net,
  ipv6_net (allow also device); contain device, file; start file;
  stop device, process, er:service; restart device, process; set ipv4_net,
  ipv6_net, er:registry_entry, er:account; update file; create
  er:registry_entry; delete file, er:registry_entry, er:service.
- er:AP-Target: registry_entry (Record: key, type (required), value),
  account (Map{1..*}: uid, account_name, directory), service (Map{1..*}:
  name, display_name).
- er:AP-Args: account_status (enabled/disabled), device_containment
  (network_isolation/app_restriction/disable_nic), permitted_addresses
  (Map{1..*} of domain_name / ipv4_net / ipv6_net arrays), scan_depth
  (shallow/deep), periodic_scan (enabled/disabled), downstream_device
  (Map{1..*}: devices, device_groups, tenant_id).
- No er results are defined.
- Argument placement (Table 2.3-2): device_containment and
  permitted_addresses only with 'contain device', account_status only with
  'set er:account', scan_depth and periodic_scan only with 'scan device';
  the language arguments are those of LS v1.0 (start_time, stop_time,
  duration, response_requested; not ``comment``).
- Producer MUSTs checked: 'contain device' carries device_containment,
  'set er:account' carries account_status, 'set ipv4_net' / 'set ipv6_net'
  name a single address (no prefix, or /32 resp. /128), permitted_addresses
  goes with network_isolation.
- Not enforced: the draft's per-command "MUST populate er:downstream_device"
  (its own type table makes it conditional on the Producer's intent, which a
  document does not show) and the 'path' property it asks of registry
  entries (Registry-Entry defines no such field).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from .. import semantic
from ..addresses import Address, device_places, net_text
from ..base import ChoiceModel, NonEmptyModel, Opt, StrictModel
from ..errors import Issue
from ..targets import Device
from ..types import Expect, Hostname, IPv4Net, IPv6Net
from .common import V1_ARGS, argument_matrix, command_key, ext_args, only_for, required_argument
from .registry import Profile, register_profile


class RegistryEntry(StrictModel):
    """er:Registry-Entry (Record; ``type`` is required)."""

    type_name: ClassVar[str] = "er:Registry-Entry"
    key: Opt[str] = None
    type: str
    value: Opt[str] = None


class Account(NonEmptyModel):
    type_name: ClassVar[str] = "er:Account"
    uid: Opt[str] = None
    account_name: Opt[str] = None
    directory: Opt[str] = None


class Service(NonEmptyModel):
    type_name: ClassVar[str] = "er:Service"
    name: Opt[str] = None
    display_name: Opt[str] = None


class ErTarget(ChoiceModel):
    type_name: ClassVar[str] = "er:AP-Target"
    registry_entry: Opt[RegistryEntry] = None
    account: Opt[Account] = None
    service: Opt[Service] = None


class PermittedAddresses(NonEmptyModel):
    """Addresses a contained device may still reach."""

    type_name: ClassVar[str] = "er:Permitted-Addresses"
    domain_name: Opt[Annotated[list[Hostname], Field(min_length=1), Expect("a non-empty array of hostnames")]] = None
    ipv4_net: Opt[Annotated[list[IPv4Net], Field(min_length=1), Expect("a non-empty array of IPv4 ranges")]] = None
    ipv6_net: Opt[Annotated[list[IPv6Net], Field(min_length=1), Expect("a non-empty array of IPv6 ranges")]] = None


class DownstreamDevice(NonEmptyModel):
    """The endpoints (or groups, or tenant) a command is meant for."""

    type_name: ClassVar[str] = "er:Downstream-Device"
    devices: Opt[Annotated[list[Device], Field(min_length=1), Expect("a non-empty array of Device")]] = None
    device_groups: Opt[Annotated[list[str], Field(min_length=1), Expect("a non-empty array of group names")]] = None
    tenant_id: Opt[str] = None


Enabled = Annotated[Literal["enabled", "disabled"], Expect("one of enabled, disabled")]


class ErArgs(NonEmptyModel):
    type_name: ClassVar[str] = "er:AP-Args"
    account_status: Opt[Enabled] = None
    device_containment: Opt[Annotated[
        Literal["network_isolation", "app_restriction", "disable_nic"],
        Expect("one of network_isolation, app_restriction, disable_nic"),
    ]] = None
    permitted_addresses: Opt[PermittedAddresses] = None
    scan_depth: Opt[Annotated[Literal["shallow", "deep"], Expect("one of shallow, deep")]] = None
    periodic_scan: Opt[Enabled] = None
    downstream_device: Opt[DownstreamDevice] = None


def permitted_needs_isolation(command: Mapping[str, Any]) -> list[Issue]:
    """permitted_addresses only makes sense with network_isolation."""
    er = ext_args(command, "er")
    if "permitted_addresses" in er and er.get("device_containment", "network_isolation") != "network_isolation":
        return [Issue("args.er.permitted_addresses",
                      "permitted_addresses needs device_containment 'network_isolation'")]
    return []


def _is_range(value: str, target: str) -> bool:
    try:
        (semantic.check_ipv4_net if target == "ipv4_net" else semantic.check_ipv6_net)(value)
    except ValueError:
        return False
    return True


def set_single_address(command: Mapping[str, Any]) -> list[Issue]:
    """'set ipv4_net' / 'set ipv6_net' set one address: no prefix, or the full-length one."""
    action, target = command_key(command)
    full = {"ipv4_net": "32", "ipv6_net": "128"}.get(str(target))
    if action != "set" or full is None:
        return []
    value = command["target"][target]
    if type(value) is not str or not _is_range(value, str(target)):
        return []  # the shape check says what is wrong with it
    if "/" in value and value.rpartition("/")[2] != full:
        return [Issue(f"target.{target}", f"profile 'er': 'set {target}' takes a single address "
                                          f"(no prefix, or /{full}), got {value!r}")]
    return []


def er_addresses(command: Mapping[str, Any]) -> Iterator[Address]:
    """The devices (and groups, tenant) a command runs on, and the places a contained device may still reach."""
    er = ext_args(command, "er")
    downstream = er.get("downstream_device")
    if isinstance(downstream, dict):
        path = "args.er.downstream_device"
        devices = downstream.get("devices")
        for index, device in enumerate(devices if isinstance(devices, list) else ()):
            yield from device_places(f"{path}.devices[{index}]", device, on_device=True)
        groups = downstream.get("device_groups")
        for index, group in enumerate(groups if isinstance(groups, list) else ()):
            if isinstance(group, str):
                yield Address(f"{path}.device_groups[{index}]", "tag", group, on_device=True)
        if isinstance(downstream.get("tenant_id"), str):
            yield Address(f"{path}.tenant_id", "tag", downstream["tenant_id"], on_device=True)
    permitted = er.get("permitted_addresses")
    if isinstance(permitted, dict):
        path = "args.er.permitted_addresses"
        for key, kind, family in (("domain_name", "host", None), ("ipv4_net", "net", 4), ("ipv6_net", "net", 6)):
            items = permitted.get(key)
            for index, item in enumerate(items if isinstance(items, list) else ()):
                text = item if kind == "host" else net_text(item)
                if isinstance(text, str):
                    yield Address(f"{path}.{key}[{index}]", kind, text, family, opens=True)  # type: ignore[arg-type]


_V1 = (V1_ARGS, ("downstream_device",))

ER = register_profile(Profile(
    nsid="er",
    title="Endpoint Response (working draft after CSD01)",
    pairs={
        "scan": ("device",),
        "query": ("features",),
        "deny": ("domain_name", "file", "ipv4_net", "ipv6_net"),
        "contain": ("device", "file"),
        "allow": ("domain_name", "device", "file", "ipv4_net", "ipv6_net"),
        "start": ("file",),
        "stop": ("device", "process", "er:service"),
        "restart": ("device", "process"),
        "set": ("ipv4_net", "ipv6_net", "er:registry_entry", "er:account"),
        "update": ("file",),
        "create": ("er:registry_entry",),
        "delete": ("file", "er:registry_entry", "er:service"),
    },
    target_model=ErTarget,
    args_model=ErArgs,
    addresses=er_addresses,
    rules=(
        argument_matrix("er", {
            **{action: _V1 for action in ("query", "deny", "contain", "allow", "start", "stop", "restart", "set",
                                          "update", "create", "delete", "scan")},
            "scan device": (V1_ARGS, ("downstream_device", "scan_depth", "periodic_scan")),
            "contain device": (V1_ARGS, ("downstream_device", "device_containment", "permitted_addresses")),
            "set er:account": (V1_ARGS, ("downstream_device", "account_status")),
        }, defined=ErArgs.model_fields),
        required_argument("er", ("contain device",), "device_containment",
                          "the Producer MUST say how to contain the device"),
        required_argument("er", ("set er:account",), "account_status",
                          "the Producer MUST say whether to enable or disable the account"),
        permitted_needs_isolation,
        only_for(("set",), set_single_address),
    ),
))
