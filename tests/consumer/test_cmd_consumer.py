"""`fn-openc2 consumer` as a real process: it prints where it listens,
answers over HTTPS with mutual TLS, and exits 0 on SIGTERM."""
from __future__ import annotations

import json
import signal
import subprocess
import sys

import requests

from fn_openc2.lib.transfer.devpki import Pki

V11 = "application/openc2+json;version=1.0"


def test_consumer_command_serves_until_sigterm(pki: Pki, consumer_signing_key: tuple[str, str]) -> None:
    cmd = [sys.executable, "-m", "fn_openc2.lib.cli.main", "consumer", "--listen", "127.0.0.1:0",
           "--tls-cert", pki.server_cert, "--tls-key", pki.server_key, "--client-ca", pki.ca_cert,
           "--device-id", "cli-fw", "--profiles", "slpf", "--signing-key", consumer_signing_key[0]]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("listening on https://127.0.0.1:"), line + proc.stderr.read()
        url = line.split()[2]
        msg = {"headers": {"request_id": "cli-1", "from": "soar"},
               "body": {"openc2": {"request": {"action": "query", "target": {"features": ["profiles"]}}}}}
        r = requests.post(url, data=json.dumps(msg), headers={"Content-Type": V11}, verify=pki.ca_cert,
                          cert=(pki.client_cert, pki.client_key), timeout=10)
        body = r.json()
        assert body["headers"]["from"] == "cli-fw" and "signature" in body
        assert body["body"]["openc2"]["response"]["results"] == {"profiles": ["slpf"]}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def test_consumer_command_warns_on_plain_http_and_rejects_bad_usage() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "fn_openc2.lib.cli.main", "consumer", "--listen", "127.0.0.1:0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
        assert "plain HTTP" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    bad = subprocess.run([sys.executable, "-m", "fn_openc2.lib.cli.main", "consumer", "--listen", "nope"],
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "--listen" in bad.stderr
