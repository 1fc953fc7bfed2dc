"""Stateless Packet Filtering (SLPF v1.0, in the LS v2.0 extension form)."""
from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Mapping

from pydantic import Field

from ..base import ChoiceModel, NonEmptyModel
from ..errors import Issue
from ..types import Expect
from .common import args_of, ext_args, needs_complete, only_args
from .registry import Profile, register_profile

RuleId = Annotated[int, Expect("a rule number (integer)")]
DropProcess = Annotated[Literal["none", "reject", "false_ack"], Expect("one of none, reject, false_ack")]
Direction = Annotated[Literal["both", "ingress", "egress"], Expect("one of both, ingress, egress")]


class SlpfTarget(ChoiceModel):
    """slpf:AP-Target."""

    type_name: ClassVar[str] = "slpf:AP-Target"
    rule_number: RuleId = Field(None)


class SlpfArgs(NonEmptyModel):
    """slpf:AP-Args."""

    type_name: ClassVar[str] = "slpf:AP-Args"
    drop_process: DropProcess = Field(None)
    persistent: bool = Field(None)
    direction: Direction = Field(None)
    insert_rule: RuleId = Field(None)


class SlpfResults(NonEmptyModel):
    """slpf:AP-Results."""

    type_name: ClassVar[str] = "slpf:AP-Results"
    rule_number: RuleId = Field(None)


_FILTER_TARGETS = ("ipv4_connection", "ipv6_connection", "ipv4_net", "ipv6_net", "domain_name")
COMMON_TIME_ARGS = ("start_time", "stop_time", "duration", "response_requested", "comment")


def filter_rules(nsid: str):
    """The argument rules SLPF and PF share (PF reuses them under its own nsid)."""

    per_action = {
        "allow": frozenset((*COMMON_TIME_ARGS, nsid)),
        "deny": frozenset((*COMMON_TIME_ARGS, nsid)),
        "query": frozenset(("response_requested",)),
        "delete": frozenset(("response_requested", "start_time", "comment")),
        "update": frozenset(("response_requested", "start_time", "comment")),
    }

    def allowed_args(command: Mapping[str, Any]) -> list[Issue]:
        allowed = per_action.get(command.get("action"))  # type: ignore[arg-type]
        return only_args(command, allowed, nsid) if allowed is not None else []

    def drop_process_only_deny(command: Mapping[str, Any]) -> list[Issue]:
        if "drop_process" in ext_args(command, nsid) and command.get("action") != "deny":
            return [Issue(f"args.{nsid}.drop_process",
                          f"drop_process is only valid with 'deny', not {command.get('action')!r}")]
        return []

    def insert_rule_complete(command: Mapping[str, Any]) -> list[Issue]:
        if "insert_rule" in ext_args(command, nsid):
            return needs_complete(command, f"args.{nsid}.insert_rule", "insert_rule")
        return []

    return (allowed_args, drop_process_only_deny, insert_rule_complete)


SLPF = register_profile(Profile(
    nsid="slpf",
    title="Stateless Packet Filtering",
    pairs={
        "allow": _FILTER_TARGETS,
        "deny": _FILTER_TARGETS,
        "query": ("features", "slpf:rule_number"),
        "delete": ("slpf:rule_number",),
        "update": ("file",),
    },
    target_model=SlpfTarget,
    args_model=SlpfArgs,
    results_model=SlpfResults,
    rules=filter_rules("slpf"),
))

__all__ = ["SLPF", "SlpfArgs", "SlpfResults", "SlpfTarget", "args_of", "filter_rules"]
