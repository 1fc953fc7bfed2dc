"""A small HTTPS OpenC2 consumer that misbehaves on purpose, by script.

It wraps the reference Actuator (so commands really change a rule table).
A script maps each command (its parsed envelope) to the faults its 1st, 2nd,
3rd ... arrival gets; arrivals past the script's end are served normally.
Faults: answer 503 before acting, reset the connection after acting, stall
past the client's timeout after acting, answer only after ``stall_seconds``
("slow"), return garbage instead of JSON, sign
the answer with a key the producer does not trust, or drop the connection
(RST) before the actuator ever sees the command. Scripting by command, not by
arrival order, makes every path (retries exhausted included) happen on every
run whatever the thread scheduling. Every arrival is logged with its time on
the consumer's clock and the requests in flight are counted, so tests can
check retries (same X-Request-ID, same body), idempotence (one rule per
target), rate limits and concurrency.
"""
from __future__ import annotations

import json
import socket
import ssl
import struct
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from fn_openc2.lib.consumer import Actuator

FAULTS = ("ok", "503", "reset", "stall", "slow", "garbage", "bad_signature", "drop")
EXECUTED = frozenset({"ok", "reset", "stall", "slow", "bad_signature"})   # faults that hand the command to the actuator

Script = Callable[[Any], Sequence[str]]     # envelope (or None when unparsable) -> faults per arrival


@dataclass(frozen=True)
class Arrival:
    number: int                     # arrival order at the consumer, 0-based
    attempt: int                    # 1 for the first arrival of this X-Request-ID, 2 for its retry ...
    header_request_id: str | None   # X-Request-ID
    body_request_id: str | None     # headers.request_id inside the envelope
    body: bytes
    fault: str
    at: float                       # the consumer's clock when the request was read


def no_faults(_doc: Any) -> Sequence[str]:
    return ()


class FaultyConsumer:
    """Threaded HTTPS server on 127.0.0.1; start() / stop(); .url, .arrivals, .actuator.

    ``gate``: hold every request until that many are in flight (or ``gate_seconds``
    pass), so a concurrency limit above the configured one would certainly show."""

    def __init__(self, actuator: Actuator, cert: str, key: str, script: Script = no_faults, *,
                 stall_seconds: float = 5.0, wrong_key: Any = None, clock: Callable[[], float] = time.monotonic,
                 gate: int | None = None, gate_seconds: float = 1.0) -> None:
        self.actuator = actuator
        self.script = script
        self.stall_seconds = stall_seconds
        self.wrong_key = wrong_key    # a jwcrypto JWK the producer does not trust
        self.clock = clock
        self.gate = gate
        self.gate_seconds = gate_seconds
        self.arrivals: list[Arrival] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._per_id: Counter[str | None] = Counter()
        self._lock = threading.Lock()
        self._flight = threading.Condition(self._lock)
        self._stop = threading.Event()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert, key)
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 30

            def setup(self) -> None:
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.request.settimeout(self.timeout)
                self.request.do_handshake()   # here, not in accept(): one slow handshake must not stall the others
                super().setup()

            def log_message(self, *_: Any) -> None:
                pass

            def do_POST(self) -> None:
                owner._enter()
                try:
                    owner._handle(self)
                finally:
                    owner._leave()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True,
                                                  do_handshake_on_connect=False)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self._server.server_address[1]}/.well-known/openc2"

    def start(self) -> "FaultyConsumer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        with self._flight:
            self._flight.notify_all()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    # --- concurrency ---------------------------------------------------------------

    def _enter(self) -> None:
        with self._flight:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self._flight.notify_all()
            if self.gate is not None:
                self._flight.wait_for(lambda: self.in_flight >= self.gate or self._stop.is_set(),
                                      timeout=self.gate_seconds)

    def _leave(self) -> None:
        with self._flight:
            self.in_flight -= 1

    # --- one request ---------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        at = self.clock()
        try:
            doc = json.loads(body)
            body_id = doc["headers"]["request_id"]
        except (ValueError, KeyError, TypeError):
            doc, body_id = None, None
        header_id = handler.headers.get("X-Request-ID")
        script = self.script(doc)
        with self._lock:
            number = len(self.arrivals)
            self._per_id[header_id] += 1
            attempt = self._per_id[header_id]
            fault = script[attempt - 1] if attempt <= len(script) else "ok"
            self.arrivals.append(Arrival(number, attempt, header_id, body_id, body, fault, at))
        if fault == "503":
            return self._send(handler, 503, b'{"status":503}')
        if fault == "garbage":
            return self._send(handler, 200, b"\x00<html>not json{")
        if fault == "drop":
            return self._reset(handler)
        answer = self.actuator.handle(doc)
        if fault == "reset":
            return self._reset(handler)
        if fault == "stall":
            self._stop.wait(self.stall_seconds)
            handler.close_connection = True
            return
        if fault == "slow":
            self._stop.wait(self.stall_seconds)
        if fault == "bad_signature" and answer is not None:
            unsigned = {k: v for k, v in answer.items() if k != "signature"}
            from fn_openc2.lib.security import sign_message
            answer = sign_message(unsigned, self.wrong_key)
        payload = json.dumps(answer, separators=(",", ":")).encode() if answer is not None else b""
        self._send(handler, 200 if payload else 204, payload)

    @staticmethod
    def _reset(handler: BaseHTTPRequestHandler) -> None:
        handler.close_connection = True
        sock = handler.request
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST, not FIN
        sock.close()

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, code: int, payload: bytes) -> None:
        handler.send_response(code)
        handler.send_header("Content-Type", "application/openc2+json;version=1.0")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)
        handler.wfile.flush()
