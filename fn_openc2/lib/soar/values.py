"""Value checks and normalisers for artifact values.

Each function takes the trimmed text of one artifact value and returns the
normalised form, or raises ValueError with a short phrase saying what is wrong
with the value (the caller adds which artifact type it was). They are kept apart
from the mapping table so the rules for "what is a hostname" live in one place.
"""
from __future__ import annotations

import ipaddress
import re
import string
import urllib.parse
from collections.abc import Callable
from email.utils import parseaddr

from fn_openc2.lib.language import L4_PROTOCOLS
from fn_openc2.lib.language.semantic import (check_email, check_hostname, check_idn_email, check_idn_hostname,
                                              check_iri, check_uri)

_HEX = set(string.hexdigits)
_MAC_LENGTHS = (12, 16)  # EUI-48, EUI-64 in hex digits
_PORTED = tuple(p for p in L4_PROTOCOLS if "icmp" not in p)   # the language's layer 4 protocols with ports


def is_ascii(text: str) -> bool:
    return text.isascii()


def no_control(text: str) -> str:
    """Reject empty values and control characters (they never belong in a target)."""
    if not text:
        raise ValueError("the value is empty")
    bad = [c for c in text if ord(c) < 0x20 or ord(c) == 0x7F]
    if bad:
        raise ValueError(f"it contains the control character {bad[0]!r}")
    return text


def ip_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    if "/" in text:
        raise ValueError(f"{text!r} has a prefix length; use the 'Network CIDR Range' type for ranges")
    if "%" in text:
        raise ValueError(f"{text!r} has an IPv6 zone index, which has no meaning outside its host")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an IPv4 or IPv6 address") from None


def ip_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """A CIDR block; host bits must be zero so the range is what the analyst meant."""
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError as err:
        if "host bits set" in str(err):
            loose = ipaddress.ip_network(text, strict=False)
            raise ValueError(f"{text!r} has host bits set; the network is {loose.with_prefixlen}") from None
        raise ValueError(f"{text!r} is not an IPv4 or IPv6 CIDR range") from None


def hostname(text: str) -> str:
    """An ASCII DNS name, lower-cased, without a trailing dot; checked by the language's own
    rule (RFC 1034/1123), so "valid artifact" and "valid domain_name target" are one thing."""
    name = text[:-1] if text.endswith(".") else text
    if not name:
        raise ValueError("the name is empty")
    check_hostname(name)
    return name.lower()


def idn_hostname(text: str) -> str:
    """A non-ASCII DNS name, checked by the language's own rule (IDNA2008, RFC 5890).

    Python's "idna" codec is IDNA2003 and accepts names the language then refuses
    (e.g. '¡'); one rule keeps "valid artifact" and "valid target" the same thing."""
    name = text[:-1] if text.endswith(".") else text
    try:
        check_idn_hostname(name)
    except ValueError as err:
        raise ValueError(f"{text!r} is not a valid internationalized domain name ({err})") from None
    return name


def any_hostname(text: str) -> tuple[bool, str]:
    """(is_idn, normalised name) for an ASCII or internationalized name."""
    if is_ascii(text):
        return False, hostname(text)
    return True, idn_hostname(text)


def email(text: str) -> tuple[bool, str]:
    """(is_idn, address); a 'Name <addr>' form is reduced to the address. The plain
    mistakes are named here; the address is then held to the language's own rule
    (RFC 5322 / RFC 6531), so "valid artifact" and "valid email_addr target" are one thing."""
    address = text
    if "<" in text:
        _, address = parseaddr(text)
        if not address:
            raise ValueError(f"{text!r} is not an email address")
    if any(c.isspace() for c in address):
        raise ValueError(f"{address!r} contains white space")
    local, sep, domain = address.rpartition("@")
    if not sep or not local or not domain:
        raise ValueError(f"{address!r} is not of the form local-part@domain")
    if len(local) > 64:
        raise ValueError(f"the local part of {address!r} is longer than 64 characters")
    if not (domain.startswith("[") and domain.endswith("]")):     # a domain literal is the language's to judge
        try:
            any_hostname(domain)
        except ValueError as err:
            raise ValueError(f"the domain of {address!r} is not valid: {err}") from None
    return _language_rule(address, check_email, check_idn_email)


def uri(text: str) -> tuple[bool, str]:
    """(is_iri, value): an absolute URI with a scheme; hierarchical ones need a host; then the
    language's own rule (RFC 3986 / RFC 3987), as for a uri / iri target."""
    if any(c.isspace() for c in text):
        raise ValueError(f"{text!r} contains white space")
    parts = urllib.parse.urlsplit(text)
    if not parts.scheme or not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*$", parts.scheme):
        raise ValueError(f"{text!r} has no scheme (such as https://)")
    if parts.scheme.lower() in ("http", "https", "ftp", "ftps", "ws", "wss") and not parts.hostname:
        raise ValueError(f"{text!r} has no host")
    return _language_rule(text, check_uri, check_iri)


def _language_rule(value: str, ascii_rule: Callable[[str], object],
                   unicode_rule: Callable[[str], object]) -> tuple[bool, str]:
    """(not ASCII, value) once the language's own rule for that form accepts it."""
    wide = not is_ascii(value)
    try:
        (unicode_rule if wide else ascii_rule)(value)
    except ValueError as err:
        raise ValueError(str(err)) from None
    return wide, value


def mac(text: str) -> str:
    """EUI-48 or EUI-64 in any common notation -> lower-case colon form."""
    digits = re.sub(r"[:\-.]", "", text)
    if len(digits) not in _MAC_LENGTHS or not set(digits) <= _HEX:
        raise ValueError(f"{text!r} is not a MAC address (12 or 16 hex digits, separated by ':', '-' or '.')")
    separators = set(re.findall(r"[:\-.]", text))
    if len(separators) > 1:
        raise ValueError(f"{text!r} mixes separators")
    digits = digits.lower()
    return ":".join(digits[i:i + 2] for i in range(0, len(digits), 2))


def hex_digest(text: str, length: int) -> str:
    """A hash as OpenC2 Binary /x: upper-case Base16 (RFC 4648 section 8)."""
    if len(text) != length or not set(text) <= _HEX:
        raise ValueError(f"{text!r} is not {length} hexadecimal digits")
    return text.upper()


def port(text: str) -> tuple[int, str | None]:
    """'443' or '443/tcp' -> (443, 'tcp')."""
    number, _, protocol_text = text.partition("/")
    protocol = protocol_text.strip().lower() or None
    if not number.strip().isdigit():
        raise ValueError(f"{text!r} is not a port number (optionally followed by /tcp, /udp or /sctp)")
    value = int(number)
    if not 0 <= value <= 65535:
        raise ValueError(f"port {value} is outside 0..65535")
    if protocol is not None and protocol not in _PORTED:
        raise ValueError(f"protocol {protocol!r} has no ports; use {', '.join(_PORTED[:-1])} or {_PORTED[-1]}")
    return value, protocol


def file_name(text: str) -> str:
    if "/" in text or "\\" in text:
        raise ValueError(f"{text!r} contains a path separator; use the 'File Path' type for paths")
    return text


def absolute_path(text: str) -> str:
    """POSIX (/x), Windows drive (C:\\x) or UNC (\\\\host\\share) absolute paths."""
    if text.startswith("/") or text.startswith("\\\\") or re.match(r"^[A-Za-z]:[\\/]", text):
        return text
    raise ValueError(f"{text!r} is not an absolute path (OpenC2 file.path is the absolute path)")
