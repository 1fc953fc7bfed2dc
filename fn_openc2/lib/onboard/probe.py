"""``probe``: find the wire dialect a consumer speaks, with harmless commands only.

Every attempt is ``query features`` (LS 4.1, REQUIRED of every consumer and
read-only by definition); nothing else is ever sent. Candidates come from
the producer's own sources: the HTTPS presets and override choices of
``transfer.dialects`` and the consumer keys of ``producer.settings`` (the
section printed is exactly the one each attempt was made with, so it is
known to work). The search is bounded (``max_attempts``) and prunes what
an answer rules out: a path answered HTTP 404/405 without an OpenC2
answer (a web server's unknown route) is not tried again, a
transport failure (TLS, refused connection) ends the probe, since no
dialect can fix it. Once the wire works, the profile encoding is learned
on the same connection with ``query features`` naming a profile.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from fn_openc2.lib.errors import OpenC2Error
from fn_openc2.lib.language import FEATURES
from fn_openc2.lib.onboard.link import Exchange, Link, one_line, raw_response
from fn_openc2.lib.producer.appconfig import load_settings
from fn_openc2.lib.producer.settings import CONFIG_KEYS_CONSUMER, CONSUMER_PREFIX, SECTION
from fn_openc2.lib.producer.errors import ConfigError
from fn_openc2.lib.transfer import TransferError
from fn_openc2.lib.transfer.dialects import DIALECTS, ENVELOPES, OPENC2_STATUS_CODES, PROFILE_ENCODINGS
from fn_openc2.lib.transfer.model import PRODUCER_ID
from fn_openc2.lib.transfer.mqtt import MqttSettings

# Paths real consumers listen on besides the presets' (rows of doc/interop.md):
# "/openc2" (HTTPS v1.0 examples), "/" (a Python consumer framework), and
# "/.well-known/openc2_command" (a FastAPI consumer). Tried after the presets' own paths.
FIELD_PATHS = ("/openc2", "/", "/.well-known/openc2_command")
# The command topic one Python consumer framework listens on instead of the spec's oc2/cmd/all (same source).
FIELD_TOPICS = ("oc2/cmd",)
DEAD_PATH = frozenset({404, 405})
FATAL = frozenset({"tls", "connect", "timeout"})
WIRE_KEYS = ("path", "content_type", "accept", "envelope", "status_in", "profile_encoding")


class ProbeInputError(OpenC2Error, ValueError):
    """Bad URL, flags or TLS material: nothing was sent (exit 2)."""


@dataclass
class ProbeRequest:
    """What the admin knows: where the consumer is and how to authenticate."""

    url: str
    name: str = "consumer"
    topics: tuple[str, ...] = ()
    response_topics: tuple[str, ...] = ()
    profile: str = "slpf"
    ca: str | None = None
    cert: str | None = None
    key: str | None = None
    key_password: str | None = field(default=None, repr=False)     # of an encrypted key
    bearer_token: str | None = field(default=None, repr=False)
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    producer_id: str | None = None
    signing_key: str | None = None
    timeout: float = 5.0
    collect_seconds: float = 3.0
    max_attempts: int = 16


@dataclass
class Attempt:
    """One try: what was sent how, and what came back in the consumer's words."""

    number: int
    tried: str
    keys: dict[str, str]
    http_status: int | None = None
    status: int | None = None
    status_text: str | None = None
    error: str | None = None
    works: bool = False

    def answer_text(self) -> str:
        parts = []
        if self.http_status is not None and not (self.error or "").startswith(f"HTTP {self.http_status}"):
            parts.append(f"HTTP {self.http_status}")
        if self.status is not None:
            said = f"{self.status}" + (f" {one_line(self.status_text, 200)!s}" if self.status_text else "")
            parts.append(f"consumer said: {said}")
        if self.error:
            parts.append(one_line(self.error, 400))
        return ", ".join(parts) or "no answer"

    def line(self) -> str:
        mark = "works" if self.works else "no"
        return f"{self.number:>2}. {self.tried}\n    -> {self.answer_text()} [{mark}]"

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "tried": self.tried, "keys": dict(self.keys),
                "http_status": self.http_status, "status": self.status, "status_text": self.status_text,
                "error": self.error, "works": self.works}


@dataclass
class ProbeResult:
    request: ProbeRequest
    attempts: list[Attempt] = field(default_factory=list)
    section: dict[str, str] | None = None            # keys to paste (values of secret keys left out)
    secret_keys: list[str] = field(default_factory=list)
    features: dict[str, dict[str, Any]] = field(default_factory=dict)   # responder -> results
    remarks: list[str] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return self.section is not None

    def section_text(self) -> str:
        if self.section is None:
            return ""
        lines = [f"[{CONSUMER_PREFIX}{self.request.name}]"]
        lines += [f"{key} = {value}" for key, value in self.section.items()]
        lines += [f"# {key} = ...  (given to probe; not printed: fill it in)" for key in self.secret_keys]
        return "\n".join(lines) + "\n"

    def render(self) -> str:
        out = [f"probing {_shown_url(self.request.url)} with 'query features' only "
               f"(at most {self.request.max_attempts} attempts)", ""]
        out += [attempt.line() for attempt in self.attempts]
        out.append("")
        for responder, results in self.features.items():
            out.append(f"features of {one_line(responder, 120)}:")
            out += [f"  {line}" for line in describe_features(results)]
        out += [f"note: {remark}" for remark in self.remarks]
        if self.found:
            out += ["", "paste into app.config:", "", self.section_text().rstrip("\n")]
        elif self.features:
            out.append("the consumer answered, but not in a way this app can be configured for: see the notes")
        else:
            out.append("no dialect worked: see each attempt above")
        return "\n".join(out) + "\n"

    def to_dict(self) -> dict[str, Any]:
        return {"url": _shown_url(self.request.url), "name": self.request.name, "found": self.found,
                "section": self.section_text() or None, "attempts": [a.to_dict() for a in self.attempts],
                "features": self.features, "remarks": list(self.remarks)}


def describe_features(results: dict[str, Any]) -> list[str]:
    """Features as lines a person reads (every value from the peer made printable and bounded)."""
    lines = []
    for key in ("versions", "profiles"):
        value = results.get(key)
        if isinstance(value, list):
            lines.append(f"{key}: {one_line(', '.join(str(v) for v in value), 200) or '(none)'}")
    pairs = results.get("pairs")
    if isinstance(pairs, dict):
        lines.append("pairs:")
        for action, targets in list(pairs.items())[:40]:
            shown = ", ".join(str(t) for t in targets) if isinstance(targets, list) else str(targets)
            lines.append(f"  {one_line(action, 40)}: {one_line(shown, 200)}")
    if "rate_limit" in results:
        lines.append(f"rate_limit: {one_line(results['rate_limit'], 40)} per minute")
    else:
        lines.append("rate_limit: not given")
    return lines


def _shown_url(url: str) -> str:
    parts = urlsplit(url)
    if "@" in parts.netloc:
        return urlunsplit((parts.scheme, "***@" + parts.netloc.rpartition("@")[2], parts.path, "", ""))
    return url


# --- the section ----------------------------------------------------------------------------

def dialect_keys(wire: dict[str, str]) -> dict[str, str]:
    """The fewest app.config keys that produce this wire: the closest preset of
    ``transfer.dialects`` (the config default on a tie) plus each field that differs."""
    default = CONFIG_KEYS_CONSUMER["dialect"].default
    best: tuple[tuple[int, bool], str, dict[str, str]] | None = None
    for name, preset in DIALECTS.items():
        diff = {key: value for key, value in wire.items() if getattr(preset, key) != value}
        score = (len(diff), name != default)
        # pylint: disable-next=unsubscriptable-object  # best is a tuple once not None (checked first)
        if best is None or score < best[0]:
            best = (score, name, diff)
    assert best is not None
    _, name, diff = best
    keys = {} if name == default else {"dialect": name}
    keys.update({key: diff[key] for key in WIRE_KEYS if key in diff})
    return keys


def non_default(keys: dict[str, str]) -> dict[str, str]:
    """Drop keys whose value is the config key's default."""
    out = {}
    for key, value in keys.items():
        spec = CONFIG_KEYS_CONSUMER[key]
        try:
            same = spec.default is not None and spec.parser(value) == spec.default
        except ValueError:
            same = False
        if not same:
            out[key] = value
    return out


def _base(request: ProbeRequest) -> tuple[str, dict[str, str], dict[str, str]]:
    """(transport, printed keys, secret keys) that do not depend on the dialect."""
    url = request.url.strip()
    parts = urlsplit(url)
    keys: dict[str, str] = {}
    secrets: dict[str, str] = {}
    if parts.scheme in ("mqtt", "mqtts"):
        transport = "mqtt"
        keys.update(transport="mqtt", broker=url)
        if request.ca:
            keys["ca"] = request.ca
        if request.user:
            keys["username"] = request.user
        if request.password:
            secrets["password"] = request.password
        if request.bearer_token:
            raise ProbeInputError("--bearer-token: only for https:// consumers")
    elif parts.scheme in ("http", "https"):
        transport = "https"
        if request.topics or request.response_topics:
            raise ProbeInputError("--topic/--response-topic: only for mqtt:// or mqtts:// brokers")
        if parts.query or parts.fragment:
            raise ProbeInputError("URL: no query or fragment, please: give scheme://host[:port][/path]")
        keys["url"] = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
        if request.ca:
            keys["verify"] = request.ca
        if request.user:
            keys["basic_auth_user"] = request.user
        if request.password:
            secrets["basic_auth_password"] = request.password
        if request.bearer_token:
            secrets["bearer_token"] = request.bearer_token
    else:
        raise ProbeInputError(f"URL: expected https://, http://, mqtts:// or mqtt://, got {_shown_url(url)!r}")
    if bool(request.cert) != bool(request.key):
        raise ProbeInputError("--cert and --key go together")
    if request.cert:
        keys["client_auth_cert"] = request.cert
        keys["client_auth_key"] = request.key or ""
    if request.key_password:
        if not request.key:
            raise ProbeInputError("--key-password-env: needs --key")
        secrets["client_auth_key_password"] = request.key_password
    if request.max_attempts < 1:
        raise ProbeInputError("--max-attempts: at least 1")
    return transport, keys, secrets


def _settings(request: ProbeRequest, keys: dict[str, str], secrets: dict[str, str], transport: str) -> Any:
    producer: dict[str, str] = {}
    if request.producer_id:
        producer["producer_id"] = request.producer_id
    if request.signing_key:
        producer["signing_key"] = request.signing_key
    probe_only = {"timeout": f"{request.timeout:g}"}
    if transport == "https":
        probe_only["retries"] = "0"          # every resend would be an unbounded extra attempt
    else:
        probe_only["collect_seconds"] = f"{request.collect_seconds:g}"
    section = {**keys, **secrets, **probe_only}
    return load_settings({SECTION: producer, f"{CONSUMER_PREFIX}{request.name}": section})


# --- the search -------------------------------------------------------------------------------

@dataclass
class _Candidate:
    keys: dict[str, str]           # wire keys as they would be printed
    tried: str
    path: str | None = None
    content_type: str | None = None
    topic: str | None = None
    response_topics: tuple[str, ...] | None = None


def _paths(url: str) -> list[str]:
    path = urlsplit(url).path
    if path not in ("", "/"):
        return [path]           # the admin named the path: it is the path
    return list(dict.fromkeys([p.path for p in DIALECTS.values()] + list(FIELD_PATHS)))


def _https_candidates(url: str) -> Iterator[_Candidate]:
    paths = _paths(url)
    presets = list(DIALECTS.values())
    combos = [(path, preset, preset.envelope) for path in paths for preset in presets]
    combos += [(path, preset, envelope) for path in paths for preset in presets
               for envelope in ENVELOPES if envelope != preset.envelope]
    for path, preset, envelope in combos:
        wire = {"path": path, "content_type": preset.content_type, "accept": preset.accept,
                "envelope": envelope, "status_in": preset.status_in, "profile_encoding": preset.profile_encoding}
        yield _Candidate(dialect_keys(wire), f"POST {path} as {preset.content_type}, {envelope} body", path=path,
                         content_type=preset.content_type)


def _mqtt_candidates(request: ProbeRequest) -> Iterator[_Candidate]:
    default_topic = CONFIG_KEYS_CONSUMER["topic"].default
    topics = list(dict.fromkeys(request.topics or (default_topic, *FIELD_TOPICS)))
    producer_id = request.producer_id or PRODUCER_ID
    standard = tuple(t.replace("<producer_id>", producer_id) for t in MqttSettings.response_topics)
    listens: list[tuple[str, ...] | None] = [None]
    listens += [(t,) for t in dict.fromkeys(request.response_topics) if t not in standard]
    for listen in listens:
        for topic in topics:
            shown = ", ".join(listen or standard)
            yield _Candidate(non_default({"topic": topic}), f"publish on {topic}, answers awaited on {shown}",
                             response_topics=listen, topic=topic)


def _http_status(exchange: Exchange) -> int | None:
    for reply in exchange.replies:
        if reply.http_status is not None:
            return reply.http_status
    failure = exchange.failure
    if failure is None:
        return None
    status = getattr(failure, "http_status", None)
    if isinstance(status, int):
        return status
    match = re.search(r"\bHTTP (\d{3})\b", failure.detail)
    return int(match.group(1)) if match else None


def _no_route(exchange: Exchange) -> bool:
    """The path is not an OpenC2 endpoint: HTTP 404/405 with no OpenC2 answer (a web server's
    unknown route or method, or an empty 404). An OpenC2 answer, even status 404 in the
    body or the status line, came from the consumer's OpenC2 handler: the path is right."""
    if _http_status(exchange) not in DEAD_PATH:
        return False
    return exchange.failure is not None or all(reply.empty for reply in exchange.replies)


def _features_found(exchange: Exchange) -> dict[str, dict[str, Any]]:
    found = {}
    for answer in exchange.answers:
        if answer.ok and answer.status == 200 and isinstance(answer.results, dict) and answer.results:
            found[answer.responder or answer.consumer] = answer.results
    return found


def _mentions(exchange: Exchange, *words: str) -> bool:
    text = " ".join(str(a.status_text or "") + " " + str(a.error or "") for a in exchange.answers).lower()
    return any(word in text for word in words)


class _Prober:
    def __init__(self, request: ProbeRequest) -> None:
        self.request = request
        self.result = ProbeResult(request)
        self.transport, self.base, self.secrets = _base(request)
        self.features = tuple(FEATURES)
        self.status_evidence: set[str] = set()
        self.home: Link | None = None                      # HTTPS: the connection every candidate shares
        self.homes: dict[tuple[str, ...] | None, Link] = {}   # MQTT: one connection per set of answer topics

    # one attempt ---------------------------------------------------------------------------
    def budget_left(self) -> bool:
        return len(self.result.attempts) < self.request.max_attempts

    def attempt(self, link: Link, candidate: _Candidate, keys: dict[str, str], *,
                profile: str | None = None, encoding: str | None = None,
                features: tuple[str, ...] | None = None, args: dict[str, Any] | None = None) -> Exchange:
        asked = self.features if features is None else features
        command: dict[str, Any] = {"action": "query", "target": {"features": list(asked)}}
        tried = candidate.tried
        if args is not None:
            command["args"] = args
            tried += f", args {', '.join(args)} (a query it must refuse: where does the status go?)"
        if profile is not None:
            command["profile"] = profile
            tried += f", profile {profile} encoded as {encoding}"
        if features is not None and features != self.features:
            tried += f", features {', '.join(features) or '(none)'}"
        exchange = link.exchange(command, profile_encoding=encoding, topic=candidate.topic)
        attempt = Attempt(len(self.result.attempts) + 1, tried, dict(keys), http_status=_http_status(exchange))
        answer = exchange.answer
        if exchange.failure is not None:
            attempt.error = exchange.failure.detail
        elif answer is not None:
            attempt.status, attempt.status_text, attempt.error = answer.status, answer.status_text, answer.error
        attempt.works = bool(_features_found(exchange))
        self.result.attempts.append(attempt)
        self._note_status_place(exchange)
        return exchange

    def _note_status_place(self, exchange: Exchange) -> None:
        """Where the consumer puts the OpenC2 status, from what its answers show."""
        for reply in exchange.replies:
            if reply.http_status is None:
                continue
            _, response = raw_response(reply)
            body_status = response.get("status") if isinstance(response, dict) else None
            if body_status is None and not reply.raw.strip() and reply.http_status in OPENC2_STATUS_CODES \
                    and reply.http_status != 200:
                self.status_evidence.add("http")
            elif isinstance(body_status, int) and body_status != 200:
                self.status_evidence.add("http" if reply.http_status == body_status else "body")

    # the search ---------------------------------------------------------------------------------
    def run(self) -> ProbeResult:
        try:
            return self._search()
        finally:
            for link in [*self.homes.values(), *([self.home] if self.home else [])]:
                link.close()

    def _search(self) -> ProbeResult:
        candidates = _mqtt_candidates(self.request) if self.transport == "mqtt" \
            else _https_candidates(self.request.url)
        dead_paths: set[str] = set()
        refused_types: set[tuple[str | None, str | None]] = set()
        for candidate in candidates:
            if candidate.path in dead_paths or (candidate.path, candidate.content_type) in refused_types:
                continue
            if not self.budget_left():
                self.result.remarks.append(f"stopped after {self.request.max_attempts} attempts (--max-attempts)")
                break
            outcome = self.try_candidate(candidate)
            if outcome == "found" or outcome == "fatal":
                break
            if outcome == "dead-path" and candidate.path is not None:
                dead_paths.add(candidate.path)
            elif outcome == "refused-type":
                refused_types.add((candidate.path, candidate.content_type))
        return self.result

    def link_for(self, candidate: _Candidate) -> tuple[Link, bool]:
        """(link, close it after the candidate): one MQTT connection per set of answer topics
        (the command topic is chosen per message); for HTTPS, every candidate's transport
        shares the first one's session and pooled connection."""
        if self.transport == "mqtt":
            if candidate.response_topics not in self.homes:
                self.homes[candidate.response_topics] = self.link(candidate)
            return self.homes[candidate.response_topics], False
        if self.home is None:
            self.home = self.link(candidate)
            return self.home, False
        return self.link(candidate, reuse=self.home), True

    def link(self, candidate: _Candidate, reuse: Link | None = None) -> Link:
        keys = {**self.base, **candidate.keys}
        try:
            settings = _settings(self.request, keys, self.secrets, self.transport)
        except ConfigError as exc:
            raise ProbeInputError(str(exc)) from None
        try:
            return Link(settings, self.request.name, response_topics=candidate.response_topics, reuse=reuse)
        except TransferError as exc:
            raise ProbeInputError(exc.detail) from None

    def try_candidate(self, candidate: _Candidate) -> str:
        """Attempts on one wire candidate, on one connection: as is, then (as the consumer's
        answers ask) without the features it refused (LS 4.1: rate_limit is only a SHOULD)
        and naming a profile in each encoding when it asks for one."""
        keys = dict(candidate.keys)
        link, close = self.link_for(candidate)
        try:
            return self._steps(link, candidate, keys)
        finally:
            if close:
                link.close()

    def _steps(self, link: Link, candidate: _Candidate, keys: dict[str, str]) -> str:
        features = self.features
        encoding: str | None = None
        encodings: list[str] | None = None
        while True:
            profile = self.request.profile if encoding is not None else None
            exchange = self.attempt(link, candidate, keys, profile=profile, encoding=encoding, features=features)
            found = _features_found(exchange)
            if found:
                self.result.features = found
                self.finish(link, candidate, keys, found, encoding)
                return "found"
            if exchange.failure is not None and exchange.failure.kind in FATAL:
                self.result.remarks.append("the consumer could not be reached at all: no dialect can fix "
                                           "that (check the address, port and TLS material)")
                return "fatal"
            status = _http_status(exchange)
            answer = exchange.answer
            if _no_route(exchange):
                return "dead-path"
            if status == 415:
                return "refused-type"
            if not self.budget_left():
                return "next"
            text = " ".join(str(a.status_text or "") for a in exchange.answers).lower()
            refused = tuple(f for f in features if f in text) \
                if answer is not None and answer.status in (400, 500, 501) else ()
            if refused and len(refused) < len(features):
                features = tuple(f for f in features if f not in refused)
                remark = (f"the consumer refused feature(s) {', '.join(refused)}; the app's query features asks "
                          "again without them")
                if remark not in self.result.remarks:
                    self.result.remarks.append(remark)
                continue
            if encodings is None and _mentions(exchange, "profile", "actuator"):
                encodings = list(PROFILE_ENCODINGS)
            if not encodings:
                return "next"
            encoding = encodings.pop(0)

    def finish(self, link: Link, candidate: _Candidate, keys: dict[str, str], found: dict[str, dict[str, Any]],
               required_encoding: str | None) -> None:
        profiles = [str(p) for results in found.values() for p in (results.get("profiles") or [])
                    if isinstance(p, str)]
        profile = self.request.profile if self.request.profile in profiles or not profiles \
            else profiles[0]
        wire_keys = dict(keys)
        encoding: str | None
        if required_encoding is not None:
            # the consumer refuses query features without a profile: the section names one
            # (query features carries profiles[0] in profile_encoding)
            wire_keys["profiles"] = ", ".join(dict.fromkeys([self.request.profile, *profiles]))
            encoding = required_encoding
        else:
            encoding = self.learn_encoding(link, candidate, keys, profile)
        if self.transport == "https":
            self.learn_status_place(link, candidate, keys)
            wire = self.wire_of(keys)
            if encoding is not None:
                wire["profile_encoding"] = encoding
            if len(self.status_evidence) == 1:
                wire["status_in"] = next(iter(self.status_evidence))
            wire_keys = {k: v for k, v in wire_keys.items() if k not in WIRE_KEYS and k != "dialect"}
            wire_keys = {**dialect_keys(wire), **wire_keys}
        elif encoding is not None and encoding != "string":
            wire_keys["profile_encoding"] = encoding
        if self.transport == "mqtt":
            responders = [r for r in found if r != self.request.name]
            if responders:
                wire_keys["expected_responders"] = ", ".join(responders)
            if candidate.response_topics:
                if "response_topics" in CONFIG_KEYS_CONSUMER:
                    wire_keys["response_topics"] = ", ".join(candidate.response_topics)
                else:
                    self.result.remarks.append(
                        f"the consumer answers on {', '.join(candidate.response_topics)}; this version of the "
                        "app listens only on oc2/rsp and oc2/rsp/<producer_id>: it cannot use this consumer yet")
                    return
        self.result.section = {**self.base, **non_default(wire_keys)}
        self.result.secret_keys = list(self.secrets)

    def learn_status_place(self, link: Link, candidate: _Candidate, keys: dict[str, str]) -> None:
        """Success answers are 200 wherever the status goes; one query features with an
        argument LS 4.1 says it must refuse (400) shows the place, when nothing has yet."""
        if self.status_evidence or not self.budget_left():
            return
        exchange = self.attempt(link, candidate, keys, features=(), args={"response_requested": "complete",
                                                                          "duration": 60000})
        answer = exchange.answer
        self.result.attempts[-1].works = answer is not None and answer.ok and answer.status not in (None, 200)

    def wire_of(self, keys: dict[str, str]) -> dict[str, str]:
        """The full wire (every field) a candidate's keys produce."""
        preset = DIALECTS[keys.get("dialect", CONFIG_KEYS_CONSUMER["dialect"].default)]
        return {key: keys.get(key, getattr(preset, key)) for key in WIRE_KEYS}

    def learn_encoding(self, link: Link, candidate: _Candidate, keys: dict[str, str], profile: str) -> str | None:
        """Which profile encoding the consumer takes: query features naming ``profile``
        in each encoding, the dialect's own first, on the same connection."""
        first = link.profile_encoding
        for encoding in dict.fromkeys([first, *PROFILE_ENCODINGS]):
            if not self.budget_left():
                self.result.remarks.append("no attempts left to learn the profile encoding: commands naming "
                                           "a profile use the dialect's")
                return None
            exchange = self.attempt(link, candidate, keys, profile=profile, encoding=encoding, features=())
            answer = exchange.answer
            if answer is not None and answer.ok and answer.status == 200:
                self.result.attempts[-1].works = True
                return encoding
        self.result.remarks.append(f"query features naming profile {profile} was refused in every encoding "
                                   f"({', '.join(PROFILE_ENCODINGS)}): commands naming a profile may be refused")
        return None


def probe(request: ProbeRequest) -> ProbeResult:
    """Find a dialect that reaches the consumer (ProbeInputError for bad input, nothing sent)."""
    return _Prober(request).run()
