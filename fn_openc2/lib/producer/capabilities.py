"""What each consumer said to ``query features``, for "auto" routing and rate limits."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from collections.abc import Mapping, Sequence
from typing import Any


@dataclass(frozen=True)
class Features:
    """One consumer's latest features answer (only what it reported)."""

    versions: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()
    pairs: dict[str, tuple[str, ...]] = field(default_factory=dict)
    rate_limit: float | None = None
    when: float = 0.0

    @classmethod
    def from_results(cls, results: Mapping[str, Any]) -> Features:
        pairs_raw = results.get("pairs") or {}
        pairs = {str(action): tuple(str(t) for t in targets)
                 for action, targets in pairs_raw.items() if isinstance(targets, (list, tuple))} \
            if isinstance(pairs_raw, Mapping) else {}
        rate = results.get("rate_limit")
        rate_limit = float(rate) if isinstance(rate, (int, float)) and not isinstance(rate, bool) and rate > 0 \
            else None
        return cls(versions=_names(results.get("versions")), profiles=_names(results.get("profiles")),
                   pairs=pairs, rate_limit=rate_limit, when=time.time())

    def supports(self, action: str, target_name: str, target_value: Any = None) -> bool:
        """Whether pairs list this action with this target.

        Profile-defined targets may be listed as the nsid ("slpf") or as
        "nsid:name" ("slpf:rule_number"); both forms match."""
        listed = self.pairs.get(action, ())
        if target_name in listed:
            return True
        if isinstance(target_value, Mapping) and len(target_value) == 1:
            inner = next(iter(target_value))
            return f"{target_name}:{inner}" in listed
        return False


def _names(value: Any) -> tuple[str, ...]:
    """A features list as names; anything but an array (a consumer's "slpf" string) gives none,
    never its characters."""
    return tuple(str(v) for v in value) if isinstance(value, (list, tuple)) else ()


def merge_results(results: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One features result for a consumer that answered with several responders
    (an MQTT topic reaching a fleet).

    Rule: the union. versions, profiles and each action's targets are what at
    least one responder reported, so "auto" routes a command to the topic when
    any responder there can carry it out (the others answer 501, which the
    outcome records per responder). rate_limit is the lowest reported, since
    every message on the topic reaches every responder."""
    if len(results) == 1:
        return dict(results[0])
    merged: dict[str, Any] = {}
    for key in ("versions", "profiles"):
        values = [v for r in results if isinstance(r.get(key), (list, tuple)) for v in r[key]]
        if any(key in r for r in results):
            merged[key] = list(dict.fromkeys(values))
    pairs: dict[str, list[Any]] = {}
    for r in results:
        if isinstance(r.get("pairs"), Mapping):
            for action, targets in r["pairs"].items():
                if isinstance(targets, (list, tuple)):
                    known = pairs.setdefault(action, [])
                    known.extend(t for t in targets if t not in known)
    if any("pairs" in r for r in results):
        merged["pairs"] = pairs
    rates = [r["rate_limit"] for r in results
             if isinstance(r.get("rate_limit"), (int, float)) and not isinstance(r.get("rate_limit"), bool)
             and r["rate_limit"] > 0]
    if rates:
        merged["rate_limit"] = min(rates)
    return merged


class CapabilityCache:
    """Thread-safe consumer name -> Features."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._features: dict[str, Features] = {}

    def update(self, consumer: str, results: Mapping[str, Any]) -> Features:
        """Merge a features answer: fields it did not report keep their last value."""
        new = Features.from_results(results)
        with self._lock:
            old = self._features.get(consumer)
            if old is not None:
                new = Features(versions=new.versions or old.versions, profiles=new.profiles or old.profiles,
                               pairs=new.pairs or old.pairs,
                               rate_limit=new.rate_limit if new.rate_limit is not None else old.rate_limit,
                               when=new.when)
            self._features[consumer] = new
        return new

    def get(self, consumer: str) -> Features | None:
        with self._lock:
            return self._features.get(consumer)

    def known(self) -> dict[str, Features]:
        with self._lock:
            return dict(self._features)
