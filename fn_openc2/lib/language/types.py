"""Annotated primitive types of LS v2.0 section 3.4.2, each with the text an
error message uses to say what was expected (:class:`Expect`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args

from pydantic import AfterValidator, Field, GetCoreSchemaHandler, StrictFloat, StrictInt, ValidationInfo
from pydantic_core import CoreSchema, core_schema

from . import semantic
from .constants import (
    FEATURES,
    L4_PROTOCOLS,
    NSID_MAX_LENGTH,
    NSID_MIN_LENGTH,
    RESPONSE_TYPES,
    ActionName,
    FeatureName,
    L4ProtocolName,
    ResponseTypeName,
    StatusCodeValue,
)


@dataclass(frozen=True)
class Expect:
    """Human wording of a type's domain, read back when an error is reported.

    ``explain``: for a type checked by a pattern in pydantic-core, the Python check
    that says precisely what is wrong with a value the pattern refused."""

    text: str
    explain: Callable[[str], object] | None = None


Action = Annotated[ActionName, Expect("one of the 20 actions of LS v2.0 section 3.3.1.1")]
Feature = Annotated[FeatureName, Expect(f"one of {', '.join(FEATURES)}")]
ResponseType = Annotated[ResponseTypeName, Expect(f"one of {', '.join(RESPONSE_TYPES)}")]
L4Protocol = Annotated[L4ProtocolName, Expect(f"one of {', '.join(L4_PROTOCOLS)}")]


@dataclass(frozen=True)
class IntegerOnly:
    """A JSON integer before anything else: ``Literal[200]`` alone compares by value, so
    ``200.0`` would pass; this puts pydantic-core's strict int check in front (no Python call)."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.chain_schema([core_schema.int_schema(strict=True), handler(source)])


StatusCode = Annotated[
    StatusCodeValue,
    IntegerOnly(),
    Expect(f"a status code integer: one of {', '.join(map(str, get_args(StatusCodeValue)))}"),
]

_SAFE = 2**53 - 1  # I-JSON (RFC 7493 section 2.2) keeps integers exact in a double
NonNegInt = Annotated[int, Field(ge=0, le=_SAFE), Expect("an integer 0..2**53-1")]
DateTime = Annotated[
    int, Field(ge=0, le=_SAFE), Expect("a Date-Time: integer milliseconds since 1970-01-01 UTC, 0..2**53-1")
]
Duration = Annotated[int, Field(ge=0, le=_SAFE), Expect("a Duration: integer milliseconds 0..2**53-1")]
Port = Annotated[int, Field(ge=0, le=65535), Expect("an integer 0..65535")]


def _finite_exact(value: int | float) -> int | float:
    """No NaN/Infinity (not JSON) and no integer a double cannot hold exactly."""
    if value != value or value in (float("inf"), float("-inf")) or (type(value) is int and value > _SAFE):
        raise ValueError(f"expected a finite number >= 0 (integers up to 2**53-1), got {value}")
    return value


Number = Annotated[
    Union[StrictInt, StrictFloat], Field(ge=0), AfterValidator(_finite_exact), Expect("a finite number >= 0")
]

Nsid = Annotated[
    str,
    Field(min_length=NSID_MIN_LENGTH, max_length=NSID_MAX_LENGTH),
    Expect(f"a namespace identifier of {NSID_MIN_LENGTH}..{NSID_MAX_LENGTH} characters"),
]
Version = Annotated[
    str, Field(pattern=r"^[0-9]+\.[0-9]+$"), Expect("a version 'Major.Minor' of two integers, e.g. '2.0'")
]
CommandId = Annotated[
    str, Field(pattern=r"^\S{0,36}$"), Expect("a Command-ID: 0..36 characters without whitespace")
]
Signature = Annotated[
    str,
    Field(pattern=r"^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$"),
    Expect("a JWS compact serialization with detached content, '<protected header>..<signature>' "
           "(LS 3.3.4, RFC 7515 appendix F)"),
]
MacAddr = Annotated[
    str,
    Field(pattern=r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}((:[0-9A-Fa-f]{2}){2})?$"),
    Expect("an EUI-48 or EUI-64 MAC address in colon hexadecimal, e.g. '00:1b:63:84:45:e6'"),
]
Md5 = Annotated[str, Field(pattern=r"^[0-9A-Fa-f]{32}$"), Expect("an MD5 hash: 32 hex digits")]
Sha1 = Annotated[str, Field(pattern=r"^[0-9A-Fa-f]{40}$"), Expect("a SHA1 hash: 40 hex digits")]
Sha256 = Annotated[str, Field(pattern=r"^[0-9A-Fa-f]{64}$"), Expect("a SHA256 hash: 64 hex digits")]

IPv4Net = Annotated[
    str, Field(pattern=semantic.IPV4_NET_PATTERN),
    Expect("an IPv4 address with optional /prefix 0..32", explain=semantic.check_ipv4_net),
]
#: Set in a validation context by the IPv6 check when it rewrote text into the canonical form.
REWRITTEN = "rewritten"


def read_ipv6_net(value: str, info: ValidationInfo) -> str:
    """Any RFC 4291 text in, the RFC 5952 form kept; a caller that passed a dict as
    validation context learns that the text changed (extension maps are stored as JSON)."""
    canonical = semantic.check_ipv6_net(value)
    if canonical != value and isinstance(info.context, dict):
        info.context[REWRITTEN] = True
    return canonical


IPv6Net = Annotated[
    str, AfterValidator(read_ipv6_net), Expect("an IPv6 address (RFC 4291 text form) with optional /prefix 0..128")
]
Hostname = Annotated[
    str, Field(min_length=1, max_length=253, pattern=semantic.HOSTNAME_PATTERN),
    AfterValidator(semantic.check_top_label),
    Expect("a hostname (RFC 1034)", explain=semantic.check_hostname),
]
IdnHostname = Annotated[
    str, AfterValidator(semantic.check_idn_hostname), Expect("an internationalized hostname (RFC 5890)")
]
EmailAddr = Annotated[str, AfterValidator(semantic.check_email), Expect("an email address (RFC 5322)")]
IdnEmailAddr = Annotated[
    str, AfterValidator(semantic.check_idn_email), Expect("an internationalized email address (RFC 6531)")
]
Uri = Annotated[str, AfterValidator(semantic.check_uri), Expect("an absolute URI (RFC 3986)")]
Iri = Annotated[str, AfterValidator(semantic.check_iri), Expect("an absolute IRI (RFC 3987)")]
Binary = Annotated[str, AfterValidator(semantic.check_base64url), Expect("base64url-encoded binary")]
