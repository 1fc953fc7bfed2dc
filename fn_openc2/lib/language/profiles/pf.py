"""Packet Filtering, nsid ``pf``.

Follows *OpenC2 Actuator Profile for Packet Filtering Version 1.0*,
Committee Specification Draft 02, 08 August 2024 (oasis-tcs/openc2-ap-pf,
``ap-pf-v1.0.md``), written in the LS v2.0 extension form
(``{"pf": {"rule_number": 7}}``, ``"args": {"pf": {...}}``, ``"profile": "pf"``).

From CSD02:

- pairs (Table 2.3-1): allow/deny ipv4_connection, ipv6_connection,
  ipv4_net, ipv6_net, domain_name, pf:advanced_connection; query features
  and pf:rule_number; delete pf:rule_number; update file.
- pf:PF-Target: rule_number (Rule-ID, Integer{0..*}) and the
  Advanced-Connection record (src_addr, src_port, dst_addr, dst_port,
  protocol, network, application). The document is inconsistent about its
  name: Table 2.1.2-2 says ``adv_connection``, the command matrix, the
  conformance clauses and example E.1.5 say ``advanced_connection``; the
  latter is used here. src_addr/dst_addr (Adv-Addr) are an IPv4 range, an
  IPv6 range or a network tag: the example writes them as a bare string
  (``"src_addr": "webservers"``), the table as a Choice of v4addr / v6addr /
  net_tag; both spellings are accepted.
- pf:PF-Args: drop_process, persistent, direction (both/ingress/egress,
  default ingress), insert_rule (Rule-ID), logged, description, stateful,
  priority (Integer{0..*}).
- pf:PF-Results: rule_number.
- Command Arguments Matrix (Table 2.3-2): allow/deny take
  response_requested, start_time, stop_time, duration, persistent,
  direction, insert_rule, logged, stateful, priority (deny also
  drop_process); query features, query pf:rule_number, delete
  pf:rule_number and update file take response_requested only.
  ``description`` is defined in PF-Args but missing from the matrix; it is
  accepted with allow/deny, where a rule exists to describe.
- insert_rule needs response_requested 'complete'; update file allows
  complete/ack/none and needs the file's name (2.3.5.1).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import AfterValidator, Field, ValidationInfo

from .. import semantic
from ..addresses import Address, net_text
from ..base import ChoiceModel, NonEmptyModel, Opt
from ..constants import MAX_SAFE_INT
from ..types import Expect, IPv4Net, IPv6Net, L4Protocol, Port, read_ipv6_net
from .common import V1_ARGS, argument_matrix, file_needs_name, response_values
from .registry import Profile, register_profile
from .slpf import insert_rule_needs_complete

RuleId = Annotated[int, Field(ge=0, le=MAX_SAFE_INT), Expect("a rule number (integer >= 0)")]
Priority = Annotated[int, Field(ge=0, le=MAX_SAFE_INT), Expect("a priority (integer >= 0)")]


def _address_or_tag(value: str, info: ValidationInfo) -> str:
    """An IPv4 range, an IPv6 range (kept in RFC 5952 form), or (anything else non-empty) a network tag."""
    if not value:
        raise ValueError("expected an IPv4 range, an IPv6 range or a network tag, got ''")
    head = value.partition("/")[0]
    if ":" in head:
        return read_ipv6_net(value, info)
    if head.replace(".", "").isdigit() and head.count(".") == 3:
        return semantic.check_ipv4_net(value)
    return value


class AdvAddrChoice(ChoiceModel):
    """pf:Adv-Addr in its Choice form."""

    type_name: ClassVar[str] = "pf:Adv-Addr"
    v4addr: Opt[IPv4Net] = None
    v6addr: Opt[IPv6Net] = None
    net_tag: Opt[Annotated[str, Field(min_length=1), Expect("a network tag")]] = None


AdvAddr = Annotated[
    Union[Annotated[str, AfterValidator(_address_or_tag)], AdvAddrChoice],
    Expect("an IPv4 range, an IPv6 range or a network tag (a string, or one of v4addr, v6addr, net_tag)"),
]


class AdvancedConnection(NonEmptyModel):
    """pf:Advanced-Connection, the seven-tuple of an application-aware rule."""

    type_name: ClassVar[str] = "pf:Advanced-Connection"
    src_addr: Opt[AdvAddr] = None
    src_port: Opt[Port] = None
    dst_addr: Opt[AdvAddr] = None
    dst_port: Opt[Port] = None
    protocol: Opt[L4Protocol] = None
    network: Opt[str] = None
    application: Opt[str] = None


class PfTarget(ChoiceModel):
    type_name: ClassVar[str] = "pf:PF-Target"
    rule_number: Opt[RuleId] = None
    advanced_connection: Opt[AdvancedConnection] = None


class PfArgs(NonEmptyModel):
    type_name: ClassVar[str] = "pf:PF-Args"
    drop_process: Opt[Annotated[
        Literal["none", "reject", "false_ack"], Expect("one of none, reject, false_ack")
    ]] = None
    persistent: Opt[bool] = None
    direction: Opt[Annotated[Literal["both", "ingress", "egress"], Expect("one of both, ingress, egress")]] = None
    insert_rule: Opt[RuleId] = None
    logged: Opt[bool] = None
    description: Opt[str] = None
    stateful: Opt[bool] = None
    priority: Opt[Priority] = None


class PfResults(NonEmptyModel):
    type_name: ClassVar[str] = "pf:PF-Results"
    rule_number: Opt[RuleId] = None


def _adv_addr(path: str, value: object, flow: str) -> Address:
    """pf:Adv-Addr as a place: a range (bare or v4addr/v6addr) or a network tag; omitted is every address."""
    if isinstance(value, dict) and len(value) == 1:
        key, item = next(iter(value.items()))
        family = {"v4addr": 4, "v6addr": 6}.get(key)
        text = net_text(item) or str(item)
        return Address(f"{path}.{key}", "tag" if family is None else "net", text, family, flow=flow)
    if value is None:
        return Address(path, "net", None, flow=flow)
    text = str(value)
    head = text.partition("/")[0]
    looks_like_address = ":" in head or (head.replace(".", "").isdigit() and head.count(".") == 3)
    return Address(path, "net" if looks_like_address else "tag", text, flow=flow)


def pf_addresses(command: Mapping[str, Any]) -> Iterator[Address]:
    """Both ends of pf:advanced_connection, and the named network it is limited to (part of the flow)."""
    target = command.get("target")
    pf = target.get("pf") if isinstance(target, dict) else None
    connection = pf.get("advanced_connection") if isinstance(pf, dict) else None
    if not isinstance(connection, dict):
        return
    flow = "target.pf.advanced_connection"
    for key in ("src_addr", "dst_addr"):
        yield _adv_addr(f"{flow}.{key}", connection.get(key), flow)
    if isinstance(connection.get("network"), str):
        yield Address(f"{flow}.network", "tag", connection["network"], flow=flow)


_FILTER_TARGETS = ("ipv4_connection", "ipv6_connection", "ipv4_net", "ipv6_net", "domain_name",
                   "pf:advanced_connection")
_FILTER_ARGS = ("persistent", "direction", "insert_rule", "logged", "description", "stateful", "priority")
_ONLY_RESPONSE = (("response_requested",), ())

PF = register_profile(Profile(
    nsid="pf",
    title="Packet Filtering (PF v1.0 CSD02)",
    pairs={
        "allow": _FILTER_TARGETS,
        "deny": _FILTER_TARGETS,
        "query": ("features", "pf:rule_number"),
        "delete": ("pf:rule_number",),
        "update": ("file",),
    },
    target_model=PfTarget,
    args_model=PfArgs,
    results_model=PfResults,
    addresses=pf_addresses,
    rules=(
        argument_matrix("pf", {
            "allow": (V1_ARGS, _FILTER_ARGS),
            "deny": (V1_ARGS, (*_FILTER_ARGS, "drop_process")),
            "query": _ONLY_RESPONSE,
            "delete": _ONLY_RESPONSE,
            "update": _ONLY_RESPONSE,
        }, defined=PfArgs.model_fields),
        insert_rule_needs_complete("pf"),
        response_values("pf", ("update file",), ("complete", "ack", "none")),
        file_needs_name("pf"),
    ),
))
