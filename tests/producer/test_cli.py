"""``fn-openc2 send`` / ``query`` as subprocesses against the reference consumer."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.producer.helpers import https_section

CLI = [sys.executable, "-m", "fn_openc2.lib.cli.main"]
DENY = {"action": "deny", "target": {"ipv4_net": "198.51.100.0/24"}}


def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], input=stdin, capture_output=True, text=True, timeout=60)


def _url_args(consumer: Any) -> list[str]:
    return ["--url", consumer.url, "--ca", consumer.ca, "--cert", consumer.client_cert, "--key", consumer.client_key]


def test_send_by_url_prints_the_response(reference_consumer: Any, tmp_path: Path) -> None:
    command = tmp_path / "deny.json"
    command.write_text(json.dumps(DENY))
    done = _run("send", *_url_args(reference_consumer), "--response-verify-key", reference_consumer.public_key,
                str(command))
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    (answer,) = doc["answers"]
    assert answer["status"] == 200 and answer["signature"] == "verified"
    assert answer["response"]["status"] == 200
    assert reference_consumer.server.request_log.request_ids == [doc["request_id"]]


def test_send_from_stdin_with_config_file(reference_consumer: Any, tmp_path: Path) -> None:
    config = tmp_path / "app.config"
    section = "\n".join(f"{k} = {v}" for k, v in https_section(reference_consumer).items())
    config.write_text(f"[fn_openc2]\nproducer_id = cli@test\n\n[fn_openc2:fw1]\n{section}\n")
    done = _run("send", "--consumer", "fw1", "--config", str(config), "-", stdin=json.dumps(DENY))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["answers"][0]["status"] == 200


def test_invalid_command_exits_2_with_paths(reference_consumer: Any) -> None:
    bad = {"action": "deny", "target": {"ipv4_net": "300.1.1.1"}, "args": {"duration": "soon"}}
    done = _run("send", *_url_args(reference_consumer), "-", stdin=json.dumps(bad))
    assert done.returncode == 2
    assert "<stdin>: target.ipv4_net" in done.stderr and "args.duration" in done.stderr
    assert reference_consumer.server.request_log.count == 0


def test_guard_refusal_exits_2_and_sends_nothing(reference_consumer: Any) -> None:
    done = _run("send", *_url_args(reference_consumer), "-",
                stdin=json.dumps({"action": "deny", "target": {"ipv4_net": "127.0.0.0/8"}}))
    assert done.returncode == 2 and "nothing sent" in done.stderr and "loopback" in done.stderr
    assert reference_consumer.server.request_log.count == 0


def test_unreachable_consumer_exits_1(reference_consumer: Any) -> None:
    done = _run("send", "--url", "https://127.0.0.1:9/", "--ca", reference_consumer.ca, "--timeout", "5", "-",
                stdin=json.dumps(DENY))
    assert done.returncode == 1 and "error: cli:" in done.stderr


def test_usage_errors_exit_2(tmp_path: Path, reference_consumer: Any) -> None:
    assert _run("send", "-").returncode == 2                          # neither --consumer nor --url
    missing = _run("send", "--consumer", "fw1", "--config", str(tmp_path / "none.config"), "-",
                   stdin=json.dumps(DENY))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    only_cert = _run("send", "--url", reference_consumer.url, "--cert", reference_consumer.client_cert, "-",
                     stdin=json.dumps(DENY))
    assert only_cert.returncode == 2 and "--cert and --key go together" in only_cert.stderr
    bad_feature = _run("query", *_url_args(reference_consumer), "colour")
    assert bad_feature.returncode == 2 and "'colour'" in bad_feature.stderr


def test_http_url_warns(start_consumer: Any) -> None:
    consumer = start_consumer(tls=False)
    done = _run("send", "--url", consumer.url, "-", stdin=json.dumps(DENY))
    assert done.returncode == 0, done.stderr
    assert "plain HTTP" in done.stderr


def test_plain_mqtt_url_warns() -> None:
    import socket

    with socket.socket() as sock:          # a closed port: the send fails fast, the warning comes first
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    done = _run("send", "--url", f"mqtt://127.0.0.1:{port}", "--collect-seconds", "1", "-", stdin=json.dumps(DENY))
    assert "plain MQTT, without TLS" in done.stderr


def test_query_features(reference_consumer: Any) -> None:
    done = _run("query", *_url_args(reference_consumer), "versions", "pairs")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["command"] == {"action": "query", "target": {"features": ["versions", "pairs"]}}
    results = doc["answers"][0]["results"]
    assert "versions" in results and "deny" in results["pairs"]


def test_query_over_mqtt_broadcast(mosquitto: Any, two_consumers: Any) -> None:
    done = _run("query", "--url", mosquitto.url, "--topic", "oc2/cmd/all", "--collect-seconds", "1",
                "--expected-responders", "fw-a@example.com,fw-b@example.com,fw-z@example.com", "pairs")
    assert done.returncode == 1                       # fw-z stayed silent
    answers = {a["responder"]: a for a in json.loads(done.stdout)["answers"]}
    assert answers["fw-a@example.com"]["ok"] and answers["fw-b@example.com"]["ok"]
    assert answers["fw-z@example.com"]["error"] == "no answer within 1s"
    assert "fw-z@example.com" in done.stderr
