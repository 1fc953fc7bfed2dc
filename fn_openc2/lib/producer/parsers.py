"""Parsers for app.config string values.

Each parser takes the raw string and returns the typed value or raises
``ValueError`` whose text says what was expected; the config loader adds the
section and key. Secret values are never echoed back in those messages.
"""
from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable
from urllib.parse import urlsplit

from fn_openc2.lib.transfer.address import broker_address, shown_broker
from fn_openc2.lib.transfer.https import mask_url

Parser = Callable[[str], object]

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def _shown(raw: str) -> str:
    return repr(raw)


def _shown_url(raw: str) -> str:
    """repr of a URL with credentials and query values masked (see ``mask_url``)."""
    return repr(mask_url(raw))


def parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"expected true or false, got {_shown(raw)}")


def parse_text(raw: str) -> str:
    value = raw.strip()
    if not value:
        raise ValueError("expected a non-empty value")
    return value


def parse_secret(raw: str) -> str:
    """Like text, but the value never appears in an error."""
    if not raw.strip():
        raise ValueError("expected a non-empty value")
    return raw.strip()


def parse_seconds(raw: str) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise ValueError(f"expected a number of seconds > 0, got {_shown(raw)}") from None
    if not value > 0 or value == float("inf"):
        raise ValueError(f"expected a number of seconds > 0, got {_shown(raw)}")
    return value


def parse_seconds_or_off(raw: str) -> float:
    """Seconds >= 0 (0: off)."""
    if raw.strip() in ("0", "0.0"):
        return 0.0
    return parse_seconds(raw)


def prefix_length(bits: int) -> Parser:
    """A prefix length 0..bits."""

    def parse(raw: str) -> int:
        value = _integer(raw, 0, f"a prefix length 0..{bits}")
        if value > bits:
            raise ValueError(f"expected a prefix length 0..{bits}, got {_shown(raw)}")
        return value

    return parse


def _integer(raw: str, minimum: int, what: str) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise ValueError(f"expected {what}, got {_shown(raw)}") from None
    if value < minimum:
        raise ValueError(f"expected {what}, got {_shown(raw)}")
    return value


def parse_count(raw: str) -> int:
    """An integer >= 0 (retries)."""
    return _integer(raw, 0, "an integer >= 0")


def parse_positive_int(raw: str) -> int:
    return _integer(raw, 1, "an integer >= 1")


def parse_rate(raw: str) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise ValueError(f"expected a number of requests per minute > 0, got {_shown(raw)}") from None
    if not value > 0 or value == float("inf"):
        raise ValueError(f"expected a number of requests per minute > 0, got {_shown(raw)}")
    return value


def parse_list(raw: str) -> tuple[str, ...]:
    """Comma separated, blanks dropped, order kept, duplicates refused."""
    items = [item.strip() for item in raw.split(",")]
    items = [item for item in items if item]
    seen: set[str] = set()
    for item in items:
        if item in seen:
            raise ValueError(f"expected a comma separated list without duplicates, {item!r} appears twice")
        seen.add(item)
    return tuple(items)


def parse_networks(raw: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    nets = []
    for index, item in enumerate(parse_list(raw)):
        try:
            net = ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ValueError(
                f"expected a comma separated list of CIDR networks, item {index + 1} is {item!r}"
            ) from None
        try:
            ipaddress.ip_network(item)
        except ValueError:
            # 10.0.0.1/8: a host (10.0.0.1) or the whole 10.0.0.0/8? Guessing either protects the wrong thing.
            raise ValueError(f"item {index + 1} {item!r} has host bits set: write {net.with_prefixlen} "
                             f"(the network) or {item.split('/')[0]} (the one host)") from None
        nets.append(net)
    return tuple(nets)


def parse_file(raw: str) -> str:
    """A path that exists and can be read now (fail at start, not at send)."""
    path = os.path.expanduser(raw.strip())
    if not path:
        raise ValueError("expected a file path")
    if not os.path.isfile(path):
        raise ValueError(f"expected a readable file, {path!r} does not exist or is not a file")
    if not os.access(path, os.R_OK):
        raise ValueError(f"expected a readable file, {path!r} is not readable")
    return path


def parse_verify(raw: str) -> bool | str:
    """true / false / a CA bundle path (file or directory), as requests takes it."""
    value = raw.strip()
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    path = os.path.expanduser(value)
    if os.path.isdir(path) and os.access(path, os.R_OK):
        return path
    try:
        return parse_file(value)
    except ValueError:
        raise ValueError(
            f"expected true, false or a readable CA bundle path, got {_shown(raw)}"
        ) from None


def choice(*allowed: str) -> Parser:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}, got {_shown(raw)}")
        return value

    return parse


def choice_exact(*allowed: str) -> Parser:
    """Case-sensitive choice (algorithm names)."""

    def parse(raw: str) -> str:
        value = raw.strip()
        if value not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}, got {_shown(raw)}")
        return value

    return parse


def parse_https_url(raw: str) -> str:
    value = raw.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"expected an https:// URL with a host, got {_shown_url(raw)}")
    try:
        _ = parts.port  # urlsplit only checks the port when asked
    except ValueError:
        raise ValueError(f"expected an https:// URL with a valid port, got {_shown_url(raw)}") from None
    return value


def parse_broker(raw: str) -> str:
    """mqtts://host[:port], mqtt://host[:port] or host[:port] (the grammar the MQTT transport connects by)."""
    value = raw.strip()
    try:
        broker_address(value)
    except ValueError as exc:
        raise ValueError(f"{exc}, got {shown_broker(raw)!r}") from None
    return value


def parse_proxy(raw: str) -> str:
    value = raw.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https", "socks5", "socks5h") or not parts.hostname:
        raise ValueError("expected a proxy URL such as http://proxy.example.com:3128")
    return value


def parse_topic(raw: str) -> str:
    value = raw.strip()
    if not value or "#" in value or "+" in value:
        raise ValueError(f"expected an MQTT topic name without wildcards, got {_shown(raw)}")
    return value


def host_of_url(url: str) -> str:
    probe = url if "://" in url else f"mqtt://{url}"
    return urlsplit(probe).hostname or ""


def parse_path(raw: str) -> str:
    value = raw.strip()
    if not value.startswith("/"):
        raise ValueError(f"expected a URL path starting with '/', got {_shown(raw)}")
    return value
