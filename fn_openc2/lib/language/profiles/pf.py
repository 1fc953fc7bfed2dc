"""Packet Filtering (PF, committee draft): SLPF plus advanced connections,
logging, descriptions, stateful rules and priorities."""
from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field

from .. import semantic
from ..base import ChoiceModel, NonEmptyModel
from ..types import Expect, L4Protocol, Port
from .registry import Profile, register_profile
from .slpf import filter_rules


def _ip_net(value: str) -> str:
    if ":" in value:
        return semantic.check_ipv6_net(value)
    return semantic.check_ipv4_net(value)


IpNet = Annotated[str, AfterValidator(_ip_net), Expect("an IPv4 or IPv6 address range")]
RuleId = Annotated[int, Expect("a rule number (integer)")]


class AdvancedConnection(NonEmptyModel):
    """pf:Advanced-Connection; IPv4 or IPv6 ranges plus network/application names."""

    type_name: ClassVar[str] = "pf:Advanced-Connection"
    src_addr: IpNet = Field(None)
    src_port: Port = Field(None)
    dst_addr: IpNet = Field(None)
    dst_port: Port = Field(None)
    protocol: L4Protocol = Field(None)
    network: str = Field(None)
    application: str = Field(None)


class PfTarget(ChoiceModel):
    type_name: ClassVar[str] = "pf:AP-Target"
    rule_number: RuleId = Field(None)
    advanced_connection: AdvancedConnection = Field(None)


class PfArgs(NonEmptyModel):
    type_name: ClassVar[str] = "pf:AP-Args"
    drop_process: Annotated[Literal["none", "reject", "false_ack"], Expect("one of none, reject, false_ack")] = Field(None)
    persistent: bool = Field(None)
    direction: Annotated[Literal["both", "ingress", "egress"], Expect("one of both, ingress, egress")] = Field(None)
    insert_rule: RuleId = Field(None)
    logged: bool = Field(None)
    description: str = Field(None)
    stateful: bool = Field(None)
    priority: Annotated[int, Expect("an integer priority")] = Field(None)


class PfResults(NonEmptyModel):
    type_name: ClassVar[str] = "pf:AP-Results"
    rule_number: RuleId = Field(None)


_FILTER = ("ipv4_connection", "ipv6_connection", "ipv4_net", "ipv6_net", "domain_name", "pf:advanced_connection")

PF = register_profile(Profile(
    nsid="pf",
    title="Packet Filtering",
    pairs={
        "allow": _FILTER,
        "deny": _FILTER,
        "query": ("features", "pf:rule_number"),
        "delete": ("pf:rule_number",),
        "update": ("file",),
    },
    target_model=PfTarget,
    args_model=PfArgs,
    results_model=PfResults,
    rules=filter_rules("pf"),
))
