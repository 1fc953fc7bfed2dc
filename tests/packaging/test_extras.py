"""The App Host image carries the app, not the dev kit (issue 11.4): without
the ``demo`` extra (requests-mock, rich) every runtime module imports and
``fn-openc2 demo`` prints the one install command and exits 2, no traceback.
Run in a fresh interpreter where those modules cannot be imported, as after
a plain ``pip install fn_openc2``."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BLOCKED = ("requests_mock", "rich")

_BLOCKER = """
import sys
BLOCKED = {blocked!r}
class _Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, _Blocker())
"""


def run_without_demo_extra(code: str) -> subprocess.CompletedProcess:
    script = _BLOCKER.format(blocked=BLOCKED) + code
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT)


def runtime_modules() -> list[str]:
    """Every module App Host loads or could load: the package minus the demo and offline SOAR."""
    dev_kit = ("fn_openc2.lib.demo", "fn_openc2.lib.offline_soar")
    names = []
    for path in sorted((ROOT / "fn_openc2").rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        if not name.startswith(dev_kit):
            names.append(name)
    return names


def test_setup_declares_the_demo_extra_and_keeps_it_out_of_install_requires():
    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "setup")
    kw = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg in ("install_requires", "extras_require")}
    required = " ".join(kw["install_requires"]).lower()
    assert "requests-mock" not in required and "requests_mock" not in required and "rich" not in required
    assert {r.split("~=")[0] for r in kw["extras_require"]["demo"]} == {"requests-mock", "rich"}
    assert '-e ".[demo]"' in (ROOT / "dev.sh").read_text(encoding="utf-8")


def test_runtime_imports_without_the_demo_extra():
    modules = runtime_modules()
    assert "fn_openc2.components.funct_openc2_send_command" in modules and "fn_openc2.util.selftest" in modules
    proc = run_without_demo_extra(
        "import importlib\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print('imported', len(sys.modules))\n"
        "try:\n"
        "    import requests_mock\n"
        "except ModuleNotFoundError:\n"
        "    print('requests_mock blocked')\n")
    assert proc.returncode == 0, proc.stderr
    assert "imported" in proc.stdout and "requests_mock blocked" in proc.stdout   # the blocker really blocks


def test_demo_without_the_extra_prints_the_install_command():
    proc = run_without_demo_extra("from fn_openc2.lib.cli.main import main\nsys.exit(main(['demo']))\n")
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert "pip install 'fn_openc2[demo]'" in proc.stderr
    assert "requests_mock, rich not installed" in proc.stderr


def test_what_app_host_loads_pulls_in_no_dev_kit():
    """resilient-circuits loads the components, config, customize and selftest entry points;
    none of them reaches the offline SOAR, the demo, the dev PKI or the Mosquitto launcher."""
    entry_modules = sorted(f"fn_openc2.components.{p.stem}" for p in (ROOT / "fn_openc2" / "components").glob("[a-z]*.py"))
    entry_modules += ["fn_openc2.util.config", "fn_openc2.util.customize", "fn_openc2.util.selftest"]
    proc = run_without_demo_extra(
        "import importlib\n"
        f"for name in {entry_modules!r}:\n"
        "    importlib.import_module(name)\n"
        "dev = ('fn_openc2.lib.offline_soar', 'fn_openc2.lib.demo', 'fn_openc2.lib.transfer.devpki',\n"
        "       'fn_openc2.lib.transfer.broker')\n"
        "print(sorted(m for m in sys.modules if m.startswith(dev)))\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"
