"""Closed vocabularies of OpenC2 Language Specification v2.0 (sections 3.3-3.4).

The one source of their spelling: each closed list is written once, as a
``Literal`` where the type checker and the models need it, and the tuples
everyone else iterates are derived from it (``get_args``), so models, rules,
builders, profiles, the consumer, the CLI and the SOAR inputs agree.
"""
from __future__ import annotations

from typing import Final, Literal, get_args

#: Section 3.3.1.1 - the list SHALL NOT be extended by profiles.
ActionName = Literal[
    "scan", "locate", "query", "deny", "contain", "allow", "start", "stop",
    "restart", "cancel", "set", "update", "redirect", "create", "delete",
    "detonate", "restore", "copy", "investigate", "remediate",
]
ACTIONS: Final[tuple[str, ...]] = get_args(ActionName)

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

#: Section 3.4.2.4 (Feature): what ``query features`` may ask for.
FeatureName = Literal["versions", "profiles", "pairs", "rate_limit"]
FEATURES: Final[tuple[str, ...]] = get_args(FeatureName)

#: Section 3.4.2.16
ResponseTypeName = Literal["none", "ack", "status", "complete"]
RESPONSE_TYPES: Final[tuple[str, ...]] = get_args(ResponseTypeName)

#: Section 3.4.2.11 (names; the enumeration is open-ended in IANA terms but
#: the language defines only these names)
L4ProtocolName = Literal["icmp", "tcp", "udp", "ipv6_icmp", "sctp"]
L4_PROTOCOLS: Final[tuple[str, ...]] = get_args(L4ProtocolName)

#: Section 3.4.2.13 (Namespace Identifier): 1..16 characters.
NSID_MIN_LENGTH: Final[int] = 1
NSID_MAX_LENGTH: Final[int] = 16

#: Section 3.3.2.1
StatusCodeValue = Literal[102, 200, 400, 401, 403, 404, 500, 501, 503]
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
#: (the core results are exactly the features a consumer answers with)
CORE_RESULTS: Final[frozenset[str]] = frozenset(FEATURES)

#: I-JSON (RFC 7493 section 2.2) safe integer bound.
MAX_SAFE_INT: Final[int] = 2**53 - 1

