"""Function inputs as SOAR delivers them -> typed values for the runner.

SOAR hands inputs over loosely: select values as strings, numbers as int or
str, text areas sometimes as ``{"format", "content"}``, date pickers as epoch
milliseconds. Every parser here names the input it read in its error, because
that name is what the playbook author sees in the function's form.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, UTC
from typing import Any

from fn_openc2.lib.errors import Issue, OpenC2Error
from fn_openc2.lib.language import FEATURES

DURATION_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_DURATION_PART = re.compile(r"(\d+)\s*(ms|s|m|h|d|w)", re.IGNORECASE)
_DURATION_WHOLE = re.compile(r"^(?:\s*\d+\s*(?:ms|s|m|h|d|w)\s*)+$", re.IGNORECASE)


class InputError(OpenC2Error, ValueError):
    """A function input that cannot be used; ``field`` is the input's name."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", issues=[Issue(field, message)])
        self.field = field
        self.message = message


def text(value: Any) -> str:
    """Trimmed text of an input; rich text ({"content": ...}) and None become plain strings."""
    if value is None:
        return ""
    if isinstance(value, dict) and "content" in value:
        value = value["content"]
    return str(value).strip()


def flag(field: str, value: Any, default: bool) -> bool:
    """A boolean input (SOAR gives bool; scripts may give "true"/"no")."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    word = text(value).lower()
    if word in ("true", "yes", "1", "on"):
        return True
    if word in ("false", "no", "0", "off"):
        return False
    raise InputError(field, f"{value!r} is not true or false")


def integer(field: str, value: Any) -> int | None:
    """A number input (incident and attachment ids)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InputError(field, f"{value!r} is not a number")
    if isinstance(value, int):
        return value
    word = text(value)
    if not word.isdigit():
        raise InputError(field, f"{word!r} is not a whole number")
    return int(word)


def duration_ms(field: str, value: Any) -> int | None:
    """'90s', '30m', '1h', '2d', '1w', combinations like '1h30m', or plain milliseconds."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        total = value
    else:
        word = text(value)
        if not word:
            return None
        if word.isdigit():
            total = int(word)
        elif _DURATION_WHOLE.match(word):
            total = sum(int(n) * DURATION_UNITS_MS[u.lower()] for n, u in _DURATION_PART.findall(word))
        else:
            raise InputError(field, f"{word!r} is not a duration (use e.g. 90s, 30m, 1h, 2d, 1w, 1h30m "
                                    "or a number of milliseconds)")
    if total <= 0:
        raise InputError(field, f"the duration must be positive, got {total} ms")
    return total


def epoch_ms(field: str, value: Any) -> int | None:
    """A date picker value (epoch ms) or ISO 8601 text with a time zone."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    word = text(value)
    if word.isdigit():
        return int(word)
    try:
        moment = datetime.fromisoformat(word.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(field, f"{word!r} is neither epoch milliseconds nor an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise InputError(field, f"{word!r} has no time zone (add Z or +hh:mm)")
    return int(moment.timestamp() * 1000)


def json_object(field: str, value: Any) -> dict[str, Any] | None:
    """A JSON object input; a syntax error names its line and column."""
    word = text(value)
    if not word:
        return None
    try:
        doc = json.loads(word)
    except json.JSONDecodeError as err:
        raise InputError(field, f"not valid JSON: {err.msg} at line {err.lineno} column {err.colno} "
                                f"(character {err.pos})") from None
    if not isinstance(doc, dict):
        raise InputError(field, f"expected a JSON object {{...}}, got {type(doc).__name__}")
    return doc


def name_list(value: Any) -> list[str]:
    """A comma (or newline) separated list of names (or a list), blanks dropped, order kept."""
    parts = [str(v) for v in value] if isinstance(value, (list, tuple)) else re.split(r"[,\n]", text(value))
    return list(dict.fromkeys(p.strip() for p in parts if p.strip()))


def features(field: str, value: Any) -> list[str]:
    """Query features to ask for; all of them when empty."""
    names = name_list(value)
    if not names:
        return list(FEATURES)
    unknown = [n for n in names if n not in FEATURES]
    if unknown:
        raise InputError(field, f"unknown feature {unknown[0]!r} (known: {', '.join(FEATURES)})")
    return names


def iso_utc(ms: int | None) -> str:
    """Epoch ms as 'YYYY-MM-DDTHH:MM:SSZ' for text cells; '' for None."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
