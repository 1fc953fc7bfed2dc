#!/usr/bin/env python3
"""MQTT fan-out: one command to 200 consumers, until all 200 answers are correlated.

Both sides use a mosquitto started here (set_tcp_nodelay true), TCP_NODELAY on
every client socket, and the same topology: 4 responder processes x 50
responders, each process behind one MQTT connection subscribed to oc2/cmd/#.

- fn_openc2: Producer.send of an SLPF deny over MqttTransport with
  expected_responders = the 200 device ids, answered by 4 Fleet processes of
  reference actuators (each validates, applies and answers the command).
- floor: one plain paho client publishing the same request payload (QoS 1) and
  collecting on oc2/rsp, answered by 4 plain paho processes that publish the
  same 50 response payloads each (request_id filled in), no OpenC2 processing.

A round ends when 200 distinct responders answered the round's request_id; the
median over rounds is reported, with losses per round (must be 0).
Last line: ``ratio: <n> (fn_openc2 fan-out round time over plain paho round time)``.
Run: .venv/bin/python bench/bench_fanout.py [--quick]
"""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import uuid
from typing import Any

import common  # puts the repository on sys.path, so it comes before the app's imports

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

PROCESSES = 4
PER_PROCESS = 50
ROUND_TIMEOUT = 20.0


def device_ids() -> list[str]:
    return [f"sim{p}-{n}@example.com" for p in range(PROCESSES) for n in range(PER_PROCESS)]


def _nodelay(client: Any, userdata: Any, sock: Any) -> None:
    raw = sock if isinstance(sock, socket.socket) else getattr(sock, "_sock", sock)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _props(kind: str) -> Properties:
    props = Properties(PacketTypes.PUBLISH)
    props.PayloadFormatIndicator = 1
    props.ContentType = "application/openc2"
    props.UserProperty = [("msgType", kind), ("encoding", "json")]
    return props


def _client(client_id: str) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.on_socket_open = _nodelay
    return client


def response_payload(request_id: str, device: str) -> bytes:
    """What a reference actuator answers to the deny (unsigned), as bytes."""
    return json.dumps({"headers": {"request_id": request_id, "created": int(time.time() * 1000), "from": device,
                                   "to": ["soar@example.com"]},
                       "body": {"openc2": {"response": {"status": 200, "results": {"slpf": {"rule_number": 1}}}}}},
                      separators=(",", ":")).encode()


# --- worker processes (this same file with --worker) ---------------------------------

def fleet_worker(index: int, port: int) -> None:
    from fn_openc2.lib.consumer import Fleet

    fleet = Fleet.of(PER_PROCESS, "127.0.0.1", port, prefix=f"sim{index}", profiles=("slpf",),
                     client_id=f"bench-fleet-{index}").start()
    print("ready", flush=True)
    sys.stdin.read()   # the parent closes stdin to stop us
    fleet.stop()


def paho_worker(index: int, port: int) -> None:
    """50 plain responders behind one connection: parse the request_id, publish 50 answers."""
    devices = [f"sim{index}-{n}@example.com" for n in range(PER_PROCESS)]
    props = _props("rsp")
    ready = threading.Event()
    client = _client(f"bench-paho-{index}")

    def on_connect(c: mqtt.Client, *_: Any) -> None:
        c.subscribe("oc2/cmd/#", qos=1)

    def on_message(c: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        request_id = json.loads(msg.payload)["headers"]["request_id"]
        for device in devices:
            c.publish("oc2/rsp", response_payload(request_id, device), qos=1, properties=props)

    client.on_connect = on_connect
    client.on_subscribe = lambda *_: ready.set()
    client.on_message = on_message
    client.connect("127.0.0.1", port)
    client.loop_start()
    if not ready.wait(10):
        raise SystemExit("paho worker: not subscribed")
    print("ready", flush=True)
    sys.stdin.read()
    client.disconnect()
    client.loop_stop()


def start_workers(kind: str, port: int) -> list[subprocess.Popen[str]]:
    return common.start_processes([[common.PYTHON, __file__, "--worker", kind, str(i), str(port)]
                                   for i in range(PROCESSES)], f"{kind} worker")


# --- the two producers ---------------------------------------------------------------

def fn_openc2_rounds(port: int, rounds: int) -> tuple[list[float], list[int]]:
    from fn_openc2.lib.language import build_command
    from fn_openc2.lib.producer import load_settings
    from fn_openc2.lib.producer.producer import Producer

    ids = device_ids()
    settings = load_settings({
        "fn_openc2": {"producer_id": "soar@example.com"},
        "fn_openc2:fleet": {"transport": "mqtt", "broker": f"mqtt://127.0.0.1:{port}", "profiles": "slpf",
                            "expected_responders": ",".join(ids), "collect_seconds": str(ROUND_TIMEOUT)}})
    addresses = common.bench_addresses(rounds + 1)
    times, losses = [], []
    with Producer(settings) as producer:
        for index in range(rounds + 1):        # round 0 connects and warms up
            command = build_command("deny", {"ipv4_net": next(addresses)},
                                    args={"response_requested": "complete"}, profile="slpf")
            started = time.perf_counter()
            outcome = producer.send(command, "fleet")
            elapsed = time.perf_counter() - started
            answered = {a.responder for a in outcome.answers if a.ok and a.status == 200}
            if index:
                times.append(elapsed)
                losses.append(len(ids) - len(answered & set(ids)))
    return times, losses


def paho_rounds(port: int, rounds: int) -> tuple[list[float], list[int]]:
    ids = set(device_ids())
    lock = threading.Lock()
    state: dict[str, Any] = {"rid": None, "seen": set(), "done": threading.Event()}
    connected = threading.Event()
    client = _client("bench-paho-producer")

    def on_message(c: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        doc = json.loads(msg.payload)
        headers = doc["headers"]
        with lock:
            if headers["request_id"] == state["rid"]:
                state["seen"].add(headers["from"])
                if len(state["seen"]) == len(ids):
                    state["done"].set()

    client.on_connect = lambda c, *_: c.subscribe("oc2/rsp", qos=1)
    client.on_subscribe = lambda *_: connected.set()
    client.on_message = on_message
    client.connect("127.0.0.1", port)
    client.loop_start()
    if not connected.wait(10):
        raise SystemExit("paho producer: not subscribed")
    props = _props("req")
    addresses = common.bench_addresses(rounds + 1, offset=10_000)
    times, losses = [], []
    try:
        for index in range(rounds + 1):
            rid = str(uuid.uuid4())
            payload = json.dumps({"headers": {"request_id": rid, "created": int(time.time() * 1000),
                                              "from": "soar@example.com", "to": sorted(ids)},
                                  "body": {"openc2": {"request": {
                                      "action": "deny", "target": {"ipv4_net": next(addresses)},
                                      "args": {"response_requested": "complete"}, "profile": "slpf"}}}},
                                 separators=(",", ":")).encode()
            with lock:
                state.update(rid=rid, seen=set(), done=threading.Event())
            started = time.perf_counter()
            client.publish("oc2/cmd/all", payload, qos=1, properties=props)
            state["done"].wait(ROUND_TIMEOUT)
            elapsed = time.perf_counter() - started
            if index:
                times.append(elapsed)
                with lock:
                    losses.append(len(ids) - len(state["seen"] & ids))
    finally:
        client.disconnect()
        client.loop_stop()
    return times, losses


def main() -> None:
    from fn_openc2.lib.transfer.broker import start_mosquitto

    options = common.parse_args(__doc__.splitlines()[0])
    rounds = 5 if options.quick else 25
    total = PROCESSES * PER_PROCESS
    print(f"{total} responders ({PROCESSES} processes x {PER_PROCESS}), {rounds} rounds each side, "
          f"mosquitto with set_tcp_nodelay true; {common.cpu_count_note()}", flush=True)
    broker = start_mosquitto(workdir=common.workdir("fanout"))
    medians: dict[str, float] = {}
    lost_any = False
    try:
        for name, kind, run in (("plain paho", "paho", paho_rounds), ("fn_openc2", "fleet", fn_openc2_rounds)):
            workers = start_workers(kind, broker.port)
            try:
                times, losses = run(broker.port, rounds)
            finally:
                common.stop_processes(workers, timeout=10)
            medians[name] = common.median(times)
            lost_any = lost_any or any(losses)
            print(f"{name:>11}: median {medians[name] * 1e3:7.2f} ms per round "
                  f"(min {min(times) * 1e3:.2f}, max {max(times) * 1e3:.2f}); "
                  f"answers lost per round: {losses}", flush=True)
    finally:
        broker.stop()
    if lost_any:
        raise SystemExit("answers were lost: every round must collect all responders")
    print(f"ratio: {medians['fn_openc2'] / medians['plain paho']:.3f} "
          f"(fn_openc2 fan-out round time over plain paho round time)")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--worker":
        (fleet_worker if sys.argv[2] == "fleet" else paho_worker)(int(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
