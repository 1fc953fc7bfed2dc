"""``fn-openc2 demo`` end to end, as a person runs it: a subprocess on the real
console entry, real consumers, Mosquitto, resilient-circuits and the offline
SOAR. It must pass its own checks, show a note and a row for every artifact
(refusals with their reasons) and leave no process behind.

Leftover processes are found with a child subreaper: a small wrapper marks
itself PR_SET_CHILD_SUBREAPER, runs the demo and, once it exited, lists the
processes re-parented to it (anything the demo started and did not stop)."""
from __future__ import annotations

import json
import signal
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fn_openc2.lib.demo import scenario
from fn_openc2.lib.transfer.broker import BrokerError, find_mosquitto

DEMO_CMD = [sys.executable, "-m", "fn_openc2.lib.cli.main", "demo"]

WRAPPER = r"""
import ctypes, json, os, signal, subprocess, sys
PR_SET_CHILD_SUBREAPER = 36
if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    sys.exit("prctl(PR_SET_CHILD_SUBREAPER) failed")
rc = subprocess.call(sys.argv[2:])
me, left = os.getpid(), []
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        stat = open(f"/proc/{pid}/stat").read()
        cmdline = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        continue
    fields = stat.rsplit(")", 1)[1].split()
    if int(fields[1]) == me:
        left.append({"pid": int(pid), "state": fields[0], "cmdline": cmdline.strip()})
        try:
            os.kill(int(pid), signal.SIGKILL)
        except OSError:
            pass
open(sys.argv[1], "w").write(json.dumps(left))
sys.exit(rc)
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Run the demo once; its exit code, output, report and leftover processes."""
    try:
        find_mosquitto()
    except BrokerError as exc:
        pytest.fail(f"the demo test needs mosquitto (./dev.sh test installs it): {exc}")
    tmp = tmp_path_factory.mktemp("demo")
    report, leftovers = tmp / "report.json", tmp / "leftovers.json"
    cmd = [sys.executable, "-c", WRAPPER, str(leftovers), *DEMO_CMD, "--report", str(report)]
    env = dict(os.environ, COLUMNS="160", TERM="dumb")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env, cwd=tmp)
    return {"rc": proc.returncode, "out": proc.stdout, "err": proc.stderr,
            "report": json.loads(report.read_text()) if report.exists() else None,
            "leftovers": json.loads(leftovers.read_text()) if leftovers.exists() else None}


def _why(demo: dict) -> str:
    return f"\n--- stdout ---\n{demo['out'][-6000:]}\n--- stderr ---\n{demo['err'][-3000:]}"


def test_exits_zero_with_verdict(demo: dict) -> None:
    assert demo["rc"] == 0, _why(demo)
    assert "DEMO PASSED" in demo["out"], _why(demo)
    assert "skipped" not in demo["out"].splitlines()[-1], "the MQTT part did not run"


def test_every_check_passed(demo: dict) -> None:
    assert demo["report"] is not None, _why(demo)
    failed = [c for c in demo["report"]["checks"] if c["ok"] is not True]
    assert not failed, failed


def test_notes_for_every_artifact(demo: dict) -> None:
    """Each artifact's value is in the printed notes, and in a note of its own step."""
    shown = demo["out"].split(f"Incident {scenario.INCIDENT_ID}", 1)[-1].lower()   # the result, not the progress
    steps = {s["title"]: s for s in demo["report"]["steps"]}
    for art in scenario.ARTIFACTS:
        value = art.value.lower()
        assert value in shown, f"{art.value} is not in the notes and tables the demo shows"
        mine = [s for title, s in steps.items() if art.value in title and not title.startswith("cancel")]
        assert mine and any(value in n.lower() for s in mine for n in s["notes"]), f"no note for {art.value}"


def test_refusals_show_their_reasons(demo: dict) -> None:
    steps = [s for s in demo["report"]["steps"] if not s["title"].startswith("cancel")]
    for art_id, words in ((17, ("protected",)), (18, ("not valid", "not an ipv4", "invalid"))):
        art = next(a for a in scenario.ARTIFACTS if a.id == art_id)
        notes = " ".join(n for s in steps if art.value in s["title"] for n in s["notes"]).lower()
        assert any(w in notes for w in words), f"refusal of {art.value} gives no reason: {notes!r}"
        assert not [r for s in steps if art.value in s["title"] for r in s["rows"]
                    if str(r.get("status")) == "200"], f"{art.value} was applied"
    assert "protected" in demo["out"].lower()


def test_rows_for_every_sent_artifact(demo: dict) -> None:
    rows = demo["report"]["rows"]["openc2_commands"]
    assert "openc2_commands" in demo["out"] and "openc2_consumers" in demo["out"]
    for art in scenario.ARTIFACTS:
        if art.id in (17, 18):
            continue
        probe = art.value.lower()
        assert any(probe in json.dumps(r).lower() for r in rows), f"no openc2_commands row for {art.value}"
    edge = {r.get("responder") for r in rows if r.get("consumer") == scenario.EDGE}
    assert set(scenario.EDGE_AGENTS) <= edge
    assert demo["report"]["rows"]["openc2_consumers"]


def test_no_process_left_behind(demo: dict) -> None:
    assert demo["leftovers"] == [], f"processes the demo left running: {demo['leftovers']}"
    assert "Mosquitto" in demo["out"], "the demo never started the broker, so this proves nothing"


def test_console_script_is_installed() -> None:
    """./dev.sh demo runs the console script; it must be the same entry point."""
    script = Path(sys.executable).with_name("fn-openc2")
    assert script.exists()
    out = subprocess.run([str(script), "demo", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "--no-mqtt" in out.stdout


def _children(pid: int) -> list[int]:
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return found


def test_ctrl_c_leaves_nothing_behind(tmp_path: Path) -> None:
    """Interrupted while the functions run, the demo still stops the broker, servers and app."""
    leftovers = tmp_path / "leftovers.json"
    wrapper = WRAPPER.replace("rc = subprocess.call", "signal.signal(signal.SIGINT, lambda *a: None)\n"
                                                       "rc = subprocess.call")
    proc = subprocess.Popen([sys.executable, "-c", wrapper, str(leftovers), *DEMO_CMD], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, cwd=tmp_path)
    seen = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:          # wait until the app runs and the first step is under way
            seen.append(line)
            if "app running" in line:
                break
        else:
            pytest.fail("the demo ended before its app started:\n" + "".join(seen))
        demo_pids = _children(proc.pid)
        assert len(demo_pids) == 1, demo_pids
        os.kill(demo_pids[0], signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out = "".join(seen) + rest
    assert proc.returncode == 130, out[-3000:]
    assert "interrupted" in out
    assert json.loads(leftovers.read_text()) == [], out[-3000:]
