"""Issue 12.5-12.7 and 12.12: nothing a consumer (or anyone on the broker)
sends can hurt the producer. Attacks over real sockets: scripted HTTPS peers
with mutual TLS, forgers on a real Mosquitto, the CLI as a subprocess."""
from __future__ import annotations

import gzip
import json
import subprocess
import sys
import threading
import tracemalloc
import uuid
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from fn_openc2.lib.producer.producer import Producer
from fn_openc2.lib.security import load_private_key, sign_message
from fn_openc2.lib.transfer.devpki import Pki
from tests.producer.helpers import peer_section, registry, write_keypair
from tests.transfer.oc2server import Answer, Oc2Peer, Seen

DENY = {"action": "deny", "target": {"ipv4_net": "198.51.100.0/24"}}
CLI = [sys.executable, "-m", "fn_openc2.lib.cli.main"]


def _answer(command: dict, sender: str, status: int = 200, request_id: Any = "echo") -> dict:
    headers: dict[str, Any] = {"from": sender, "to": [command["headers"]["from"]]}
    headers["request_id"] = command["headers"]["request_id"] if request_id == "echo" else request_id
    return {"headers": headers, "body": {"openc2": {"response": {"status": status}}}}


class Publisher:
    """Anyone on the broker: on each command seen on `topic`, publishes what `script` returns on oc2/rsp."""

    def __init__(self, broker: Any, topic: str, script: Callable[[dict], list[bytes]]) -> None:
        self.script = script
        self.done = threading.Event()
        subscribed = threading.Event()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}",
                                  protocol=paho.MQTTv5)
        self.client.on_connect = lambda c, *a: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *a: subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        assert subscribed.wait(10)

    def _on_message(self, client: paho.Client, userdata: Any, msg: Any) -> None:
        for payload in self.script(json.loads(msg.payload)):
            client.publish("oc2/rsp", payload, qos=1)
        self.done.set()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _mqtt(broker: Any, topic: str, **extra: str) -> dict[str, str]:
    return {"transport": "mqtt", "broker": broker.url, "topic": topic, "collect_seconds": "3", **extra}


# ---------------------------------------------------------------- 12.5 who may answer

def test_only_expected_responders_count_and_forgers_are_named(fresh_mosquitto: Any) -> None:
    topic = "oc2/cmd/t-expected"
    script = lambda cmd: [json.dumps(_answer(cmd, s)).encode() for s in ("evil", "fw-a", "evil2", "fw-b")]
    forger = Publisher(fresh_mosquitto, topic, script)
    try:
        with Producer(registry(edge=_mqtt(fresh_mosquitto, topic, expected_responders="fw-a, fw-b"))) as producer:
            outcome = producer.send(DENY, "edge")
    finally:
        forger.close()
    assert sorted(a.responder for a in outcome.answers) == ["fw-a", "fw-b"]
    assert all(a.succeeded for a in outcome.answers)
    for answer in outcome.answers:
        assert ("answers from senders not in expected_responders were not counted: 'evil' (1), 'evil2' (1)"
                in answer.warnings)


def test_answers_are_capped_per_command_with_a_clear_line(fresh_mosquitto: Any) -> None:
    topic = "oc2/cmd/t-cap"
    forger = Publisher(fresh_mosquitto, topic,
                       lambda cmd: [json.dumps(_answer(cmd, f"bot-{i}")).encode() for i in range(60)])
    try:
        with Producer(registry(edge=_mqtt(fresh_mosquitto, topic, max_answers="5", collect_seconds="20"))) as producer:
            outcome = producer.send(DENY, "edge")
    finally:
        forger.close()
    assert len(outcome.answers) == 5
    notice = [w for w in outcome.answers[0].warnings if w.startswith("answer cap reached")]
    assert notice and notice[0].startswith("answer cap reached: max_answers = 5; collection ended there")
    assert max(a.elapsed_ms for a in outcome.answers) < 20_000          # ended at the cap, not the window


def test_with_a_verify_key_only_verified_answers_count(fresh_mosquitto: Any, tmp_path: Any) -> None:
    private, public = write_keypair(tmp_path, "fw")
    key = load_private_key(private)
    topic = "oc2/cmd/t-signed"

    def script(cmd: dict) -> list[bytes]:
        real = sign_message(_answer(cmd, "fw-a"), key)
        forged = _answer(cmd, "fw-a", status=404)                     # unsigned, claims the signed responder
        lone = _answer(cmd, "fw-b", status=200)                       # unsigned, nobody signed as fw-b
        return [json.dumps(real).encode(), json.dumps(forged).encode(), json.dumps(lone).encode()]

    forger = Publisher(fresh_mosquitto, topic, script)
    try:
        section = _mqtt(fresh_mosquitto, topic, expected_responders="fw-a, fw-b", response_verify_key=public)
        with Producer(registry(edge=section)) as producer:
            outcome = producer.send(DENY, "edge")
    finally:
        forger.close()
    by = {a.responder: a for a in outcome.answers}
    assert by["fw-a"].succeeded and by["fw-a"].status == 200 and by["fw-a"].signature == "verified"
    assert "1 unsigned or unverifiable answer claiming to be from fw-a not counted" in by["fw-a"].warnings
    assert not by["fw-b"].ok and by["fw-b"].error == "response not signed but response_verify_key is configured"


def test_without_a_key_an_unsigned_answer_beside_a_signed_one_is_flagged(fresh_mosquitto: Any,
                                                                          tmp_path: Any) -> None:
    private, _ = write_keypair(tmp_path, "fw")
    key = load_private_key(private)
    topic = "oc2/cmd/t-mixed"
    forger = Publisher(fresh_mosquitto, topic, lambda cmd: [json.dumps(sign_message(_answer(cmd, "fw-a"), key)).encode(),
                                                            json.dumps(_answer(cmd, "fw-a", 500)).encode()])
    try:
        with Producer(registry(edge=_mqtt(fresh_mosquitto, topic, collect_seconds="2"))) as producer:
            (answer,) = producer.send(DENY, "edge").answers    # no expected_responders: the window gathers both
    finally:
        forger.close()
    assert any("unsigned answer(s) claim the sender fw-a, which also answered signed" in w for w in answer.warnings)


# ---------------------------------------------------------------- 12.6 answer size

def test_an_oversized_answer_is_refused_and_memory_stays_bounded(pki: Pki, peers: Any) -> None:
    big = json.dumps({"status": 200, "results": {"x-pad": {"a": "x" * (8 << 20)}}}).encode()
    server = peers(lambda req: Answer(200, big))
    with Producer(registry(fw=peer_section(server.url, pki, max_answer_bytes="1048576"))) as producer:
        tracemalloc.start()
        try:
            (answer,) = producer.send(DENY, "fw").answers
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert answer.error is not None and answer.error.startswith("size: consumer fw at")
    assert "larger than max_answer_bytes = 1048576" in answer.error and answer.http_status == 200
    assert peak < 4 << 20, peak


def test_a_gzip_bomb_is_refused_as_such(pki: Pki, peers: Any) -> None:
    bomb = gzip.compress(b'{"status":200,"status_text":"' + b" " * (64 << 20) + b'"}', 9)
    assert len(bomb) < 100_000
    server = peers(lambda req: Answer(200, bomb, {"Content-Encoding": "gzip"}))
    with Producer(registry(fw=peer_section(server.url, pki, max_answer_bytes="1048576"))) as producer:
        tracemalloc.start()
        try:
            (answer,) = producer.send(DENY, "fw").answers
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert "refused as a possible compression bomb" in (answer.error or ""), answer.error
    assert peak < 8 << 20, peak


def test_an_oversized_mqtt_answer_is_named_not_read(fresh_mosquitto: Any) -> None:
    topic = "oc2/cmd/t-big"
    pad = "x" * 150_000
    forger = Publisher(fresh_mosquitto, topic,
                       lambda cmd: [json.dumps({**_answer(cmd, "fw-a"), "pad": pad}).encode()])
    try:
        section = _mqtt(fresh_mosquitto, topic, expected_responders="fw-a", max_answer_bytes="100000",
                        collect_seconds="2")
        with Producer(registry(edge=section)) as producer:
            (answer,) = producer.send(DENY, "edge").answers
    finally:
        forger.close()
    assert not answer.ok and "larger than max_answer_bytes = 100000 (not read)" in (answer.error or "")


# ---------------------------------------------------------------- 12.7 I-JSON answers

@pytest.mark.parametrize("body,named", [
    (b'{"headers":{},"body":{"openc2":{"response":{"status":200,"status":500}}}}',
     "body.openc2.response.status: duplicate object key 'status'"),
    (b'{"status":200,"results":{"x-n":{"v":NaN}}}', "results.x-n.v: NaN is not a JSON number"),
    (b'{"status":200,"results":{"x-n":[1,Infinity]}}', "results.x-n[1]: Infinity is not a JSON number"),
    (b'{"status":200,"results":{"x-n":{"v":-Infinity}}}', "results.x-n.v: -Infinity is not a JSON number"),
    (b'{"status":200,"results":{"x-n":{"v":' + b"7" * 400 + b"}}}", "results.x-n.v: integer"),
    (b'{"status":200,"results":' + b"[" * 50_000 + b"]" * 50_000 + b"}", "nested deeper than 64 levels"),
])
def test_answers_are_read_as_i_json(body: bytes, named: str, pki: Pki, peers: Any) -> None:
    server = peers(lambda req: Answer(200, body))
    with Producer(registry(fw=peer_section(server.url, pki))) as producer:
        outcome = producer.send(DENY, "fw")
    (answer,) = outcome.answers
    assert not answer.ok and answer.error is not None and answer.error.startswith("decode: consumer fw at")
    assert named in answer.error, answer.error
    json.dumps(outcome.to_dict(), allow_nan=False)             # the payload stays strict JSON


def test_cli_reads_a_deeply_nested_answer_without_a_traceback(pki: Pki) -> None:
    server = Oc2Peer(lambda req: Answer(200, b"[" * 100_000 + b"]" * 100_000), cert=pki.server_cert,
                     key=pki.server_key).start()
    try:
        done = subprocess.run([*CLI, "send", "--url", server.url, "--ca", pki.ca_cert, "-"],
                              input=json.dumps(DENY), capture_output=True, text=True, timeout=60)
    finally:
        server.stop()
    assert done.returncode == 1 and "Traceback" not in done.stderr and "RecursionError" not in done.stderr
    assert "nested deeper than 64 levels" in done.stderr


def test_cli_refuses_a_deeply_nested_command_file_clearly() -> None:
    done = subprocess.run([*CLI, "send", "--url", "https://127.0.0.1:9/", "-"],
                          input="[" * 100_000 + "]" * 100_000, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "<stdin>: (document): nested deeper than 64 levels" in done.stderr


# ---------------------------------------------------------------- 12.12 a closed pipe

def test_send_into_a_closed_pipe_exits_cleanly(pki: Pki) -> None:
    gate = threading.Event()

    def behave(req: Seen) -> Answer:
        gate.wait(10)                      # answer only once the reader has gone
        return Answer(200, {"status": 200, "status_text": "x" * 200_000})

    server = Oc2Peer(behave, cert=pki.server_cert, key=pki.server_key).start()
    try:
        proc = subprocess.Popen([*CLI, "send", "--url", server.url, "--ca", pki.ca_cert, "-"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps(DENY).encode())
        proc.stdin.close()
        proc.stdout.close()                # like `| head` having exited
        gate.set()
        proc.wait(timeout=60)
        assert proc.stderr is not None
        text = proc.stderr.read().decode()
        proc.stderr.close()
    finally:
        server.stop()
    assert "Traceback" not in text and "BrokenPipe" not in text, text
    assert proc.returncode == 0, text     # the consumer answered 200: the exit code still says so
