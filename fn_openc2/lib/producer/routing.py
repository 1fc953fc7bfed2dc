"""Which consumers a command goes to: named, default, or "auto" by features."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fn_openc2.lib.producer.capabilities import CapabilityCache
from fn_openc2.lib.producer.config import Registry
from fn_openc2.lib.producer.errors import RoutingError

AUTO = "auto"
DEFAULT = "default"


def _known(registry: Registry) -> str:
    return ", ".join(sorted(registry.consumers)) or "none configured"


def resolve_consumers(registry: Registry, consumers: Sequence[str] | str | None, *,
                      action: str, target_name: str, target_value: Any = None,
                      cache: CapabilityCache | None = None) -> list[str]:
    """The consumer names to send to, in a stable order; RoutingError when none fit."""
    if isinstance(consumers, str):
        names = [n.strip() for n in consumers.split(",") if n.strip()]
    else:
        names = [str(n).strip() for n in consumers or () if str(n).strip()]
    if not names or names == [DEFAULT]:
        if not registry.producer.default_consumers:
            raise RoutingError("no consumer named and [fn_openc2] default_consumers is not set "
                               f"(known consumers: {_known(registry)})")
        return list(registry.producer.default_consumers)
    if names == [AUTO]:
        return _auto(registry, cache or CapabilityCache(), action, target_name, target_value)
    unknown = [n for n in names if n not in registry.consumers]
    if unknown:
        raise RoutingError(f"unknown consumer{'s' if len(unknown) > 1 else ''} "
                           f"{', '.join(repr(n) for n in unknown)} (known: {_known(registry)})")
    return list(dict.fromkeys(names))


def _auto(registry: Registry, cache: CapabilityCache, action: str, target_name: str, target_value: Any) -> list[str]:
    known = cache.known()
    chosen = [name for name in registry.consumers
              if name in known and known[name].supports(action, target_name, target_value)]
    if not chosen:
        asked = ", ".join(sorted(n for n in known if n in registry.consumers)) or "none"
        raise RoutingError(f"auto routing: no consumer's features list the pair {action} {target_name} "
                           f"(features known for: {asked}; run query features first)")
    return chosen
