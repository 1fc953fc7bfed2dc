"""Policy guard: never let SOAR cut off what must stay reachable, nor open everything.

A mistyped CIDR, an automated rule fed a bad artifact, or an artifact an
attacker planted could cut off the company's own networks, the loopback, or
the firewall the command is going to, or open a firewall to the world. The
guard refuses such commands before anything is sent, and says which place
falls in which protected network.

The guard knows networks, names and ranges, never field names: where a
command names places comes from the language layer (``Command.addresses()``
and each profile's ``addresses`` hook). What it decides:

- Actions that can cut a place off (``CUTS``: deny, contain, stop, restart,
  set, ...) are refused when a place they name reaches protected space: a
  protected network, the special ranges (loopback, link-local, multicast,
  unspecified), a consumer's own address or name. An omitted connection end
  is every address. The ends of one connection (and the named network it is
  limited to) are judged together: the flow is refused only when every end
  reaches protected space, as ``deny ipv4_net X`` (X to or from anywhere) is
  refused only when X does.
- ``allow`` (and the places a contained device may still reach) is refused
  when it opens a range wider than ``allow_min_prefix`` (per family).
- Everything is normalised before judging: IPv6 in any RFC 4291 form, IPv4 in
  the inet_aton forms a resolver accepts (``127.1``, ``2130706433``,
  ``0x7f.1``), IPv4 embedded in IPv6 (mapped, compatible, NAT64, 6to4), host
  names through IDNA / UTS 46 (fullwidth letters, ideographic full stops),
  ``localhost`` names. What the guard cannot understand it refuses.
"""
from __future__ import annotations

import ipaddress
import logging
import re
import socket
import threading
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import idna

from fn_openc2.lib.language.addresses import Address, command_addresses
from fn_openc2.lib.producer.settings import Network

log = logging.getLogger(__name__)

Resolver = Callable[[str], list[str]]

#: Actions that can cut a place off or stop it: judged on every place they name.
CUTS = ("deny", "contain", "stop", "restart", "set", "redirect", "restore", "remediate", "update", "create",
        "delete")
#: Actions that open: judged for over-broad ranges.
OPENS = ("allow",)
#: Not judged, because they only look, copy, or start (LS v2.0 section 3.3.1.1): query, scan, locate,
#: investigate, detonate (in isolation), copy, cancel (of our own command), start.
#: Of the cutting actions, those that filter traffic: the devices they run on (ER downstream_device) are
#: where the filter is enforced, not what it cuts off.
FILTERS = ("deny",)

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

#: Names that mean this machine (RFC 6761 section 6.3 and the usual /etc/hosts aliases).
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "localhost6", "localhost6.localdomain6",
                            "ip6-localhost", "ip6-loopback"})

#: IPv6 ranges that carry an IPv4 address, and how far up it sits: IPv4-mapped (RFC 4291 2.5.5.2),
#: IPv4-compatible (RFC 4291 2.5.5.1), NAT64 well-known prefix (RFC 6052), 6to4 (RFC 3056).
EMBEDDED_IPV4: tuple[tuple[str, int], ...] = (
    ("::ffff:0:0/96", 0),
    ("::/96", 0),
    ("64:ff9b::/96", 0),
    ("2002::/16", 80),
)

_V4_ALL = (0, 0xFFFFFFFF)
_EMBEDDINGS = tuple((int(n.network_address), int(n.broadcast_address), shift)
                    for n, shift in ((ipaddress.IPv6Network(text), shift) for text, shift in EMBEDDED_IPV4))


@dataclass(frozen=True)
class Protected:
    """One network the guard defends and why (shown in the refusal)."""

    network: Network
    label: str


class _Unclear(Exception):
    """A place the guard cannot understand (and therefore refuses to cut)."""


def _span(net: Network) -> tuple[int, int]:
    return int(net.network_address), int(net.broadcast_address)


def ipv4_images(first: int, last: int) -> list[tuple[int, int]]:
    """The IPv4 ranges an IPv6 range [first, last] (CIDR-aligned) covers through embedded IPv4."""
    images = []
    for low, high, shift in _EMBEDDINGS:
        if low <= first and last <= high:
            images.append(((first >> shift) & 0xFFFFFFFF, (last >> shift) & 0xFFFFFFFF))
        elif first <= low and high <= last:
            images.append(_V4_ALL)
    return images


_Aton = re.compile(r"^(?:0x[0-9a-f]*|0[0-7]*|[1-9][0-9]*)$")


def inet_aton(text: str) -> int | None:
    """IPv4 in every form inet_aton(3) and the WHATWG URL parser accept (1 to 4 parts, each
    decimal, octal with a leading 0 or hex with 0x; the last fills the remaining bytes)."""
    parts = text.lower().split(".")
    if not 1 <= len(parts) <= 4 or not all(_Aton.match(p) for p in parts):
        return None
    values = [int(p, 16) if p.startswith("0x") else int(p, 8) if p.startswith("0") and len(p) > 1
              else int(p) if p != "0x" else 0 for p in parts]
    *head, tail = values
    if any(v > 255 for v in head) or tail >= 1 << (8 * (5 - len(values))):
        return None
    result = 0
    for v in head:
        result = result << 8 | v
    return result << (8 * (5 - len(values))) | tail


_FAMILIES = ((socket.AF_INET, 4, 32), (socket.AF_INET6, 6, 128))


def _fast_span(text: str) -> tuple[int, int, int] | None:
    """(version, first, last) of "addr" or "addr/prefix" in the plain notations inet_pton reads
    (every RFC 4291 IPv6 form, dotted-quad IPv4 without leading zeros), None for anything else."""
    address, slash, prefix = text.partition("/")
    for family, version, bits in _FAMILIES:
        try:
            value = int.from_bytes(socket.inet_pton(family, address), "big")
        except (OSError, ValueError):
            continue
        if not slash:
            return version, value, value
        if not (prefix.isascii() and prefix.isdigit()) or len(prefix) > 3 or int(prefix) > bits:
            return None
        host_bits = (1 << (bits - int(prefix))) - 1
        return version, value & ~host_bits, (value & ~host_bits) | host_bits
    return None


def _net_spans(text: str, family: int | None) -> list[tuple[int, int, int]]:
    """(version, first, last) of an address or range in every form a resolver or RFC 4291 allows.
    "010.0.0.1" is two places (decimal to some readers, octal to inet_aton): both are returned."""
    text = text.strip()
    fast = _fast_span(text)
    if fast is not None:
        return [fast]
    try:
        net = ipaddress.ip_network(text.split("%", 1)[0] if "/" not in text else text, strict=False)
        return [(net.version, *_span(net))]
    except ValueError:
        pass
    address, slash, prefix = text.partition("/")
    readings = [inet_aton(address)]
    parts = address.split(".")
    if len(parts) == 4 and all(p.isascii() and p.isdigit() for p in parts):
        readings.append(inet_aton(".".join(p.lstrip("0") or "0" for p in parts)))  # leading zeros as decimal
    values = [r for r in dict.fromkeys(readings) if r is not None]
    if not values or family == 6 or (slash and not (prefix.isascii() and prefix.isdigit() and int(prefix) <= 32)):
        raise _Unclear(f"{text!r} is not an IP address or range")
    host_bits = (1 << (32 - int(prefix))) - 1 if slash else 0
    return [(4, value & ~host_bits, (value & ~host_bits) | host_bits) for value in values]


def normal_name(text: str) -> str:
    """A host name as resolvers see it: UTS 46 mapped (fullwidth forms, ideographic full
    stops), A-labels, lower case, without the trailing dot; _Unclear when it is not a name."""
    name = text.strip()
    try:
        mapped = idna.uts46_remap(name, std3_rules=False, transitional=False)
    except (idna.IDNAError, UnicodeError, ValueError) as exc:
        raise _Unclear(f"{text!r} is not a host name ({exc})") from None
    mapped = mapped[:-1] if mapped.endswith(".") else mapped
    if mapped.isascii():
        labels = mapped.lower().split(".")
        if all(labels) and all(re.fullmatch(r"[a-z0-9_-]+", label) for label in labels):
            return ".".join(labels)
        raise _Unclear(f"{text!r} is not a host name")
    try:
        return idna.encode(mapped, uts46=False).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError, ValueError) as exc:
        raise _Unclear(f"{text!r} is not a host name ({exc})") from None


def _is_ipv4_host(name: str) -> bool:
    """WHATWG URL rule: a host whose last label is a number is an IPv4 address (or invalid)."""
    return re.fullmatch(r"[0-9]+|0x[0-9a-f]*", name.rsplit(".", 1)[-1]) is not None


_SPECIAL_SCHEMES = ("http", "https", "ws", "wss", "ftp", "file")


def url_hosts(value: str) -> list[str]:
    """The host(s) a URL reaches, as a strict parser and as a browser-style (WHATWG) parser see
    it: both are judged, so a URL that means different hosts to each is caught either way."""
    text = re.sub(r"[\t\n\r]", "", value.strip())
    hosts: list[str] = []
    variants = [text]
    if text.split(":", 1)[0].lower() in _SPECIAL_SCHEMES and "\\" in text:
        variants.append(text.replace("\\", "/"))
    for variant in variants:
        try:
            parts = urlsplit(variant)
            netloc = parts.netloc
        except ValueError:
            raise _Unclear(f"{value!r} is not a URL with a host I can read") from None
        if not netloc:
            continue
        host = netloc.rpartition("@")[2]
        if host.startswith("["):
            host = host[:host.find("]") + 1] if "]" in host else host
        else:
            host = host.split(":", 1)[0]
        host = unquote(host)
        if not host:
            raise _Unclear(f"{value!r} has an empty host")
        hosts.append(host)
    return hosts


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

    def first_hit(self, first: int, last: int) -> int | None:
        """Lowest protected-list index overlapping [first, last], None when none does."""
        i = bisect_right(self._firsts, last)
        if i == 0 or self._reach[i - 1] < first:
            return None
        found = [index for lo, hi, index in self._items[:i] if hi >= first]
        return min(found) if found else None


@dataclass(frozen=True)
class _Index:
    protected: tuple[Protected, ...]
    v4: _Ranges                           # IPv4 protected networks
    v4_embedded: _Ranges                  # the IPv4 that protected IPv6 networks reach through embedding
    v6: _Ranges
    names: Mapping[str, str]              # normalised consumer host name -> label
    short: Mapping[str, str]              # first label of consumer host names -> label
    ids: Mapping[str, str]                # consumer names and device ids (NFKC, case-folded) -> label


def system_resolver(host: str) -> list[str]:
    """Addresses of ``host`` through the system resolver (OSError when it fails)."""
    return [str(info[4][0]).split("%", 1)[0] for info in socket.getaddrinfo(host, None)]


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().casefold()



def _refused_places(places: Sequence[Address], reason_of: Callable[[Address], str | None]
                    ) -> tuple[list[tuple[Address, str]], bool]:
    """What a cut or an open is refused on: ([(place, reason)], False) for the first place
    judged on its own that is refused; ([every end], True) for the first flow (the ends
    of one connection) whose every end is refused; ([], False) when nothing is."""
    flows: dict[str, list[tuple[Address, str | None]]] = {}
    for place in places:
        reason = reason_of(place)
        if place.flow is None:
            if reason:
                return [(place, reason)], False
        else:
            flows.setdefault(place.flow, []).append((place, reason))
    for members in flows.values():
        if all(reason for _, reason in members):
            return [(place, reason) for place, reason in members if reason], True
    return [], False

class PolicyGuard:
    """Judges commands before they are sent; ``check`` returns the reason to refuse, or None."""

    def __init__(self, protected_networks: Iterable[Network | str] = (),
                 consumer_hosts: Mapping[str, str] | Iterable[str] = (), *,
                 protect_special: bool = True,
                 consumer_ids: Mapping[str, Iterable[str]] | None = None,
                 allow_min_prefix: tuple[int, int] = (8, 32),
                 resolver: Resolver = system_resolver) -> None:
        self._configured: list[Protected] = []
        for item in protected_networks:
            net = item if isinstance(item, (ipaddress.IPv4Network, ipaddress.IPv6Network)) \
                else ipaddress.ip_network(str(item), strict=False)
            self._configured.append(Protected(net, f"protected network {net}"))
        self._protect_special = protect_special
        if protect_special:
            for text, label in SPECIAL_NETWORKS:
                self._configured.append(Protected(ipaddress.ip_network(text), f"{label} network {text}"))
        hosts = consumer_hosts.items() if isinstance(consumer_hosts, Mapping) \
            else ((host, host) for host in consumer_hosts)
        self._hosts = [(consumer, host) for consumer, host in hosts if host]
        self._ids = {consumer: tuple(ids) for consumer, ids in (consumer_ids or {}).items()}
        if isinstance(consumer_hosts, Mapping):
            for consumer in consumer_hosts:
                self._ids[consumer] = (consumer, *self._ids.get(consumer, ()))
        self._min_prefix = {4: allow_min_prefix[0], 6: allow_min_prefix[1]}
        self._resolver = resolver
        self._resolved: dict[str, list[Network]] = {}   # host -> last good answer (kept when a refresh fails)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None
        self.refresh()

    # --- consumer addresses -------------------------------------------------------

    def refresh(self) -> list[str]:
        """Resolve the consumers' host names again and rebuild the index; returns the failures.

        A failure is logged as an error every time: until the name resolves, deny/contain of
        that consumer's address is only refused by name, and the last good answer is kept."""
        failures = []
        for consumer, host in self._hosts:
            literal = host.strip("[]")
            try:
                self._resolved[host] = [ipaddress.ip_network(literal.split("%", 1)[0])]
                continue
            except ValueError:
                pass
            try:
                nets: list[Network] = []
                for address in self._resolver(host):
                    net = ipaddress.ip_network(address)
                    if net not in nets:
                        nets.append(net)
                if not nets:
                    raise OSError("no address")
                self._resolved[host] = nets
            except (OSError, UnicodeError, ValueError) as exc:
                failures.append(host)
                kept = self._resolved.get(host)
                log.error("POLICY GUARD: consumer %r: cannot resolve %s (%s); %s", consumer, host, exc,
                          f"still protecting its last known addresses {', '.join(map(str, kept))}" if kept else
                          "its address is NOT protected (only its name is) until the name resolves")
        self._build()
        return failures

    def start_refresh(self, interval: float) -> None:
        """Re-resolve the consumers' names every ``interval`` seconds in a daemon thread."""
        if interval <= 0 or self._timer is not None or not any(
                not _is_literal(host) for _, host in self._hosts):
            return

        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.refresh()
                except Exception:  # the schedule must survive one bad round
                    log.exception("POLICY GUARD: re-resolving consumer names failed")

        self._timer = threading.Thread(target=loop, name="openc2-guard-dns", daemon=True)
        self._timer.start()

    def close(self) -> None:
        self._stop.set()
        if self._timer is not None:
            self._timer.join(timeout=5)
            self._timer = None

    def _build(self) -> None:
        protected = list(self._configured)
        names: dict[str, str] = {}
        short: dict[str, str] = {}
        for consumer, host in self._hosts:
            label = f"consumer {consumer!r}" if consumer != host else "a consumer"
            for net in self._resolved.get(host, ()):
                protected.append(Protected(net, f"the address {net.network_address} of {label} ({host})"))
            if not _is_literal(host):
                try:
                    name = normal_name(host)
                except _Unclear:
                    name = host.strip().rstrip(".").lower()
                names[name] = label
                short.setdefault(name.split(".", 1)[0], label)
        ids = {_fold(text): f"consumer {consumer!r}" for consumer, texts in self._ids.items() for text in texts if text}
        native4: list[tuple[int, int, int]] = []
        derived4: list[tuple[int, int, int]] = []
        six: list[tuple[int, int, int]] = []
        for position, item in enumerate(protected):
            first, last = _span(item.network)
            if item.network.version == 4:
                native4.append((first, last, position))
                continue
            six.append((first, last, position))
            derived4.extend((lo, hi, position) for lo, hi in ipv4_images(first, last))
        index = _Index(tuple(protected), _Ranges(native4), _Ranges(derived4), _Ranges(six), names, short, ids)
        with self._lock:
            self._index = index

    @property
    def protected(self) -> tuple[Protected, ...]:
        return self._index.protected

    # --- judging ------------------------------------------------------------------

    def check(self, command: Any) -> str | None:
        """None when the command may go out, else why it may not."""
        as_json = type(command) is dict or isinstance(command, Mapping)
        action = command.get("action") if as_json else getattr(command, "action", "")
        action = action if type(action) is str else str(getattr(action, "value", action))
        cuts, opens = action in CUTS, action in OPENS
        if not (cuts or opens):
            return None
        places = command_addresses(command) if as_json else command.addresses()
        if not places:
            return None
        index = self._index
        if cuts:
            reason = self._judge_cut(action, [p for p in places if not p.opens
                                              and not (p.on_device and action in FILTERS)], index)
            if reason:
                return reason
        opened = [p for p in places if p.opens or (opens and not p.on_device)]
        return self._judge_open(action, opened) if opened else None

    def _judge_cut(self, action: str, places: Sequence[Address], index: _Index) -> str | None:
        refused, in_flow = _refused_places(places, lambda place: self._reaches(place, index))
        if not refused:
            return None
        if not in_flow:
            place, reason = refused[0]
            return f"refused {action} of {_shown(place)}: {reason}"
        lead, reason = min(refused, key=lambda m: (m[0].value is None, m[0].kind == "tag"))
        others = [p.path for p, _ in refused if p is not lead]
        tail = f"; the rest of the flow ({', '.join(others)}) reaches protected space too" if others else ""
        return f"refused {action} of {_shown(lead)}: {reason}{tail}"

    def _reaches(self, place: Address, index: _Index) -> str | None:
        """Why cutting ``place`` would reach protected space, None when it would not."""
        try:
            if place.kind == "net":
                return self._net_reason(place.value, place.family, index)
            if place.kind == "tag":
                return f"{place.value!r} is a named network the guard cannot see into"
            if place.kind == "device":
                return self._device_reason(place.value or "", index)
            hosts = url_hosts(place.value or "") if place.kind == "url" else [place.value or ""]
            for host in hosts:
                reason = self._host_reason(host, index)
                if reason:
                    return reason
            return None
        except _Unclear as exc:
            return f"the guard cannot understand it ({exc}), so it cannot tell whether it is protected"

    def _net_reason(self, value: str | None, family: int | None, index: _Index) -> str | None:
        if value is None:
            spans = [(4, *_V4_ALL), (6, 0, (1 << 128) - 1)]
            spans = [s for s in spans if family in (None, s[0])]
        else:
            spans = _net_spans(value, family)
        for version, first, last in spans:
            hit = self._first_overlap(index, version, first, last)
            if hit is not None:
                return f"it overlaps {index.protected[hit].label}"
        return None

    def _host_reason(self, host: str, index: _Index) -> str | None:
        text = host.strip()
        if text.startswith("[") or ":" in text:  # an IPv6 literal, bracketed in URLs
            inner = text[1:-1] if text.startswith("[") and text.endswith("]") else text
            return self._net_reason(inner.split("%", 1)[0], 6, index)
        name = normal_name(text)
        if _is_ipv4_host(name):
            return self._net_reason(name, 4, index)
        if self._protect_special and (name in LOOPBACK_NAMES or name.endswith(".localhost")):
            return "it names this machine (loopback)"
        label = index.names.get(name)
        if label is None and "." not in name:
            label = index.short.get(name)
        if label is None:
            first = name.split(".", 1)[0]
            label = index.names.get(first)  # a consumer configured by its short name
        return f"it names {label}" if label else None

    def _device_reason(self, device_id: str, index: _Index) -> str | None:
        label = index.ids.get(_fold(device_id))
        if label:
            return f"it names {label}"
        try:
            return self._host_reason(device_id, index)
        except _Unclear:
            return None  # a device id need not be a host name: only names and addresses are judged

    def _first_overlap(self, index: _Index, version: int, first: int, last: int) -> int | None:
        """Index of the first protected network the range overlaps, in configuration order."""
        # a network of the address's own family is named first, then one reached through embedded IPv4
        native = (index.v4 if version == 4 else index.v6).first_hit(first, last)
        if native is not None:
            return native
        images = [(first, last)] if version == 4 else ipv4_images(first, last)
        found = [hit for lo, hi in images for ranges in ((index.v4_embedded,) if version == 4
                                                         else (index.v4, index.v4_embedded))
                 for hit in (ranges.first_hit(lo, hi),) if hit is not None]
        return min(found) if found else None

    def _judge_open(self, action: str, places: Sequence[Address]) -> str | None:
        refused, in_flow = _refused_places(places, self._broad)
        if not refused:
            return None
        place, reason = refused[0]
        if not in_flow:
            return f"refused {action} of {_shown(place)}: {reason}"
        return f"refused {action} of {_shown(place)} with every end of the flow as broad: {reason}"

    def _broad(self, place: Address) -> str | None:
        """Why opening ``place`` opens too much, None when it does not (names and tags never do)."""
        if place.kind != "net":
            return None
        if place.value is None:
            versions = [v for v in (4, 6) if place.family in (None, v)]
            prefix = 0
        else:
            try:
                version, first, last = _net_spans(place.value, place.family)[0]
            except _Unclear as exc:
                return f"the guard cannot understand it ({exc})"
            versions = [version]
            prefix = (32 if version == 4 else 128) - (last - first).bit_length()
        for version in versions:
            least = self._min_prefix[version]
            if prefix < least:
                key = f"allow_min_prefix_ipv{version}"
                return (f"it opens a range wider than /{least} (set [fn_openc2] {key} to a smaller "
                        "prefix length to permit it)")
        return None


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
        return True
    except ValueError:
        return False


def _shown(place: Address) -> str:
    if place.value is None:
        family = {4: "IPv4 ", 6: "IPv6 "}.get(place.family or 0, "")
        return f"every {family}address ({place.path} omitted)"
    return f"{place.value} ({place.path})"


def guard_for(settings: Any) -> PolicyGuard:
    """The guard a Producer uses for these settings (``settings.AppSettings``), re-resolving the
    consumers' names on the configured schedule."""
    own = settings.producer
    consumers = list(settings.consumers.values())
    protect = own.protect_consumer_addresses
    guard = PolicyGuard(
        own.protected_networks,
        {c.name: c.host for c in consumers} if protect else {},
        protect_special=own.protect_special_addresses,
        # not expected_responders: an MQTT fleet's responders are the endpoints it contains, by design
        consumer_ids={c.name: (c.recipient,) for c in consumers} if protect else {},
        allow_min_prefix=(own.allow_min_prefix_ipv4, own.allow_min_prefix_ipv6),
    )
    guard.start_refresh(own.consumer_dns_refresh)
    return guard
