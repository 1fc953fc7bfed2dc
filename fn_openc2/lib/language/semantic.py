"""Semantic value checks of LS v2.0 section 3.1.2 / 3.1.5 for string-typed values.

Each ``check_*`` returns the value (IPv6 text in its canonical form) or raises
``ValueError`` with a message that says what was expected. They are written for the common (valid)
case to be cheap: one compiled regex where possible.
"""
from __future__ import annotations

import ipaddress
import re

import idna

# --- IP ---------------------------------------------------------------------
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")
_IPV4_NET = re.compile(rf"({_OCTET}(?:\.{_OCTET}){{3}})(?:/(3[0-2]|[12]?[0-9]))?")
#: The same languages for pydantic-core's Rust regex (anchored; ASCII classes only), so
#: valid values are accepted without a Python call; check_* then explain a failure.
IPV4_NET_PATTERN = rf"^{_OCTET}(?:\.{_OCTET}){{3}}(?:/(?:3[0-2]|[12]?[0-9]))?$"
_RUST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOSTNAME_PATTERN = rf"^{_RUST_LABEL}(?:\.{_RUST_LABEL})*$"


def check_ipv4_net(value: str) -> str:
    if _IPV4_NET.fullmatch(value) is None:
        addr, _, prefix = value.partition("/")
        if _IPV4.fullmatch(addr) is None:
            raise ValueError(f"expected an IPv4 address in dotted-quad form (RFC 2673), got {value!r}")
        raise ValueError(f"expected an IPv4 prefix length 0..32 without leading zeros, got {prefix!r} in {value!r}")
    return value


_V6_CACHE: dict[str, str] = {}


def canonical_ipv6(text: str) -> str:
    """RFC 5952 text of an IPv6 address in any RFC 4291 section 2.2 form (raises ValueError otherwise)."""
    if "%" in text:
        raise ValueError(f"expected an IPv6 address without a zone index, got {text!r}")
    addr = ipaddress.IPv6Address(text)
    mapped = addr.ipv4_mapped
    if mapped is not None:  # RFC 5952 section 5: mapped addresses keep the dotted quad
        return f"::ffff:{mapped}"
    return addr.compressed


def check_ipv6_net(value: str) -> str:
    """An IPv6 address or range in any RFC 4291 section 2.2/2.3 text form, returned in
    the RFC 5952 canonical form (lower case, shortest, "::" for the longest zero run).

    RFC 5952 section 4 asks every reader to accept all RFC 4291 forms (upper case,
    leading zeros, uncompressed, embedded IPv4); what we write is canonical.
    """
    cached = _V6_CACHE.get(value)
    if cached is not None:
        return cached
    addr, slash, prefix = value.partition("/")
    try:
        canonical = canonical_ipv6(addr)
    except ValueError:
        raise ValueError(f"expected an IPv6 address (RFC 4291 text form), got {value!r}") from None
    if slash and not (prefix.isdigit() and prefix.isascii() and str(int(prefix)) == prefix and int(prefix) <= 128):
        raise ValueError(f"expected an IPv6 prefix length 0..128 without leading zeros, got {prefix!r} in {value!r}")
    canonical += slash + prefix
    if len(_V6_CACHE) < 4096:
        _V6_CACHE[value] = canonical
    return canonical


# --- names --------------------------------------------------------------------
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def check_hostname(value: str) -> str:
    """RFC 1034 section 3.1 / RFC 1123 section 2.1 host name (no trailing dot)."""
    if not value or len(value) > 253:
        raise ValueError(f"expected a hostname of 1..253 characters (RFC 1034), got {value!r}"
                         + (f" ({len(value)} characters: at most 253)" if value else ""))
    for label in value.split("."):
        if not label:
            raise ValueError(f"expected a hostname (RFC 1034), got {value!r}: it has an empty label "
                             "(two dots in a row, or a leading or trailing dot)")
        if _LABEL.fullmatch(label) is None:
            raise ValueError(
                f"expected a hostname (RFC 1034: dot-separated labels of 1..63 letters, digits or '-',"
                f" not starting or ending with '-'), got {value!r}: label {label!r} is not one"
                + (" (at most 63 characters)" if len(label) > 63 else "")
            )
    return check_top_label(value)


def check_top_label(value: str) -> str:
    """RFC 1123 section 2.1: a host name's top-level label is not all digits ("1.2.3.4" is an address)."""
    if value[-1:].isdigit() and value.rsplit(".", 1)[-1].isdigit():
        raise ValueError(f"expected a hostname, got {value!r}: it looks like an IP address, not a name "
                         "(RFC 1123 section 2.1: the top-level label is not all digits)")
    return value


def check_idn_hostname(value: str) -> str:
    """RFC 5890 internationalized host name: every label a valid IDNA2008 U- or A-label."""
    if not value:
        raise ValueError("expected an internationalized hostname (RFC 5890), got ''")
    try:
        ascii_form = idna.encode(value, uts46=False).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise ValueError(f"expected an internationalized hostname (RFC 5890), got {value!r}: {exc}") from None
    try:
        check_hostname(ascii_form)
    except ValueError:
        raise ValueError(f"expected an internationalized hostname (RFC 5890), got {value!r}") from None
    return value


_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_DOT_ATOM = rf"{_ATEXT}+(?:\.{_ATEXT}+)*"
_QUOTED = r'"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"'
_LOCAL = re.compile(rf"{_DOT_ATOM}|{_QUOTED}")
_DOMAIN_LITERAL = re.compile(r"\[[\x21-\x5a\x5e-\x7e]*\]")
_U_ATEXT = r"(?:[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]|[^\x00-\x7f])"
_U_LOCAL = re.compile(rf"{_U_ATEXT}+(?:\.{_U_ATEXT}+)*|{_QUOTED}")


def _split_email(value: str, kind: str) -> tuple[str, str]:
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        raise ValueError(f"expected {kind} of the form local@domain, got {value!r}")
    return local, domain


def check_email(value: str) -> str:
    """RFC 5322 section 3.4.1 addr-spec (ASCII only)."""
    local, domain = _split_email(value, "an email address (RFC 5322)")
    if _LOCAL.fullmatch(local) is None or len(local) > 64:
        raise ValueError(f"expected an email address (RFC 5322), local part {local!r} is not valid in {value!r}")
    if _DOMAIN_LITERAL.fullmatch(domain) is None:
        try:
            check_hostname(domain)
        except ValueError:
            raise ValueError(
                f"expected an email address (RFC 5322), domain {domain!r} is not valid in {value!r}"
            ) from None
    return value


def check_idn_email(value: str) -> str:
    """RFC 6531 internationalized address: UTF-8 local part, IDN domain."""
    local, domain = _split_email(value, "an internationalized email address (RFC 6531)")
    if _U_LOCAL.fullmatch(local) is None:
        raise ValueError(
            f"expected an internationalized email address (RFC 6531), local part {local!r} is not valid in {value!r}"
        )
    if _DOMAIN_LITERAL.fullmatch(domain) is None:
        try:
            check_idn_hostname(domain)
        except ValueError:
            raise ValueError(
                f"expected an internationalized email address (RFC 6531), domain {domain!r} is not valid in {value!r}"
            ) from None
    return value


# --- URI / IRI ----------------------------------------------------------------
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_URI_REST = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?\[\]]|%[0-9A-Fa-f]{2})*")
# RFC 3987 ucschar / iprivate: any non-ASCII character except controls,
# surrogates and the non-characters.
_IRI_REST = re.compile(
    r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?\[\]\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef\U00010000-\U0010fffd\ue000-\uf8ff]"
    r"|%[0-9A-Fa-f]{2})*"
)


_IP_LITERAL = re.compile(r"\[[0-9A-Fa-f:.]+\](?::[0-9]*)?|\[v[0-9A-Fa-f]+\.[^\]]+\](?::[0-9]*)?")
_BRACKETS = "'[' and ']' are only allowed around an IP literal"


def _check_resource(value: str, rest_re: re.Pattern[str], kind: str) -> str:
    scheme, colon, rest = value.partition(":")
    if not colon or _SCHEME.fullmatch(scheme) is None:
        raise ValueError(f"expected an absolute {kind} with a scheme (e.g. 'https:'), got {value!r}")
    body, hash_, fragment = rest.partition("#")
    if rest_re.fullmatch(body) is None or (hash_ and rest_re.fullmatch(fragment) is None) or "#" in fragment:
        raise ValueError(
            f"expected an absolute {kind}, got {value!r}: it contains characters that must be percent-encoded"
        )
    if body.startswith("//"):
        authority = body[2:].split("/", 1)[0].split("?", 1)[0]
        host = authority.rpartition("@")[2]
        if ("[" in host or "]" in host) and _IP_LITERAL.fullmatch(host) is None:
            raise ValueError(f"expected an absolute {kind}, got {value!r}: malformed IP literal in authority")
        if "[" in body[2 + len(authority):] or "]" in body[2 + len(authority):]:
            raise ValueError(f"expected an absolute {kind}, got {value!r}: {_BRACKETS}")
    elif "[" in body or "]" in body:
        raise ValueError(f"expected an absolute {kind}, got {value!r}: {_BRACKETS}")
    return value


def check_uri(value: str) -> str:
    """RFC 3986 absolute URI (scheme required, only allowed characters)."""
    return _check_resource(value, _URI_REST, "URI (RFC 3986)")


def check_iri(value: str) -> str:
    """RFC 3987 absolute IRI."""
    return _check_resource(value, _IRI_REST, "IRI (RFC 3987)")


# --- binary ---------------------------------------------------------------------
_B64URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")


def check_base64url(value: str) -> str:
    """RFC 4648 section 5 base64url (padding optional)."""
    stripped = value.rstrip("=")
    if _B64URL.fullmatch(value) is None or len(stripped) % 4 == 1 or (
        len(value) != len(stripped) and len(value) % 4 != 0
    ):
        raise ValueError(f"expected base64url-encoded binary (RFC 4648 section 5), got {value[:40]!r}")
    return value
