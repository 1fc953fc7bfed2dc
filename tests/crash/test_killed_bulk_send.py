"""Issue 15.4/15.5: a 200-target deny killed mid-run (a real child process,
SIGKILL) leaves every command the firewall applied visible in the incident,
with its command id; the same playbook run again sends nothing twice.

The firewall is the reference consumer over real mutual-TLS HTTPS in this
process; the app runs in resilient-circuits in a child process against the
offline SOAR, whose saved state survives the kill (crash snapshots)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from fn_openc2.lib.consumer import Actuator, HttpsConsumerServer
from fn_openc2.lib.offline_soar.faults import SNAPSHOT_ENV

ROOT = Path(__file__).resolve().parents[2]
INCIDENT = 4501
TARGETS = [f"10.{n // 250}.{n % 250}.{1 + n % 7}" for n in range(200)]
KILL_AFTER = 60


class CountingActuator(Actuator):
    """The reference firewall, a little slow, counting every deny it receives per target."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.received: Counter[str] = Counter()
        self.lock = threading.Lock()

    def handle(self, message, request_id=None):
        request = ((message.get("body") or {}).get("openc2") or {}).get("request") or {}
        target = (request.get("target") or {}).get("ipv4_net")
        if request.get("action") == "deny" and target:
            with self.lock:
                self.received[target] += 1
        time.sleep(0.03)
        return super().handle(message, request_id)


@pytest.fixture
def firewall(pki):
    actuator = CountingActuator("fw1@example.com")
    server = HttpsConsumerServer(actuator, "127.0.0.1", 0, tls_cert=pki.server_cert, tls_key=pki.server_key,
                                 client_ca=pki.ca_cert).start()
    try:
        yield actuator, server
    finally:
        server.stop()


def _config(server, pki) -> str:
    return f"""[fn_openc2]
producer_id = soar@example.com
default_consumers = fw1
max_concurrency = 4

[fn_openc2:fw1]
transport = https
url = {server.url}
verify = {pki.ca_cert}
client_auth_cert = {pki.client_cert}
client_auth_key = {pki.client_key}
timeout = 10
retries = 0
"""


def _child(tmp: Path, *, restore: bool) -> subprocess.Popen:
    env = dict(os.environ, **{SNAPSHOT_ENV: str(tmp / "snapshot.json")})
    extra = ["--restore", str(tmp / "snapshot.json")] if restore else ["--seed", str(tmp / "seed.json")]
    out = tmp / ("rerun.json" if restore else "first.json")
    return subprocess.Popen([sys.executable, "-m", "tests.crash.child", str(tmp / "app.config"),
                             "openc2_send_command", str(tmp / "inputs.json"), str(out), *extra],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=(tmp / "child.log").open("ab"))


def _rows(tmp: Path) -> list[dict]:
    doc = json.loads((tmp / "snapshot.json").read_text(encoding="utf-8"))
    (incident,) = doc["incidents"]
    return incident["tables"].get("openc2_commands", [])


def test_killed_mid_run_then_rerun(tmp_path, pki, firewall):
    actuator, server = firewall
    (tmp_path / "app.config").write_text(_config(server, pki), encoding="utf-8")
    (tmp_path / "seed.json").write_text(json.dumps({"incident": {"id": INCIDENT, "name": "crash"}, "artifacts": [
        {"id": 1000 + n, "type": "IP Address", "value": ip} for n, ip in enumerate(TARGETS)]}), encoding="utf-8")
    (tmp_path / "inputs.json").write_text(json.dumps({
        "incident_id": INCIDENT, "openc2_action": "deny", "openc2_artifact_type": "IP Address",
        "openc2_all_artifacts": True, "openc2_consumers": "fw1", "openc2_profile": "slpf"}), encoding="utf-8")

    child = _child(tmp_path, restore=False)
    try:
        deadline = time.monotonic() + 240
        while len(actuator.snapshot()["rules"]) < KILL_AFTER:
            assert child.poll() is None, (tmp_path / "child.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the child never got going"
            time.sleep(0.01)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(30)
    assert not (tmp_path / "first.json").exists()                    # it really died mid-run

    applied = {r["command_id"]: r for r in actuator.snapshot()["rules"]}
    assert KILL_AFTER <= len(applied) < len(TARGETS)
    rows = {r["command_id"]: r for r in _rows(tmp_path)}
    # every command the firewall applied is in the incident, with its command id, before any answer
    missing = set(applied) - set(rows)
    assert not missing, f"{len(missing)} applied commands have no row"
    assert {rows[c]["state"] for c in applied} <= {"sending", "active"}
    assert all(rows[c]["target"] == json.dumps({"ipv4_net": applied[c]["target"]["ipv4_net"].split("/")[0]})
               for c in applied)

    # the same playbook again: nothing sent twice
    rerun = _child(tmp_path, restore=True)
    assert rerun.wait(300) == 0, (tmp_path / "child.log").read_text()[-3000:]
    result = json.loads((tmp_path / "rerun.json").read_text(encoding="utf-8"))
    twice = {target: n for target, n in actuator.received.items() if n > 1}
    assert twice == {}, f"sent twice: {sorted(twice)[:5]}"
    content = result["content"]
    skipped = [c for c in content["commands"] if c["skipped"]]
    assert len(skipped) == len(rows)                                   # whatever had a row was held back
    assert all(("already active since" in c["skipped"][0] or "still sending" in c["skipped"][0])
               for c in skipped)
    sent = [c for c in content["commands"] if c["answers"]]
    assert len(sent) + len(skipped) == len(TARGETS)
    assert all(c["answers"][0]["state"] == "active" for c in sent)
    # in the end every target was sent exactly once, or is held as still sending (interrupted in flight)
    assert set(actuator.received) | {json.loads(r["target"])["ipv4_net"] for r in _rows(tmp_path)} == set(TARGETS)
