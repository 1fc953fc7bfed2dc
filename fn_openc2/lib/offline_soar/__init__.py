"""Offline SOAR: run the app's real function components in the real
resilient-circuits runtime against an in-memory SOAR (tests, ``fn-openc2 demo``).

``mock.OfflineSoar`` is the REST stand-in (``[resilient] resilient_mock``),
``store.SoarStore`` its inspectable state, ``runner.CircuitsApp`` starts the
app outside pytest and calls functions by name.
"""
from __future__ import annotations

from .store import DEFAULT_ORG, SEED_ENV, SoarStore, SoarStoreError, get_store

__all__ = ["DEFAULT_ORG", "SEED_ENV", "SoarStore", "SoarStoreError", "get_store"]
