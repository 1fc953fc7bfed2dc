"""HTTPS transfer: one pooled requests Session per consumer.

`verify` and the client certificate go on every request because an
environment CA bundle (REQUESTS_CA_BUNDLE) otherwise silently replaces the
per-consumer CA; `trust_env` is off for the same reason and for speed
(proxies come from settings, as resilient-lib hands them over).

Every request to one consumer has the same method, URL, authentication and
static headers, so the Session prepares them once (the template) and each
send only adds its body, request id and Date and hands the request to the
session's adapter: the per-call merging ``Session.request`` repeats (settings,
headers, hooks, URL parsing) was a quarter of the client CPU of a bulk send.
Cookies the consumer sets are still kept and sent back, as a Session would."""
from __future__ import annotations

import errno
import http.client
import logging
import socket
import re
import ssl
import time
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from requests.cookies import extract_cookies_to_jar
from requests.models import PreparedRequest
from requests.utils import check_header_validity

from fn_openc2.lib.transfer.dialects import Dialect, encode_request, normalize_reply, resolve_dialect
from fn_openc2.lib.transfer.model import MAX_ANSWER_BYTES, Reply, TransferError

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

    def __repr__(self) -> str:  # keep secrets out of logs and tracebacks
        return f"HttpsSettings(url={redact_url(self.url)!r}, dialect={self.dialect!r})"


class _Tls12Adapter(HTTPAdapter):
    """Pooled adapter refusing anything below TLS 1.2 (direct and via proxy)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_minimum_version"] = ssl.TLSVersion.TLSv1_2
        super().init_poolmanager(*args, **kwargs)

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        kwargs["ssl_minimum_version"] = ssl.TLSVersion.TLSv1_2
        return super().proxy_manager_for(proxy, **kwargs)


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


def classify(exc: requests.RequestException) -> str:
    """Which TransferError kind a requests failure is."""
    chain = _chain(exc)
    if any(isinstance(e, (ssl.SSLError, requests.exceptions.SSLError)) for e in chain):
        return "tls"
    if any(isinstance(e, (requests.exceptions.Timeout, socket.timeout, TimeoutError)) for e in chain):
        return "timeout"
    if any(isinstance(e, (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected,
                          http.client.IncompleteRead, requests.exceptions.ChunkedEncodingError))
           for e in chain):
        return "reset"
    if any(isinstance(e, OSError) and e.errno == errno.ECONNRESET for e in chain):
        return "reset"
    if any(type(e).__name__ == "ProtocolError" for e in chain):
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


class HttpsTransport:
    """Send envelopes to one consumer; thread-safe, connections pooled."""

    def __init__(self, settings: HttpsSettings, name: str, *, reuse: HttpsTransport | None = None) -> None:
        """``reuse``: send through that transport's session and pooled connections (same
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
        self._verify = settings.verify
        self._cert: str | tuple[str, str] | None = (
            (settings.client_cert, settings.client_key) if settings.client_cert and settings.client_key
            else settings.client_cert)
        self._timeout = settings.timeout
        self._proxies = dict(settings.proxies or {})
        self._static_headers = {"Content-Type": self.dialect.content_type, "Accept": self.dialect.accept,
                                "Cache-Control": "no-cache"}
        if settings.bearer_token:
            self._static_headers["Authorization"] = f"Bearer {settings.bearer_token}"
        self._owns_session = reuse is None
        self._session: requests.Session = self._new_session() if reuse is None else reuse._session
        self._adapter = self._session.get_adapter(self.url)
        try:
            template = self._session.prepare_request(requests.Request("POST", self.url, headers=self._static_headers))
        except (requests.RequestException, ValueError):   # never echo the header: it may hold the token
            raise TransferError("config", f"consumer {name}: the url or the authentication settings do not "
                                          f"form a valid HTTP request") from None
        template.headers.pop("Content-Length", None)
        template.headers.pop("Cookie", None)
        self._template_url: str = template.url or self.url
        self._template_headers = template.headers    # session defaults + dialect headers + Authorization

    @property
    def profile_encoding(self) -> str:
        return self.dialect.profile_encoding

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        session.trust_env = False
        adapter = _Tls12Adapter(pool_connections=1, pool_maxsize=max(1, self.settings.pool_size), max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        if self.settings.basic_auth:
            session.auth = tuple(self.settings.basic_auth)  # type: ignore[assignment]
        return session

    def send(self, message: dict[str, Any], *, await_response: bool = True,
             pace: Callable[[], object] | None = None) -> list[Reply]:
        """POST the envelope; return the normalised answer(s) ([] for none).

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
            except (requests.RequestException, ValueError):
                raise TransferError("config", f"{self._where}: header {header[0]} would not be a valid "
                                              f"HTTP header value") from None
        started = time.perf_counter()
        attempts = 0
        max_attempts = 1 + max(0, self.settings.retries)
        while True:
            attempts += 1
            if attempts > 1 and pace is not None:
                pace()
            request = self._prepared(body, extra)
            try:
                resp = self._adapter.send(request, stream=True, timeout=self._timeout, verify=self._verify,
                                          cert=self._cert, proxies=self._proxies)
                if "set-cookie" in resp.headers:
                    extract_cookies_to_jar(self._session.cookies, request, resp.raw)
                raw = self._read_bounded(resp)  # read now: a reset in mid-body is a transfer failure, retried
            except TransferError as exc:      # the answer was too large to read
                exc.attempts = attempts
                raise
            except requests.exceptions.ContentDecodingError:
                raise TransferError("decode", f"{self._where}: the answer's Content-Encoding could not be "
                                              f"decoded after {attempts} attempt(s)", attempts=attempts) from None
            except requests.RequestException as exc:
                kind = classify(exc)
                if kind in _RETRYABLE and attempts < max_attempts:
                    self._pause(attempts, kind)
                    continue
                # a read timeout means the request was sent: the consumer may have carried it out
                sent = kind == "timeout" and not isinstance(exc, requests.exceptions.ConnectTimeout)
                raise TransferError(kind, f"{self._where}: {self._describe(kind)}{_reason(exc)} "
                                          f"after {attempts} attempt(s)", attempts=attempts,
                                          maybe_delivered=sent) from None
            if resp.status_code == 503 and attempts < max_attempts:
                resp.close()
                self._pause(attempts, "HTTP 503")
                continue
            return self._reply(resp, raw, request_id, started, attempts)

    def _prepared(self, body: bytes, extra: dict[str, str]) -> PreparedRequest:
        """What ``Session.prepare_request`` would build, from the per-consumer template."""
        request = PreparedRequest()
        request.method = "POST"
        request.url = self._template_url
        headers = self._template_headers.copy()
        headers.update(extra)
        headers["Date"] = http_date()
        headers["Content-Length"] = str(len(body))
        request.headers = headers
        request.body = body
        cookies = self._session.cookies
        if cookies:
            request.prepare_cookies(cookies)
        return request

    def _read_bounded(self, resp: requests.Response) -> bytes:
        """The decoded body, refused beyond max_answer_bytes (decoded size, so a
        small gzip bomb is refused as soon as it inflates past the bound)."""
        limit = self.settings.max_answer_bytes
        declared = resp.headers.get("Content-Length")
        encoding = resp.headers.get("Content-Encoding", "").strip().lower()
        if declared and declared.isdigit() and int(declared) > limit and encoding in ("", "identity"):
            resp.close()
            raise TransferError("size", f"{self._where}: HTTP {resp.status_code} answer of {declared} bytes is "
                                        f"larger than max_answer_bytes = {limit}; not read",
                                http_status=resp.status_code)
        chunks: list[bytes] = []
        size = 0
        for chunk in resp.iter_content(64 * 1024):
            size += len(chunk)
            if size > limit:
                resp.close()
                bomb = f" (Content-Encoding {encoding}: refused as a possible compression bomb)" \
                    if encoding not in ("", "identity") else ""
                raise TransferError("size", f"{self._where}: HTTP {resp.status_code} answer is larger than "
                                            f"max_answer_bytes = {limit} once decoded{bomb}; not read",
                                    http_status=resp.status_code)
            chunks.append(chunk)
        resp._content = b"".join(chunks)         # what resp.content would have read, now bounded
        resp._content_consumed = True
        return resp._content

    def _reply(self, resp: requests.Response, raw: bytes, request_id: str, started: float,
               attempts: int) -> list[Reply]:
        if resp.status_code < 200:  # 1xx answers carry no readable body; do not reuse the connection
            resp.raw.close()
        warnings: list[str] = []
        try:
            message = normalize_reply(raw, resp.status_code, resp.headers, self.dialect, request_id, self._where,
                                      warnings)
        except TransferError as exc:
            exc.http_status = resp.status_code
            exc.attempts = attempts
            raise
        responder = message["headers"].get("from") or self.name
        return [Reply(transport="https", message=message, raw=raw, http_status=resp.status_code,
                      responder=str(responder), elapsed_ms=(time.perf_counter() - started) * 1000.0,
                      attempts=attempts, warnings=warnings, http_headers=dict(resp.headers))]

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
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> HttpsTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
