"""The OpenC2 Language Specification v2.0 layer: types, validation with JSON
paths, I-JSON codec, actuator-profile extensions and builders.

Importable without SOAR; see doc/internals.md for the contract.

Adding an actuator profile
--------------------------
A profile is data plus plain functions; the core (models, codec, rules,
builders) never names one. To add one:

1. Write a module (e.g. ``profiles/acme.py``, or anywhere in your own code)
   with pydantic models for what the profile puts under its nsid: the
   target Choice (``{"acme": {"door": ...}}``), the args Map
   (``"args": {"acme": {...}}``) and the results Map. Derive them from
   ``base.ChoiceModel`` / ``base.NonEmptyModel`` and annotate fields with
   ``types.Expect`` so errors say what was expected.
2. Write its cross-field rules as functions ``rule(command_json) ->
   list[Issue]``; ``profiles.common`` builds the usual ones from tables
   (``argument_matrix``, ``response_values``, ``required_argument``).
3. Call ``register_profile(Profile(nsid=..., title=..., pairs={action:
   (targets, ...)}, target_model=..., args_model=..., results_model=...,
   rules=(...)))`` at import time; extended targets are written
   ``"nsid:name"`` in ``pairs``. The shipped ``slpf``, ``pf`` and ``er``
   are registered this way by ``profiles/__init__.py``.
4. If the profile's members name places (addresses, hosts, devices, named
   networks), pass ``addresses=hook``: a function ``hook(command_json) ->
   Iterable[addresses.Address]`` saying where they are, so the producer's
   policy guard judges them without knowing the field names
   (``Command.addresses()`` returns them; see ``pf_addresses`` and
   ``er_addresses``).

From then on ``parse_command`` validates ``target.<nsid>``, ``args.<nsid>``
and ``results.<nsid>`` against those models, checks the action/target pair
and runs the rules whenever a command names the profile or uses its
namespace. ``unregister_profile(nsid)`` removes it again.
tests/language/test_profiles.py (test_a_new_profile_plugs_in_without_core_changes)
does exactly this with a test-only profile.
"""
from __future__ import annotations

from .build import build_command, build_response, encode, query_features, read_command, to_dict
from .codec import dumps, loads
from .command import Args, Command, Target, requested_response
from .constants import ACTIONS, FEATURES, L4_PROTOCOLS, PROFILE_NAMES, RESPONSE_TYPES, STATUS_TEXT, TARGETS
from .errors import Issue, OpenC2ValidationError
from .message import Body, Event, Headers, Message, OpenC2Content
from .profiles import Profile, get_profile, register_profile, registered_profiles, unregister_profile
from .response import Response, Results
from .rules import extended_target_name
from .targets import Artifact, Device, File, Hashes, IPv4Connection, IPv6Connection, Payload, Process
from .validate import (
    Review,
    check_command,
    check_event,
    check_message,
    check_response,
    parse_command,
    parse_event,
    parse_message,
    parse_response,
    review,
)

__all__ = [
    "ACTIONS", "FEATURES", "L4_PROTOCOLS", "PROFILE_NAMES", "RESPONSE_TYPES", "STATUS_TEXT", "TARGETS",
    "Args", "Artifact", "Body", "Command", "Device", "Event", "File", "Hashes", "Headers", "IPv4Connection",
    "IPv6Connection", "Issue", "Message", "OpenC2Content", "OpenC2ValidationError", "Payload", "Process",
    "Profile", "Response", "Results", "Review", "Target",
    "build_command", "build_response", "check_command", "check_event", "check_message", "check_response",
    "dumps", "encode", "extended_target_name", "get_profile", "loads", "parse_command", "parse_event",
    "parse_message", "parse_response", "query_features", "read_command", "register_profile",
    "registered_profiles", "requested_response", "review", "to_dict", "unregister_profile",
]
