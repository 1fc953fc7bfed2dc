"""Policy guard: never let SOAR deny or contain what must stay reachable.

A mistyped CIDR or an automated rule fed a bad artifact could cut off the
company's own networks, the loopback, or the firewall the command is going
to. The guard refuses such commands before anything is sent, and says which
address falls in which protected network.
"""
from __future__ import annotations

import ipaddress
import socket
from bisect import bisect_right
from dataclasses import dataclass
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Only actions that cut traffic off. Not guarded on purpose: allow (opens), delete/update
# (rules and files, no address), and er 'set ipv4_net'/'set ipv6_net' (sets the endpoint's
# own address; it blocks nothing).
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


def _span(net: Network) -> tuple[int, int]:
    return int(net.network_address), int(net.broadcast_address)


_FAMILIES = ((socket.AF_INET, 4, 32), (socket.AF_INET6, 6, 128))


def _fast_span(text: str) -> tuple[int, int, int] | None:
    """(version, first, last) of "addr" or "addr/prefix" in plain notation, None
    for anything else (netmasks, scope ids, junk): the caller then asks ipaddress."""
    address, slash, prefix = text.partition("/")
    for family, version, bits in _FAMILIES:
        try:
            value = int.from_bytes(socket.inet_pton(family, address), "big")
        except (OSError, ValueError):
            continue
        if not slash:
            return version, value, value
        if not prefix.isdigit() or not prefix.isascii() or len(prefix) > 3:
            return None
        length = int(prefix)
        if length > bits:
            return None
        host_bits = (1 << (bits - length)) - 1
        first = value & ~host_bits
        return version, first, first | host_bits
    return None


class _Ranges:
    """Protected networks of one family as sorted integer ranges.

    ``hits`` is a bisect plus a running maximum of range ends (networks may
    nest or overlap each other), so the common "nothing protected here"
    answer costs O(log n) whatever the number of protected networks."""

    def __init__(self, items: list[tuple[int, int, int]]) -> None:
        self._items = sorted(items)                   # (first, last, index into the protected list)
        self._firsts = [first for first, _, _ in self._items]
        self._reach: list[int] = []
        highest = -1
        for _, last, _ in self._items:
            highest = max(highest, last)
            self._reach.append(highest)

    def hits(self, first: int, last: int) -> bool:
        i = bisect_right(self._firsts, last)
        return i > 0 and self._reach[i - 1] >= first

    def first_hit(self, first: int, last: int) -> int | None:
        """Lowest protected-list index overlapping [first, last] (refusals only)."""
        found = [index for lo, hi, index in self._items if lo <= last and hi >= first]
        return min(found) if found else None


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

        self._index()

    def _index(self) -> None:
        """Integer ranges per family, equivalent to ``_overlaps`` against each protected network:
        an IPv4 address meets the IPv4 networks and the IPv4 image of IPv6 ones (mapped range,
        or everything for a supernet of it); an IPv6 address meets the IPv6 networks and, when
        it is IPv4-mapped, the IPv4 networks."""
        native4: list[tuple[int, int, int]] = []
        derived4: list[tuple[int, int, int]] = []
        six: list[tuple[int, int, int]] = []
        for index, protected in enumerate(self._protected):
            net = protected.network
            if net.version == 4:
                native4.append((*_span(net), index))
                continue
            six.append((*_span(net), index))
            image = _as_ipv4(net)
            if image is not None:
                derived4.append((*_span(image), index))
        self._v4 = _Ranges(native4 + derived4)
        self._v4_native = _Ranges(native4)
        self._v6 = _Ranges(six)

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
            text = host.strip("[]")
        else:
            text = item.strip() if isinstance(item, str) else item
        span = _fast_span(text) if isinstance(text, str) else None
        if span is None:
            net = _network(text)
            if net is None:
                return None
            span = (net.version, *_span(net))
        index = self._first_overlap(*span)
        return None if index is None else f"it overlaps {self._protected[index].label}"

    def _first_overlap(self, version: int, first: int, last: int) -> int | None:
        """Index of the first protected network the range overlaps, in configuration order."""
        if version == 4:
            return self._v4.first_hit(first, last) if self._v4.hits(first, last) else None
        hits: list[int] = []
        if self._v6.hits(first, last):
            hits.append(self._v6.first_hit(first, last))  # type: ignore[arg-type]
        mapped = _mapped_span(first, last)
        if mapped is not None and self._v4_native.hits(*mapped):
            hits.append(self._v4_native.first_hit(*mapped))  # type: ignore[arg-type]
        return min(hits) if hits else None


_MAPPED_FIRST, _MAPPED_LAST = _span(_MAPPED)


def _mapped_span(first: int, last: int) -> tuple[int, int] | None:
    """The IPv4 range an IPv6 network [first, last] covers through IPv4-mapped addresses
    (as ``_as_ipv4``: inside ::ffff:0:0/96 its image, around it everything, else None)."""
    if _MAPPED_FIRST <= first and last <= _MAPPED_LAST:
        return first - _MAPPED_FIRST, last - _MAPPED_FIRST
    if first <= _MAPPED_FIRST and _MAPPED_LAST <= last:
        return 0, 0xFFFFFFFF
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


# pf:Adv-Addr's Choice form ({"v4addr": ...} / {"v6addr": ...}) names its address without "_addr"
_NET_KEYS = ("ipv4_net", "ipv6_net", "v4addr", "v6addr")


def _nested(path: str, value: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    for key, item in value.items():
        here = f"{path}.{key}"
        if isinstance(item, Mapping):
            yield from _nested(here, item)
        elif isinstance(item, str) and (key.endswith("_addr") or key in _NET_KEYS):
            yield here, "net", item
        elif isinstance(item, str) and key in ("hostname", "domain_name"):
            yield here, "host", item
