"""`fn-openc2 consumer` as a real process: it prints where it listens,
answers over HTTPS with mutual TLS, and exits 0 on SIGTERM."""
from __future__ import annotations

import json
import time
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


def test_consumer_command_with_verify_key_refuses_unsigned_commands(pki: Pki, tmp_path) -> None:
    from fn_openc2.lib.security import load_private_key, sign_message
    from tests.producer.helpers import write_keypair

    private, public = write_keypair(tmp_path, "producer")
    cmd = [sys.executable, "-m", "fn_openc2.lib.cli.main", "consumer", "--listen", "127.0.0.1:0",
           "--tls-cert", pki.server_cert, "--tls-key", pki.server_key, "--verify-key", public,
           "--device-id", "cli-fw", "--profiles", "slpf"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("listening on https://127.0.0.1:"), line + proc.stderr.read()
        url = line.split()[2]
        deny = {"action": "deny", "target": {"ipv4_net": "198.51.100.0/24"}}
        unsigned = {"headers": {"request_id": "cli-unsigned", "from": "soar"},
                    "body": {"openc2": {"request": deny}}}
        good = sign_message({"headers": {"request_id": "cli-signed", "from": "soar",
                                         "created": int(time.time() * 1000)},
                             "body": {"openc2": {"request": deny}}}, load_private_key(private))
        answers = [requests.post(url, data=json.dumps(m), headers={"Content-Type": V11}, verify=pki.ca_cert,
                                 timeout=10).json()["body"]["openc2"]["response"] for m in (unsigned, good)]
        assert answers[0]["status"] == 401 and "signature required" in answers[0]["status_text"]
        assert answers[1]["status"] == 200 and answers[1]["results"] == {"slpf": {"rule_number": 1}}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def test_consumer_command_rejects_a_verify_key_that_is_not_a_key(tmp_path) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    bad = subprocess.run([sys.executable, "-m", "fn_openc2.lib.cli.main", "consumer", "--listen", "127.0.0.1:0",
                          "--verify-key", str(garbage)], capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "garbage.pem" in bad.stderr
