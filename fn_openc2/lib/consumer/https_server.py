"""The reference consumer's HTTPS listener (OpenC2 HTTPS transfer v1.0/v1.1).

A threaded HTTP/1.1 server with keep-alive over TLS 1.2+, optionally
requiring a client certificate. TLS handshakes run in the per-connection
thread so one slow client cannot stall the accept loop. The request log lets
tests prove what reached the consumer (nothing, or the same request_id twice).
"""
from __future__ import annotations

import json
import logging
import re
import socket
import ssl
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fn_openc2.lib.consumer.actuator import Actuator
from fn_openc2.lib.consumer.dialects import Dialect, content_type_ok, get_dialect

from fn_openc2.lib.language import loads as _loads
from fn_openc2.lib.transfer.dialects import printable

log = logging.getLogger(__name__)
IDLE_TIMEOUT = 30.0
MAX_BODY = 1 << 20
MAX_CONNECTIONS = 64          # threads serving connections at once; more wait in the listen backlog
LISTEN_BACKLOG = 128
_SAFE_ID = re.compile(r"[!-~]{1,128}")
NOT_FOUND = b"Not Found\n"       # what a web framework answers for a route it does not have


def safe_request_id(value: Any) -> str | None:
    """A request id fit to echo in an HTTP header: visible ASCII, no spaces, CR or LF
    (a body's headers.request_id is attacker text until the signature is checked)."""
    return value if isinstance(value, str) and _SAFE_ID.fullmatch(value) else None


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    request_id: str | None
    http_status: int


class RequestLog:
    """What reached the server, in arrival order (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.entries: list[LoggedRequest] = []

    def record(self, entry: LoggedRequest) -> None:
        with self._lock:
            self.entries.append(entry)

    @property
    def count(self) -> int:
        return len(self.entries)

    @property
    def request_ids(self) -> list[str | None]:
        with self._lock:
            return [e.request_id for e in self.entries]

    def clear(self) -> None:
        with self._lock:
            self.entries.clear()


def server_tls_context(cert: str, key: str, client_ca: str | None) -> ssl.SSLContext:
    """TLS 1.2+ as the transfer spec requires; client certificate required when a CA is given."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    if client_ca:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cafile=client_ca)
    return context


class _Server(ThreadingHTTPServer):
    """At most max_connections served at once (one thread each); further connections wait in
    the kernel's listen backlog instead of each getting a thread."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(self, address: tuple[Any, ...], handler: type, actuator: Actuator, dialect: Dialect,
                 context: ssl.SSLContext | None, family: int, max_connections: int = MAX_CONNECTIONS) -> None:
        self.address_family = family
        self.slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, handler)
        self.actuator = actuator
        self.dialect = dialect
        self.request_log = RequestLog()
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        if context is not None:
            self.socket = context.wrap_socket(self.socket, server_side=True,
                                              do_handshake_on_connect=False)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s ended with an error", client_address, exc_info=True)

    def process_request(self, request: Any, client_address: Any) -> None:
        while not self.slots.acquire(timeout=0.5):       # all threads busy: this accept loop waits
            if getattr(self, "_BaseServer__shutdown_request", False):
                self.shutdown_request(request)
                return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT
    wbufsize = -1        # buffered: status, headers and body leave in one segment per answer
    server: _Server

    def setup(self) -> None:
        with self.server.connections_lock:
            self.server.connections.add(self.request)
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(self.timeout)
            self.request.do_handshake()
        super().setup()

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server.connections_lock:
                self.server.connections.discard(self.request)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def _served(self) -> bool:
        """True for the dialect's one path; any other path gets a plain HTTP 404 and False.

        Real consumers route before any OpenC2 code runs, so an unknown route never reaches
        their OpenC2 handler: Flask (Werkzeug) answers its HTML "404 Not Found" page, FastAPI
        (Starlette) {"detail": "Not Found"}, Python's http.server its HTML error page and Go's
        net/http ServeMux "404 page not found", none with an OpenC2 body or an X-Request-ID
        echo. The consumers of the interop facts (doc/interop.md) each serve one path ("/",
        "/.well-known/openc2_command", HTTPS transfer v1.1's "/.well-known/openc2"), so a
        producer aimed at the wrong one meets exactly that, and so it does here."""
        if self.path.split("?", 1)[0] == self.server.dialect.path:
            return True
        self._discard_body()
        self.server.request_log.record(LoggedRequest(self.command, self.path, None, 404))
        self.send_response(404)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(NOT_FOUND)))
        self._closing()
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(NOT_FOUND)
        return False

    def do_POST(self) -> None:
        """Every refusal at the OpenC2 path is an OpenC2 answer in the dialect's own form with an
        OpenC2 status code; other paths are not OpenC2 endpoints at all (``_served``)."""
        if not self._served():
            return
        dialect = self.server.dialect
        header_id = safe_request_id(self.headers.get("X-Request-ID"))
        if not content_type_ok(self.headers.get("Content-Type"), dialect):
            return self._refuse(400, f"Content-Type must be {dialect.expected_type}",
                                self._id_of(self._discard_body()) or header_id)
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit() or int(length) > MAX_BODY:
            self.close_connection = True
            return self._refuse(400, "Content-Length missing or too large", header_id)
        raw = self.rfile.read(int(length))
        try:
            doc = _loads(raw)
        except ValueError as exc:
            return self._refuse(400, f"body: not valid JSON: {exc}", header_id)
        actuator = self.server.actuator
        if dialect.envelope == "bare":
            return self._send_bare(actuator.respond(doc, header_id), header_id)
        if dialect.envelope == "openc2-only":
            doc = self._from_http_headers(doc, header_id)
        headers = doc.get("headers") if isinstance(doc, dict) else None
        body_id = safe_request_id(headers.get("request_id")) if isinstance(headers, dict) else None
        self._send_message(actuator.handle(doc, header_id), body_id or header_id)

    def _from_http_headers(self, doc: Any, header_id: str | None) -> Any:
        """{"openc2": {...}} with the envelope headers carried as HTTP headers, as one consumer takes it."""
        if not isinstance(doc, dict) or not isinstance(doc.get("openc2"), dict):
            return {"headers": {}, "body": doc}          # the actuator says what is missing
        headers: dict[str, Any] = {}
        rid = safe_request_id(self.headers.get("request_id")) or header_id
        if rid:
            headers["request_id"] = rid
        for name in ("from", "created"):
            value = self.headers.get(name)
            if value:
                headers[name] = int(value) if name == "created" and value.isdigit() else value
        if self.headers.get("to"):
            headers["to"] = [t.strip() for t in self.headers["to"].split(",") if t.strip()]
        return {"headers": headers, "body": doc}

    def _refuse(self, status: int, text: str, request_id: str | None) -> None:
        response = {"status": status, "status_text": text}
        if self.server.dialect.envelope == "bare":
            return self._send_bare(response, request_id)
        self._send_message(self.server.actuator.envelope(response, request_id, None))

    def _send_message(self, message: dict[str, Any] | None, request_id: str | None = None) -> None:
        if message is None:
            return self._reply(204, request_id, None)
        headers = message.get("headers") or {}
        request_id = safe_request_id(headers.get("request_id"))
        status = message["body"]["openc2"]["response"].get("status")
        body: dict[str, Any] = message
        extra: dict[str, str] = {}
        if self.server.dialect.envelope == "openc2-only":      # headers travel as HTTP headers
            body = {"openc2": message["body"]["openc2"]}
            if isinstance(headers.get("from"), str):
                extra["from"] = printable(headers["from"], 200, mark="")
        code = status if self.server.dialect.status_in_line and isinstance(status, int) else 200
        self._reply(code, request_id, body, extra)

    def _send_bare(self, response: dict[str, Any] | None, request_id: str | None) -> None:
        if response is None:
            return self._reply(204, request_id, None)
        status = response.get("status")
        if isinstance(status, int) and status >= 400 and self.server.actuator.omit_error_request_id:
            request_id = None
        code = status if self.server.dialect.status_in_line and isinstance(status, int) else 200
        self._reply(code, request_id, response)

    def _reply(self, code: int, request_id: str | None, body: dict[str, Any] | None,
               extra: dict[str, str] | None = None) -> None:
        self.server.request_log.record(LoggedRequest(self.command, self.path, request_id, code))
        closing = self.close_connection
        if 100 <= code < 200:
            body = None                 # an interim HTTP status cannot carry a body
            self.close_connection = True
        payload = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        self.send_response(code)
        if payload:
            self.send_header("Content-Type", self.server.dialect.response_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-cache")
        if request_id:
            self.send_header("X-Request-ID", request_id)
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        if closing:
            self.send_header("Connection", "close")
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    def _discard_body(self) -> bytes:
        """Read a refused request's body so the connection can serve the next one; a request
        with neither Content-Length nor Transfer-Encoding has none (RFC 9112 section 6.3)."""
        length = self.headers.get("Content-Length")
        if length is None and "Transfer-Encoding" not in self.headers:
            return b""
        if length and length.isdigit() and int(length) <= MAX_BODY:
            return self.rfile.read(int(length))
        self.close_connection = True
        return b""

    def _closing(self) -> None:
        """Say so when this answer ends the connection, so a keep-alive client does not reuse it."""
        if self.close_connection:
            self.send_header("Connection", "close")

    @staticmethod
    def _id_of(raw: bytes) -> str | None:
        """headers.request_id of a refused body, so even a refusal names the request it answers."""
        try:
            doc = _loads(raw)
        except ValueError:
            return None
        headers = doc.get("headers") if isinstance(doc, dict) else None
        return safe_request_id(headers.get("request_id")) if isinstance(headers, dict) else None

    def _not_allowed(self) -> None:
        if not self._served():
            return
        self._discard_body()
        self.server.request_log.record(LoggedRequest(self.command, self.path, None, 405))
        self.send_response(405)
        self.send_header("Allow", "POST")
        self.send_header("Content-Length", "0")
        self._closing()
        self.end_headers()

    do_GET = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _not_allowed


class HttpsConsumerServer:
    """The reference consumer over HTTPS; plain HTTP (testing only) when no certificate."""

    def __init__(self, actuator: Actuator, host: str = "127.0.0.1", port: int = 0,
                 tls_cert: str | None = None, tls_key: str | None = None,
                 client_ca: str | None = None, dialect: str | Dialect = "https-v1.1",
                 max_connections: int = MAX_CONNECTIONS) -> None:
        self.actuator = actuator
        self.dialect = dialect if isinstance(dialect, Dialect) else get_dialect(dialect)
        if bool(tls_cert) != bool(tls_key):
            raise ValueError("tls_cert and tls_key must be given together")
        if client_ca and not tls_cert:
            raise ValueError("client_ca needs tls_cert and tls_key: client certificates need TLS")
        context = server_tls_context(tls_cert, tls_key, client_ca) if tls_cert and tls_key else None
        if context is None:
            log.warning("reference consumer on %s:%s speaks plain HTTP: for testing only", host, port)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._server = _Server((host, port), _Handler, actuator, self.dialect, context, family, max_connections)
        self.scheme = "https" if context else "http"
        self.host = host
        self.port = self._server.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{self.dialect.path}"

    @property
    def request_log(self) -> RequestLog:
        return self._server.request_log

    def start(self) -> HttpsConsumerServer:
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name=f"oc2-consumer-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, then cut open keep-alive connections so no thread keeps answering."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()
        with self._server.connections_lock:
            connections = list(self._server.connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self) -> HttpsConsumerServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
