"""A tiny test-only HTTPS peer that plays the consumers of the interop facts.

Each test gives it a `behave(request) -> Answer` function; the server
records every request it saw (path, headers, body) for assertions."""
from __future__ import annotations

import json
import socket
import ssl
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    client: tuple | None = None     # the peer's (host, port): one per connection

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    body: bytes | dict | None = None
    headers: dict[str, str] = field(default_factory=dict)
    action: str | None = None  # "reset" | "stall"


Behaviour = Callable[[Seen], Answer]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        seen = Seen("POST", self.path, {k: v for k, v in self.headers.items()}, self.rfile.read(length),
                    tuple(self.client_address))
        self.server.peer.seen.append(seen)
        answer = self.server.peer.behave(seen)
        if answer.action == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        if answer.action == "stall":
            self.server.peer.release.wait(10)
            self.close_connection = True
            return
        body = answer.body
        data = json.dumps(body).encode() if isinstance(body, dict) else (body or b"")
        self.send_response(answer.status)
        for key, value in answer.headers.items():
            self.send_header(key, value)
        if data:
            self.send_header("Content-Type", "application/openc2+json;version=1.0")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    peer: "Oc2Peer"


class Oc2Peer:
    """Start with .start(); .url is https://127.0.0.1:<port> (no path)."""

    def __init__(self, behave: Behaviour, *, cert: str | None = None, key: str | None = None,
                 client_ca: str | None = None) -> None:
        self.behave = behave
        self.seen: list[Seen] = []
        self.release = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.peer = self
        self.tls = cert is not None
        if cert is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(cert, key)
            if client_ca:
                ctx.load_verify_locations(cafile=client_ca)
                ctx.verify_mode = ssl.CERT_REQUIRED
            self._server.socket = ctx.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{'https' if self.tls else 'http'}://{host}:{port}"

    def start(self) -> "Oc2Peer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
