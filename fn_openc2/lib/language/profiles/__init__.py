"""Actuator-profile extensions. ``slpf``, ``pf`` and ``er`` ship and are
registered when this package is imported.

Sources (details in each module's docstring): slpf follows SLPF v1.0 CS01
(2019), pf follows PF v1.0 CSD02 (2024), er follows the unpublished ER
working draft of oasis-tcs/openc2-ap-er (no committee specification exists).
"""
from __future__ import annotations

from . import er, pf, slpf  # noqa: F401  (registration side effect)
from .registry import CommandRule, Profile, get_profile, register_profile, registered_profiles, unregister_profile

__all__ = [
    "CommandRule", "Profile", "get_profile", "register_profile", "registered_profiles", "unregister_profile",
]
