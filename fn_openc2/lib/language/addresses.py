"""Where a command names network locations.

A producer-side policy (``producer.guard``) must see every field that says
*where* a command acts, including fields a profile adds. So the knowledge of
which fields those are lives with whoever defines them: this module states
the language's own targets (LS v2.0 section 3.3.1.2), and each profile states
its own through ``Profile.addresses``. A consumer of this list only needs to
understand addresses, names and ranges, never field names.

Everything works on the command as JSON and is defensive: the document may be
malformed elsewhere (then the validator reports it; this only reports what it
finds).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Literal, NamedTuple

from .constants import CORE_ARGS, TARGETS

#: "net": an IP address or range; "host": a DNS name; "url": a URI/IRI (its host
#: matters); "device": an opaque device identifier; "tag": a named network the
#: producer cannot see into (PF net_tag / network).
AddressKind = Literal["net", "host", "url", "device", "tag"]


class Address(NamedTuple):
    """One place a command names, as the command wrote it."""

    path: str                       # JSON path of the field, e.g. "target.ipv4_connection.src_addr"
    kind: AddressKind
    value: str | None               # None: the field is omitted, which means every address
    family: int | None = None       # 4 or 6 when the field only holds that family (omitted ones too)
    flow: str | None = None         # connection ends (and scope) share their connection's path: the flow
                                    # reaches a place only through all of them together
    on_device: bool = False         # a device the command runs on (ER downstream_device), not what it acts on
    opens: bool = False             # a place the command lets traffic reach (ER permitted_addresses)


#: A profile's addresses hook: gets the command as JSON, yields the places its own members name.
AddressHook = Callable[[Mapping[str, Any]], Iterable[Address]]


def net_text(value: Any) -> str | None:
    """An IPv4-Net / IPv6-Net JSON value as text ("a/n" or "a"); arrays [a, n] are joined."""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, (str, int)) for v in value):
        return "/".join(str(v) for v in value if v is not None)
    return None


def connection_ends(path: str, value: Any, family: int | None,
                    keys: tuple[str, ...] = ("src_addr", "dst_addr")) -> Iterator[Address]:
    """Both ends of a connection record; an omitted end is every address."""
    if type(value) is not dict:
        return
    for key in keys:
        item = value.get(key)
        yield Address(f"{path}.{key}", "net", None if item is None else net_text(item) or str(item),
                      family, flow=path)


def device_places(path: str, value: Any, *, on_device: bool = False) -> Iterator[Address]:
    """The names a Device record (LS v2.0 section 3.4.1.5) identifies a machine by."""
    if type(value) is not dict:
        return
    for key, kind in (("hostname", "host"), ("idn_hostname", "host"), ("device_id", "device")):
        item = value.get(key)
        if isinstance(item, str):
            yield Address(f"{path}.{key}", kind, item, on_device=on_device)  # type: ignore[arg-type]


def _core_target(name: str, value: Any) -> Iterator[Address]:
    path = f"target.{name}"
    if name in ("ipv4_net", "ipv6_net"):
        yield Address(path, "net", net_text(value) or str(value), 4 if name == "ipv4_net" else 6)
    elif name in ("ipv4_connection", "ipv6_connection"):
        yield from connection_ends(path, value, 4 if name == "ipv4_connection" else 6)
    elif name == "device":
        yield from device_places(path, value)
    elif name in ("domain_name", "idn_domain_name") and isinstance(value, str):
        yield Address(path, "host", value)
    elif name in ("uri", "iri") and isinstance(value, str):
        yield Address(path, "url", value)


_TARGETS = frozenset(TARGETS)
_CORE_ARGS = frozenset(CORE_ARGS)


def command_addresses(command: Mapping[str, Any]) -> list[Address]:
    """Every place ``command`` (JSON) names: the language's targets, then each named profile's hook."""
    found: list[Address] = []
    target = command.get("target")
    nsids: list[str] = []
    if type(target) is dict:
        for name, value in target.items():
            if name in _TARGETS:
                found.extend(_core_target(name, value))
            else:
                nsids.append(name)
    args = command.get("args")
    if type(args) is dict:
        nsids.extend(key for key in args if key not in _CORE_ARGS and type(key) is str and key not in nsids)
    profile = command.get("profile")
    if type(profile) is str and profile not in nsids:
        nsids.append(profile)
    if not nsids:
        return found
    from .profiles import get_profile  # here: the profile registry imports this module's types

    for nsid in nsids:
        registered = get_profile(nsid)
        if registered is not None and registered.addresses is not None:
            found.extend(registered.addresses(command))
    return found
