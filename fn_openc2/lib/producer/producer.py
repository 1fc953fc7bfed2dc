"""The send-and-collect loop: validate, guard, route, envelope, sign, send, collect.

One Producer per settings. It owns one transport per consumer (pooled HTTPS
session / one MQTT connection, created on first use and reused), the
capability cache filled by ``query features`` and the per-consumer rate
limits. It is safe to call from several SOAR worker threads at once.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple, Protocol, runtime_checkable

from jwcrypto.jwk import JWK

from fn_openc2.lib.language import FEATURES, OpenC2ValidationError, parse_command, requested_response, to_dict
from fn_openc2.lib.language import query_features as build_query_features
from fn_openc2.lib.producer.answers import AnswerStream, ReplyFacts, answers_for
from fn_openc2.lib.producer.bulk import OutcomeSink, run_bulk
from fn_openc2.lib.producer.capabilities import CapabilityCache, merge_results
from fn_openc2.lib.producer.settings import SECTION, AppSettings, ConsumerSettings
from fn_openc2.lib.producer.envelope import command_message, new_request_id
from fn_openc2.lib.producer.errors import CommandRefused, ConfigError, RoutingError
from fn_openc2.lib.producer.guard import guard_for
from fn_openc2.lib.producer.outcome import AnswerTally, CommandOutcome, ConsumerAnswer, Sampled
from fn_openc2.lib.producer.ratelimit import RateLimits
from fn_openc2.lib.producer.routing import resolve_consumers
from fn_openc2.lib.producer.transports import Transport, build_transport
from fn_openc2.lib.security import algorithms_for, load_private_key, load_public_key
from fn_openc2.lib.transfer import MqttTransport, Reply, TransferError
from fn_openc2.lib.transfer.dialects import printable

log = logging.getLogger(__name__)

ALL_FEATURES = FEATURES
Consumers = Sequence[str] | str | None  # pylint: disable=unsupported-binary-operation  # runtime union: the app needs Python 3.11 (python_requires); the SDK's pylintrc assumes py-version 3.6


class SendHooks(Protocol):
    """Called around each (command, consumer) exchange, in the sending thread, so the
    caller can journal it: ``before_send`` runs before the message goes out (False:
    do not send it; that consumer then has no answer), ``after_answers`` as soon as
    that consumer's answers are in. Both must not raise.

    Hooks that also have ``on_answer(command, consumer, request_id, answer)``
    get an MQTT consumer's answers one at a time, as each is judged while the
    collection window is open (a fan-out streams); ``after_answers`` then
    receives [] and the outcome keeps counts (``tally``) and a bounded sample."""

    def before_send(self, command: dict[str, Any], consumer: str, request_id: str) -> bool: ...

    def after_answers(self, command: dict[str, Any], consumer: str, request_id: str,
                      answers: list[ConsumerAnswer]) -> None: ...


@runtime_checkable
class StreamHooks(SendHooks, Protocol):
    """SendHooks that take a fan-out's answers one at a time (see SendHooks)."""

    def on_answer(self, command: dict[str, Any], consumer: str, request_id: str, answer: ConsumerAnswer) -> None: ...


def load_signing_key(settings: AppSettings) -> JWK | None:
    """The producer's signing key, checked against signing_alg (ConfigError naming the key)."""
    own = settings.producer
    if not own.signing_key:
        return None
    password = own.signing_key_password.encode("utf-8") if own.signing_key_password else None
    try:
        key = load_private_key(own.signing_key, password)
    except Exception as exc:  # the security layer names the file, never the password
        raise ConfigError(SECTION, "signing_key", f"cannot load the private key: {exc}") from None
    if own.signing_alg not in algorithms_for(key):
        raise ConfigError(SECTION, "signing_alg", f"{own.signing_alg} does not fit the signing_key "
                                                  f"(usable: {', '.join(algorithms_for(key)) or 'none'})")
    return key


def load_verify_key(consumer: ConsumerSettings) -> JWK | None:
    """A consumer's response_verify_key, loaded (ConfigError naming the key)."""
    if not consumer.response_verify_key:
        return None
    try:
        return load_public_key(consumer.response_verify_key)
    except Exception as exc:
        raise ConfigError(f"fn_openc2:{consumer.name}", "response_verify_key",
                          f"cannot load the public key: {exc}") from None


def _invalid(exc: OpenC2ValidationError) -> str:
    issues = "; ".join(f"{issue.path or '(command)'}: {issue.message}" for issue in exc.issues)
    return f"invalid command: {issues or exc}"


def refused_features(answer: ConsumerAnswer, asked: Sequence[str]) -> list[str]:
    """The asked-for features a 400/501 answer names in its status text (whole words only)."""
    if answer.status not in (400, 501) or not answer.status_text or len(asked) < 2:
        return []
    text = answer.status_text.lower()
    named = [f for f in asked if re.search(rf"(?<![a-z_]){re.escape(f)}(?![a-z_])", text)]
    return named if len(named) < len(asked) else []


class Prepared(NamedTuple):
    """A command that passed validation, the guard and routing: the JSON to send and to whom."""

    command: dict[str, Any]
    consumers: list[str]


class _Stream:
    """Where a streamed send's answers go: counted, sampled, handed to the caller one at a time."""

    def __init__(self, on_answer: Callable[[ConsumerAnswer], None]) -> None:
        self.tally = AnswerTally()
        self.kept: list[ConsumerAnswer] = []
        self._on_answer = on_answer
        self._lock = threading.Lock()

    def answer(self, answer: ConsumerAnswer) -> None:
        with self._lock:
            if self.tally.add(answer):
                self.kept.append(answer)
            self._on_answer(answer)

    def take(self, answers: list[ConsumerAnswer]) -> list[ConsumerAnswer]:
        """Pass on answers judged whole (HTTPS, failures); nothing left to return."""
        for answer in answers:
            self.answer(answer)
        return []

    def notices(self, lines: list[str]) -> None:
        with self._lock:
            self.tally.notices.extend(line for line in lines if line not in self.tally.notices)


class Producer:
    """Sends OpenC2 commands to the configured consumers and collects their answers."""

    def __init__(self, settings: AppSettings, *, rate_limits: RateLimits | None = None) -> None:
        self.settings = settings
        own = settings.producer
        self.capabilities = CapabilityCache()
        self.rate_limits = rate_limits or RateLimits()
        for consumer in settings.consumers.values():
            self.rate_limits.set(consumer.name, consumer.rate_limit)
        self.guard = guard_for(settings)
        self._signing_key = load_signing_key(settings)
        self._verify_keys = {c.name: load_verify_key(c) for c in settings.consumers.values()}
        self._transports: dict[str, Transport] = {}
        self._transport_lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=own.max_concurrency, thread_name_prefix="openc2-send")
        self._in_flight = threading.BoundedSemaphore(own.max_concurrency)
        self._closed = False

    # --- public ---------------------------------------------------------------

    def send(self, command: Any, consumers: Consumers = None, *, hooks: SendHooks | None = None,
             on_answer: Callable[[ConsumerAnswer], None] | None = None) -> CommandOutcome:
        """Send one command (Command model, dict or JSON) to the routed consumers.

        ``on_answer``: stream the answers instead of accumulating them. Each
        answer is passed to it as soon as it is judged (an MQTT fan-out's one
        by one while the collection window is still open, in the connection's
        network thread: keep it quick), one at a time (calls are serialised
        across consumers); the outcome then keeps only
        counts (``CommandOutcome.tally``) and a bounded sample in ``answers``,
        so memory stays flat however many responders answer. Not combined
        with ``hooks`` (a journal sees whole answer lists)."""
        if on_answer is not None and hooks is not None:
            raise ValueError("send: on_answer streams the answers; hooks (after_answers) need them whole")
        try:
            doc, names = self.prepare(command, consumers)
        except CommandRefused as refused:
            return refused.outcome
        ids = [new_request_id() for _ in names]
        stream = _Stream(on_answer) if on_answer is not None else None
        futures = [self._executor.submit(self._send_one, doc, name, rid, hooks, stream)
                   for name, rid in zip(names, ids, strict=True)]
        parts = [future.result() for future in futures]
        if stream is not None:
            return CommandOutcome(command=doc, request_id=ids[0], answers=stream.kept, tally=stream.tally)
        outcome = CommandOutcome(command=doc, request_id=ids[0])
        outcome.take(parts)
        return outcome

    def _send_one(self, doc: dict[str, Any], name: str, request_id: str, hooks: SendHooks | None,
                  stream: _Stream | None) -> list[ConsumerAnswer]:
        if stream is None:
            return self.send_to(doc, name, request_id, hooks=hooks)
        self._exchange(doc, name, request_id, stream)
        return []

    def query_features(self, consumers: Consumers = None,
                       features: Sequence[str] = ALL_FEATURES) -> CommandOutcome:
        """``query features`` to the consumers; fills the capability cache and rate limits.

        A consumer that refuses some of the features by name (e.g. 501 "Feature
        'rate_limit' not yet implemented") is asked once more without them; the
        second answer stands and keeps the first in ``earlier``.
        An MQTT consumer may answer with many responders: their successful
        answers are merged by ``capabilities.merge_results`` (union of pairs,
        lowest rate_limit) before they enter the cache."""
        outcome = self.send(build_query_features(*features), consumers)
        outcome.answers = self._ask_again(outcome.answers, features)
        answered: dict[str, list[dict[str, Any]]] = {}
        for answer in outcome.answers:
            if answer.ok and answer.status == 200 and answer.results is not None:
                answered.setdefault(answer.consumer, []).append(answer.results)
        for name, results in answered.items():      # a fleet behind one topic: every responder counts
            found = self.capabilities.update(name, merge_results(results))
            if found.rate_limit is not None:
                configured = self.settings.consumers[name].rate_limit
                self.rate_limits.set(name, min(found.rate_limit, configured or found.rate_limit))
        return outcome

    def _ask_again(self, answers: list[ConsumerAnswer], features: Sequence[str]) -> list[ConsumerAnswer]:
        """Each consumer that refused features by name asked once more without them
        (the whole consumer: for a fleet, the topic); its new answers stand."""
        out: list[ConsumerAnswer] = []
        by_consumer: dict[str, list[ConsumerAnswer]] = {}
        for answer in answers:
            by_consumer.setdefault(answer.consumer, []).append(answer)
        for name, group in by_consumer.items():
            refused = list(dict.fromkeys(f for a in group for f in refused_features(a, features)))
            if not refused:
                out.extend(group)
                continue
            remaining = [f for f in features if f not in refused]
            retry = self.send(build_query_features(*remaining), [name]).answers
            first = {a.responder: a for a in group}
            for second in retry:
                before = first.pop(second.responder, None)
                if before is None and len(group) == 1 and first:
                    before = first.popitem()[1]
                if before is not None:
                    second.earlier = [*before.earlier, before.record()]
                    said = f"{before.status} {printable(before.status_text or '')}".rstrip()
                    second.warnings.insert(0, f"asked again without {', '.join(refused)}: the first answer "
                                              f"was {said}")
            out.extend(retry)
            out.extend(first.values())
        return out

    def send_many(self, commands: Iterable[Any], consumers: Consumers = None,
                  concurrency: int = 8, *, on_outcome: OutcomeSink | None = None,
                  hooks: SendHooks | None = None) -> list[CommandOutcome]:
        """Bulk send; at most ``concurrency`` messages in flight per consumer, and
        never more than the producer's ``max_concurrency`` in flight in all.

        Commands are validated, guarded and routed lazily, by the sending
        workers, as they are sent (the scheduler is ``bulk.py``; it uses
        ``prepare`` and ``send_to``). Outcomes come back in input
        order, each command's answers in routing order. With ``on_outcome``
        they are streamed instead: each is passed to it, in input order, as
        soon as it and all before it are complete (called from a sending
        thread, one at a time), nothing is kept and [] is returned, so memory
        stays bounded however many commands a (lazy) iterable yields."""
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency}")
        concurrency = min(concurrency, self.settings.producer.max_concurrency)
        return run_bulk(self, commands, consumers, concurrency, on_outcome, hooks)

    def close(self) -> None:
        """Close every transport (HTTPS sessions, MQTT connections)."""
        self._closed = True
        self.guard.close()
        self._executor.shutdown(wait=True)
        with self._transport_lock:
            transports, self._transports = self._transports, {}
        for name, transport in transports.items():
            try:
                transport.close()
            except Exception as exc:  # closing must not hide the others
                log.warning("consumer %s: closing its transport failed: %s", name, exc)

    def __enter__(self) -> Producer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- steps ----------------------------------------------------------------

    def prepare(self, command: Any, consumers: Consumers) -> Prepared:
        """Validate, guard and route: what to send to whom, or CommandRefused (its ``outcome`` says why)."""
        if self._closed:
            raise RuntimeError("Producer is closed")
        try:
            model = command if hasattr(command, "target_name") else parse_command(command)
        except OpenC2ValidationError as exc:
            raw = command if isinstance(command, dict) else {}
            raise CommandRefused(CommandOutcome(command=raw, request_id=new_request_id(), refused=_invalid(exc))) \
                from None
        doc = to_dict(model)
        refusal = self.guard.check(doc)
        if refusal:
            log.warning("OpenC2 command refused by the policy guard: %s", refusal)
            raise CommandRefused(CommandOutcome(command=doc, request_id=new_request_id(), refused=refusal))
        target = doc.get("target") or {}
        target_name = next(iter(target), "")
        try:
            names = resolve_consumers(self.settings, consumers, action=str(doc.get("action")),
                                      target_name=target_name, target_value=target.get(target_name),
                                      cache=self.capabilities)
        except RoutingError as exc:
            raise CommandRefused(CommandOutcome(command=doc, request_id=new_request_id(), refused=str(exc))) \
                from None
        return Prepared(doc, names)

    def _transport(self, name: str) -> Transport:
        with self._transport_lock:
            transport = self._transports.get(name)
            if transport is None:
                consumer = self.settings.consumers[name]
                pool = max(16, self.settings.producer.max_concurrency)
                transport = build_transport(consumer, self.settings.producer, pool)
                self._transports[name] = transport
            return transport

    def _envelope(self, doc: dict[str, Any], consumer: ConsumerSettings, request_id: str,
                  profile_encoding: str | None) -> dict[str, Any]:
        if consumer.features_profile and "profile" not in doc and doc.get("action") == "query" \
                and "features" in (doc.get("target") or {}):
            doc = {**doc, "profile": consumer.features_profile}   # consumers that require one answer 400 without
        return command_message(doc, consumer, self.settings.producer, request_id, profile_encoding,
                               self._signing_key)

    def send_to(self, command: dict[str, Any], consumer: str, request_id: str, *,
                hooks: SendHooks | None = None) -> list[ConsumerAnswer]:
        """One prepared command (``Prepared.command``) to one of its routed consumers, between
        the caller's hooks (see SendHooks): the per-message step ``send`` and the bulk
        scheduler share. Never raises for a failed exchange (it becomes the answer's error);
        rate limit and ``max_concurrency`` apply here."""
        if hooks is None:
            return self._exchange(command, consumer, request_id)
        if not hooks.before_send(command, consumer, request_id):
            return []
        if isinstance(hooks, StreamHooks) and self.settings.consumers[consumer].transport == "mqtt":
            # a fan-out: each answer to the hooks as it is judged, the outcome keeps counts and a sample
            streaming = hooks
            stream = _Stream(lambda answer: streaming.on_answer(command, consumer, request_id, answer))
            self._exchange(command, consumer, request_id, stream)
            hooks.after_answers(command, consumer, request_id, [])
            if stream.tally.notices and stream.kept:     # said once, on the first answer kept
                stream.kept[0].warnings.extend(stream.tally.notices)
            return Sampled(stream.kept, stream.tally)
        answers = self._exchange(command, consumer, request_id)
        hooks.after_answers(command, consumer, request_id, answers)
        return answers

    def _exchange(self, doc: dict[str, Any], name: str, request_id: str,
                  stream: _Stream | None = None) -> list[ConsumerAnswer]:
        """One consumer's exchange; never raises (failures become the answer's error).
        With ``stream`` every answer goes to it (an MQTT fan-out's as they arrive) and [] is returned."""
        consumer = self.settings.consumers[name]
        wanted = requested_response(doc)
        started = time.perf_counter()

        def failed(error: str, attempts: int = 1, http_status: int | None = None,
                   maybe_done: bool = False) -> list[ConsumerAnswer]:
            answers = [ConsumerAnswer(consumer=name, responder=None, request_id=request_id, error=error,
                                      elapsed_ms=(time.perf_counter() - started) * 1000.0, attempts=attempts,
                                      transport=consumer.transport, http_status=http_status,
                                      outcome_unknown=maybe_done)]
            return stream.take(answers) if stream is not None else answers

        try:
            transport = self._transport(name)
            message = self._envelope(doc, consumer, request_id, transport.profile_encoding)
        except TransferError as exc:
            return failed(f"cannot reach consumer {name}: {exc}")
        except Exception as exc:
            return failed(f"cannot prepare the message for consumer {name}: {type(exc).__name__}: {exc}")
        limits = self.rate_limits
        limits.wait(name)
        started = time.perf_counter()
        verify_key = self._verify_keys.get(name)
        judge: AnswerStream | None = None      # MQTT, streamed: each answer judged and passed on
        facts: ReplyFacts | None = None        # MQTT, accumulated: kept whole, each checked as it comes
        collect: Callable[[Reply], None] | None = None
        if isinstance(transport, MqttTransport):
            if stream is not None:
                judge = AnswerStream(consumer, request_id, wanted, verify_key, stream.answer)
                collect = judge.add
            else:
                facts = ReplyFacts(verify_key)
                collect = facts.add
        try:
            with self._in_flight:   # max_concurrency: messages in flight at once, send and bulk alike
                if isinstance(transport, MqttTransport) and collect is not None:
                    delivery = transport.send(message, await_response=wanted != "none", on_reply=collect)
                    if facts is not None:
                        delivery = replace(delivery, replies=facts.replies)
                else:
                    delivery = transport.send(message, await_response=wanted != "none",
                                              pace=lambda: limits.wait(name))
        except TransferError as exc:
            return failed(str(exc), exc.attempts, exc.http_status, exc.maybe_delivered)
        except Exception as exc:
            log.exception("consumer %s: unexpected failure while sending", name)
            return failed(f"unexpected {type(exc).__name__} while sending to consumer {name}: {exc}")
        elapsed = (time.perf_counter() - started) * 1000.0
        if judge is not None and stream is not None:
            stream.notices(judge.finish(delivery, elapsed))
            return []
        answers = answers_for(consumer, request_id, delivery, wanted, verify_key, elapsed, facts)
        return stream.take(answers) if stream is not None else answers
