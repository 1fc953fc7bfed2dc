"""Which consumers a command goes to: named, default, or "auto" by features.

The one place that decides what a consumer selection means (the CLI, the
Producer and the SOAR functions all read it here): no names or "default" is
``[fn_openc2] default_consumers``, "auto" is every consumer whose features
list the command's pair, anything else is a list of configured names, and an
unknown name is a RoutingError worded once.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

from fn_openc2.lib.producer.capabilities import CapabilityCache
from fn_openc2.lib.producer.errors import RoutingError
from fn_openc2.lib.producer.settings import AppSettings, known_consumers

AUTO: Literal["auto"] = "auto"
DEFAULT: Literal["default"] = "default"
#: The words a caller may give instead of consumer names.
WORDS = (DEFAULT, AUTO)

Selection = list[str] | Literal["default", "auto"]  # pylint: disable=unsupported-binary-operation  # runtime union: Python 3.11 (python_requires); the SDK's pylintrc assumes py-version 3.6


def consumer_names(consumers: Sequence[str] | str | None) -> list[str]:
    """The names as given: a comma-separated string or a sequence, blanks dropped, order kept, once each."""
    if isinstance(consumers, str):
        names = [n.strip() for n in consumers.split(",")]
    else:
        names = [str(n).strip() for n in consumers or ()]
    return list(dict.fromkeys(n for n in names if n))


def unknown_consumers(settings: AppSettings, names: Iterable[str]) -> RoutingError | None:
    """The error for names that are not configured consumers (None when all are)."""
    unknown = [n for n in names if n not in settings.consumers]
    if not unknown:
        return None
    return RoutingError(f"unknown consumer{'s' if len(unknown) > 1 else ''} "
                        f"{', '.join(repr(n) for n in unknown)} (known: {known_consumers(settings.consumers)}; "
                        f"or {', '.join(repr(w) for w in WORDS)})")


def select_consumers(settings: AppSettings, consumers: Sequence[str] | str | None) -> Selection:
    """What the caller asked for, checked before anything is built: DEFAULT, AUTO or known names.

    RoutingError names every unknown name (and what is known)."""
    names = consumer_names(consumers)
    if not names or names == [DEFAULT]:
        return DEFAULT
    if names == [AUTO]:
        return AUTO
    error = unknown_consumers(settings, names)
    if error is not None:
        raise error
    return names


def resolve_consumers(settings: AppSettings, consumers: Sequence[str] | str | None, *,
                      action: str, target_name: str, target_value: Any = None,
                      cache: CapabilityCache | None = None) -> list[str]:
    """The consumer names to send to, in a stable order; RoutingError when none fit."""
    chosen = select_consumers(settings, consumers)
    if chosen == DEFAULT:
        if not settings.producer.default_consumers:
            raise RoutingError("no consumer named and [fn_openc2] default_consumers is not set "
                               f"(known consumers: {known_consumers(settings.consumers)})")
        return list(settings.producer.default_consumers)
    if chosen == AUTO:
        return _auto(settings, cache or CapabilityCache(), action, target_name, target_value)
    return list(chosen)


def _auto(settings: AppSettings, cache: CapabilityCache, action: str, target_name: str,
          target_value: Any) -> list[str]:
    known = cache.known()
    chosen = [name for name in settings.consumers
              if name in known and known[name].supports(action, target_name, target_value)]
    if not chosen:
        asked = ", ".join(sorted(n for n in known if n in settings.consumers)) or "none"
        raise RoutingError(f"auto routing: no consumer's features list the pair {action} {target_name} "
                           f"(features known for: {asked}; run query features first)")
    return chosen
