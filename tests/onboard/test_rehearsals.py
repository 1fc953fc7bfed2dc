"""Every rehearsal row of doc/interop.md (HTTPS with mutual TLS, and MQTT): ``probe``
finds the dialect the row's ``fn-openc2 consumer`` plays, the section it prints works
with ``fn-openc2 send``, and the reference consumer grades perfectly in that dialect
(the rows that play a deliberately bad habit fail exactly the clause of that habit)."""
from __future__ import annotations

import configparser
import json
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fn_openc2.lib.cli.main import main
from fn_openc2.lib.onboard.grade import FAIL, grade
from fn_openc2.lib.producer.appconfig import load_settings
from fn_openc2.lib.transfer.devpki import Pki
from fn_openc2.lib.transfer.dialects import resolve_dialect
from tests.cli.test_interop_doc import DENY, ROWS, Row, _start

CLI = [sys.executable, "-m", "fn_openc2.lib.cli.main"]
WIRE = ("path", "content_type", "envelope", "status_in", "profile_encoding")
HABIT_CLAUSES = {"--omit-error-request-id": "the command's request_id is copied into each response"}


def _wire(keys: dict[str, str]) -> dict[str, str]:
    dialect = resolve_dialect(keys.get("dialect", "https-v1.1"),
                              **{k: keys[k] for k in WIRE if k in keys and k != "profile_encoding"})
    wire = {k: getattr(dialect, k) for k in WIRE}
    wire["profile_encoding"] = keys.get("profile_encoding", dialect.profile_encoding)
    return wire


def _section(out: str, name: str) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(out[out.index("[fn_openc2:"):])
    return dict(parser.items(f"fn_openc2:{name}"))


@pytest.mark.parametrize("row", ROWS, ids=[r.behaviour[:48] for r in ROWS])
def test_probe_finds_each_rehearsal_and_the_reference_grades_perfectly(
        row: Row, pki: Pki, fresh_mosquitto: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    proc, line = _start(row, pki, fresh_mosquitto)
    mqtt = row.keys.get("transport") == "mqtt"
    try:
        if mqtt:
            argv = [fresh_mosquitto.url, "--collect-seconds", "1.5"]
        else:
            base = re.match(r"https://[^/]+", line.split()[2]).group(0)    # type: ignore[union-attr]
            argv = [base, "--ca", pki.ca_cert, "--cert", pki.client_cert, "--key", pki.client_key]
        code = main(["probe", *argv, "--name", "rehearsed"])
        out = capsys.readouterr().out
        assert code == 0, out
        section = _section(out, "rehearsed")

        # the dialect found is the row's: every key the row needs, the same wire (the probe may find more,
        # e.g. that a consumer refusing the string profile takes the object form)
        if mqtt:
            assert section.get("topic", "oc2/cmd/all") == row.keys["topic"], out
            assert section.get("expected_responders") == row.keys["expected_responders"], out
        else:
            found, wanted = _wire(section), _wire(row.keys)
            assert {k: found[k] for k in WIRE if k in row.keys} == {k: wanted[k] for k in WIRE if k in row.keys}, out
            assert found["path"] == wanted["path"] and found["envelope"] == wanted["envelope"], out

        # the written section, pasted, works with fn-openc2 send
        config = tmp_path / "app.config"
        config.write_text("[fn_openc2]\nproducer_id = soar@example.com\n\n" + out[out.index("[fn_openc2:"):])
        done = subprocess.run([*CLI, "send", "--consumer", "rehearsed", "--config", str(config), "-"],
                              input=json.dumps(DENY), capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
        (answer,) = json.loads(done.stdout)["answers"]
        assert answer["status"] == 200 and answer["error"] is None, done.stderr

        # and the reference consumer grades perfectly in that dialect
        report = grade(load_settings({"fn_openc2": {}, "fn_openc2:rehearsed": section}), "rehearsed")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    habits = {HABIT_CLAUSES[arg] for arg in row.rehearse if arg in HABIT_CLAUSES}
    failed = {c.title for c in report.checks if c.verdict == FAIL and c.level != "MAY"}
    assert failed == habits, report.render()
