"""Closed vocabularies of OpenC2 Language Specification v2.0 (sections 3.3-3.4).

Kept in one place so models, rules, builders and profiles agree on spelling.
"""
from __future__ import annotations

from typing import Final

#: Section 3.3.1.1 - the list SHALL NOT be extended by profiles.
ACTIONS: Final[tuple[str, ...]] = (
    "scan", "locate", "query", "deny", "contain", "allow", "start", "stop",
    "restart", "cancel", "set", "update", "redirect", "create", "delete",
    "detonate", "restore", "copy", "investigate", "remediate",
)

#: Section 3.3.1.2 - the targets defined by the language itself.
TARGETS: Final[tuple[str, ...]] = (
    "artifact", "command", "device", "domain_name", "email_addr", "features",
    "file", "idn_domain_name", "idn_email_addr", "ipv4_net", "ipv6_net",
    "ipv4_connection", "ipv6_connection", "iri", "mac_addr", "process", "uri",
)

#: Section 3.3.1.3 - profile names known to the language (the registry adds more).
PROFILE_NAMES: Final[tuple[str, ...]] = (
    "slpf", "sfpf", "sbom", "er", "hop", "av", "ids", "log", "swup", "pf", "pac",
)

#: Section 3.4.2.F
FEATURES: Final[tuple[str, ...]] = ("versions", "profiles", "pairs", "rate_limit")

#: Section 3.4.2.16
RESPONSE_TYPES: Final[tuple[str, ...]] = ("none", "ack", "status", "complete")

#: Section 3.4.2.11 (names; the enumeration is open-ended in IANA terms but
#: the language defines only these names)
L4_PROTOCOLS: Final[tuple[str, ...]] = ("icmp", "tcp", "udp", "ipv6_icmp", "sctp")

#: Section 3.3.2.1
STATUS_TEXT: Final[dict[int, str]] = {
    102: "Processing",
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    500: "Internal Error",
    501: "Not Implemented",
    503: "Service Unavailable",
}

#: Args fields defined by the language (section 3.3.1.4).
CORE_ARGS: Final[frozenset[str]] = frozenset(
    {"start_time", "stop_time", "duration", "response_requested", "comment"}
)

#: Results fields defined by the language (section 3.3.2.2).
CORE_RESULTS: Final[frozenset[str]] = frozenset({"versions", "profiles", "pairs", "rate_limit"})

#: I-JSON (RFC 7493 section 2.2) safe integer bound.
MAX_SAFE_INT: Final[int] = 2**53 - 1
