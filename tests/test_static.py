"""CI gate: the type checker and the linter over the library, 0 findings.

Configuration lives in pyproject.toml (mypy --strict with the pydantic plugin,
ruff's pyflakes/pycodestyle/isort/bugbear/pyupgrade rules). A folder joins
GATED once it is clean; all of fn_openc2/lib is, folders and the modules beside
them (test_every_library_folder_is_gated keeps it so). bench/ is linted too.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GATED = ("fn_openc2/lib/cli", "fn_openc2/lib/consumer", "fn_openc2/lib/demo", "fn_openc2/lib/language",
         "fn_openc2/lib/offline_soar", "fn_openc2/lib/onboard", "fn_openc2/lib/producer", "fn_openc2/lib/security",
         "fn_openc2/lib/soar", "fn_openc2/lib/transfer")
LIB_MODULES = ("fn_openc2/lib/__init__.py", "fn_openc2/lib/errors.py")   # the modules beside the folders
CHECKED = GATED + LIB_MODULES
LINTED_ONLY = ("bench",)   # scripts, not a package: ruff's rules, not mypy --strict


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("folder", GATED)
def test_gated_folders_exist(folder: str) -> None:
    assert (ROOT / folder / "__init__.py").is_file(), folder


def test_mypy_finds_nothing() -> None:
    result = _run("mypy", *CHECKED)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout, result.stdout


def test_ruff_finds_nothing() -> None:
    result = _run("ruff", "check", "--no-cache", *CHECKED, *LINTED_ONLY)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All checks passed!" in result.stdout, result.stdout


def test_every_library_folder_is_gated() -> None:
    """A new folder or module under fn_openc2/lib cannot escape the gate."""
    lib = ROOT / "fn_openc2" / "lib"
    present = {p.parent.relative_to(ROOT).as_posix() for p in lib.glob("*/__init__.py")}
    present |= {p.relative_to(ROOT).as_posix() for p in lib.glob("*.py")}
    assert present == set(CHECKED), sorted(present ^ set(CHECKED))
