#!/usr/bin/env python3
"""Fleet scale: one command over MQTT to N simulated responders, until all N answers are correlated.

For each N (1,000, 5,000 and 10,000; ``--quick``: 1,000) and in the same run,
through one mosquitto started here, three producers each run the same rounds:

- fn_openc2, accumulated: ``Producer.send`` of an SLPF deny over MqttTransport
  with expected_responders = the N device ids and max_answers left at its
  default, which follows the fleet (envelope, publish QoS 1, collect and
  correlate, decode and validate every response, one ConsumerAnswer each,
  all held in the outcome).
- fn_openc2, streamed (the headline ratio): the same with
  ``Producer.send(on_answer=...)``: each answer judged as it arrives and passed
  on, none held. This is the producer path of the SOAR function's fan-out
  (soar/runner.py, issue 13.5), whose journal then spools each answer to the
  attachment files (not part of this figure: the floor writes nothing either).
- floor: one plain paho client publishing the same envelope (QoS 1) and
  collecting on the same topics, ``json.loads`` of each answer and a set of
  responders for the round's request_id; no OpenC2 processing.

Both producers face the same simulated responders, so the ratio is the
producer's own cost: 4 responder processes; in each, one paho connection per
500 device ids (an EDR relay / gateway, the common fleet shape) subscribed
once to ``oc2/cmd/#``, answering every command with one OpenC2 response per
device id (``from`` = that id, status 200 with an ``slpf`` rule number) on
``oc2/rsp``. Why shared connections: the figure is about the producer, which
sees N answers on its one connection either way; 10,000 real client sockets
would measure the simulator (10,000 Python clients on 2 cores) and need
``ulimit -n`` and mosquitto's ``max_connections`` raised on every machine
the bench runs on. The broker copies the command to N/500 subscribers
instead of N; the answer path, the part the producer waits for, is the same.

The broker needs one non-default setting for fleets: ``max_queued_messages``
(default 1,000 per client) must exceed N, or mosquitto drops the QoS 1
answers queued for the producer beyond it (measured with --broker-defaults:
at N = 5,000, 3,100-3,900 of the 5,000 answers never arrived, each round). Each producer runs in its own process so
its memory is its own: the resident set before the first round, the peak
(VmHWM) at the end, and one extra untimed round under tracemalloc for the
round's own Python memory per answer. Bounded-memory check: fn_openc2's peak
growth per answer must stay under MAX_BYTES_PER_ANSWER and its resident set
must not grow from round to round (a leak would); the run fails otherwise,
and when any answer is lost.

Last lines (``--quick``): ``accumulated ratio: <n>`` (every answer held until the
round ends: the garbage collector then walks them, ~0.1 s per round at N =
10,000), then ``ratio: <n> (fn_openc2 fleet round time over plain paho round
time, N=1000)`` for the streamed producer; without --quick both are for N=10000.
Run: .venv/bin/python bench/bench_fleet.py [--quick] [--sizes 1000,5000]
"""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import timeit
import tracemalloc
import uuid
from typing import Any

import common  # puts the repository on sys.path, so it comes before the app's imports

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

PROCESSES = 4
PER_CONNECTION = 500
ROUND_TIMEOUT = 60.0
PRODUCER_ID = "soar@example.com"
RESPONSE_TOPICS = ("oc2/rsp", f"oc2/rsp/{PRODUCER_ID}")
MAX_BYTES_PER_ANSWER = 16 * 1024     # the bounded-memory check (fn_openc2 producer, one round)
LEAK_SLACK = 8 * 1024 * 1024          # resident growth allowed between the first and last timed round
MAX_STREAMED_BYTES_PER_ANSWER = 2 * 1024   # streamed fan-out: peak RSS growth per added answer, N=1,000 -> N=10,000


def device_ids(n: int) -> list[str]:
    return [f"ep{i}@fleet.example.com" for i in range(n)]


def shares(n: int) -> list[tuple[int, int]]:
    """(first, count) of device ids per responder process."""
    base, extra = divmod(n, PROCESSES)
    out, first = [], 0
    for p in range(PROCESSES):
        count = base + (1 if p < extra else 0)
        out.append((first, count))
        first += count
    return out


def _nodelay(client: Any, userdata: Any, sock: Any) -> None:
    raw = sock if isinstance(sock, socket.socket) else getattr(sock, "_sock", sock)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _props(kind: str) -> Properties:
    props = Properties(PacketTypes.PUBLISH)
    props.PayloadFormatIndicator = 1
    props.ContentType = "application/openc2"
    props.UserProperty = [("msgType", kind), ("encoding", "json")]
    return props


def paho_property_cost() -> tuple[float, float]:
    """µs paho takes to decode an answer's MQTT v5 properties (what every OpenC2 answer carries
    by the transfer spec), and an empty property block: part of both producers' per-answer cost."""
    packed = _props("rsp").pack()

    def decode(raw: bytes = packed) -> None:
        Properties(PacketTypes.PUBLISH).unpack(raw)

    def decode_empty() -> None:
        Properties(PacketTypes.PUBLISH).unpack(b"\x00")

    count = 5000
    full, empty = (min(timeit.repeat(f, number=count, repeat=5)) / count * 1e6 for f in (decode, decode_empty))
    return full, empty


def _client(client_id: str) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.on_socket_open = _nodelay
    return client



# --- responder processes (this file with --responders) --------------------------------

def responders(index: int, port: int, first: int, count: int) -> None:
    """count simulated devices behind ceil(count / PER_CONNECTION) connections."""
    ids = device_ids(first + count)[first:]
    groups = [ids[i:i + PER_CONNECTION] for i in range(0, len(ids), PER_CONNECTION)]
    props = _props("rsp")
    clients, subscribed = [], threading.Semaphore(0)
    for g, devices in enumerate(groups):
        # per device, the answer split around its request_id: only the id is filled in per round
        parts = [(b'{"headers":{"request_id":"',
                  ('","created":%d,"from":' + json.dumps(d) + ',"to":["' + PRODUCER_ID + '"]},'
                   '"body":{"openc2":{"response":{"status":200,"results":{"slpf":{"rule_number":'
                   + str(first + g * PER_CONNECTION + k + 1) + '}}}}}}')) for k, d in enumerate(devices)]
        client = _client(f"bench-gw-{index}-{g}")
        client.max_inflight_messages_set(0)

        def on_message(c: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage, parts: Any = parts) -> None:
            request_id = json.loads(msg.payload)["headers"]["request_id"].encode()
            created = int(time.time() * 1000)
            for head, tail in parts:
                c.publish("oc2/rsp", head + request_id + (tail % created).encode(), qos=1, properties=props)

        client.on_connect = lambda c, *_: c.subscribe("oc2/cmd/#", qos=1)
        client.on_subscribe = lambda *_: subscribed.release()
        client.on_message = on_message
        client.connect("127.0.0.1", port)
        client.loop_start()
        clients.append(client)
    for _ in groups:
        if not subscribed.acquire(timeout=20):
            raise SystemExit("responders: not subscribed")
    print("ready", flush=True)
    sys.stdin.read()        # the parent closes stdin to stop us
    for client in clients:
        client.disconnect()
        client.loop_stop()


def start_responders(port: int, n: int) -> list[subprocess.Popen[str]]:
    return common.start_processes([[common.PYTHON, __file__, "--responders", str(i), str(port), str(first), str(count)]
                                   for i, (first, count) in enumerate(shares(n))], "responder process")


# --- the two producers (this file with --producer, one process each) -------------------

class Meter:
    """Round times, losses and memory of one producer process.

    ``base``: resident set once set up, before the first round; ``peak``: VmHWM
    at the end (every round included); ``traced``: Python allocations at their
    peak during one extra, untimed round under tracemalloc (the round's own
    memory, which the resident set hides once the warm-up round's freed
    memory is reused)."""

    def __init__(self, rounds: int) -> None:
        self.rounds = rounds
        self.times: list[float] = []
        self.losses: list[int] = []
        self.resident: list[int] = []
        self.cpu: list[float] = []
        self._cpu_start = 0.0
        self.base = common.memory()[0]
        self.traced = 0

    def plan(self) -> range:
        """Round 0 warms up (connects), 1..rounds are timed, the last one is traced."""
        return range(self.rounds + 2)

    def start(self, index: int) -> None:
        if index == self.rounds + 1:
            tracemalloc.start()
        self._cpu_start = time.process_time()

    def done(self, index: int, elapsed: float, lost: int) -> None:
        cpu = time.process_time() - self._cpu_start
        if index == self.rounds + 1:
            self.traced = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            self.losses.append(lost)
        elif index:
            self.times.append(elapsed)
            self.cpu.append(cpu)
            self.losses.append(lost)
            self.resident.append(common.memory()[0])

    def report(self) -> str:
        return json.dumps({"times": self.times, "losses": self.losses, "base": self.base, "peak": common.memory()[1],
                           "resident": self.resident, "traced": self.traced, "cpu": self.cpu})


def fn_openc2_producer(port: int, n: int, rounds: int, stream: bool = False) -> None:
    from fn_openc2.lib.language import build_command
    from fn_openc2.lib.producer import load_settings
    from fn_openc2.lib.producer.producer import Producer

    ids = device_ids(n)
    expected = set(ids)
    settings = load_settings({
        "fn_openc2": {"producer_id": PRODUCER_ID},
        "fn_openc2:fleet": {"transport": "mqtt", "broker": f"mqtt://127.0.0.1:{port}", "profiles": "slpf",
                            "expected_responders": ",".join(ids), "collect_seconds": str(ROUND_TIMEOUT)}})
    # max_answers unset: its default follows the declared fleet (twice expected_responders)
    addresses = common.bench_addresses(rounds + 2)
    meter = Meter(rounds)
    with Producer(settings) as producer:
        for index in meter.plan():
            command = build_command("deny", {"ipv4_net": next(addresses)},
                                    args={"response_requested": "complete"}, profile="slpf")
            meter.start(index)
            started = time.perf_counter()
            if stream:     # each answer passed on as it is judged; only who answered is kept (as the floor does)
                answered: set[str | None] = set()

                def note(a: Any, seen: set[str | None] = answered) -> None:
                    if a.ok and a.status == 200:
                        seen.add(a.responder)

                outcome = producer.send(command, "fleet", on_answer=note)
            else:
                outcome = producer.send(command, "fleet")
                answered = {a.responder for a in outcome.answers if a.ok and a.status == 200}
            elapsed = time.perf_counter() - started
            lost = len(expected - answered)
            meter.done(index, elapsed, lost)
            del outcome, answered
    print(meter.report(), flush=True)


def paho_producer(port: int, n: int, rounds: int) -> None:
    ids = device_ids(n)
    expected = set(ids)
    lock = threading.Lock()
    state: dict[str, Any] = {"rid": None, "seen": set(), "done": threading.Event()}
    subscribed = threading.Event()
    client = _client("bench-paho-producer")

    def on_message(c: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        headers = json.loads(msg.payload)["headers"]
        with lock:
            if headers["request_id"] == state["rid"]:
                seen = state["seen"]
                seen.add(headers["from"])
                if len(seen) == n:
                    state["done"].set()

    client.on_connect = lambda c, *_: c.subscribe([(t, 1) for t in RESPONSE_TOPICS])
    client.on_subscribe = lambda *_: subscribed.set()
    client.on_message = on_message
    client.connect("127.0.0.1", port)
    client.loop_start()
    if not subscribed.wait(10):
        raise SystemExit("paho producer: not subscribed")
    props = _props("req")
    addresses = common.bench_addresses(rounds + 2, offset=100_000)
    meter = Meter(rounds)
    try:
        for index in meter.plan():
            rid = str(uuid.uuid4())
            payload = json.dumps({"headers": {"request_id": rid, "created": int(time.time() * 1000),
                                              "from": PRODUCER_ID, "to": ids},
                                  "body": {"openc2": {"request": {
                                      "action": "deny", "target": {"ipv4_net": next(addresses)},
                                      "args": {"response_requested": "complete"}, "profile": "slpf"}}}},
                                 separators=(",", ":")).encode()
            with lock:
                state.update(rid=rid, seen=set(), done=threading.Event())
            meter.start(index)
            started = time.perf_counter()
            client.publish("oc2/cmd/all", payload, qos=1, properties=props)
            state["done"].wait(ROUND_TIMEOUT)
            elapsed = time.perf_counter() - started
            with lock:
                lost = len(expected - state["seen"])
            meter.done(index, elapsed, lost)
    finally:
        client.disconnect()
        client.loop_stop()
    print(meter.report(), flush=True)


PRODUCERS = {"plain paho": "paho", "fn_openc2": "fleet", "streamed": "stream"}


def run_passes(port: int, n: int, rounds: int) -> dict[str, dict[str, Any]]:
    """Each producer twice, in order then in reverse (floor, accumulated, streamed, streamed,
    accumulated, floor), so a drift of the machine during the run weighs on all of them alike;
    round times and CPU are pooled, memory is the larger of the two processes'."""
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in PRODUCERS}
    order = list(PRODUCERS)
    for name in order + order[::-1]:
        runs[name].append(run_producer(PRODUCERS[name], port, n, rounds))
    pooled = {}
    for name, (first, second) in runs.items():
        worse = max((first, second), key=lambda r: r["peak"] - r["base"])
        pooled[name] = {**worse, "times": first["times"] + second["times"], "cpu": first["cpu"] + second["cpu"],
                        "losses": first["losses"] + second["losses"],
                        "traced": max(first["traced"], second["traced"]),
                        "leak": max(r["resident"][-1] - r["resident"][0] for r in (first, second))}
    return pooled


def run_producer(kind: str, port: int, n: int, rounds: int) -> dict[str, Any]:
    done = subprocess.run([common.PYTHON, __file__, "--producer", kind, str(port), str(n), str(rounds)],
                          cwd=common.ROOT, capture_output=True, text=True, timeout=ROUND_TIMEOUT * (rounds + 3))
    if done.returncode != 0:
        raise SystemExit(f"{kind} producer failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- main ------------------------------------------------------------------------------

def fleet_broker(defaults: bool = False) -> Any:
    """mosquitto as the tests start it, plus a queue deep enough for N answers to one client
    (``defaults``: without it, to see what mosquitto's default does to a fleet)."""
    from fn_openc2.lib.transfer.broker import Broker, find_mosquitto, free_port

    class FleetBroker(Broker):
        def _config(self) -> str:
            return super()._config() + ("" if defaults else "max_queued_messages 100000\n")

    directory = common.workdir("fleet")
    return FleetBroker(host="127.0.0.1", port=free_port(), tls_port=None, workdir=directory,
                       binary=find_mosquitto()).start()


def mib(value: float) -> str:
    return f"{value / 1024 / 1024:.1f} MiB"


def main() -> None:
    def extra(parser: Any) -> None:
        parser.add_argument("--sizes", default="1000,5000,10000", help="comma-separated N")
        parser.add_argument("--rounds", type=int, default=None,
                            help="timed rounds per producer process (two processes per producer and N)")
        parser.add_argument("--broker-defaults", action="store_true",
                            help="leave mosquitto's max_queued_messages at its default (answers get dropped)")

    options = common.parse_args(__doc__.splitlines()[0], extra)
    sizes = [1000] if options.quick else [int(s) for s in options.sizes.split(",")]
    rounds = options.rounds or (3 if options.quick else 4)
    print(f"N = {', '.join(map(str, sizes))}; {2 * rounds} timed rounds per producer and N, in two processes of "
          f"{rounds} (each after one warm-up round), run in order then in reverse; "
          f"{PROCESSES} responder processes, {PER_CONNECTION} devices per connection; "
          f"{common.cpu_count_note()}", flush=True)
    broker = fleet_broker(options.broker_defaults)
    rows, failures = [], []
    streamed_growth: dict[int, int] = {}
    try:
        for n in sizes:
            workers = start_responders(broker.port, n)
            try:
                results = run_passes(broker.port, n, rounds)
            finally:
                common.stop_processes(workers)
            medians = {}
            for name, result in results.items():
                times = result["times"]
                medians[name] = common.median(times)
                growth = max(0, result["peak"] - result["base"])
                print(f"N={n:>6} {name:>10}: median {medians[name] * 1e3:8.1f} ms per round "
                      f"(min {min(times) * 1e3:.1f}, max {max(times) * 1e3:.1f}); producer CPU "
                      f"{common.median(result['cpu']) / n * 1e6:.1f} µs per answer; lost per round {result['losses']}; "
                      f"RSS before the first round {mib(result['base'])}, peak {mib(result['peak'])} "
                      f"({growth / n / 1024:.2f} KiB per answer); one round traced: "
                      f"{result['traced'] / n / 1024:.2f} KiB per answer", flush=True)
                if any(result["losses"]):
                    failures.append(f"N={n} {name}: answers lost {result['losses']}")
                if name == "streamed":
                    streamed_growth[n] = growth
                if name in ("fn_openc2", "streamed"):
                    if growth / n > MAX_BYTES_PER_ANSWER:
                        failures.append(f"N={n}: peak RSS grew {growth / n / 1024:.1f} KiB per answer > "
                                        f"{MAX_BYTES_PER_ANSWER / 1024:.0f} KiB")
                    if result["leak"] > LEAK_SLACK:
                        failures.append(f"N={n} {name}: resident set grew {mib(result['leak'])} "
                                        f"over {rounds} rounds")
            ratio = medians["fn_openc2"] / medians["plain paho"]
            streamed = medians["streamed"] / medians["plain paho"]
            peak = results["fn_openc2"]["peak"]
            rows.append((n, medians["plain paho"], medians["fn_openc2"], ratio, peak,
                         results["fn_openc2"]["traced"] / n, medians["streamed"], results["streamed"]["peak"],
                         streamed))
            print(f"N={n:>6} ratio {streamed:.3f} streamed, {ratio:.3f} accumulated", flush=True)
    finally:
        broker.stop()
    print("\n| N | plain paho ms/round | streamed ms/round | ratio | streamed peak RSS | accumulated ms/round "
          "| ratio | accumulated peak RSS | traced KiB per answer |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n, floor, ours, ratio, peak, per, streamed, streamed_peak, streamed_ratio in rows:
        print(f"| {n:,} | {floor * 1e3:.0f} | {streamed * 1e3:.0f} | {streamed_ratio:.2f} | {mib(streamed_peak)} "
              f"| {ours * 1e3:.0f} | {ratio:.2f} | {mib(peak)} | {per / 1024:.2f} |")
    low, high = min(streamed_growth), max(streamed_growth)
    if high > low:
        per_answer = (streamed_growth[high] - streamed_growth[low]) / (high - low)
        print(f"streamed fan-out: peak RSS growth {mib(streamed_growth[low])} at N={low:,}, "
              f"{mib(streamed_growth[high])} at N={high:,}: {per_answer / 1024:.2f} KiB per added answer "
              f"(bound {MAX_STREAMED_BYTES_PER_ANSWER / 1024:.1f} KiB)")
        if per_answer > MAX_STREAMED_BYTES_PER_ANSWER:
            failures.append(f"streamed fan-out: peak RSS grew {per_answer / 1024:.2f} KiB per added answer "
                            f"from N={low} to N={high} > {MAX_STREAMED_BYTES_PER_ANSWER / 1024:.1f} KiB")
    full, empty = paho_property_cost()
    print(f"paho: decoding an answer's MQTT v5 properties (payload format, content type, 2 user properties) "
          f"takes {full:.1f} µs, an empty property block {empty:.1f} µs (both producers pay it per answer)")
    if failures:
        raise SystemExit("bench_fleet failed: " + "; ".join(failures))
    n, _, _, ratio, _, _, _, _, streamed_ratio = rows[-1]
    print(f"accumulated ratio: {ratio:.3f} (Producer.send holding every answer, over plain paho, N={n})")
    print(f"ratio: {streamed_ratio:.3f} (fn_openc2 fleet round time over plain paho round time, N={n}; "
          "answers streamed, as the SOAR function runs a fan-out)")


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--responders":
        responders(*map(int, sys.argv[2:]))
    elif len(sys.argv) == 6 and sys.argv[1] == "--producer":
        if sys.argv[2] == "paho":
            paho_producer(*map(int, sys.argv[3:]))
        else:
            fn_openc2_producer(*map(int, sys.argv[3:]), stream=sys.argv[2] == "stream")
    else:
        main()
