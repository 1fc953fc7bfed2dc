"""The package ships what it declares, and ``resilient-sdk package`` turns it
into the app zip SOAR's App Host installs (export.res, app.json with the
app.config template, and the sdist the Dockerfile pip-installs).

The SDK writes into ``<package>/dist`` and runs ``python -m build`` there, so
the build runs on a copy of the repository in a temp dir."""
from __future__ import annotations

import configparser
import glob
import importlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from importlib.metadata import entry_points
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SDK = Path(sys.executable).with_name("resilient-sdk")
SDK_BASE_IMAGE = "ibmresilient/soarapps-base-docker-image"
_COPY_IGNORE = shutil.ignore_patterns(".venv", ".git", "dist", "build", "*.egg-info", "__pycache__",
                                      ".pytest_cache", "*.pyc")


def _manifest_entries() -> list[tuple[str, list[str]]]:
    entries = []
    for line in (ROOT / "MANIFEST.in").read_text(encoding="utf-8").splitlines():
        words = line.split()
        if words and not line.lstrip().startswith("#"):
            entries.append((words[0], words[1:]))
    return entries


def _matches(command: str, args: list[str]) -> list[str]:
    """Files one MANIFEST.in line takes in (include / recursive-include / graft)."""
    if command == "include":
        return [p for pattern in args for p in glob.glob(str(ROOT / pattern)) if os.path.isfile(p)]
    if command == "recursive-include":   # setuptools' rule: glob(dir/**/pattern), dir may hold wildcards
        return [p for pattern in args[1:]
                for p in glob.glob(str(ROOT / args[0] / "**" / pattern), recursive=True) if os.path.isfile(p)]
    if command == "graft":
        return [p for p in glob.glob(str(ROOT / args[0] / "**"), recursive=True) if os.path.isfile(p)]
    return ["(not a file-selecting line)"]


@pytest.mark.parametrize("command,args", _manifest_entries(), ids=lambda v: v if isinstance(v, str) else " ".join(v))
def test_manifest_entry_selects_files(command: str, args: list[str]) -> None:
    """Every MANIFEST.in include selects at least one file (a stale line ships nothing)."""
    assert _matches(command, args), f"MANIFEST.in '{command} {' '.join(args)}' matches no file in {ROOT}"


def test_entry_points_import() -> None:
    """Every entry point setup.py declares for fn_openc2 resolves to an object."""
    groups = ("resilient.circuits.components", "resilient.circuits.configsection", "resilient.circuits.customize",
              "resilient.circuits.selftest", "console_scripts")
    ours = [ep for g in groups for ep in entry_points(group=g) if ep.value.startswith("fn_openc2.")]
    components = [ep for ep in ours if ep.group == "resilient.circuits.components"]
    on_disk = sorted(p.stem for p in (ROOT / "fn_openc2" / "components").glob("[a-zA-Z]*.py"))
    assert sorted(ep.value.split(":")[0].rsplit(".", 1)[1] for ep in components) == on_disk, \
        "the installed entry points are stale: reinstall with pip install -e ."
    for ep in ours:
        assert ep.load() is not None, ep.value
    assert {ep.name for ep in ours if ep.group == "console_scripts"} == {"fn-openc2"}


def test_declared_files_exist() -> None:
    """The files the SDK and App Host need are in the repository."""
    export = ROOT / "fn_openc2" / "util" / "data" / "export.res"
    doc = json.loads(export.read_text(encoding="utf-8"))
    assert {f["name"] for f in doc["functions"]} >= {"openc2_send_command", "openc2_query_features",
                                                      "openc2_cancel_command"}
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(rf"^FROM .*{re.escape(SDK_BASE_IMAGE)}", dockerfile, re.M), "Dockerfile not on the SDK base image"
    assert "fn_openc2" in dockerfile
    perms = (ROOT / "apikey_permissions.txt").read_text(encoding="utf-8")
    assert "read_data" in perms and "read_function" in perms
    for icon in ("icons/app_logo.png", "icons/company_logo.png"):
        assert (ROOT / icon).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", icon
    for module in ("fn_openc2.util.config", "fn_openc2.util.customize", "fn_openc2.util.selftest"):
        importlib.import_module(module)


@pytest.fixture(scope="module")
def app_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run ``resilient-sdk package`` on a copy of the repo; the app zip it made."""
    if not SDK.exists():
        pytest.fail(f"resilient-sdk is not installed next to {sys.executable}")
    copy = tmp_path_factory.mktemp("pkg") / "fn_openc2"
    shutil.copytree(ROOT, copy, ignore=_COPY_IGNORE)
    env = dict(os.environ, PATH=f"{SDK.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    proc = subprocess.run([str(SDK), "package", "-p", str(copy)], cwd=copy, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, f"resilient-sdk package failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    zips = sorted((copy / "dist").glob("app-fn_openc2-*.zip"))
    assert len(zips) == 1, f"expected one app zip in dist, found {[z.name for z in zips]}\n{proc.stdout[-2000:]}"
    return zips[0]


def test_app_zip_has_export_app_json_and_sdist(app_zip: Path) -> None:
    with zipfile.ZipFile(app_zip) as zf:
        names = set(zf.namelist())
        assert "export.res" in names and "app.json" in names, names
        sdists = [n for n in names if re.fullmatch(r"fn_openc2-[\d.]+\.tar\.gz", n)]
        assert len(sdists) == 1, names
        export = json.loads(zf.read("export.res"))
        app = json.loads(zf.read("app.json"))
        sdist = zf.read(sdists[0])
    assert export["message_destinations"][0]["programmatic_name"] == "fn_openc2"
    assert {"openc2_commands", "openc2_consumers"} <= {t["type_name"] for t in export["types"]}
    assert app["name"] == "fn_openc2"
    with tarfile.open(fileobj=io.BytesIO(sdist), mode="r:gz") as tf:
        members = {m.split("/", 1)[1] for m in tf.getnames() if "/" in m}
    for needed in ("setup.py", "fn_openc2/util/data/export.res", "fn_openc2/components/funct_openc2_send_command.py",
                   "fn_openc2/lib/cli/main.py", "Dockerfile", "apikey_permissions.txt", "icons/app_logo.png"):
        assert needed in members, f"the sdist lacks {needed}"


def test_app_json_carries_the_config_template(app_zip: Path) -> None:
    """The app.config template App Host shows is the package's own, and parses."""
    from fn_openc2.util.config import config_section_data

    with zipfile.ZipFile(app_zip) as zf:
        app = json.loads(zf.read("app.json"))
    executable = app["current_installation"]["executables"][0]
    template = executable["config_string"]
    assert template.strip() == config_section_data().strip()
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(template)
    assert "fn_openc2" in parser.sections()
    assert executable["image"].endswith("fn_openc2:" + app["version"])
    assert {"read_data", "read_function"} <= set(executable["permission_handles"])
