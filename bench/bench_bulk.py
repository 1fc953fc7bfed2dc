#!/usr/bin/env python3
"""Bulk throughput: N SLPF deny commands over HTTPS keep-alive to the reference consumer.

Two clients in the same run, against the same kind of freshly started consumer
process (its own CPU, not this process's GIL), at the same concurrency:

- full: the whole producer path per command: build_command (build + validate),
  policy guard, routing, envelope, optional ES256 signature, HTTPS POST through
  HttpsTransport, response decode, validation and signature verdict
  (Producer.send_many).
- bare: a pooled requests.Session loop POSTing the same, pre-built envelope
  bytes with the same headers and reading each body; nothing else.

Both sides: CONCURRENCY threads, the consumer's CA as verify= and the dev
client certificate (the consumer requires one: mutual TLS), every answer
checked (HTTP 200 and OpenC2 status 200). Every deny targets a distinct
address from 198.18.0.0/15 (each phase its own slice), so the guard passes
and the actuator never sees a repeated rule. ``--rounds N`` alternates the
order of the unsigned pair per round and reports medians.
The full path streams (``send_many(on_outcome=...)``: commands built lazily,
each outcome checked as it comes, nothing kept) and its peak RSS is printed;
the run fails if a timed run's peak grows more than MAX_GROWTH over its
starting resident set (memory bounded whatever N).
Lines: ``signed ratio: <n>`` (signed full path over the bare unsigned loop),
then last ``ratio: <n> (full producer path cmds/s over bare requests loop cmds/s, unsigned)``.
Run: .venv/bin/python bench/bench_bulk.py [--quick] [--profile]
"""
from __future__ import annotations

import cProfile
import io
import pstats
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from email.utils import formatdate

import common  # puts the repository on sys.path, so it comes before the app's imports

import requests

from fn_openc2.lib.language import build_command, dumps
from fn_openc2.lib.producer import load_settings
from fn_openc2.lib.producer.producer import Producer
from fn_openc2.lib.transfer.devpki import Pki, make_pki
from fn_openc2.lib.transfer.dialects import resolve_dialect

CONCURRENCY = 4          # 2 cores: more threads only add GIL contention (see interop facts)
WARMUP = 50
CPU_MS: dict[str, float] = {}   # client CPU per command, by phase
PEAK: dict[str, tuple[int, int]] = {}   # (resident before, peak during) the timed run, by phase
MAX_GROWTH = 64 * 1024 * 1024   # bounded-memory check: a streamed run's peak over its starting resident set
ARGS = {"response_requested": "complete", "slpf": {"drop_process": "false_ack"}}


def settings_for(url: str, pki: Pki, *, signing_key: str | None = None, verify_key: str | None = None):
    producer = {"producer_id": "soar@example.com", "max_concurrency": str(CONCURRENCY), "retries": "0",
                "timeout": "30"}
    consumer = {"url": url, "verify": pki.ca_cert, "client_auth_cert": pki.client_cert,
                "client_auth_key": pki.client_key, "profiles": "slpf", "device_id": "bench-fw@example.com"}
    if signing_key:
        producer["signing_key"] = signing_key
    if verify_key:
        consumer["response_verify_key"] = verify_key
    return load_settings({"fn_openc2": producer, "fn_openc2:fw": consumer})



def reset_peak() -> None:
    """Start VmHWM again from the current resident set (Linux clear_refs 5)."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


class Checked:
    """The outcome sink of the timed run: checks each outcome as it streams out and keeps
    only counts, so the run's memory is the producer's, not a list of 10,000 outcomes."""

    def __init__(self, want_signature: str) -> None:
        self.want = want_signature
        self.count = 0
        self.bad: list[str] = []

    def __call__(self, outcome) -> None:  # type: ignore[no-untyped-def]
        self.count += 1
        if not outcome.ok or len(outcome.answers) != 1 or outcome.answers[0].status != 200:
            self.bad.append(f"failed: {outcome.to_dict()}")
        elif outcome.answers[0].signature != self.want:
            self.bad.append(f"signature {outcome.answers[0].signature} != {self.want}")


def run_full(url: str, pki: Pki, addresses: list[str], *, signing_key: str | None = None,
             verify_key: str | None = None, profile: bool = False) -> tuple[float, str | None]:
    """cmds/s through Producer.send_many, streamed (commands built lazily, outcomes checked as
    they come: every command got a 200, and a verified signature when signed)."""
    producer = Producer(settings_for(url, pki, signing_key=signing_key, verify_key=verify_key))
    phase = f"full{', signed' if signing_key else ''}"
    try:
        warm, timed = addresses[:WARMUP], addresses[WARMUP:]
        producer.send_many([build_command("deny", {"ipv4_net": a}, args=ARGS, profile="slpf") for a in warm],
                           "fw", concurrency=CONCURRENCY)
        profilers = ThreadProfilers() if profile else None
        checked = Checked("verified" if verify_key else "unsigned")
        reset_peak()
        resident = common.memory()[0]
        started, cpu = time.perf_counter(), time.process_time()
        if profilers:
            profilers.start()
        commands = (build_command("deny", {"ipv4_net": a}, args=ARGS, profile="slpf") for a in timed)
        producer.send_many(commands, "fw", concurrency=CONCURRENCY, on_outcome=checked)
        if profilers:
            profilers.stop()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        PEAK[phase] = (resident, common.memory()[1])
    finally:
        producer.close()
    CPU_MS[phase] = cpu * 1e3 / len(timed)
    if checked.count != len(timed) or checked.bad:
        raise SystemExit(f"full path: {len(checked.bad)} of {checked.count} outcomes bad "
                         f"({len(timed)} sent); first: {checked.bad[:1]}")
    return len(timed) / elapsed, profilers.report() if profilers else None


class ThreadProfilers:
    """cProfile in the calling thread and in every thread started while it runs
    (send_many's worker pool), merged: cProfile alone sees only one thread."""

    def __init__(self) -> None:
        self._all: list[cProfile.Profile] = []
        self._lock = threading.Lock()

    def _hook(self, *_: object) -> None:
        profiler = cProfile.Profile(time.thread_time)  # CPU of this thread: waits do not count
        with self._lock:
            self._all.append(profiler)
        profiler.enable()   # replaces this hook for the new thread

    def start(self) -> None:
        threading.setprofile(self._hook)
        self._hook()

    def stop(self) -> None:
        threading.setprofile(None)  # type: ignore[arg-type]
        for profiler in self._all:
            profiler.disable()   # only the calling thread's takes effect; the workers have ended

    def report(self, top: int = 25) -> str:
        out = io.StringIO()
        stats = pstats.Stats(*self._all, stream=out)
        total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
        out.write("CPU seconds by layer (C builtins charged to their Python caller):\n")
        for name, seconds in sorted(by_layer(stats).items(), key=lambda kv: -kv[1]):
            out.write(f"  {name:<28} {seconds:7.3f} s  {100 * seconds / total:5.1f} %\n")
        stats.sort_stats("tottime").print_stats(top)
        return out.getvalue()


def _layer(filename: str) -> str:
    if "/fn_openc2/lib/" in filename:
        return "fn_openc2." + filename.split("/fn_openc2/lib/", 1)[1].split("/", 1)[0]
    for package in ("requests", "urllib3", "pydantic", "jwcrypto", "cryptography"):
        if f"/site-packages/{package}/" in filename or f"/site-packages/{package}_core/" in filename:
            return package
    if filename.endswith(("/ssl.py", "/socket.py")):
        return "stdlib ssl/socket"
    if "/http/" in filename or "/email/" in filename:
        return "stdlib http.client/email"
    if "/concurrent/" in filename or filename.endswith(("/threading.py", "/queue.py")):
        return "stdlib threads/futures"
    if filename.endswith(("/bench_bulk.py", "/common.py")):
        return "benchmark"
    return "stdlib other"


def by_layer(stats: pstats.Stats) -> dict[str, float]:
    """Sum own time per layer; builtins ('~') go to the layer of whoever called them."""
    totals: dict[str, float] = {}
    for (filename, _line, _name), (_cc, _nc, tt, _ct, callers) in stats.stats.items():  # type: ignore[attr-defined]
        if filename != "~":
            layer = _layer(filename)
            totals[layer] = totals.get(layer, 0.0) + tt
            continue
        for (caller_file, _l, _n), caller_stats in callers.items():
            layer = _layer(caller_file) if caller_file != "~" else "stdlib other"
            totals[layer] = totals.get(layer, 0.0) + caller_stats[2]
    return totals


def bare_bodies(addresses: list[str]) -> list[tuple[bytes, str]]:
    """The same unsigned envelopes the producer sends, encoded once up front."""
    out = []
    for address in addresses:
        rid = str(uuid.uuid4())
        message = {"headers": {"request_id": rid, "created": int(time.time() * 1000), "from": "soar@example.com",
                               "to": ["bench-fw@example.com"]},
                   "body": {"openc2": {"request": common.deny_command(address)}}}
        out.append((dumps(message), rid))
    return out


def run_bare(url: str, pki: Pki, addresses: list[str]) -> float:
    """cmds/s of a pooled requests Session loop at the same concurrency: CONCURRENCY threads,
    verify= the CA and cert= the client certificate per request, as the producer's transport."""
    dialect = resolve_dialect("https-v1.1")
    target = url if url.endswith(dialect.path) else url.rstrip("/") + dialect.path
    static = {"Content-Type": dialect.content_type, "Accept": dialect.accept, "Cache-Control": "no-cache"}
    session = requests.Session()
    session.trust_env = False
    session.mount("https://", requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=CONCURRENCY))
    bodies = bare_bodies(addresses)
    failures: list[str] = []
    lock = threading.Lock()

    def worker(chunk: list[tuple[bytes, str]]) -> None:
        for body, rid in chunk:
            resp = session.post(target, data=body, headers={**static, "X-Request-ID": rid,
                                                            "Date": formatdate(usegmt=True)},
                                verify=pki.ca_cert, cert=(pki.client_cert, pki.client_key), timeout=30)
            content = resp.content
            if resp.status_code != 200 or b'"status":200' not in content:
                with lock:
                    failures.append(f"{resp.status_code} {content[:200]!r}")

    def blast(items: list[tuple[bytes, str]]) -> None:
        chunks = [items[i::CONCURRENCY] for i in range(CONCURRENCY)]
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            list(pool.map(worker, chunks))

    try:
        blast(bodies[:WARMUP])
        started, cpu = time.perf_counter(), time.process_time()
        blast(bodies[WARMUP:])
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        CPU_MS["bare"] = cpu * 1e3 / (len(bodies) - WARMUP)
    finally:
        session.close()
    if failures:
        raise SystemExit(f"bare loop: {len(failures)} failures; first: {failures[0]}")
    return (len(bodies) - WARMUP) / elapsed


def main() -> None:
    global CONCURRENCY

    def extra(parser) -> None:
        parser.add_argument("--concurrency", type=int, default=CONCURRENCY, help="messages in flight, both sides")
        parser.add_argument("--rounds", type=int, default=1,
                            help="bare/full unsigned pairs, order alternating per round; medians reported")
    options = common.parse_args(__doc__.splitlines()[0], extra)
    CONCURRENCY = options.concurrency
    count = 1000 if options.quick else 10000
    directory = common.workdir("bulk")
    pki = make_pki(directory)
    consumer_priv, consumer_pub = common.write_es256_keypair(directory, "consumer")
    producer_priv, _ = common.write_es256_keypair(directory, "producer")
    per_phase = count + WARMUP
    phases = 2 * options.rounds + 1
    slices = [list(common.bench_addresses(per_phase, offset=i * (per_phase + 512))) for i in range(phases)]
    print(f"{count} deny commands per phase, concurrency {CONCURRENCY} (threads) on both sides, HTTPS keep-alive "
          f"with mutual TLS, a fresh consumer process per phase; {common.cpu_count_note()}", flush=True)

    runs: dict[str, list[float]] = {"bare": [], "full": []}
    profile_text = None
    # Bare and full unsigned alternate on fresh consumers so both meet the same server state growth.
    for round_ in range(options.rounds):
        order = ("bare", "full") if round_ % 2 == 0 else ("full", "bare")
        for phase in order:
            addresses = slices.pop()
            server = common.start_consumer_process(pki.server_cert, pki.server_key, client_ca=pki.ca_cert)
            try:
                if phase == "bare":
                    value = run_bare(server.url, pki, addresses)
                else:
                    value, text = run_full(server.url, pki, addresses,
                                           profile=options.profile and profile_text is None)
                    profile_text = profile_text or text
            finally:
                server.stop()
            runs[phase].append(value)
            print(f"{phase:>14}: {value:8.0f} cmds/s ({1e3 / value:.3f} ms/cmd; "
                  f"client CPU {CPU_MS[phase]:.3f} ms/cmd)", flush=True)
    results = {phase: common.median(values) for phase, values in runs.items()}
    server = common.start_consumer_process(pki.server_cert, pki.server_key, signing_key=consumer_priv,
                                           client_ca=pki.ca_cert)
    try:
        results["signed"], _ = run_full(server.url, pki, slices.pop(), signing_key=producer_priv,
                                        verify_key=consumer_pub)
    finally:
        server.stop()
    print(f"{'full, signed':>14}: {results['signed']:8.0f} cmds/s ({1e3 / results['signed']:.3f} ms/cmd; "
          f"client CPU {CPU_MS['full, signed']:.3f} ms/cmd; commands ES256-signed, "
          "responses signed by the consumer and verified)")
    growth = {phase: peak - resident for phase, (resident, peak) in PEAK.items()}
    for phase, (resident, peak) in PEAK.items():
        print(f"{phase:>14}: peak RSS {peak / 2**20:.1f} MiB during the timed {count:,} commands "
              f"(resident before {resident / 2**20:.1f} MiB, +{growth[phase] / 2**20:.1f} MiB)")
    if profile_text:
        print("cProfile of the full unsigned run (tottime, all threads of this process):")
        print(profile_text)
    if options.rounds > 1:
        print(f"medians of {options.rounds} rounds: bare {results['bare']:.0f}, full {results['full']:.0f} cmds/s; "
              f"per-round ratios {', '.join(f'{f / b:.3f}' for b, f in zip(runs['bare'], runs['full'], strict=True))}")
    over = {phase: g for phase, g in growth.items() if g > MAX_GROWTH}
    if over:
        grew = ", ".join(f"{p} +{g / 2**20:.0f} MiB" for p, g in over.items())
        raise SystemExit(f"memory not bounded: peak grew {grew} (limit {MAX_GROWTH / 2**20:.0f} MiB)")
    print("signed: full path with ES256 signatures both ways over the bare unsigned loop")
    print(f"signed ratio: {results['signed'] / results['bare']:.3f}")
    print(f"ratio: {results['full'] / results['bare']:.3f} "
          f"(full producer path cmds/s over bare requests loop cmds/s, unsigned)")


if __name__ == "__main__":
    main()
