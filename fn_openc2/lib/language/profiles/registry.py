"""The actuator-profile registry: what the core consults for extension members.

A profile is data plus plain functions, so a new one is a new module that
calls :func:`register_profile`; nothing in the core changes.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from ..addresses import AddressHook
from ..constants import NSID_MAX_LENGTH, NSID_MIN_LENGTH
from ..errors import Issue

#: A cross-field rule: gets the command as JSON, returns the issues it finds.
CommandRule = Callable[[Mapping[str, Any]], Iterable[Issue]]


@dataclass(frozen=True)
class Profile:
    """One actuator profile's extensions of the language (LS v2.0 section 3.1.4).

    ``pairs`` maps each action the profile defines to the targets it takes;
    an extended target is written "<nsid>:<name>" (e.g. "slpf:rule_number").
    ``addresses`` yields the places (``addresses.Address``) the profile's own
    members name, so a policy such as the producer's guard sees them without
    knowing the profile's field names.
    """

    nsid: str
    title: str
    pairs: Mapping[str, tuple[str, ...]]
    target_model: type[BaseModel] | None = None
    args_model: type[BaseModel] | None = None
    results_model: type[BaseModel] | None = None
    rules: tuple[CommandRule, ...] = field(default=())
    addresses: AddressHook | None = None

    def allows(self, action: str, target: str) -> bool:
        """Whether ``action target`` is a pair this profile defines."""
        return target in self.pairs.get(action, ())


_REGISTRY: dict[str, Profile] = {}


def register_profile(profile: Profile, *, replace: bool = False) -> Profile:
    """Make ``profile`` known to the core; a second registration of the same nsid needs ``replace``."""
    if not NSID_MIN_LENGTH <= len(profile.nsid) <= NSID_MAX_LENGTH:
        raise ValueError(f"profile nsid {profile.nsid!r} must be {NSID_MIN_LENGTH}..{NSID_MAX_LENGTH} characters "
                         "(LS v2.0 section 3.4.2.13)")
    if profile.nsid in _REGISTRY and not replace and _REGISTRY[profile.nsid] is not profile:
        raise ValueError(f"profile {profile.nsid!r} is already registered")
    _REGISTRY[profile.nsid] = profile
    return profile


def unregister_profile(nsid: str) -> None:
    """Forget a profile (tests and plug-in reloads)."""
    _REGISTRY.pop(nsid, None)


def get_profile(nsid: str) -> Profile | None:
    """The registered profile with this nsid, or None."""
    return _REGISTRY.get(nsid)


def registered_profiles() -> tuple[str, ...]:
    """The nsids of every registered profile."""
    return tuple(_REGISTRY)
