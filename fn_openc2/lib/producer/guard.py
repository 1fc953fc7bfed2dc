"""Policy guard: never let SOAR deny or contain what must stay reachable.

A mistyped CIDR or an automated rule fed a bad artifact could cut off the
company's own networks, the loopback, or the firewall the command is going
to. The guard refuses such commands before anything is sent, and says which
address falls in which protected network.
"""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping
from urllib.parse import urlsplit

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

GUARDED_ACTIONS = ("deny", "contain")

SPECIAL_NETWORKS: tuple[tuple[str, str], ...] = (
    ("127.0.0.0/8", "loopback"),
    ("::1/128", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("fe80::/10", "link-local"),
    ("224.0.0.0/4", "multicast"),
    ("ff00::/8", "multicast"),
    ("0.0.0.0/32", "unspecified"),
    ("::/128", "unspecified"),
)

_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


@dataclass(frozen=True)
class Protected:
    """One network the guard defends and why (shown in the refusal)."""

    network: Network
    label: str


def _network(value: Any) -> Network | None:
    """An ipv4_net/ipv6_net JSON value ("a/n", "a", or [a, n]) as a network."""
    if isinstance(value, (list, tuple)) and value:
        text = f"{value[0]}/{value[1]}" if len(value) > 1 and value[1] is not None else str(value[0])
    elif isinstance(value, str):
        text = value
    else:
        return None
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def _as_ipv4(net: Network) -> ipaddress.IPv4Network | None:
    """The IPv4 part an IPv6 network covers through IPv4-mapped addresses."""
    if not isinstance(net, ipaddress.IPv6Network):
        return None
    if net.subnet_of(_MAPPED):
        mapped = net.network_address.ipv4_mapped
        assert mapped is not None
        return ipaddress.IPv4Network(f"{mapped}/{net.prefixlen - 96}")
    if net.supernet_of(_MAPPED):
        return ipaddress.IPv4Network("0.0.0.0/0")
    return None


def _overlaps(a: Network, b: Network) -> bool:
    if a.version == b.version:
        return a.overlaps(b)  # type: ignore[arg-type]
    a4, b4 = _as_ipv4(a) or a, _as_ipv4(b) or b
    return a4.version == b4.version and a4.overlaps(b4)  # type: ignore[arg-type]


def _host_name(value: str) -> str:
    return value.strip().rstrip(".").lower()


def _resolve(host: str) -> list[Network]:
    """IP literal directly, names through the resolver (once, at start)."""
    try:
        return [ipaddress.ip_network(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return []
    nets: list[Network] = []
    for info in infos:
        address = str(info[4][0]).split("%", 1)[0]
        try:
            net = ipaddress.ip_network(address)
        except ValueError:
            continue
        if net not in nets:
            nets.append(net)
    return nets


def _action_target(command: Any) -> tuple[str, str, Any]:
    """(action, target name, target value) from a Command model or a dict."""
    if isinstance(command, Mapping):
        target = command.get("target") or {}
        name = next(iter(target), "") if isinstance(target, Mapping) else ""
        return str(command.get("action", "")), name, target.get(name) if name else None
    action = getattr(command, "action", "")
    action = getattr(action, "value", action)
    return str(action), str(command.target_name), command.target_value


class PolicyGuard:
    """Refuses deny/contain of protected addresses; ``check`` returns the reason."""

    def __init__(self, protected_networks: Iterable[Network | str] = (),
                 consumer_hosts: Mapping[str, str] | Iterable[str] = (), *,
                 protect_special: bool = True) -> None:
        self._protected: list[Protected] = []
        for item in protected_networks:
            net = item if isinstance(item, (ipaddress.IPv4Network, ipaddress.IPv6Network)) \
                else ipaddress.ip_network(str(item), strict=False)
            self._protected.append(Protected(net, f"protected network {net}"))
        if protect_special:
            for text, label in SPECIAL_NETWORKS:
                self._protected.append(Protected(ipaddress.ip_network(text), f"{label} network {text}"))
        hosts = consumer_hosts.items() if isinstance(consumer_hosts, Mapping) \
            else ((host, host) for host in consumer_hosts)
        self._consumer_names: dict[str, str] = {}
        for consumer, host in hosts:
            if not host:
                continue
            label = f"consumer {consumer!r}" if consumer != host else "a consumer"
            self._consumer_names[_host_name(host)] = label
            for net in _resolve(host):
                self._protected.append(Protected(net, f"the address {net.network_address} of {label} ({host})"))

    @property
    def protected(self) -> tuple[Protected, ...]:
        return tuple(self._protected)

    def check(self, command: Any) -> str | None:
        """None when the command may go out, else why it may not."""
        action, name, value = _action_target(command)
        if action not in GUARDED_ACTIONS:
            return None
        for path, kind, item in _addresses(name, value):
            reason = self._check_one(kind, item)
            if reason:
                return f"refused {action} of {item} (target.{path}): {reason}"
        return None

    def _check_one(self, kind: str, item: str) -> str | None:
        if kind == "host":
            host = _host_name(item)
            if host in self._consumer_names:
                return f"it names {self._consumer_names[host]}"
            net = _network(host.strip("[]"))
            if net is None:
                return None
        else:
            net = _network(item)
            if net is None:
                return None
        for protected in self._protected:
            if _overlaps(net, protected.network):
                return f"it overlaps {protected.label}"
        return None


def _addresses(name: str, value: Any) -> Iterator[tuple[str, str, str]]:
    """(JSON path below target, "net" | "host", text) for every address in a target."""
    if name in ("ipv4_net", "ipv6_net"):
        text = value if isinstance(value, str) else "/".join(str(v) for v in value or ())
        yield name, "net", text
    elif name in ("ipv4_connection", "ipv6_connection") and isinstance(value, Mapping):
        for key in ("src_addr", "dst_addr"):
            if value.get(key) is not None:
                yield f"{name}.{key}", "net", str(value[key])
    elif name == "device" and isinstance(value, Mapping):
        for key in ("hostname", "idn_hostname", "device_id"):
            if isinstance(value.get(key), str):
                yield f"device.{key}", "host", value[key]
    elif name in ("domain_name", "idn_domain_name") and isinstance(value, str):
        yield name, "host", value
    elif name in ("uri", "iri") and isinstance(value, str):
        host = urlsplit(value).hostname
        if host:
            yield name, "host", host
    elif isinstance(value, Mapping):  # profile-defined targets: look for address-like fields
        yield from _nested(name, value)


def _nested(path: str, value: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    for key, item in value.items():
        here = f"{path}.{key}"
        if isinstance(item, Mapping):
            yield from _nested(here, item)
        elif isinstance(item, str) and (key.endswith("_addr") or key in ("ipv4_net", "ipv6_net")):
            yield here, "net", item
        elif isinstance(item, str) and key in ("hostname", "domain_name"):
            yield here, "host", item
