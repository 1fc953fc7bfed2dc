"""The OpenC2 Language Specification v2.0 layer: types, validation with JSON
paths, I-JSON codec, actuator-profile extensions and builders.

Importable without SOAR; see docs/internals.md for the contract.
"""
from __future__ import annotations

from .build import build_command, build_response, encode, query_features, read_command, to_dict
from .codec import dumps, loads
from .command import Args, Command, Target
from .constants import ACTIONS, FEATURES, L4_PROTOCOLS, PROFILE_NAMES, RESPONSE_TYPES, STATUS_TEXT, TARGETS
from .errors import Issue, OpenC2ValidationError
from .message import Body, Event, Headers, Message, OpenC2Content
from .profiles import Profile, get_profile, register_profile, registered_profiles, unregister_profile
from .response import Response, Results
from .rules import extended_target_name
from .targets import Artifact, Device, File, Hashes, IPv4Connection, IPv6Connection, Payload, Process
from .validate import (
    check_command, check_event, check_message, check_response, parse_command, parse_event, parse_message,
    parse_response,
)

__all__ = [
    "ACTIONS", "FEATURES", "L4_PROTOCOLS", "PROFILE_NAMES", "RESPONSE_TYPES", "STATUS_TEXT", "TARGETS",
    "Args", "Artifact", "Body", "Command", "Device", "Event", "File", "Hashes", "Headers", "IPv4Connection",
    "IPv6Connection", "Issue", "Message", "OpenC2Content", "OpenC2ValidationError", "Payload", "Process",
    "Profile", "Response", "Results", "Target",
    "build_command", "build_response", "check_command", "check_event", "check_message", "check_response",
    "dumps", "encode", "extended_target_name", "get_profile", "loads", "parse_command", "parse_event",
    "parse_message", "parse_response", "query_features", "read_command", "register_profile",
    "registered_profiles", "to_dict", "unregister_profile",
]
