"""Helpers shared by the transfer benchmarks (bench_bulk, bench_fanout).

They start real processes (the reference consumer, mosquitto, fleets) so the
server side never shares the benchmark client's GIL, and they build the
producer settings the same way SOAR's app.config would.
"""
from __future__ import annotations

import argparse
import ipaddress
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PYTHON = sys.executable
# RFC 2544 benchmarking range: never loopback, never a protected network.
BENCH_NET = ipaddress.IPv4Network("198.18.0.0/15")


def parse_args(description: str,
               extra: Callable[[argparse.ArgumentParser], None] | None = None) -> argparse.Namespace:
    """--quick for a short development run; every script takes it."""
    parser = argparse.ArgumentParser(description=description)
    if extra is not None:
        extra(parser)
    parser.add_argument("--quick", action="store_true", help="short run (development)")
    parser.add_argument("--profile", action="store_true", help="cProfile the fn_openc2 side and print the top")
    return parser.parse_args()


def bench_addresses(count: int, offset: int = 0) -> Iterator[str]:
    """count distinct /32 addresses from 198.18.0.0/15, skipping .0 and .255 hosts."""
    produced = 0
    index = offset
    base = int(BENCH_NET.network_address)
    while produced < count:
        index += 1
        if index >= BENCH_NET.num_addresses:
            raise ValueError("benchmark address range exhausted")
        if index % 256 in (0, 255):
            continue
        produced += 1
        yield str(ipaddress.IPv4Address(base + index))


def deny_command(address: str) -> dict:
    """The SLPF deny each benchmark command carries (one distinct address each)."""
    return {"action": "deny", "target": {"ipv4_net": address},
            "args": {"response_requested": "complete", "slpf": {"drop_process": "false_ack"}},
            "profile": "slpf"}


def workdir(prefix: str) -> str:
    return tempfile.mkdtemp(prefix=f"fn-openc2-bench-{prefix}-")


@dataclass
class ConsumerProcess:
    """The reference consumer CLI running in its own process."""

    process: subprocess.Popen[str]
    url: str

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_consumer_process(cert: str, key: str, *, device_id: str = "bench-fw@example.com",
                           signing_key: str | None = None, client_ca: str | None = None,
                           timeout: float = 20.0) -> ConsumerProcess:
    """`fn-openc2 consumer --listen 127.0.0.1:0` with TLS (mutual when client_ca is given);
    no --rate-limit, so nothing is throttled."""
    command = [PYTHON, "-m", "fn_openc2.lib.cli.main", "consumer", "--listen", "127.0.0.1:0",
               "--tls-cert", cert, "--tls-key", key, "--device-id", device_id, "--profiles", "slpf"]
    if client_ca:
        command += ["--client-ca", client_ca]
    if signing_key:
        command += ["--signing-key", signing_key]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    line = process.stdout.readline()  # "listening on https://127.0.0.1:PORT (...) as ..."
    if not line.startswith("listening on ") or time.monotonic() > deadline:
        process.kill()
        _, err = process.communicate(timeout=5)
        raise RuntimeError(f"consumer did not start: {line!r} {err[-800:]}")
    return ConsumerProcess(process, line.split()[2])


def write_es256_keypair(directory: str, name: str) -> tuple[str, str]:
    """(private PEM, public PEM) for signing benchmarks."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    private, public = Path(directory, f"{name}.key.pem"), Path(directory, f"{name}.pub.pem")
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return str(private), str(public)


def median(values: list[float]) -> float:
    return statistics.median(values)


def cpu_count_note() -> str:
    return f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}"


def memory() -> tuple[int, int]:
    """(VmRSS, VmHWM) of this process in bytes."""
    values = {}
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, amount, _unit = line.split()
                values[key] = int(amount) * 1024
    return values["VmRSS:"], values["VmHWM:"]


def start_processes(argvs: list[list[str]], what: str) -> list[subprocess.Popen[str]]:
    """Start helper processes (this repository's bench scripts) and wait for each one's "ready" line."""
    workers = [subprocess.Popen(argv, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
               for argv in argvs]
    for worker in workers:
        assert worker.stdout is not None
        line = worker.stdout.readline().strip()
        if line != "ready":
            stop_processes(workers)
            raise SystemExit(f"{what} did not start: {line!r}")
    return workers


def stop_processes(workers: list[subprocess.Popen[str]], timeout: float = 20) -> None:
    """Close each worker's stdin (its signal to finish), then wait; kill what hangs."""
    for worker in workers:
        if worker.stdin:
            worker.stdin.close()
    for worker in workers:
        try:
            worker.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=5)
