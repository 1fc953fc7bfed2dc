"""Stateless Packet Filtering, nsid ``slpf``.

Follows *OpenC2 Actuator Profile for Stateless Packet Filtering Version 1.0*,
Committee Specification 01, 11 July 2019 (oasis-tcs/openc2-apsc-stateless-
packet-filter, ``oc2slpf.md``), written in the LS v2.0 extension form of LS
section 3.1.4: ``{"slpf": {"rule_number": 1234}}`` as target,
``"args": {"slpf": {...}}``, ``"results": {"slpf": {...}}``, ``"profile": "slpf"``.

From CS01:

- pairs (Table 2.3-1): allow/deny ipv4_connection, ipv6_connection,
  ipv4_net, ipv6_net; query features; delete slpf:rule_number; update file.
  (``domain_name`` and ``query slpf:rule_number`` are later draft additions,
  not part of CS01; use the ``pf`` profile for them.)
- slpf:AP-Target: rule_number (Rule-ID, an Integer).
- slpf:AP-Args: drop_process (none/reject/false_ack), persistent (Boolean),
  direction (both/ingress/egress), insert_rule (Rule-ID).
- slpf:AP-Results: rule_number.
- Command Arguments Matrix (Table 2.3-2): allow/deny take
  response_requested, start_time, stop_time, duration, persistent,
  direction, insert_rule, and deny also drop_process; query features takes
  response_requested only; delete slpf:rule_number and update file take
  response_requested and start_time. (Section 2.3.4.1 says delete takes no
  argument but response_requested; the table is followed here.) LS v2.0's
  ``comment`` is not in the table, so it is refused when slpf is named.
- insert_rule: the Producer MUST request a 'complete' response (2.3.1/2.3.2).
- update file: response_requested is one of complete, ack, none, and the
  Producer MUST populate the file's name (2.3.5.1).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from ..base import ChoiceModel, NonEmptyModel, Opt
from ..constants import MAX_SAFE_INT
from ..errors import Issue
from ..types import Expect
from .common import (
    V1_ARGS,
    argument_matrix,
    file_needs_name,
    needs_complete,
    response_values,
)
from .registry import CommandRule, Profile, register_profile

RuleId = Annotated[int, Field(ge=-MAX_SAFE_INT, le=MAX_SAFE_INT), Expect("a rule number (integer)")]
DropProcess = Annotated[Literal["none", "reject", "false_ack"], Expect("one of none, reject, false_ack")]
Direction = Annotated[Literal["both", "ingress", "egress"], Expect("one of both, ingress, egress")]


class SlpfTarget(ChoiceModel):
    """slpf:AP-Target."""

    type_name: ClassVar[str] = "slpf:AP-Target"
    rule_number: Opt[RuleId] = None


class SlpfArgs(NonEmptyModel):
    """slpf:AP-Args."""

    type_name: ClassVar[str] = "slpf:AP-Args"
    drop_process: Opt[DropProcess] = None
    persistent: Opt[bool] = None
    direction: Opt[Direction] = None
    insert_rule: Opt[RuleId] = None


class SlpfResults(NonEmptyModel):
    """slpf:AP-Results."""

    type_name: ClassVar[str] = "slpf:AP-Results"
    rule_number: Opt[RuleId] = None


_NET_TARGETS = ("ipv4_connection", "ipv6_connection", "ipv4_net", "ipv6_net")
_FILTER_ARGS = ("persistent", "direction", "insert_rule")


def insert_rule_needs_complete(nsid: str) -> CommandRule:
    """'insert_rule' is only sent with response_requested 'complete'."""

    def insert_rule_complete(command: Mapping[str, Any]) -> list[Issue]:
        args = command.get("args")  # (ext_args inlined: this runs for every slpf and pf command)
        own = args.get(nsid) if type(args) is dict else None
        if type(own) is dict and "insert_rule" in own:
            return needs_complete(command, f"args.{nsid}.insert_rule", "insert_rule")
        return []

    return insert_rule_complete


SLPF = register_profile(Profile(
    nsid="slpf",
    title="Stateless Packet Filtering (SLPF v1.0 CS01)",
    pairs={
        "allow": _NET_TARGETS,
        "deny": _NET_TARGETS,
        "query": ("features",),
        "delete": ("slpf:rule_number",),
        "update": ("file",),
    },
    target_model=SlpfTarget,
    args_model=SlpfArgs,
    results_model=SlpfResults,
    rules=(
        argument_matrix("slpf", {
            "allow": (V1_ARGS, _FILTER_ARGS),
            "deny": (V1_ARGS, (*_FILTER_ARGS, "drop_process")),
            "query features": (("response_requested",), ()),
            "delete slpf:rule_number": (("response_requested", "start_time"), ()),
            "update file": (("response_requested", "start_time"), ()),
        }, defined=SlpfArgs.model_fields),
        insert_rule_needs_complete("slpf"),
        response_values("slpf", ("update file",), ("complete", "ack", "none")),
        file_needs_name("slpf"),
    ),
))

__all__ = ["SLPF", "SlpfArgs", "SlpfResults", "SlpfTarget", "insert_rule_needs_complete"]
