"""Building blocks the shipped profiles share: plain functions over the
command as decoded JSON, so a profile's rules can report next to pydantic's
shape errors (every access is defensive: the document may be malformed
elsewhere).

A profile module uses them to state its tables (which arguments each
command takes, which values a command allows) rather than writing checks
by hand.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..constants import CORE_ARGS, TARGETS
from ..errors import Issue, render_path
from .registry import CommandRule, get_profile

_TARGETS = frozenset(TARGETS)

#: The Command Arguments of LS v1.0, the ones the v1.0-era profiles list.
#: (LS v2.0's ``comment`` is absent from their argument tables.)
TIME_ARGS: frozenset[str] = frozenset({"start_time", "stop_time", "duration"})
V1_ARGS: frozenset[str] = TIME_ARGS | {"response_requested"}


def only_for(actions: Iterable[str], rule: CommandRule) -> CommandRule:
    """Mark ``rule`` as concerning only commands with these actions: the core then does
    not call it for the others (the rule still checks the action itself)."""
    rule.actions = frozenset(actions)  # type: ignore[attr-defined]
    return rule


def _what(action: str | None, target: str | None) -> str:
    return f"{action} {target}" if target else str(action)


def _acts(command: Mapping[str, Any], actions: frozenset[str]) -> bool:
    action = command.get("action")
    return type(action) is str and action in actions


def args_of(command: Mapping[str, Any]) -> dict[str, Any]:
    args = command.get("args")
    return args if type(args) is dict else {}


def ext_args(command: Mapping[str, Any], nsid: str) -> dict[str, Any]:
    value = args_of(command).get(nsid)
    return value if type(value) is dict else {}


def target_name(command: Mapping[str, Any]) -> str | None:
    """"ipv4_net" for a language target, "slpf:rule_number" for an extended one."""
    target = command.get("target")
    if type(target) is not dict or len(target) != 1:
        return None
    for key, value in target.items():
        name: str = key
        if name in _TARGETS or type(value) is not dict or len(value) != 1:
            return name
        for member in value:
            return f"{name}:{member}"
    return None


def command_key(command: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(action, target name) of a command, e.g. ("delete", "slpf:rule_number")."""
    action = command.get("action")
    return (action if type(action) is str else None), target_name(command)


def argument_matrix(nsid: str, table: Mapping[str, tuple[Iterable[str], Iterable[str]]],
                    defined: Iterable[str] = ()) -> CommandRule:
    """A rule from a profile's Command Arguments Matrix.

    ``table`` maps "action target" (or just "action", for every target of
    that action) to (language arguments, ``args.<nsid>`` arguments) the
    command may carry. Commands the table does not list are left alone
    (the pair check reports them). ``args.<nsid>`` itself is allowed when
    the second set is not empty. Names that are not arguments at all (not in
    ``defined``, the profile's own argument names, nor a language argument or
    registered namespace) are left to the shape check, which reports them.
    """
    frozen = {key: (frozenset(core), frozenset(own)) for key, (core, own) in table.items()}
    own_names = frozenset(defined)

    def allowed_arguments(command: Mapping[str, Any]) -> list[Issue]:
        args = command.get("args")
        if type(args) is not dict:
            return []
        action = command.get("action")
        target = target_name(command)
        if action == "query" and target == "features":
            return []  # the language's own rule (LS 4.1) already limits these arguments
        entry = frozen.get(f"{action} {target}") or frozen.get(action)  # type: ignore[arg-type]
        if entry is None:
            return []
        core, own = entry
        out: list[Issue] = []
        for key, value in args.items():
            if key in core:
                continue
            if key == nsid and (own or value == {}):  # an empty args.<nsid> carries no argument
                if type(value) is dict:
                    for name in value:
                        if name not in own and (not own_names or name in own_names):
                            out.append(Issue(render_path(("args", nsid, name)),
                                             f"profile {nsid!r}: '{_what(action, target)}' does not take "
                                             f"argument {name!r}; it takes {', '.join(sorted(own))}"))
            elif key in CORE_ARGS or get_profile(key) is not None:
                takes = sorted(core | ({nsid} if own else set()))
                out.append(Issue(render_path(("args", key)),
                                 f"profile {nsid!r}: '{_what(action, target)}' does not take argument {key!r}; "
                                 f"it takes {', '.join(takes) or 'none'}"))
        return out

    return only_for({key.partition(" ")[0] for key in table}, allowed_arguments)


def response_values(nsid: str, commands: Iterable[str], allowed: Iterable[str]) -> CommandRule:
    """``response_requested`` limited to ``allowed`` for the listed "action target" commands."""
    keys = frozenset(commands)
    actions = frozenset(key.partition(" ")[0] for key in keys)
    values = tuple(allowed)

    def response_requested_values(command: Mapping[str, Any]) -> list[Issue]:
        if not _acts(command, actions):
            return []
        action, target = command_key(command)
        if f"{action} {target}" not in keys:
            return []
        wanted = args_of(command).get("response_requested")
        if wanted is None or wanted in values:
            return []
        return [Issue("args.response_requested",
                      f"profile {nsid!r}: '{action} {target}' allows response_requested "
                      f"{', '.join(values)}; got {wanted!r}")]

    return only_for(actions, response_requested_values)


def needs_complete(command: Mapping[str, Any], path: str, what: str) -> list[Issue]:
    """``what`` needs a 'complete' response (absent response_requested means complete)."""
    wanted = args_of(command).get("response_requested", "complete")
    if wanted != "complete":
        return [Issue(path, f"{what} needs response_requested 'complete', got {wanted!r}")]
    return []


def required_argument(nsid: str, commands: Iterable[str], name: str, why: str) -> CommandRule:
    """``args.<nsid>.<name>`` must be present on the listed "action target" commands."""
    keys = frozenset(commands)
    actions = frozenset(key.partition(" ")[0] for key in keys)

    def required(command: Mapping[str, Any]) -> list[Issue]:
        if not _acts(command, actions):
            return []
        action, target = command_key(command)
        if f"{action} {target}" not in keys or name in ext_args(command, nsid):
            return []
        return [Issue(render_path(("args", nsid, name)) if nsid in args_of(command) else "args",
                      f"profile {nsid!r}: '{action} {target}' requires args.{nsid}.{name} ({why})")]

    return only_for(actions, required)


def file_needs_name(nsid: str) -> CommandRule:
    """'update file': the Producer MUST populate the file's name."""

    def update_file_name(command: Mapping[str, Any]) -> list[Issue]:
        if command.get("action") != "update" or command_key(command) != ("update", "file"):
            return []
        target = command.get("target")
        file = target.get("file") if type(target) is dict else None
        if type(file) is dict and "name" not in file:
            return [Issue("target.file.name", f"profile {nsid!r}: 'update file' requires the file's name")]
        return []

    return only_for(("update",), update_file_name)
