"""HTTPS transfer: one pooled urllib3 connection pool per consumer.

Every request to one consumer has the same method, URL, TLS settings,
authentication and static headers, so they are settled once (the TLS
context with its CA and client certificate loaded, the pool, the header
template) and each send only adds its body, request id and Date. The pool is
urllib3's, the engine under requests, called directly: requests' per-call
work (settings merging, per-request certificate path checks, Response
building) was half of a bulk send's client CPU (bench/bench_bulk.py). What
requests would send is kept: its default headers, its CA bundle (certifi)
for ``verify = true``, basic auth from the settings or the URL, and the
cookies a consumer sets are kept and sent back (requests' cookie jar).
The environment (REQUESTS_CA_BUNDLE, *_PROXY) is never read: the CA and the
proxies are per consumer, from settings, as resilient-lib hands them over."""
from __future__ import annotations

import errno
import http.client
import logging
import socket
import re
import ssl
import threading
import time
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any
from collections.abc import Callable
from urllib.parse import unquote, urlsplit, urlunsplit

import urllib3
from requests import certs as requests_certs
from requests.cookies import RequestsCookieJar, extract_cookies_to_jar, get_cookie_header
from requests.models import PreparedRequest
from requests.utils import check_header_validity, default_headers
from urllib3.exceptions import ConnectTimeoutError, DecodeError, NewConnectionError, ProxyError
from urllib3.util import make_headers

from fn_openc2.lib.transfer.dialects import Dialect, encode_request, read_reply, resolve_dialect
from fn_openc2.lib.transfer.model import MAX_ANSWER_BYTES, Delivery, Reply, TransferError
from fn_openc2.lib.transfer.tls import config_context

log = logging.getLogger(__name__)


@dataclass
class HttpsSettings:
    """One consumer reached over HTTPS. None fields take the dialect's value."""

    url: str
    dialect: str = "https-v1.1"
    path: str | None = None
    content_type: str | None = None
    accept: str | None = None
    envelope: str | None = None
    status_in: str | None = None
    profile_encoding: str | None = None
    verify: bool | str = True
    client_cert: str | None = None
    client_key: str | None = None
    bearer_token: str | None = None
    basic_auth: tuple[str, str] | None = None
    proxies: dict[str, str] | None = None
    timeout: float = 30.0
    retries: int = 2
    backoff: float = 0.5
    pool_size: int = 16
    max_answer_bytes: int = MAX_ANSWER_BYTES
    client_key_password: str | None = None      # of an encrypted client_key

    def __repr__(self) -> str:  # keep secrets out of logs and tracebacks
        return f"HttpsSettings(url={redact_url(self.url)!r}, dialect={self.dialect!r})"


def _proxy_for(url: str, proxies: dict[str, str]) -> str | None:
    """The proxy for ``url``, by the keys requests reads: scheme://host, scheme, all://host, all."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    for key in (f"{parts.scheme}://{host}", parts.scheme, f"all://{host}", "all"):
        if proxies.get(key):
            return proxies[key]
    return None


def mask_url(raw: str) -> str:
    """A URL with its user:password@ and every query value masked: such URLs end up in logs,
    errors and incident notes, and tokens often ride in the query string."""
    masked = re.sub(r"//[^/?#]*@", "//***@", raw)
    head, mark, rest = masked.partition("?")
    if not mark:
        return masked
    query, hash_mark, fragment = rest.partition("#")
    query = "&".join(part.split("=", 1)[0] + "=***" if "=" in part else part for part in query.split("&"))
    return f"{head}?{query}{hash_mark}{fragment}"


def redact_url(url: str) -> str:
    """``mask_url`` for a URL that must parse, for transfer messages and logs."""
    try:
        urlsplit(url)
    except ValueError:
        return "<unparsable url>"
    return mask_url(url)


def url_path_conflict(url: str, path: str | None) -> str | None:
    """Why ``url`` and ``path`` disagree (a path written in the URL is the path), None when they do not."""
    written = urlsplit(url).path
    if path is None or not written or written == path:
        return None
    return f"path = {path} but the url already names the path {written}: keep one of them"


def _target_url(url: str, path: str | None, dialect: Dialect) -> str:
    """A path written in the URL (even a bare "/") is the path; the dialect's
    default applies only to a URL with none."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise TransferError("config", f"url = {redact_url(url)!r}: expected https://host[:port][/path]")
    conflict = url_path_conflict(url, path)
    if conflict:
        raise TransferError("config", conflict)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or path or dialect.path, parts.query, ""))


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in seen:
        seen.append(cur)
        nested = [a for a in getattr(cur, "args", ()) if isinstance(a, BaseException)]
        reason = getattr(cur, "reason", None)
        cur = cur.__cause__ or cur.__context__ or (reason if isinstance(reason, BaseException) else None) \
            or (nested[0] if nested else None)
    return seen


def classify(exc: BaseException) -> str:
    """Which TransferError kind a failure to exchange with the consumer is."""
    chain = _chain(exc)
    if any(isinstance(e, (ssl.SSLError, urllib3.exceptions.SSLError)) for e in chain):
        return "tls"
    if any(isinstance(e, (NewConnectionError, ProxyError)) for e in chain):
        return "connect"        # (urllib3 makes a refused connection a kind of connect timeout)
    if any(isinstance(e, (urllib3.exceptions.TimeoutError, socket.timeout, TimeoutError)) for e in chain):
        return "timeout"
    if any(isinstance(e, (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected,
                          http.client.IncompleteRead, urllib3.exceptions.ProtocolError))
           for e in chain):
        return "reset"
    if any(isinstance(e, OSError) and e.errno == errno.ECONNRESET for e in chain):
        return "reset"
    return "connect"


def _reason(exc: BaseException) -> str:
    """The innermost OS/TLS reason (no URL: it may carry user info)."""
    for e in reversed(_chain(exc)):
        if isinstance(e, ssl.SSLCertVerificationError):
            return f" ({e.verify_message})"
        if isinstance(e, OSError) and (e.strerror or getattr(e, "reason", None)):
            return f" ({getattr(e, 'reason', None) or e.strerror})"
    return ""


_RETRYABLE = frozenset({"connect", "timeout", "reset"})

_date: tuple[int, str] = (0, "")


def http_date() -> str:
    """RFC 7231 Date for now; formatted once per second (bulk sends post thousands a second)."""
    global _date
    second = int(time.time())
    cached = _date
    if cached[0] != second:
        cached = _date = (second, formatdate(second, usegmt=True))
    return cached[1]


class _Shared:
    """What transports to one consumer share (``reuse``): the pool and the cookie jar."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.manager: Any = None
        self.cookies = RequestsCookieJar()


class HttpsTransport:
    """Send envelopes to one consumer; thread-safe, connections pooled."""

    def __init__(self, settings: HttpsSettings, name: str, *, reuse: HttpsTransport | None = None) -> None:
        """``reuse``: send through that transport's pool and cookie jar (same
        consumer and credentials, another dialect: ``fn-openc2 probe``); it stays its owner's."""
        self.settings = settings
        self.name = name
        self.dialect = resolve_dialect(settings.dialect, path=settings.path, content_type=settings.content_type,
                                       accept=settings.accept, envelope=settings.envelope,
                                       status_in=settings.status_in, profile_encoding=settings.profile_encoding)
        self.url = _target_url(settings.url, settings.path, self.dialect)
        shown = redact_url(self.url)    # user:password@ in the URL never reaches logs or answers
        if self.url.startswith("http://"):
            log.warning("consumer %s: %s is plain HTTP (testing only; the spec requires TLS)", name, shown)
        elif settings.verify is False:
            log.warning("consumer %s: verify = false: the certificate of %s is NOT checked", name, shown)
        if settings.client_key and not settings.client_cert:
            raise TransferError("config", f"consumer {name}: client_key given without client_cert")
        self._where = f"consumer {name} at {shown}"
        self._timeout = urllib3.Timeout(connect=settings.timeout, read=settings.timeout)
        parts = urlsplit(self.url)
        user, password = settings.basic_auth or (unquote(parts.username or ""), unquote(parts.password or ""))
        if parts.username is not None or parts.password is not None:   # the userinfo never goes on the wire
            self.url = urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, parts.query, ""))
        headers = default_headers()             # what requests would send, then the dialect's
        headers.update({"Content-Type": self.dialect.content_type, "Accept": self.dialect.accept,
                        "Cache-Control": "no-cache"})
        if settings.bearer_token:
            headers["Authorization"] = f"Bearer {settings.bearer_token}"
        elif user or password:
            headers["Authorization"] = make_headers(basic_auth=f"{user}:{password}")["authorization"]
        for header in headers.items():
            try:
                check_header_validity(header)
            except ValueError:   # never echo the header: it may hold the token
                raise TransferError("config", f"consumer {name}: the url or the authentication settings do not "
                                              f"form a valid HTTP request") from None
        self._template_headers = dict(headers)
        proxy = _proxy_for(self.url, dict(settings.proxies or {}))
        target = urlsplit(self.url)
        # through a proxy, plain HTTP names the whole URL in the request line; HTTPS tunnels (CONNECT)
        self._absolute = proxy is not None and target.scheme == "http"
        self._target = self.url if self._absolute else urlunsplit(("", "", target.path or "/", target.query, ""))
        self._proxy = proxy
        self._owns_pool = reuse is None
        self._shared: _Shared = _Shared() if reuse is None else reuse._shared
        self._sender: Any = None

    @property
    def profile_encoding(self) -> str:
        return self.dialect.profile_encoding

    def _pool(self) -> Any:
        """The pool to this consumer, made on first use (a missing CA or key file then fails
        that send with a config error, not the producer's start)."""
        if self._sender is not None:
            return self._sender
        shared = self._shared
        with shared.lock:
            if shared.manager is None:
                settings = self.settings
                # verify = true: the CA bundle requests uses (certifi), as before the pool was urllib3's
                context = config_context(self._where, "verify", settings.verify, settings.client_cert,
                                         settings.client_key,
                                         default_ca=requests_certs.where(),  # type: ignore[attr-defined]
                                         key_password=settings.client_key_password)
                cert_reqs = "CERT_NONE" if settings.verify is False else "CERT_REQUIRED"
                options: dict[str, Any] = {"num_pools": 1, "maxsize": max(1, settings.pool_size), "retries": False,
                                           "ssl_context": context, "cert_reqs": cert_reqs}
                if self._proxy:
                    proxy = urlsplit(self._proxy)
                    auth = make_headers(proxy_basic_auth=f"{unquote(proxy.username or '')}:"
                                                         f"{unquote(proxy.password or '')}") \
                        if proxy.username or proxy.password else None
                    shared.manager = urllib3.ProxyManager(self._proxy, proxy_headers=auth, **options)
                else:
                    shared.manager = urllib3.PoolManager(**options)
            # plain HTTP through a proxy: the manager's urlopen writes the proxy form
            self._sender = shared.manager if self._absolute else shared.manager.connection_from_url(self.url)
            return self._sender

    def send(self, message: dict[str, Any], *, await_response: bool = True,
             pace: Callable[[], object] | None = None) -> Delivery:
        """POST the envelope; return what came back (one reply: HTTP always answers).

        Retries transport failures and HTTP 503 with exponential backoff,
        resending the same bytes and X-Request-ID. ``pace`` is called before
        each retry: a resend reaches the consumer like any command, so it
        takes its turn under the consumer's rate limit. HTTP always answers on
        the exchange, so `await_response` only documents intent here."""
        headers_in = message.get("headers") or {}
        request_id = str(headers_in.get("request_id") or "")
        if not request_id:
            raise TransferError("config", f"{self._where}: message headers.request_id is missing")
        body, extra = encode_request(message, self.dialect)
        extra["X-Request-ID"] = request_id
        for header in extra.items():
            try:
                check_header_validity(header)
            except ValueError:
                raise TransferError("config", f"{self._where}: header {header[0]} would not be a valid "
                                              f"HTTP header value") from None
        pool = self._pool()
        started = time.perf_counter()
        attempts = 0
        max_attempts = 1 + max(0, self.settings.retries)
        while True:
            attempts += 1
            if attempts > 1 and pace is not None:
                pace()
            headers = self._headers(body, extra)
            try:
                resp = pool.urlopen("POST", self._target, body=body, headers=headers, retries=False,
                                    redirect=False, assert_same_host=False, timeout=self._timeout,
                                    preload_content=False, decode_content=True)
                if "set-cookie" in resp.headers:
                    extract_cookies_to_jar(self._shared.cookies, self._cookie_request(headers), resp)
                raw = self._read_bounded(resp)  # read now: a reset in mid-body is a transfer failure, retried
            except TransferError as exc:      # the answer was too large to read
                exc.attempts = attempts
                raise
            except DecodeError:
                raise TransferError("decode", f"{self._where}: the answer's Content-Encoding could not be "
                                              f"decoded after {attempts} attempt(s)", attempts=attempts) from None
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                kind = classify(exc)
                if kind in _RETRYABLE and attempts < max_attempts:
                    self._pause(attempts, kind)
                    continue
                # a read timeout means the request was sent: the consumer may have carried it out
                sent = kind == "timeout" and not any(isinstance(e, ConnectTimeoutError) for e in _chain(exc))
                raise TransferError(kind, f"{self._where}: {self._describe(kind)}{_reason(exc)} "
                                          f"after {attempts} attempt(s)", attempts=attempts,
                                    maybe_delivered=sent) from None
            if resp.status == 503 and attempts < max_attempts:
                self._pause(attempts, "HTTP 503")
                continue
            return Delivery(replies=[self._reply(resp, raw, request_id, started, attempts)])

    def _headers(self, body: bytes, extra: dict[str, str]) -> dict[str, str]:
        headers = self._template_headers.copy()
        headers.update(extra)
        headers["Date"] = http_date()
        headers["Content-Length"] = str(len(body))
        if self._shared.cookies:
            cookie = get_cookie_header(self._shared.cookies, self._cookie_request(headers))
            if cookie:
                headers["Cookie"] = cookie
        return headers

    def _cookie_request(self, headers: dict[str, str]) -> PreparedRequest:
        """The request as requests' cookie policy reads it (URL and headers)."""
        request = PreparedRequest()
        request.method, request.url, request.headers = "POST", self.url, headers  # type: ignore[assignment]
        return request

    def _read_bounded(self, resp: urllib3.BaseHTTPResponse) -> bytes:
        """The decoded body, refused beyond max_answer_bytes (decoded size, so a
        small gzip bomb is refused as soon as it inflates past the bound)."""
        limit = self.settings.max_answer_bytes
        declared = resp.headers.get("Content-Length")
        encoding = resp.headers.get("Content-Encoding", "").strip().lower()
        if declared and declared.isdigit() and int(declared) > limit and encoding in ("", "identity"):
            resp.close()
            raise TransferError("size", f"{self._where}: HTTP {resp.status} answer of {declared} bytes is "
                                        f"larger than max_answer_bytes = {limit}; not read",
                                http_status=resp.status)
        chunks: list[bytes] = []
        size = 0
        for chunk in resp.stream(64 * 1024, decode_content=True):
            size += len(chunk)
            if size > limit:
                resp.close()
                bomb = f" (Content-Encoding {encoding}: refused as a possible compression bomb)" \
                    if encoding not in ("", "identity") else ""
                raise TransferError("size", f"{self._where}: HTTP {resp.status} answer is larger than "
                                            f"max_answer_bytes = {limit} once decoded{bomb}; not read",
                                    http_status=resp.status)
            chunks.append(chunk)
        if resp.status < 200:   # 1xx answers carry no readable body; do not reuse the connection
            resp.close()
        else:
            resp.release_conn()
        return b"".join(chunks)

    def _reply(self, resp: urllib3.BaseHTTPResponse, raw: bytes, request_id: str, started: float,
               attempts: int) -> Reply:
        warnings: list[str] = []
        try:
            message, received = read_reply(raw, resp.status, resp.headers, self.dialect, request_id,
                                           self._where, warnings)
        except TransferError as exc:
            exc.http_status = resp.status
            exc.attempts = attempts
            raise
        responder = message["headers"].get("from") or self.name
        return Reply(transport="https", message=message, raw=raw, http_status=resp.status,
                     responder=str(responder), elapsed_ms=(time.perf_counter() - started) * 1000.0,
                     attempts=attempts, warnings=warnings, http_headers=dict(resp.headers), received=received,
                     empty=not raw.strip(), envelope=self.dialect.envelope)

    def _pause(self, attempt: int, why: str) -> None:
        delay = self.settings.backoff * (2 ** (attempt - 1))
        log.info("%s: %s, retry %d in %.2fs", self._where, why, attempt, delay)
        if delay > 0:
            time.sleep(delay)

    @staticmethod
    def _describe(kind: str) -> str:
        return {"tls": "TLS handshake or certificate verification failed",
                "timeout": "no answer within the timeout", "reset": "connection reset by the peer",
                "connect": "connection failed"}.get(kind, kind)

    def close(self) -> None:
        if self._owns_pool:
            with self._shared.lock:
                if self._shared.manager is not None:
                    self._shared.manager.clear()
                    self._shared.manager = None
        self._sender = None

    def __enter__(self) -> HttpsTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
