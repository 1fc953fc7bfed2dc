"""Per-consumer HTTPS wire dialects.

Deployed consumers disagree on path, content type, body shape, where the
OpenC2 status lives and how the profile is named, so each of these is a
per-consumer setting over one of two spec presets (HTTPS transfer v1.1 and
v1.0). Everything here is pure: dicts and bytes in, dicts and bytes out."""
from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import Any

from fn_openc2.lib.language import OpenC2ValidationError, loads
from fn_openc2.lib.transfer.model import TransferError

log = logging.getLogger(__name__)

OPENC2_STATUS_CODES = frozenset({102, 200, 400, 401, 403, 404, 500, 501, 503})
ENVELOPES = ("full", "bare", "openc2-only")
STATUS_PLACES = ("body", "http")
PROFILE_ENCODINGS = ("string", "object", "actuator")
_RESPONSE_FIELDS = frozenset({"status", "status_text", "results"})


@dataclass(frozen=True)
class Dialect:
    """How one consumer wants a command on the wire.

    envelope: "full" = LS Message envelope (v1.1), "bare" = the Command alone
    (v1.0), "openc2-only" = `{"openc2": {"request": ...}}` with the envelope
    headers carried as HTTP headers."""

    name: str
    path: str
    content_type: str
    accept: str
    envelope: str
    status_in: str
    profile_encoding: str


DIALECTS: dict[str, Dialect] = {
    "https-v1.1": Dialect("https-v1.1", "/.well-known/openc2", "application/openc2+json;version=1.0",
                          "application/openc2+json;version=1.0", "full", "body", "string"),
    "https-v1.0": Dialect("https-v1.0", "/.well-known/openc2", "application/openc2-cmd+json;version=1.0",
                          "application/openc2-rsp+json;version=1.0", "bare", "http", "string"),
}


def _choice(value: str | None, allowed: tuple[str, ...], key: str) -> str | None:
    if value is not None and value not in allowed:
        raise TransferError("config", f"{key} = {value!r} is not one of {', '.join(allowed)}")
    return value


def resolve_dialect(name: str = "https-v1.1", *, path: str | None = None, content_type: str | None = None,
                    accept: str | None = None, envelope: str | None = None, status_in: str | None = None,
                    profile_encoding: str | None = None) -> Dialect:
    """A preset with the consumer's overrides applied (None keeps the preset's value)."""
    try:
        base = DIALECTS[name]
    except KeyError:
        raise TransferError("config", f"dialect = {name!r} is not one of {', '.join(DIALECTS)}") from None
    if path is not None and not path.startswith("/"):
        raise TransferError("config", f"path = {path!r} must start with '/'")
    overrides: dict[str, str] = {}
    for key, value in (("path", path), ("content_type", content_type), ("accept", accept),
                       ("envelope", _choice(envelope, ENVELOPES, "envelope")),
                       ("status_in", _choice(status_in, STATUS_PLACES, "status_in")),
                       ("profile_encoding", _choice(profile_encoding, PROFILE_ENCODINGS, "profile_encoding"))):
        if value is not None:
            overrides[key] = value
    return replace(base, **overrides) if overrides else base


# --- profile encoding -------------------------------------------------------

def _profile_of(command: Mapping[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """(profile name, actuator specifiers) whichever of the three forms is used."""
    for key in ("profile", "actuator"):
        value = command.get(key)
        if isinstance(value, str):
            return value, {}
        if isinstance(value, Mapping) and len(value) == 1:
            (name, spec), = value.items()
            return str(name), dict(spec) if isinstance(spec, Mapping) else {}
        if value is not None:
            raise TransferError("config", f"{key}: expected a profile name or a one-key object, got {value!r}")
    return None, {}


def adapt_command(command: Mapping[str, Any], profile_encoding: str | None) -> dict[str, Any]:
    """Re-express the command's profile the way the consumer understands it.

    "string": LS v2.0 `"profile": "slpf"`; "object": `"profile": {"slpf": {}}`;
    "actuator": LS v1.0 `"actuator": {"slpf": {}}`, where the v2.0 extended
    target `{"slpf": {"rule_number": 1}}` also becomes `"slpf:rule_number": 1`.
    None returns a copy unchanged."""
    out = dict(command)
    if profile_encoding is None:
        return out
    _choice(profile_encoding, PROFILE_ENCODINGS, "profile_encoding")
    name, spec = _profile_of(command)
    out.pop("profile", None)
    out.pop("actuator", None)
    if name is None:
        return out
    if profile_encoding == "string":
        if spec:
            log.warning("actuator specifiers %s dropped: the string profile form cannot carry them", sorted(spec))
        out["profile"] = name
    elif profile_encoding == "object":
        out["profile"] = {name: spec}
    else:
        out["actuator"] = {name: spec}
        out["target"] = _v1_target(out.get("target"), name)
    return out


def _v1_target(target: Any, profile: str) -> Any:
    if isinstance(target, Mapping) and len(target) == 1:
        (key, value), = target.items()
        if key == profile and isinstance(value, Mapping) and len(value) == 1:
            (inner, inner_value), = value.items()
            return {f"{profile}:{inner}": inner_value}
    return target


# --- outgoing ---------------------------------------------------------------

def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON (the form signed by the producer stays untouched)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _request_of(message: Mapping[str, Any]) -> Any:
    try:
        return message["body"]["openc2"]["request"]
    except (KeyError, TypeError):
        raise TransferError("config", "message: expected body.openc2.request in the envelope") from None


def encode_request(message: Mapping[str, Any], dialect: Dialect) -> tuple[bytes, dict[str, str]]:
    """Body bytes and the extra HTTP headers the dialect's envelope style needs."""
    if dialect.envelope == "full":
        return dumps(message), {}
    request = _request_of(message)
    if dialect.envelope == "bare":
        return dumps(request), {}
    headers = message.get("headers") or {}
    extra: dict[str, str] = {}
    for key in ("request_id", "created", "from"):
        if key in headers:
            extra[key] = str(headers[key])
    if headers.get("to"):
        extra["to"] = ", ".join(str(t) for t in headers["to"])
    return dumps({"openc2": {"request": request}}), extra


# --- incoming ---------------------------------------------------------------

def _header(http_headers: Mapping[str, str], name: str) -> str | None:
    getter = getattr(http_headers, "get", None)
    value = getter(name) if getter else None
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in http_headers.items() if k.lower() == lowered), None)
    return value


def _wrap(content: dict[str, Any], kind: str) -> dict[str, Any]:
    return {"headers": {}, "body": {"openc2": {kind: content}}}


def printable(text: object, limit: int = 300, *, one_line: bool = False, mark: str = "…") -> str:
    """A peer's words made safe for one log or terminal line: control characters
    (CR/LF, ANSI escapes) become spaces (``one_line``: every run of white space one
    space, ends trimmed) and at most ``limit`` characters are kept, the last being
    ``mark`` when cut. The one helper every layer uses; HTML escaping is the renderer's job."""
    value = "".join(ch if ch.isprintable() else " " for ch in str(text))
    if one_line:
        value = " ".join(value.split())
    return value if len(value) <= limit else value[:limit - len(mark)] + mark


def peer_text(raw: bytes, limit: int = 200) -> str:
    """A short, printable quote of what a peer sent (for error lines; escaped again where HTML renders)."""
    text = printable(raw[:limit * 4].decode("utf-8", errors="replace"), limit * 4, one_line=True)
    return repr(text[:limit] + ("…" if len(text) > limit or len(raw) > limit * 4 else ""))


def decode_json(raw: bytes, where: str) -> Any:
    """The body decoded as I-JSON with the decoder commands use (duplicate keys,
    NaN, out-of-range numbers and deep nesting refused, each naming its path)."""
    try:
        return loads(raw)
    except OpenC2ValidationError as exc:
        issues = "; ".join(str(issue) for issue in exc.issues[:5])
        more = f" (+{len(exc.issues) - 5} more)" if len(exc.issues) > 5 else ""
        raise TransferError("decode", f"{where}: the answer is not I-JSON: {issues}{more}") from None


def normalize_reply(raw: bytes, http_status: int, http_headers: Mapping[str, str], dialect: Dialect,
                    request_id: str, where: str, warnings: list[str] | None = None) -> dict[str, Any]:
    """The HTTP answer as an envelope (``read_reply`` without the body as received)."""
    return read_reply(raw, http_status, http_headers, dialect, request_id, where, warnings)[0]


def read_reply(raw: bytes, http_status: int, http_headers: Mapping[str, str], dialect: Dialect,
               request_id: str, where: str, warnings: list[str] | None = None) -> tuple[dict[str, Any], Any]:
    """(the HTTP answer as an envelope, the body decoded exactly as received).

    The body is decoded once; the envelope is built beside it (shallow copies
    where headers or a status are filled in), so the received document stays
    as the consumer sent it (a signature covers that form). The second item is
    None for an empty body or one that is not JSON.

    Tolerant in what it reads: an empty body with a 1xx/2xx status or an
    OpenC2 status code is a status answer (an ack, a consumer that puts the
    status in the status line), whatever ``status_in`` says. Raises
    TransferError "http" for an answer that carries no OpenC2 status at all
    (the peer's own text quoted) and "decode" for a 2xx body that is not
    OpenC2 I-JSON. An HTTP 404 with a body that is not an OpenC2 response is
    the web server's "no such route", never an OpenC2 404, whatever
    ``status_in`` says (``_not_found_error``). What deviates but is still
    readable is appended to ``warnings``. `where` names consumer and URL for messages."""
    notes = warnings if warnings is not None else []
    is_oc2_status = http_status in OPENC2_STATUS_CODES
    success = 100 <= http_status < 300
    reason = _reason(http_status)
    if not raw.strip():
        if success or is_oc2_status:
            if not is_oc2_status and http_status != 204:
                notes.append(f"HTTP {http_status}{reason} with an empty body read as status {http_status} "
                             "(not an OpenC2 status code)")
            elif http_status == 404:     # an OpenC2 "not found", or a server routing to nothing: cannot tell
                notes.append("HTTP 404 with an empty body read as the consumer's OpenC2 404; a web server "
                             "answers an unknown path this way too: if every command gets it, check the "
                             "consumer's url and path keys")
            return _fill_headers(_wrap({"status": http_status}, "response"), http_headers, request_id), None
        raise TransferError("http", f"{where}: HTTP {http_status}{reason} with an empty body")
    try:
        doc = decode_json(raw, where)
    except TransferError as exc:
        if success:
            raise
        if http_status == 404:
            raise _not_found_error(raw, http_headers, where) from None
        if is_oc2_status and dialect.status_in == "http":
            notes.append(f"body is not OpenC2 JSON, the HTTP status is the answer: {peer_text(raw)}")
            return _fill_headers(_wrap({"status": http_status}, "response"), http_headers, request_id), None
        detail = exc.detail.split(": the answer is not I-JSON: ", 1)[-1]
        raise TransferError("http", f"{where}: HTTP {http_status}{reason}: {peer_text(raw)} "
                                    f"(not OpenC2 JSON: {detail})") from None
    message = _as_envelope(doc)
    if message is None:
        if http_status == 404:
            raise _not_found_error(raw, http_headers, where)
        if success:
            raise TransferError("decode", f"{where}: HTTP {http_status} body is not an OpenC2 response: "
                                          f"{peer_text(raw)}")
        raise TransferError("http", f"{where}: HTTP {http_status}{reason}: {peer_text(raw)} (not OpenC2)")
    if not (success or is_oc2_status):
        raise TransferError("http", f"{where}: HTTP {http_status}{reason} is not an OpenC2 status code: "
                                    f"{peer_text(raw)}")
    response = message["body"]["openc2"].get("response")
    if isinstance(response, dict):
        if "status" not in response and (is_oc2_status or success):
            _set_status(message, response, http_status)
            if dialect.status_in == "body":
                notes.append(f"the response has no status: HTTP {http_status} taken as its status")
        elif dialect.status_in == "http" and response.get("status") != http_status and is_oc2_status \
                and http_status != 200:
            notes.append(f"HTTP status {http_status} differs from the body's status {response.get('status')!r}; "
                         "the body's is shown")
    return _fill_headers(message, http_headers, request_id), doc


def _not_found_error(raw: bytes, http_headers: Mapping[str, str], where: str) -> TransferError:
    """An HTTP 404 whose body is not an OpenC2 response: the URL's path is not the consumer's
    OpenC2 endpoint. Web frameworks route before any OpenC2 code runs (Flask, FastAPI,
    http.server, Go net/http answer an unknown route with their own "Not Found"), so this is
    a wrong ``url`` / ``path`` setting, not the consumer's verdict on the command. The peer's
    status, reason and text come first, quoted and bounded; then what is wrong and where."""
    content_type = _header(http_headers, "Content-Type")
    sent = f"{printable(content_type, 80, one_line=True)}, " if content_type else ""
    return TransferError("http", f"HTTP 404 Not Found: {peer_text(raw)} ({sent}not an OpenC2 response) from "
                                 f"{where}: no OpenC2 endpoint at this URL's path; check the consumer's url "
                                 f"and path keys", http_status=404)


def _set_status(message: dict[str, Any], response: dict[str, Any], status: int) -> None:
    """The envelope's response with ``status`` added, on copies: the received document is kept as sent."""
    body = message["body"]
    message["body"] = {**body, "openc2": {**body["openc2"], "response": {**response, "status": status}}}


def _reason(http_status: int) -> str:
    try:
        return " " + HTTPStatus(http_status).phrase
    except ValueError:
        return ""


def _as_envelope(doc: Any) -> dict[str, Any] | None:
    """The envelope form of a decoded answer: a new outer dict (``doc`` is left as it is)."""
    if not isinstance(doc, dict):
        return None
    body = doc.get("body")
    if isinstance(body, dict) and isinstance(body.get("openc2"), dict):
        headers = doc.get("headers")
        return {**doc, "headers": headers if isinstance(headers, dict) else {}}
    if isinstance(doc.get("openc2"), dict):
        return {"headers": {}, "body": {"openc2": doc["openc2"]}}
    if "action" not in doc and doc.keys() & _RESPONSE_FIELDS:
        return _wrap(doc, "response")
    return None


def _fill_headers(message: dict[str, Any], http_headers: Mapping[str, str], request_id: str) -> dict[str, Any]:
    """Bring request_id (and from, for openc2-only consumers) into headers (a copy of them:
    the received document keeps its own)."""
    headers = message["headers"]
    if "request_id" in headers and "from" in headers:
        return message
    headers = message["headers"] = dict(headers)
    if "request_id" not in headers:
        headers["request_id"] = _header(http_headers, "X-Request-ID") or request_id
    if "from" not in headers:
        sender = _header(http_headers, "from")
        if sender:
            headers["from"] = sender
    return message
