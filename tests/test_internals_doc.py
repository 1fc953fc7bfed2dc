"""doc/internals.md is the stable surface between layers (issue 16.7): every public
name its code blocks declare exists in the layer it is listed under, and the page
links nothing outside the repository (a newcomer reads it offline, in the checkout)."""
from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "doc" / "internals.md").read_text(encoding="utf-8")
SECTION = re.compile(r"^## .*?`(fn_openc2\.lib\.[\w.]+)`", re.M)
BLOCK = re.compile(r"```python\n(.*?)```", re.S)
# A declaration at the start of a code line: "class Name", "name(", "NAME:" / "NAME =", "Class.attr".
DECLARED = re.compile(r"^(?:@dataclass )?(?:class\s+)?([A-Za-z_]\w*)(?:\.([A-Za-z_]\w*))?\s*(?:\(|:|=|\[)", re.M)


def _modules(package: str) -> list[ModuleType]:
    root = importlib.import_module(package)
    found = [root]
    if hasattr(root, "__path__"):
        for info in pkgutil.walk_packages(root.__path__, f"{package}."):
            if not info.name.startswith("fn_openc2.lib.demo"):
                found.append(importlib.import_module(info.name))
    return found


def _sections() -> list[tuple[str, list[tuple[str, str | None]]]]:
    starts = list(SECTION.finditer(DOC))
    out = []
    for number, match in enumerate(starts):
        end = starts[number + 1].start() if number + 1 < len(starts) else len(DOC)
        names = [(m.group(1), m.group(2)) for block in BLOCK.findall(DOC[match.end():end])
                 for m in DECLARED.finditer(block)]
        out.append((match.group(1), names))
    return out


def test_the_page_declares_names_for_each_layer() -> None:
    sections = _sections()
    assert len(sections) >= 8
    assert sum(len(names) for _, names in sections) >= 60


@pytest.mark.parametrize("package, names", _sections(), ids=[s for s, _ in _sections()])
def test_every_public_name_exists(package: str, names: list[tuple[str, str | None]]) -> None:
    modules = _modules(package)
    missing = []
    for name, attr in names:
        owners = [getattr(module, name) for module in modules if hasattr(module, name)]
        if not owners:
            missing.append(name)
        elif attr and not any(hasattr(owner, attr) or attr in getattr(owner, "__dataclass_fields__", {})
                              or attr in getattr(owner, "model_fields", {}) for owner in owners):
            missing.append(f"{name}.{attr}")
    assert missing == [], f"{package}: named in doc/internals.md but not found"


def test_no_link_leaves_the_repository() -> None:
    outside = re.findall(r"\]\((?:https?:|\.\./)[^)]*\)|`\.\./[^`]*`|<https?://[^>]*>", DOC)
    assert outside == []
