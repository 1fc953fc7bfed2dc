"""Actuator-profile extensions. ``slpf``, ``pf`` and ``er`` ship and are
registered when this package is imported."""
from __future__ import annotations

from .registry import CommandRule, Profile, get_profile, register_profile, registered_profiles, unregister_profile
from . import er, pf, slpf  # noqa: E402,F401  (registration side effect)

__all__ = [
    "CommandRule", "Profile", "get_profile", "register_profile", "registered_profiles", "unregister_profile",
]
