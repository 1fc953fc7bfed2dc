"""A small HTTPS OpenC2 consumer that misbehaves on purpose, by request count.

It wraps the reference Actuator (so commands really change a rule table) and,
depending on the arrival number of each request, answers 503 before acting,
resets the connection after acting, stalls past the client's timeout after
acting, returns garbage instead of JSON, or signs its answer with a key the
producer does not trust. Every arrival is logged so tests can check retries
(same X-Request-ID, same body) and idempotence (one rule per command).
"""
from __future__ import annotations

import json
import socket
import ssl
import struct
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from fn_openc2.lib.consumer import Actuator

FAULTS = ("ok", "503", "reset", "stall", "garbage", "bad_signature")


@dataclass(frozen=True)
class Arrival:
    number: int
    header_request_id: str | None   # X-Request-ID
    body_request_id: str | None     # headers.request_id inside the envelope
    body: bytes
    fault: str


def every(n: int, k: int) -> Callable[[int], bool]:
    return lambda number: number % n == k


class FaultPlan:
    """Which fault the n-th request (0-based) gets; the first matching rule wins."""

    def __init__(self, rules: list[tuple[str, Callable[[int], bool]]], max_stalls: int = 3) -> None:
        self.rules = rules
        self.max_stalls = max_stalls
        self._stalls = 0

    def fault_for(self, number: int) -> str:
        for fault, matches in self.rules:
            if matches(number):
                if fault == "stall":
                    if self._stalls >= self.max_stalls:
                        continue
                    self._stalls += 1
                return fault
        return "ok"


class FaultyConsumer:
    """Threaded HTTPS server on 127.0.0.1; start() / stop(); .url, .arrivals, .actuator."""

    def __init__(self, actuator: Actuator, cert: str, key: str, plan: FaultPlan, *, stall_seconds: float,
                 wrong_key: Any) -> None:
        self.actuator = actuator
        self.plan = plan
        self.stall_seconds = stall_seconds
        self.wrong_key = wrong_key    # a jwcrypto JWK the producer does not trust
        self.arrivals: list[Arrival] = []
        self._lock = threading.Lock()
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
                owner._handle(self)

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
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    # --- one request ---------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        try:
            doc = json.loads(body)
            body_id = doc["headers"]["request_id"]
        except (ValueError, KeyError, TypeError):
            doc, body_id = None, None
        with self._lock:
            number = len(self.arrivals)
            fault = self.plan.fault_for(number)
            self.arrivals.append(Arrival(number, handler.headers.get("X-Request-ID"), body_id, body, fault))
        if fault == "503":
            return self._send(handler, 503, b'{"status":503}')
        if fault == "garbage":
            return self._send(handler, 200, b"\x00<html>not json{")
        answer = self.actuator.handle(doc)
        if fault == "reset":
            handler.close_connection = True
            sock = handler.request
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST, not FIN
            sock.close()
            return
        if fault == "stall":
            self._stop.wait(self.stall_seconds)
            handler.close_connection = True
            return
        if fault == "bad_signature" and answer is not None:
            unsigned = {k: v for k, v in answer.items() if k != "signature"}
            from fn_openc2.lib.security import sign_message
            answer = sign_message(unsigned, self.wrong_key)
        payload = json.dumps(answer, separators=(",", ":")).encode() if answer is not None else b""
        self._send(handler, 200 if payload else 204, payload)

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, code: int, payload: bytes) -> None:
        handler.send_response(code)
        handler.send_header("Content-Type", "application/openc2+json;version=1.0")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)
        handler.wfile.flush()
