"""Small helpers for the language tests: run a check and get paths back."""
from __future__ import annotations

from typing import Any, Callable

import pytest

from fn_openc2.lib.language import OpenC2ValidationError


def issues_of(parse: Callable[[Any], Any], doc: Any) -> list[tuple[str, str]]:
    """(path, message) of every issue ``parse`` raises; fails if it accepts."""
    with pytest.raises(OpenC2ValidationError) as info:
        parse(doc)
    return [(i.path, i.message) for i in info.value.issues]


def paths_of(parse: Callable[[Any], Any], doc: Any) -> list[str]:
    return [p for p, _ in issues_of(parse, doc)]


def deny(target: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"action": "deny", "target": target, **extra}
