"""The reference actuator: an honest SLPF / ER simulator that answers
OpenC2 commands the way the specifications ask a Consumer to.

Transports hand it a Message envelope (``handle``) or a bare command
(``respond``); it checks the command's signature when it has a verify key,
validates through the language layer, applies the command to its simulated
state under one lock and builds the response envelope, signed when it has a
signing key.
"""
from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fn_openc2.lib.consumer.dialects import profile_refusal
from fn_openc2.lib.consumer.handlers import BASE_PAIRS, PAIRS, Context, Outcome, Refused
from fn_openc2.lib.consumer.replay import Done, ReplayMemory
from fn_openc2.lib.consumer.state import DeviceState
from fn_openc2.lib.consumer.validation import InvalidCommand, read_request, render_issues
from fn_openc2.lib.language.constants import FEATURES

VERSIONS = ("2.0",)
V1_VERSIONS = ("1.0",)
V1_TARGET_NAMES = {"slpf": "slpf:rule_number"}     # LS v1.0 names of the v2.0 profile-keyed targets
MAX_AGE = 300.0                                     # seconds a signed command stays acceptable
FUTURE_SKEW_MS = 60_000                             # clock skew tolerated for headers.created
_STATE_CHANGING = frozenset({"allow", "deny", "contain", "delete", "cancel"})


class Actuator:
    """A simulated device. Thread-safe: one lock around state and bookkeeping."""

    def __init__(self, device_id: str, profiles: Sequence[str] = ("slpf", "er"),
                 rate_limit: float | None = None, signing_key: Any = None,
                 clock: Callable[[], float] = time.time, verify_key: Any = None, *,
                 max_age: float = MAX_AGE, state_file: str | None = None, profile_encoding: str | None = None,
                 require_profile: bool = False, omit_error_request_id: bool = False) -> None:
        unknown = [p for p in profiles if p not in PAIRS]
        if unknown:
            raise ValueError(f"profiles: {unknown[0]!r} is not simulated (known: {', '.join(PAIRS)})")
        self.device_id = device_id
        self.profiles = tuple(profiles)
        self.rate_limit = rate_limit
        self._key = _load_key(signing_key)
        self._verify_key = _load_verify_key(verify_key)
        self._clock = clock
        self._lock = threading.Lock()
        self._state = DeviceState()
        self._seen: dict[str, tuple[str, Outcome]] = {}   # command_id -> (command JSON, outcome)
        self._recent: deque[float] = deque()
        self.pairs = _pairs_for(self.profiles)
        if not max_age > 0:
            raise ValueError(f"max_age: expected seconds > 0, got {max_age!r}")
        self.max_age_ms = int(max_age * 1000)
        self._replays = ReplayMemory(self.max_age_ms, self._now_ms, state_file)
        self.profile_encoding = profile_encoding
        self.require_profile = require_profile
        self.omit_error_request_id = omit_error_request_id

    @property
    def verifies_signatures(self) -> bool:
        """True when commands must carry a signature that verifies with the verify key."""
        return self._verify_key is not None

    # ---- entry points -------------------------------------------------
    def handle(self, message: Any, request_id: str | None = None) -> dict[str, Any] | None:
        """Envelope in, envelope out; None when no response is wanted.

        ``request_id`` is the transport's own id (X-Request-ID) used when the
        envelope carries none; it is passed aside so a signed envelope is
        verified exactly as it arrived. With a verify key, a command must
        also be addressed to this consumer (headers.to), be fresh
        (headers.created within max_age) and not repeat one already carried
        out (answered from memory) or cancelled since (refused)."""
        headers = message.get("headers") if isinstance(message, dict) else None
        headers = headers if isinstance(headers, dict) else {}
        if isinstance(headers.get("request_id"), str):
            request_id = headers["request_id"]
        sender = headers.get("from") if isinstance(headers.get("from"), str) else None
        refusal = self._signature_refusal(message)
        if refusal is not None:
            return self.envelope({"status": 401, "status_text": refusal}, request_id, sender)
        signed = self._verify_key is not None
        if signed:
            problem = self._authenticated_refusal(headers)
            if problem is not None:
                return self.envelope({"status": problem[0], "status_text": problem[1]}, request_id, sender)
        try:
            request = _request_of(message)
        except InvalidCommand as exc:
            return self.envelope({"status": 400, "status_text": str(exc)}, request_id, sender)
        if signed and request_id is not None:
            done = self._replays.get(request_id)
            if done is not None:
                if self._replays.cancelled(done.command_id):
                    return self.envelope({"status": 400, "status_text": f"request {request_id} was carried out "
                                          "and its command cancelled since: a repeat is refused"}, request_id, sender)
                return self.envelope({"status": done.status, "status_text": f"repeat of request {request_id}: "
                                      "answered from memory, not carried out again"}, request_id, sender)
        response = self._respond(request, request_id)
        # only what changes the device is remembered: a repeated query is simply answered again
        if signed and request_id is not None and isinstance(request, dict) \
                and request.get("action") in _STATE_CHANGING:
            command_id = request.get("command_id") if isinstance(request, dict) else None
            status = response["status"] if response is not None else 200
            created = headers.get("created")
            self._replays.remember(request_id, Done(created if isinstance(created, int) else self._now_ms(), status,
                                                    None, command_id if isinstance(command_id, str) else request_id))
        return None if response is None else self.envelope(response, request_id, sender)

    def _authenticated_refusal(self, headers: Mapping[str, Any]) -> tuple[int, str] | None:
        """(status, text) when a verified command is not for this consumer or not fresh."""
        to = headers.get("to")
        if to is not None:
            names = to if isinstance(to, list) else [to]
            if self.device_id not in names:
                shown = ", ".join(str(n)[:80] for n in names[:5])
                return 403, f"headers.to names {shown}, not this consumer ({self.device_id}): not carried out"
        created = headers.get("created")
        if not isinstance(created, int) or isinstance(created, bool):
            return 401, "headers.created missing: a signed command must say when it was created (freshness)"
        now = self._now_ms()
        if now - created > self.max_age_ms:
            return 401, (f"command too old: created {(now - created) // 1000} s ago, this consumer accepts signed "
                         f"commands for {self.max_age_ms // 1000} s")
        if created - now > FUTURE_SKEW_MS:
            return 401, f"headers.created is {(created - now) // 1000} s in the future"
        return None

    def respond(self, command: Any, request_id: str | None = None) -> dict[str, Any] | None:
        """Bare command in, bare response out (HTTPS v1.0 dialect); None: no response.

        A bare command has nowhere to carry a signature, so an actuator that
        verifies signatures refuses it (401)."""
        if self._verify_key is not None:
            return {"status": 401, "status_text": "command signature required: a bare command cannot carry "
                                                  "one, send the signed Message envelope"}
        return self._respond(command, request_id)

    def _signature_refusal(self, message: Any) -> str | None:
        """Why the envelope's signature is not acceptable, None when it is (or is not checked)."""
        if self._verify_key is None:
            return None
        from fn_openc2.lib.security import SignatureError, verify_message
        if not isinstance(message, Mapping) or "signature" not in message:
            return "command signature required: the message has no \"signature\" and this consumer " \
                   "only accepts signed commands"
        try:
            verify_message(message, self._verify_key)
        except SignatureError as exc:
            return f"command signature invalid: {exc.reason}"
        return None

    def _respond(self, command: Any, request_id: str | None) -> dict[str, Any] | None:
        habit = profile_refusal(command, self.profile_encoding, self.require_profile)
        if habit is not None:
            return {"status": 400, "status_text": habit}
        legacy = isinstance(command, dict) and "actuator" in command       # LS v1.0: answer in its terms
        try:
            cmd, _warnings = read_request(command)
        except InvalidCommand as exc:
            return {"status": 400, "status_text": str(exc)}
        response = self._respond_to(cmd, request_id)
        if legacy and response is not None and isinstance(response.get("results"), dict):
            response["results"] = _as_v1(response["results"])
        return response

    def _respond_to(self, cmd: dict[str, Any], request_id: str | None) -> dict[str, Any] | None:
        wanted = (cmd.get("args") or {}).get("response_requested", "complete")
        command_id = cmd.get("command_id") or request_id
        with self._lock:
            outcome = self._execute(cmd, command_id)
        if outcome.status >= 300:
            return _response(outcome, with_results=False)
        if wanted == "none":
            return None
        if wanted == "ack":
            return {"status": 102}
        return _response(outcome, with_results=wanted == "complete")

    def envelope(self, response: dict[str, Any], request_id: str | None, to: str | None) -> dict[str, Any]:
        """Wrap a response in the LS 3.2 Message, signed when the actuator has a key."""
        headers: dict[str, Any] = {}
        error = isinstance(response.get("status"), int) and response["status"] >= 400
        if request_id is not None and not (error and self.omit_error_request_id):
            headers["request_id"] = request_id
        headers["created"] = int(self._clock() * 1000)
        headers["from"] = self.device_id
        if to is not None:
            headers["to"] = [to]
        message = {"headers": headers, "body": {"openc2": {"response": response}}}
        if self._key is not None:
            from fn_openc2.lib.security import sign_message
            message = sign_message(message, self._key)
        return message

    def snapshot(self) -> dict[str, Any]:
        """The rule table, contained devices and blocked files, for demos and tests."""
        with self._lock:
            now = self._now_ms()
            self._state.purge(now)
            rules = sorted(self._state.entries("rule"), key=lambda e: e.key)
            return {
                "device_id": self.device_id,
                "rules": [e.view(now) for e in rules],
                "contained_devices": [e.view(now) for e in self._state.entries("containment")],
                "blocked_files": [e.view(now) for e in self._state.entries("file_block")],
            }

    # ---- internals ----------------------------------------------------
    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def _execute(self, cmd: dict[str, Any], command_id: str | None) -> Outcome:
        now = self._now_ms()
        if not self._admit(now):
            return Outcome(503, f"rate limit of {self.rate_limit:g} commands per minute exceeded")
        self._state.purge(now)
        action = cmd["action"]
        fingerprint = json.dumps(cmd, sort_keys=True) if action in _STATE_CHANGING else ""
        if command_id is not None and command_id in self._seen:
            previous, outcome = self._seen[command_id]
            if previous == fingerprint:
                return outcome            # a retry of the same command: answer it again, act once
            if fingerprint:
                return Outcome(400, f"command_id {command_id!r} already used by another command")
        try:
            outcome = self._dispatch(cmd, Context(command_id, now, ""))
        except Refused as exc:
            outcome = exc.outcome
        if fingerprint and command_id is not None and outcome.status < 300:
            self._seen[command_id] = (fingerprint, outcome)
        return outcome

    def _dispatch(self, cmd: dict[str, Any], ctx: Context) -> Outcome:
        action = cmd["action"]
        (target, value), = cmd["target"].items()
        profile = cmd.get("profile")
        if profile is not None and profile not in self.profiles:
            return Outcome(501, f"profile: {profile!r} not supported (supported: {', '.join(self.profiles)})")
        if target in BASE_PAIRS.get(action, ()):
            return self._query(cmd, value) if action == "query" else self._cancel(value)
        for name in (profile,) if profile else self.profiles:
            handler = PAIRS[name].get(action, {}).get(target)
            if handler is not None:
                self._check_arg_namespaces(cmd, name)
                ctx.profile = name
                return handler(self._state, cmd, ctx)
        where = f" in profile {profile}" if profile else ""
        return Outcome(501, f"{action} {target} not supported{where}")

    def _check_arg_namespaces(self, cmd: dict[str, Any], profile: str) -> None:
        for key, value in (cmd.get("args") or {}).items():
            if isinstance(value, dict) and key != profile:
                raise Refused(501, f"args.{key}: arguments of profile {key} do not apply to "
                                   f"{cmd['action']} handled by profile {profile}")

    def _query(self, cmd: dict[str, Any], features: Any) -> Outcome:
        extra = sorted(k for k in (cmd.get("args") or {}) if k != "response_requested")
        if extra:
            return Outcome(400, f"args.{extra[0]}: query features takes only response_requested")
        if (cmd.get("args") or {}).get("response_requested", "complete") != "complete":
            return Outcome(400, "args.response_requested: query features takes only 'complete'")
        results: dict[str, Any] = {}
        for i, name in enumerate(features):
            if name not in FEATURES:
                return Outcome(400, f"target.features[{i}]: unknown feature {name!r}")
            if name == "versions":
                results["versions"] = list(VERSIONS)
            elif name == "profiles":
                results["profiles"] = list(self.profiles)
            elif name == "pairs":
                results["pairs"] = {a: list(t) for a, t in self.pairs.items()}
            elif name == "rate_limit" and self.rate_limit is not None:
                results["rate_limit"] = self.rate_limit
        return Outcome(200, None, results or None)

    def _cancel(self, command_id: Any) -> Outcome:
        entries = self._state.created_by(command_id)
        if not entries:
            return Outcome(404, f"nothing in effect was created by command {command_id!r}")
        for entry in entries:
            self._state.remove(entry.kind, entry.key)
        if isinstance(command_id, str):
            self._replays.mark_cancelled(command_id)
        return Outcome(200, f"removed {len(entries)} {'entry' if len(entries) == 1 else 'entries'}")

    def _admit(self, now_ms: int) -> bool:
        if self.rate_limit is None:
            return True
        now = now_ms / 1000.0
        while self._recent and self._recent[0] <= now - 60.0:
            self._recent.popleft()
        if len(self._recent) >= self.rate_limit:
            return False
        self._recent.append(now)
        return True


def _pairs_for(profiles: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Union of the base pairs and each profile's, in a stable order (LS 3.4.2.1)."""
    pairs: dict[str, list[str]] = {a: list(t) for a, t in BASE_PAIRS.items()}
    for name in profiles:
        for action, targets in PAIRS[name].items():
            known = pairs.setdefault(action, [])
            known.extend(t for t in targets if t not in known)
    return {a: tuple(t) for a, t in pairs.items()}


def _request_of(message: Any) -> Any:
    if not isinstance(message, Mapping):
        raise InvalidCommand([("", "a message must be a JSON object")])
    body = message.get("body")
    openc2 = body.get("openc2") if isinstance(body, Mapping) else None
    if not isinstance(openc2, Mapping):
        raise InvalidCommand([("body.openc2", "missing: expected {\"openc2\": {\"request\": ...}}")])
    if "request" not in openc2:
        kind = next(iter(openc2), "nothing")
        raise InvalidCommand([("body.openc2.request", f"missing: a consumer takes requests, got {kind}")])
    return openc2["request"]


def _as_v1(results: dict[str, Any]) -> dict[str, Any]:
    """Features results in LS v1.0 terms: its version, its names for profile targets."""
    out = dict(results)
    if "versions" in out:
        out["versions"] = list(V1_VERSIONS)
    if isinstance(out.get("pairs"), dict):
        out["pairs"] = {a: [V1_TARGET_NAMES.get(t, t) for t in ts] for a, ts in out["pairs"].items()}
    return out


def _response(outcome: Outcome, with_results: bool) -> dict[str, Any]:
    response: dict[str, Any] = {"status": outcome.status}
    if outcome.status_text:
        response["status_text"] = outcome.status_text
    if with_results and outcome.results:
        response["results"] = outcome.results
    return response


def _load_key(source: Any) -> Any:
    """Accept a jwcrypto JWK, or a PEM path / PEM bytes for the security layer to load."""
    if source is None or hasattr(source, "export"):
        return source
    from fn_openc2.lib.security import load_private_key
    return load_private_key(source)


def _load_verify_key(source: Any) -> Any:
    """A jwcrypto JWK, or a PEM path / PEM bytes of the producer's public (or private) key."""
    if source is None or hasattr(source, "export"):
        return source
    from fn_openc2.lib.security import load_public_key
    return load_public_key(source)


__all__ = ["Actuator", "InvalidCommand", "render_issues", "VERSIONS", "FEATURES"]
