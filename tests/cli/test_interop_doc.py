"""Every row of doc/interop.md's rehearsal table, run as written: the row's
`fn-openc2 consumer` command line as a real process (with TLS and mutual TLS
added for HTTPS, the test broker for MQTT), an app.config section made of the
row's keys, and `fn-openc2 send` / `query` reading the answer the row says."""
from __future__ import annotations

import json
import re
import shlex
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fn_openc2.lib.transfer.devpki import Pki

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "fn_openc2.lib.cli.main"]
DENY = {"action": "deny", "target": {"ipv4_net": "198.51.100.7"}, "profile": "slpf"}


@dataclass
class Row:
    behaviour: str
    keys: dict[str, str]
    rehearse: list[str]
    verb: str
    status: int
    uncorrelated: bool


def rows() -> list[Row]:
    text = (ROOT / "doc" / "interop.md").read_text(encoding="utf-8")
    table = text.split("<!-- rehearsal:start -->", 1)[1].split("<!-- rehearsal:end -->", 1)[0]
    out = []
    for line in table.strip().splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        assert len(cells) == 4, line
        behaviour, keys_cell, rehearse_cell, reads = cells
        keys = {}
        for item in re.findall(r"`([^`]+)`", keys_cell.split(" (or ")[0]):
            key, sep, value = item.partition(" = ")
            if sep:
                keys[key.strip()] = value.strip()
        (command,) = re.findall(r"`(fn-openc2 consumer [^`]+)`", rehearse_cell)
        verb = re.match(r"`(send|query)`: (\d{3})", reads)
        assert verb, reads
        out.append(Row(behaviour, keys, shlex.split(command), verb.group(1), int(verb.group(2)),
                       "uncorrelated" in reads))
    return out


ROWS = rows()


def _start(row: Row, pki: Pki, broker: Any) -> tuple[subprocess.Popen[str], str]:
    argv = list(row.rehearse[2:])
    if "--listen" in argv:
        argv[argv.index("--listen") + 1] = "127.0.0.1:0"
        argv += ["--tls-cert", pki.server_cert, "--tls-key", pki.server_key, "--client-ca", pki.ca_cert]
    if "--mqtt" in argv:
        argv[argv.index("--mqtt") + 1] = f"{broker.host}:{broker.port}"
    proc = subprocess.Popen([*CLI, "consumer", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith(("listening on ", "subscribed on ")):
        proc.kill()
        raise AssertionError(f"rehearsal consumer did not start: {line}{proc.communicate()[1]}")
    return proc, line


@pytest.mark.parametrize("row", ROWS, ids=[r.behaviour[:48] for r in ROWS])
def test_every_rehearsal_row_is_read_right(row: Row, pki: Pki, fresh_mosquitto: Any, tmp_path: Path) -> None:
    proc, line = _start(row, pki, fresh_mosquitto)
    try:
        section = dict(row.keys)
        if section.get("transport") == "mqtt":
            section["broker"] = fresh_mosquitto.url
            section["collect_seconds"] = "5"
        else:
            url = line.split()[2]
            section.update(url=re.match(r"https://[^/]+", url).group(0),   # type: ignore[union-attr]
                           verify=pki.ca_cert, client_auth_cert=pki.client_cert, client_auth_key=pki.client_key,
                           timeout="10", retries="0")
        config = tmp_path / "app.config"
        config.write_text("[fn_openc2]\nproducer_id = soar@example.com\n\n[fn_openc2:rehearsed]\n"
                          + "".join(f"{k} = {v}\n" for k, v in section.items()))
        args = [*CLI, row.verb, "--consumer", "rehearsed", "--config", str(config)]
        done = subprocess.run([*args, "-"] if row.verb == "send" else args, input=json.dumps(DENY),
                              capture_output=True, text=True, timeout=60)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert "Traceback" not in done.stderr, done.stderr
    outcome = json.loads(done.stdout)
    (answer,) = outcome["answers"]
    assert answer["status"] == row.status, done.stderr
    assert answer["error"] is None and answer["request_id"] == outcome["request_id"], done.stderr
    assert answer["correlated"] is (not row.uncorrelated)
    assert done.returncode == (0 if row.status < 300 else 1), done.stderr
    last = done.stderr.strip().splitlines()[-1]                   # the answer's line: the consumer's words first
    assert last.startswith(("error: " if row.status >= 300 else "") + "rehearsed"), done.stderr
    assert f": {row.status} " in last, last


def test_the_table_covers_every_consumer_knob() -> None:
    from fn_openc2.lib.consumer.dialects import KNOBS

    used = {arg for row in ROWS for arg in row.rehearse}
    assert {k.flag for k in KNOBS} <= used
    assert {"--topic", "--mqtt", "--dialect"} <= used
