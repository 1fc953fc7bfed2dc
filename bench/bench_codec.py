#!/usr/bin/env python3
"""Decode + validate + encode throughput of fn_openc2's language layer, against openc2-lycan.

Both sides do the same job per document: bytes in -> strict decode ->
validated object -> bytes out. The comparison runs in the same invocation:
fn_openc2 here, the PyPI ``openc2`` package (openc2-lycan-python 1.0.5, LS v1.0)
in a subprocess of its own venv ``.venv-bench`` (created on first use with
``openc2==1.0.5 stix2==2.1.0``; stix2 3.x breaks that release), so nothing is
added to the app's dependencies.

The ratio compares the documents both understand: the v2.0 form
(``"profile": "slpf"``) for fn_openc2, and the same intent in LS v1.0 form
(``"actuator": {"slpf": {}}``) for lycan. The full mix (with v2.0 messages
lycan cannot read) is reported too, and so is the floor: bare json.loads +
json.dumps on the same bytes, timed in rounds alternating with fn_openc2's.

Every rate is per second of the timing process's own CPU time (the lycan worker
times itself the same way): the machine is shared, and CPU time counts neither
side's waits for a core.

``json ratio: <n>`` on its own line (fn_openc2's time per document over the floor's);
last line: ``ratio: <n> (fn_openc2 msgs/s over openc2-lycan msgs/s)``.
Run: .venv/bin/python bench/bench_codec.py [--quick]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import venv
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BENCH_VENV = ROOT / ".venv-bench"
LYCAN_PINS = ("openc2==1.0.5", "stix2==2.1.0")

# --- the corpus: (kind, LS v2.0 document, the same intent for lycan or None) ----------------------

Doc = dict[str, Any]


def _corpus() -> list[tuple[str, Doc, Doc | None]]:
    def slpf(command: Doc) -> tuple[str, Doc, Doc]:
        v1 = {k: v for k, v in command.items() if k != "profile"}
        v1["actuator"] = {"slpf": {}}
        return "command", {**command, "profile": "slpf"}, v1

    items: list[tuple[str, Doc, Doc | None]] = [
        slpf({"action": "deny", "target": {"ipv4_net": "198.51.100.0/24"},
              "args": {"duration": 3600000, "response_requested": "complete", "slpf": {"drop_process": "reject"}}}),
        slpf({"action": "deny", "target": {"ipv4_net": "203.0.113.7"},
              "args": {"response_requested": "ack", "slpf": {"drop_process": "false_ack", "direction": "ingress"}}}),
        slpf({"action": "allow", "target": {"ipv4_net": "192.0.2.0/25"},
              "args": {"start_time": 1595268027000, "stop_time": 1595271627000, "slpf": {"direction": "egress"}}}),
        slpf({"action": "deny", "target": {"ipv4_connection": {
                  "src_addr": "10.1.2.3", "dst_addr": "198.51.100.5", "src_port": 49152, "dst_port": 443,
                  "protocol": "tcp"}},
              "args": {"duration": 600000, "response_requested": "complete", "slpf": {"direction": "both"}}}),
        slpf({"action": "allow", "target": {"ipv4_connection": {
                  "src_addr": "192.0.2.0/24", "dst_port": 53, "protocol": "udp"}},
              "args": {"response_requested": "complete"}}),
        ("command", {"action": "query", "target": {"features": ["versions", "profiles", "pairs", "rate_limit"]}},
         {"action": "query", "target": {"features": ["versions", "profiles", "pairs", "rate_limit"]}}),
        ("command", {"action": "contain",
                     "target": {"device": {"hostname": "ws-17.example.com", "device_id": "9b8d-22"}},
                     "args": {"response_requested": "complete", "er": {"device_containment": "network_isolation"}},
                     "profile": "er"},
         # lycan has no ER actuator; the same command without the profile and its args is what it can read
         {"action": "contain", "target": {"device": {"hostname": "ws-17.example.com", "device_id": "9b8d-22"}},
          "args": {"response_requested": "complete"}}),
        ("response", {"status": 200, "status_text": "OK", "results": {"slpf": {"rule_number": 1234}}}, None),
        ("response", {"status": 200, "results": {"versions": ["2.0"], "profiles": ["slpf", "er"],
                                                 "rate_limit": 30.0}}, None),
        ("response", {"status": 400, "status_text": "Bad Request: target ipv4_net is not a valid CIDR"},
         {"status": 400, "status_text": "Bad Request: target ipv4_net is not a valid CIDR"}),
        ("response", {"status": 501, "status_text": "Not Implemented: action/target pair deny domain_name"},
         {"status": 501, "status_text": "Not Implemented: action/target pair deny domain_name"}),
        ("response", {"status": 102, "status_text": "Processing"}, {"status": 102, "status_text": "Processing"}),
    ]
    envelope_headers = {"request_id": "d1ac0489-ed51-4345-9175-f3078f30afe5", "created": 1595268027000,
                        "from": "soar@example.com", "to": ["fw1@example.com"]}
    items.append(("message", {"headers": envelope_headers,
                              "body": {"openc2": {"request": items[3][1]}}}, None))
    items.append(("message", {"headers": {**envelope_headers, "from": "fw1@example.com", "to": ["soar@example.com"]},
                              "body": {"openc2": {"response": items[7][1]}}}, None))
    return items


# --- timing -----------------------------------------------------------------------------------------


def throughput(run_once: Callable[[], int], seconds: float) -> float:
    """Documents per CPU second: repeat ``run_once`` (returns docs handled) for about ``seconds``, best of 3."""
    run_once()
    best = 0.0
    for _ in range(3):
        done, start = 0, time.process_time()
        while (elapsed := time.process_time() - start) < seconds / 3:
            done += run_once()
        best = max(best, done / elapsed)
    return best


def fn_openc2_pipeline() -> Callable[[str, bytes], bytes]:
    from fn_openc2.lib.language import encode, loads, parse_command, parse_message, parse_response

    parsers = {"command": parse_command, "response": parse_response, "message": parse_message}

    def one(kind: str, data: bytes) -> bytes:
        return encode(parsers[kind](loads(data)))

    return one


def json_floor(_kind: str, data: bytes) -> bytes:
    return json.dumps(json.loads(data), separators=(",", ":")).encode()


def measure(pipeline: Callable[[str, bytes], bytes], docs: list[tuple[str, bytes]], seconds: float) -> float:
    def run_once() -> int:
        for kind, data in docs:
            pipeline(kind, data)
        return len(docs)

    return throughput(run_once, seconds)


def paired(first: Callable[[str, bytes], bytes], second: Callable[[str, bytes], bytes],
           docs: list[tuple[str, bytes]], seconds: float, rounds: int = 15) -> tuple[float, float]:
    """Documents per CPU second of both pipelines, timed in alternating short rounds
    (best round of each). Both are in-process and CPU-bound, so process CPU time is
    the fair clock on a shared machine: time spent descheduled counts for neither,
    and alternating gives both sides the same cache and frequency conditions."""
    best = [0.0, 0.0]
    for pipeline in (first, second):  # warm up
        for kind, data in docs:
            pipeline(kind, data)
    for _ in range(rounds):
        for side, pipeline in enumerate((first, second)):
            done, start = 0, time.process_time()
            while (elapsed := time.process_time() - start) < seconds / (2 * rounds):
                for kind, data in docs:
                    pipeline(kind, data)
                done += len(docs)
            best[side] = max(best[side], done / elapsed)
    return best[0], best[1]


def check_round_trip(pipeline: Callable[[str, bytes], bytes], docs: list[tuple[str, bytes]]) -> None:
    """Refuse to time a pipeline that changes meaning: output must decode to the input."""
    for kind, data in docs:
        out = pipeline(kind, data)
        if json.loads(out) != json.loads(data):
            raise SystemExit(f"fn_openc2 round trip changed a {kind}: {data!r} -> {out!r}")


# --- the lycan side ---------------------------------------------------------------------------------

LYCAN_WORKER = r"""
import json, sys, time
import openc2
job = json.load(sys.stdin)
docs = [d.encode() for d in job["docs"]]
for d in docs:  # same fidelity rule as fn_openc2: output must decode to the input
    out = openc2.parse(d.decode()).serialize()
    if json.loads(out) != json.loads(d):
        sys.exit("lycan round trip changed %r -> %r" % (d, out))
def run_once():
    for d in docs:
        openc2.parse(d.decode()).serialize().encode()
    return len(docs)
run_once()
best = 0.0
for _ in range(3):
    done, start = 0, time.process_time()
    while True:
        elapsed = time.process_time() - start
        if elapsed >= job["seconds"] / 3:
            break
        done += run_once()
    best = max(best, done / elapsed)
print(json.dumps({"msgs_per_s": best, "version": openc2.__version__}))
"""


def bench_python() -> Path:
    return BENCH_VENV / "bin" / "python"


def ensure_bench_venv() -> Path:
    """Create .venv-bench with the pinned lycan release on first use."""
    python = bench_python()
    probe = [str(python), "-c", "import openc2, stix2; assert openc2.__version__ == '1.0.5'"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    print(f"creating {BENCH_VENV} with {' '.join(LYCAN_PINS)} (first use only)", flush=True)
    venv.EnvBuilder(with_pip=True, clear=python.exists()).create(BENCH_VENV)
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", *LYCAN_PINS],
                             capture_output=True, text=True)
    if install.returncode != 0 or subprocess.run(probe, capture_output=True).returncode != 0:
        raise SystemExit(f"cannot install {' '.join(LYCAN_PINS)} into {BENCH_VENV}:\n{install.stderr[-2000:]}")
    return python


def lycan_throughput(docs: list[bytes], seconds: float) -> tuple[float, str]:
    python = ensure_bench_venv()
    job = json.dumps({"docs": [d.decode() for d in docs], "seconds": seconds})
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run([str(python), "-c", LYCAN_WORKER], input=job, capture_output=True, text=True,
                            timeout=600, env=env)
    if result.returncode != 0:
        raise SystemExit(f"lycan worker failed: {result.stderr[-2000:]}")
    report = json.loads(result.stdout.strip().splitlines()[-1])
    return float(report["msgs_per_s"]), str(report["version"])


# --- main -------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run (a few seconds) that still times both sides")
    args = parser.parse_args()
    seconds = 0.6 if args.quick else 3.0

    corpus = _corpus()
    full = [(kind, json.dumps(v2).encode()) for kind, v2, _ in corpus]
    shared_v2 = [(kind, json.dumps(v2).encode()) for kind, v2, v1 in corpus if v1 is not None]
    shared_v1 = [json.dumps(v1).encode() for _, _, v1 in corpus if v1 is not None]

    ours = fn_openc2_pipeline()
    check_round_trip(ours, full)
    lycan, lycan_version = lycan_throughput(shared_v1, seconds)
    ours_shared, floor_shared = paired(ours, json_floor, shared_v2, 2 * seconds)
    ours_full = measure(ours, full, seconds)

    print(f"corpus: {len(full)} documents ({sum(k == 'command' for k, _ in full)} commands, "
          f"{sum(k == 'response' for k, _ in full)} responses, {sum(k == 'message' for k, _ in full)} messages); "
          f"{len(shared_v2)} that both libraries understand")
    print("(every rate below is per second of the process's own CPU time: fair between sides on a shared machine)")
    for label, rate in (("fn_openc2 decode+validate+encode, shared docs ", ours_shared),
                        ("fn_openc2 decode+validate+encode, full mix    ", ours_full),
                        (f"openc2-lycan {lycan_version} parse+serialize, shared docs", lycan),
                        ("floor: json.loads+json.dumps, shared docs     ", floor_shared)):
        print(f"{label}: {rate:10.0f} msgs/s ({1e6 / rate:7.1f} us/msg)")
    print(f"json ratio: {floor_shared / ours_shared:.2f} (fn_openc2 time per msg over bare json.loads+json.dumps, "
          "shared docs, alternating rounds)")
    print(f"ratio: {ours_shared / lycan:.1f} (fn_openc2 msgs/s over openc2-lycan msgs/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
