"""`resilient-sdk codegen --reload` (from the app's own export.res) must leave
the code intact: it may rewrite customize.py's comments and re-escape
export.res, but no component, library or config code, and no exported object."""
from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KEPT = ("setup.py", "MANIFEST.in", "Dockerfile", "apikey_permissions.txt", "README.md", "fn_openc2",
        "payload_samples", "data", "icons", "doc", "tox.ini", "tests/test_funct_openc2_send_command.py",
        "tests/test_funct_openc2_query_features.py", "tests/test_funct_openc2_cancel_command.py",
        "tests/test_funct_openc2_check_consumer.py",
        "tests/test_funct_openc2_remove_block.py")


def _snapshot(root: Path) -> dict[str, bytes]:
    files = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and "__pycache__" not in rel and not rel.endswith((".bak", ".pyc")):
            files[rel] = path.read_bytes()
    return files


def _reload_data(customize: Path) -> dict:
    spec = importlib.util.spec_from_file_location("customize_under_test", customize)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.codegen_reload_data()


def test_codegen_reload_leaves_the_code_intact(tmp_path):
    app = tmp_path / "fn_openc2"
    app.mkdir()
    for name in KEPT:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, app / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            (app / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, app / name)
    export = tmp_path / "export.res"
    shutil.copy2(ROOT / "fn_openc2" / "util" / "data" / "export.res", export)
    before = _snapshot(app)
    reload_before = _reload_data(app / "fn_openc2" / "util" / "customize.py")

    sdk = Path(sys.executable).with_name("resilient-sdk")
    result = subprocess.run([str(sdk), "codegen", "-p", str(app), "--reload", "-e", str(export)],
                            capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "complete" in result.stdout + result.stderr

    after = _snapshot(app)
    changed = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
    allowed = {"fn_openc2/util/customize.py", "fn_openc2/util/data/export.res"}
    assert set(changed) <= allowed, f"codegen --reload changed {sorted(set(changed) - allowed)}"
    old_export = json.loads(before["fn_openc2/util/data/export.res"])
    new_export = json.loads(after["fn_openc2/util/data/export.res"])
    for export_doc in (old_export, new_export):  # codegen stamps these with the time of the run
        export_doc.pop("export_date", None)
        for incident_type in export_doc.get("incident_types") or []:
            incident_type.pop("create_date", None)
            incident_type.pop("update_date", None)
    assert new_export == old_export
    assert _reload_data(app / "fn_openc2" / "util" / "customize.py") == reload_before
