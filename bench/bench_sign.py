#!/usr/bin/env python3
"""Per-message cost of OpenC2 message signatures (JCS + JWS detached) for each algorithm.

Measures, on one realistic SLPF deny message: sign, verify, and the unsigned
encode (fn_openc2.lib.language.dumps) as the reference. Then whether the
ES256 sign and verify let other threads run (see ``gil_share``). The last
line is ``ratio: <n> (ES256 sign+verify time over unsigned encode time)``.
Run: .venv/bin/python bench/bench_sign.py [--quick]
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jwcrypto.jwk import JWK

from fn_openc2.lib.security import ALGORITHMS, canonicalize, sign_message, verify_message

MESSAGE: dict[str, Any] = {
    "headers": {
        "request_id": "d1ac0489-ed51-4345-9175-f3078f30afe5",
        "created": 1595268027000,
        "from": "soar@example.com",
        "to": ["fw1@example.com"],
    },
    "body": {
        "openc2": {
            "request": {
                "action": "deny",
                "target": {"ipv4_connection": {"src_addr": "10.1.2.3", "dst_port": 443, "protocol": "tcp"}},
                "args": {"duration": 3600000, "response_requested": "complete", "slpf": {"drop_process": "reject"}},
                "profile": "slpf",
            }
        }
    },
}

KEYS: dict[str, Callable[[], JWK]] = {
    "ES256": lambda: JWK.generate(kty="EC", crv="P-256"),
    "RS256": lambda: JWK.generate(kty="RSA", size=2048),
    "PS256": lambda: JWK.generate(kty="RSA", size=2048),
    "EdDSA": lambda: JWK.generate(kty="OKP", crv="Ed25519"),
}


def per_call_us(func: Callable[[], object], seconds: float) -> float:
    """Best of three timed batches, in microseconds per call (batch size grows to fill ``seconds``)."""
    func()
    batch = 1
    while True:
        start = time.perf_counter()
        for _ in range(batch):
            func()
        elapsed = time.perf_counter() - start
        if elapsed >= seconds / 10:
            break
        batch *= 2
    best = elapsed / batch
    for _ in range(2):
        start = time.perf_counter()
        for _ in range(batch):
            func()
        best = min(best, (time.perf_counter() - start) / batch)
    return best * 1e6


def gil_share(func: Callable[[], object], seconds: float) -> float:
    """How much a pure-Python thread gets done while this thread calls ``func`` in a loop,
    against while it sleeps: ~1.0 when ``func`` releases the GIL, ~0.5 when it holds it
    (CPython then hands the GIL over only every switch interval)."""

    def spin_while(work: Callable[[], object]) -> int:
        count, stop = [0], threading.Event()

        def spin() -> None:
            n = 0
            while not stop.is_set():
                n += 1
            count[0] = n

        thread = threading.Thread(target=spin)
        thread.start()
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            work()
        stop.set()
        thread.join()
        return count[0]

    return spin_while(func) / spin_while(lambda: time.sleep(0.00002))


def unsigned_encoder() -> tuple[str, Callable[[], object]]:
    try:
        from fn_openc2.lib.language import dumps
    except ImportError as exc:  # the language layer is developed in parallel
        import json

        print(f"note: fn_openc2.lib.language unavailable ({exc}); using json.dumps as the unsigned encode")
        return "json.dumps", lambda: json.dumps(MESSAGE, separators=(",", ":")).encode()
    return "fn_openc2 dumps", lambda: dumps(MESSAGE)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run (about 3 s)")
    args = parser.parse_args()
    seconds = 0.15 if args.quick else 1.0

    name, encode = unsigned_encoder()
    encode_us = per_call_us(encode, seconds)
    jcs_us = per_call_us(lambda: canonicalize(MESSAGE), seconds)
    print(f"unsigned encode ({name}): {encode_us:8.1f} us/msg")
    print(f"JCS canonical form:        {jcs_us:8.1f} us/msg")
    print(f"{'alg':6} {'sign us':>9} {'verify us':>10} {'both us':>9} {'msgs/s (sign+verify)':>21}")
    results: dict[str, float] = {}
    for alg in ALGORITHMS:
        key = KEYS[alg]()
        public = JWK.from_json(key.export_public())
        signed = sign_message(MESSAGE, key, alg=alg, kid="soar@example.com")
        verify_message(signed, public)
        sign_us = per_call_us(lambda k=key, a=alg: sign_message(MESSAGE, k, alg=a, kid="soar@example.com"), seconds)
        verify_us = per_call_us(lambda m=signed, k=public: verify_message(m, k), seconds)
        results[alg] = sign_us + verify_us
        both = sign_us + verify_us
        print(f"{alg:6} {sign_us:9.1f} {verify_us:10.1f} {both:9.1f} {1e6 / both:21.0f}")
    key = KEYS["ES256"]()
    public = JWK.from_json(key.export_public())
    signed = sign_message(MESSAGE, key, alg="ES256")
    data, rows = b"z" * 100_000, sorted(range(3000), reverse=True)
    print("a Python thread's progress while this one loops over ... (1.0: GIL released, ~0.5: held)")
    for label, func in (("ES256 sign_message", lambda: sign_message(MESSAGE, key, alg="ES256")),
                        ("ES256 verify_message", lambda: verify_message(signed, public)),
                        ("sha256 of 100 kB (releases it)", lambda: hashlib.sha256(data).digest()),
                        ("sorted() of 3,000 ints (holds it)", lambda: sorted(rows))):
        print(f"  {label:34} {gil_share(func, seconds):.2f}")
    ratio = results["ES256"] / encode_us
    print(f"ratio: {ratio:.1f} (ES256 sign+verify time over unsigned encode time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
