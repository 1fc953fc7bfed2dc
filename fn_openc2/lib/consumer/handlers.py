"""What each supported action/target pair does to the simulated device.

Every handler takes (state, command, ctx) and returns an Outcome. The PAIRS
table below is the single source of truth for what the actuator supports:
dispatch and the 'query features' answer both read it, so the advertised
pairs cannot drift from what is implemented.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable

from fn_openc2.lib.errors import OpenC2Error
from fn_openc2.lib.consumer.state import DeviceState, Entry, effect_window

NET_TARGETS = ("ipv4_net", "ipv6_net", "ipv4_connection", "ipv6_connection")
DEVICE_CONTAINMENT = ("network_isolation", "app_restriction", "disable_nic")


@dataclass(frozen=True)
class Outcome:
    status: int
    status_text: str | None = None
    results: dict[str, Any] | None = None


@dataclass
class Context:
    """Per-command facts the handlers need besides the command itself."""

    command_id: str | None
    now_ms: int
    profile: str                  # the profile the command was dispatched to ("" for base)


class Refused(OpenC2Error):
    """A handler's error answer; raised to keep handlers linear."""

    def __init__(self, status: int, text: str) -> None:
        self.outcome = Outcome(status, text)
        super().__init__(text)


Handler = Callable[[DeviceState, dict[str, Any], Context], Outcome]


def _profile_args(command: dict[str, Any], profile: str) -> dict[str, Any]:
    value = (command.get("args") or {}).get(profile) or {}
    if not isinstance(value, dict):
        raise Refused(400, f"args.{profile}: expected an object")
    return value


def _window(command: dict[str, Any], ctx: Context) -> tuple[int, int | None]:
    try:
        return effect_window(command.get("args") or {}, ctx.now_ms)
    except ValueError as exc:
        raise Refused(400, f"{getattr(exc, 'path', 'args')}: {exc}") from None


def _normalise_net(value: Any, path: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except (TypeError, ValueError):
        raise Refused(400, f"{path}: {value!r} is not an address range") from None


def _rule_target(command: dict[str, Any]) -> dict[str, Any]:
    (name, value), = command["target"].items()
    if name.endswith("_net"):
        return {name: _normalise_net(value, f"target.{name}")}
    conn = dict(value)
    for end in ("src_addr", "dst_addr"):
        if end in conn:
            conn[end] = _normalise_net(conn[end], f"target.{name}.{end}")
    return {name: conn}


def slpf_rule(state: DeviceState, command: dict[str, Any], ctx: Context) -> Outcome:
    """allow/deny a connection or range: one rule in the packet filter table."""
    action = command["action"]
    extra = _profile_args(command, "slpf")
    unknown = sorted(set(extra) - {"drop_process", "persistent", "direction", "insert_rule"})
    if unknown:
        raise Refused(400, f"args.slpf.{unknown[0]}: not an SLPF argument")
    if "drop_process" in extra and action != "deny":
        raise Refused(400, "args.slpf.drop_process: only valid with deny")
    start, stop = _window(command, ctx)
    number = extra.get("insert_rule")
    if number is not None:
        if state.get("rule", number) is not None:
            raise Refused(400, f"rule number {number} in use")
    else:
        number = state.new_rule_number()
    detail = {"rule_number": number, "action": action, "target": _rule_target(command),
              "direction": extra.get("direction", "both"),
              "persistent": extra.get("persistent", True)}
    if action == "deny":
        detail["drop_process"] = extra.get("drop_process", "none")
    state.put(Entry("rule", number, ctx.command_id, start, stop, detail))
    return Outcome(200, None, {"slpf": {"rule_number": number}})


def slpf_delete(state: DeviceState, command: dict[str, Any], ctx: Context) -> Outcome:
    """delete slpf rule_number: remove one rule from the table."""
    value = command["target"]["slpf"]
    number = value.get("rule_number") if isinstance(value, dict) else None
    if type(number) is not int:
        raise Refused(400, "target.slpf.rule_number: expected an integer rule number")
    if state.remove("rule", number) is None:
        raise Refused(404, f"rule number {number} not found")
    return Outcome(200)


def _device_key(target: dict[str, Any]) -> str:
    for field in ("device_id", "hostname", "idn_hostname"):
        if isinstance(target.get(field), str):
            return f"{field}:{target[field]}"
    raise Refused(400, "target.device: needs device_id or hostname")


def er_contain_device(state: DeviceState, command: dict[str, Any], ctx: Context) -> Outcome:
    """contain device: isolate it, the way given by args.er.device_containment."""
    extra = _profile_args(command, "er")
    mode = extra.get("device_containment", "network_isolation")
    if mode not in DEVICE_CONTAINMENT:
        raise Refused(501, f"args.er.device_containment: {mode!r} not supported "
                           f"(supported: {', '.join(DEVICE_CONTAINMENT)})")
    start, stop = _window(command, ctx)
    device = command["target"]["device"]
    detail = {"device": dict(device), "device_containment": mode}
    if "permitted_addresses" in extra:
        detail["permitted_addresses"] = extra["permitted_addresses"]
    state.put(Entry("containment", _device_key(device), ctx.command_id, start, stop, detail))
    return Outcome(200)


def er_allow_device(state: DeviceState, command: dict[str, Any], ctx: Context) -> Outcome:
    """allow device: lift its containment (200 also when it was not contained)."""
    removed = state.remove("containment", _device_key(command["target"]["device"]))
    return Outcome(200, None if removed else "device was not contained")


def _hash_key(target: dict[str, Any]) -> tuple[Any, ...]:
    hashes = target.get("hashes")
    if not isinstance(hashes, dict) or not hashes:
        raise Refused(501, "target.file: only files identified by hashes are supported")
    return tuple(sorted((k, str(v).lower()) for k, v in hashes.items()))


def er_file_block(state: DeviceState, command: dict[str, Any], ctx: Context) -> Outcome:
    """deny / contain file: block (or quarantine) every file with these hashes."""
    target = command["target"]["file"]
    start, stop = _window(command, ctx)
    detail = {"action": command["action"], "file": dict(target)}
    state.put(Entry("file_block", _hash_key(target), ctx.command_id, start, stop, detail))
    return Outcome(200)


# profile -> action -> target -> handler. "query features" and "cancel command"
# are language-level and handled by the Actuator itself.
PAIRS: dict[str, dict[str, dict[str, Handler]]] = {
    "slpf": {
        "allow": {t: slpf_rule for t in NET_TARGETS},
        "deny": {t: slpf_rule for t in NET_TARGETS},
        "delete": {"slpf": slpf_delete},
    },
    "er": {
        "contain": {"device": er_contain_device, "file": er_file_block},
        "allow": {"device": er_allow_device},
        "deny": {"file": er_file_block},
    },
}
BASE_PAIRS: dict[str, tuple[str, ...]] = {"query": ("features",), "cancel": ("command",)}
