"""MQTT transfer v1.0 over MQTT v5 with paho-mqtt 2.x.

One long-lived connection per transport; commands go out QoS 1 with the
spec's PUBLISH properties and answers are collected on oc2/rsp[/<producer>]
by headers.request_id, told apart by headers.from."""
from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from fn_openc2.lib.language import OpenC2ValidationError, loads, requested_response
from fn_openc2.lib.transfer.address import broker_address, shown_broker
from fn_openc2.lib.transfer.dialects import dumps, printable
from fn_openc2.lib.transfer.model import (
    COMMAND_TOPIC,
    MAX_ANSWER_BYTES,
    MAX_ANSWERS,
    PRODUCER_ID,
    Delivery,
    Reply,
    TransferError,
)
from fn_openc2.lib.transfer.tls import config_context

log = logging.getLogger(__name__)

MAX_KEEPALIVE = 300


@dataclass
class MqttSettings:
    """One consumer (or fleet) reached through an MQTT broker."""

    broker: str
    topic: str = COMMAND_TOPIC
    response_topics: Sequence[str] = ("oc2/rsp", "oc2/rsp/<producer_id>")
    client_id: str | None = None
    username: str | None = None
    password: str | None = None
    ca: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    verify: bool = True
    expected_responders: Sequence[str] = ()
    collect_seconds: float = 10.0
    producer_id: str = PRODUCER_ID
    keepalive: int = 60
    connect_timeout: float = 5.0
    publish_timeout: float = 10.0
    max_answers: int = MAX_ANSWERS
    max_answer_bytes: int = MAX_ANSWER_BYTES
    profile_encoding: str | None = None      # how commands name their profile (None: as the producer wrote it)
    client_key_password: str | None = None   # of an encrypted client_key

    def __repr__(self) -> str:  # keep the password out of logs and tracebacks
        return f"MqttSettings(broker={self.broker!r}, topic={self.topic!r})"


def response_requested(message: dict[str, Any]) -> str:
    """What the envelope's command asks to be answered with, read as the language reads it."""
    try:
        command = message["body"]["openc2"]["request"]
    except (KeyError, TypeError):
        command = None
    return requested_response(command)


PER_RESPONDER = 16
"""Most answers kept from one sender for one command (102s, a final, QoS duplicates aside)."""


def describe_answer(doc: Any, size: int | None = None) -> str:
    """'from X, 400 Malformed OpenC2 message': what a person needs to recognise an answer."""
    headers = doc.get("headers") if isinstance(doc, dict) else None
    headers = headers if isinstance(headers, dict) else {}
    sender = headers.get("from")
    who = f"from {printable(sender, 120)!r}" if sender is not None else "from an unnamed sender"
    try:
        response = doc["body"]["openc2"]["response"]
    except (KeyError, TypeError):
        response = None
    if isinstance(response, dict):
        status = response.get("status")
        text = response.get("status_text")
        said = " ".join(printable(x, 160) for x in (status, text) if x is not None) or "no status"
    else:
        said = "no response in the body"
    rid = headers.get("request_id")
    tail = f" (request_id {printable(rid, 60)!r})" if rid is not None else " (no request_id)"
    return f"{who}, {said}{tail}"


@dataclass
class _Pending:
    """Answers gathered for one request_id.

    A responder is settled by any answer, except when the command asked for
    `complete`: then an interim 102 does not settle it, only a final answer
    does (a consumer may send 102 Processing first and 200 later).
    Anyone on the broker can publish on the response topic, so answers count
    only from expected responders when those are configured, at most `cap`
    answers are kept (then collection ends) and at most PER_RESPONDER per
    sender; what was not counted is said in ``notices``.

    With ``on_reply`` set, counted answers are handed to it (``hand_over``, in
    the network thread, outside the collection lock) instead of kept in
    ``replies``: what stays is a few bytes per sender (who answered, the hash
    of each answer's bytes for QoS 1 duplicates). The end of collection is then
    signalled after the last answer was handed over, and nothing is handed
    over once the sender has closed it."""

    expected: frozenset[str]
    started: float
    wants_final: bool = True
    cap: int = MAX_ANSWERS
    replies: list[Reply] = field(default_factory=list)
    on_reply: Callable[[Reply], None] | None = None
    counted: int = 0
    outbox: Reply | None = None
    ending: bool = False
    closed: bool = False
    handing: threading.Lock = field(default_factory=threading.Lock)
    seen: set[tuple[str | None, int]] = field(default_factory=set)   # (responder, hash of the bytes)
    settled: set[str | None] = field(default_factory=set)
    done: threading.Event = field(default_factory=threading.Event)
    per_sender: dict[str | None, int] = field(default_factory=dict)
    unexpected: dict[str, int] = field(default_factory=dict)
    over_cap: int = 0
    capped: bool = False
    over_sender: dict[str | None, int] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)
    unmatched_dropped: int = 0

    def add(self, reply: Reply) -> None:
        # a QoS 1 duplicate repeats the same bytes; str/bytes hashing is keyed per process (SipHash),
        # so no sender can make two different answers collide here
        key = (reply.responder, hash(reply.raw))
        if key in self.seen:
            return
        if self.expected and reply.responder not in self.expected:
            name = printable(reply.responder, 120)
            if name in self.unexpected or len(self.unexpected) < 20:
                self.unexpected[name] = self.unexpected.get(name, 0) + 1
            else:
                self.unexpected["(others)"] = self.unexpected.get("(others)", 0) + 1
            return
        if self.counted >= self.cap:
            self.over_cap += 1
            self._end()
            return
        if self.per_sender.get(reply.responder, 0) >= PER_RESPONDER:
            self.over_sender[reply.responder] = self.over_sender.get(reply.responder, 0) + 1
            return
        self.seen.add(key)
        self.per_sender[reply.responder] = self.per_sender.get(reply.responder, 0) + 1
        self.counted += 1
        if self.on_reply is not None:
            self.outbox = reply
        else:
            self.replies.append(reply)
        if not self.wants_final or reply.status != 102:
            self.settled.add(reply.responder)
        if self.counted >= self.cap:
            self.capped = True
            self._end()
        elif self.expected and self.expected <= self.settled:
            self._end()

    def _end(self) -> None:
        """Collection is over: wake the waiting sender (streaming: once the last answer is handed over)."""
        if self.on_reply is None:
            self.done.set()
        else:
            self.ending = True

    def take(self) -> tuple[Reply | None, bool]:
        """(the answer to hand over, whether collection ended); under the collection lock."""
        out, end = self.outbox, self.ending
        self.outbox, self.ending = None, False
        return out, end

    def hand_over(self, reply: Reply | None, end: bool) -> None:
        """In the network thread, outside the collection lock: the answer to on_reply, then the end."""
        if self.on_reply is None or (reply is None and not end):
            return
        with self.handing:
            if self.closed:
                return
            if reply is not None:
                self.on_reply(reply)
            if end:
                self.done.set()

    def close(self) -> None:
        """The sender stops listening: no answer is handed over after this returns."""
        with self.handing:
            self.closed = True

    def note_unmatched(self, line: str) -> None:
        if len(self.unmatched) < 50:
            self.unmatched.append(line)
        else:
            self.unmatched_dropped += 1

    def notices(self) -> list[str]:
        out = []
        if self.unexpected:
            names = ", ".join(f"{n!r} ({c})" for n, c in self.unexpected.items())
            out.append(f"answers from senders not in expected_responders were not counted: {names}")
        if self.capped:
            more = f"; {self.over_cap} more answer(s) arrived and were not counted" if self.over_cap else ""
            out.append(f"answer cap reached: max_answers = {self.cap}; collection ended there{more}")
        for sender, count in list(self.over_sender.items())[:20]:
            out.append(f"{printable(sender, 120)!r} sent more than {PER_RESPONDER} answers: {count} not counted")
        if self.unmatched_dropped:
            out.append(f"{self.unmatched_dropped} more answers that could not be matched were not listed")
        return out


def command_properties() -> Properties:
    """PUBLISH properties MQTT transfer v1.0 asks for (never Response Topic)."""
    props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]  # (paho has no annotation here)
    props.PayloadFormatIndicator = 1
    props.ContentType = "application/openc2"
    props.UserProperty = [("msgType", "req"), ("encoding", "json")]
    return props


class MqttTransport:
    """Publish commands and collect answers; safe to share between threads."""

    def __init__(self, settings: MqttSettings, name: str) -> None:
        self.settings = settings
        self.name = name
        if not 0 < settings.keepalive <= MAX_KEEPALIVE:
            raise TransferError("config", f"consumer {name}: keepalive must be 1..{MAX_KEEPALIVE} seconds")
        for topic in (settings.topic, settings.producer_id):
            if any(c in topic for c in "+#"):
                raise TransferError("config", f"consumer {name}: {topic!r} must not contain MQTT wildcards")
        try:
            address = broker_address(settings.broker, tls_hint=bool(settings.ca or settings.client_cert))
        except ValueError as exc:
            raise TransferError("config", f"consumer {name}: broker = {shown_broker(settings.broker)}: {exc}"
                                ) from None
        self.host, self.port, self.tls = address.host, address.port, address.tls
        self._where = f"consumer {name} via broker {self.host}:{self.port} topic {settings.topic}"
        if not self.tls:
            log.warning("%s: plain MQTT without TLS (testing only; use mqtts://)", self._where)
        elif not settings.verify:
            log.warning("%s: verify = false: the broker's certificate is NOT checked", self._where)
        self.response_topics = [t.replace("<producer_id>", settings.producer_id) for t in settings.response_topics]
        self._props = command_properties()
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Lock()
        self._collect_lock = threading.Lock()    # the pending table and every answer added to it
        self._connected = threading.Event()
        self._client: paho.Client | None = None
        self._connect_error: str | None = None
        self._refused = threading.Event()   # the broker answered CONNACK with a failure (e.g. bad password)

    # --- connection ---------------------------------------------------------

    def _new_client(self) -> paho.Client:
        cid = self.settings.client_id or f"fn-openc2-{self.name}-{uuid.uuid4().hex[:12]}"
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=cid, protocol=paho.MQTTv5)
        if self.settings.username is not None:
            client.username_pw_set(self.settings.username, self.settings.password)
        if self.tls:
            settings = self.settings
            verify = (settings.ca or True) if settings.verify else False     # no ca: the system's CAs
            client.tls_set_context(config_context(self._where, "ca", verify, settings.client_cert,
                                                  settings.client_key, key_password=settings.client_key_password))
        client.reconnect_delay_set(min_delay=0.2, max_delay=5)  # type: ignore[arg-type]
        client.on_socket_open = _nodelay
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def _connect_properties(self) -> Properties:
        """Maximum Packet Size: the broker must not deliver an answer beyond max_answer_bytes
        (plus room for topic and properties), so a 300 MB publish never reaches this process."""
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]  # (paho has no annotation here)
        props.MaximumPacketSize = min(self.settings.max_answer_bytes + 65536, 268435455)
        return props

    def _ensure_connected(self) -> paho.Client:
        with self._lock:
            if self._client is None:
                client = self._new_client()
                try:
                    client.connect(self.host, self.port, keepalive=self.settings.keepalive, clean_start=False,
                                   properties=self._connect_properties())
                except ssl.SSLError as exc:
                    raise TransferError("tls", f"{self._where}: TLS failed ({exc.reason})") from None
                except OSError as exc:
                    raise TransferError("connect", f"{self._where}: cannot connect ({exc.strerror or exc})") from None
                client.loop_start()
                self._client = client
            client = self._client
        self._await_connack(self.settings.connect_timeout)
        if not self._connected.is_set():
            reason = self._connect_error or "no CONNACK"
            raise TransferError("connect", f"{self._where}: not connected to the broker ({reason})")
        return client

    def _await_connack(self, timeout: float) -> None:
        """Until connected, refused by the broker, or timeout (a refusal will not heal by waiting)."""
        deadline = time.monotonic() + timeout
        while not self._connected.is_set() and not self._refused.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._connected.wait(min(remaining, 0.05))

    def _on_connect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            self._connect_error = str(reason)
            self._refused.set()
            log.warning("%s: broker refused the connection: %s", self._where, reason)
            return
        self._connect_error = None
        self._refused.clear()
        client.subscribe([(t, 1) for t in self.response_topics])  # sent before any later PUBLISH
        self._connected.set()

    def _on_disconnect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        self._connected.clear()
        self._connect_error = f"disconnected: {reason}"
        log.info("%s: disconnected (%s), reconnecting", self._where, reason)

    # --- answers ------------------------------------------------------------

    def _on_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        """Match an answer to its command; what cannot be matched is listed, never dropped silently."""
        payload = msg.payload
        if len(payload) > self.settings.max_answer_bytes:
            self._unmatched(f"a message of {len(payload)} bytes on {msg.topic}, larger than max_answer_bytes = "
                            f"{self.settings.max_answer_bytes} (not read)")
            return
        try:
            doc = loads(payload)
        except OpenC2ValidationError as exc:
            issue = exc.issues[0] if exc.issues else None
            self._unmatched(f"a message on {msg.topic} that is not I-JSON ({printable(issue, 200)})")
            return
        headers = doc.get("headers") if isinstance(doc, dict) else None
        body = doc.get("body") if isinstance(doc, dict) else None
        content = body.get("openc2") if isinstance(body, dict) else None
        if not isinstance(headers, dict) or not isinstance(content, dict) or "response" not in content:
            log.debug("%s: ignored a message that is not an OpenC2 response on %s", self._where, msg.topic)
            return
        request_id = headers.get("request_id")
        sender = headers.get("from")
        responder = str(sender) if sender is not None else None
        now = time.perf_counter()
        with self._collect_lock:
            pending = self._pending.get(request_id) if isinstance(request_id, str) else None
            if pending is not None:
                pending.add(Reply(transport="mqtt", message=doc, raw=bytes(payload), http_status=None,
                                  responder=responder, elapsed_ms=(now - pending.started) * 1000.0, attempts=1,
                                  received=doc))
                out, end = pending.take()
        if pending is not None:
            pending.hand_over(out, end)
            return
        to = headers.get("to")
        recipients = to if isinstance(to, list) else [to] if to is not None else None
        if recipients is not None and self.settings.producer_id not in recipients:
            return      # another producer's answer on the shared topic
        with self._collect_lock:
            candidates = [p for p in self._pending.values()
                          if responder is not None and responder in p.expected and responder not in p.settled]
            chosen = candidates[0] if request_id is None and len(candidates) == 1 else None
            if chosen is not None:
                chosen.add(Reply(transport="mqtt", message=doc, raw=bytes(payload), http_status=None,
                                 responder=responder, elapsed_ms=(now - chosen.started) * 1000.0, attempts=1,
                                 correlated=False, received=doc))
                out, end = chosen.take()
        if chosen is not None:
            chosen.hand_over(out, end)
            return
        self._unmatched(describe_answer(doc))

    def _unmatched(self, line: str) -> None:
        with self._collect_lock:
            if not self._pending:
                log.debug("%s: %s, with no command outstanding", self._where, line)
            for pending in self._pending.values():
                pending.note_unmatched(line)

    # --- sending ------------------------------------------------------------

    def send(self, message: dict[str, Any], *, await_response: bool = True, topic: str | None = None,
             pace: Callable[[], object] | None = None,
             on_reply: Callable[[Reply], None] | None = None) -> Delivery:
        """Publish the envelope QoS 1; collect answers unless await_response is False.

        ``pace`` is accepted for the HTTPS transport's signature and never called: a
        message is published once (QoS 1 redelivery is the client library's, not a
        new command). ``topic`` overrides the configured command topic for this one message, on the
        same connection (``fn-openc2 probe`` tries several topics of one broker).

        ``on_reply``: each counted answer is passed to it as it arrives (in the
        network thread, one at a time, never after send returns) and not kept:
        the Delivery then holds no replies, only who stayed silent, what could
        not be matched and the notices (a fan-out to thousands streams instead
        of accumulating). It must be quick: the connection reads no further
        answer while it runs (the broker queues them).

        Collection ends when every expected responder has settled (see
        _Pending: with response_requested complete a 102 alone does not
        count) or when collect_seconds have passed."""
        request_id = str((message.get("headers") or {}).get("request_id") or "")
        if not request_id:
            raise TransferError("config", f"{self._where}: message headers.request_id is missing")
        if topic is not None and (not topic or any(c in topic for c in "+#")):
            raise TransferError("config", f"{self._where}: {topic!r} is not a topic name without wildcards")
        payload = dumps(message)
        client = self._ensure_connected()
        pending = _Pending(frozenset(self.settings.expected_responders), time.perf_counter(),
                           wants_final=response_requested(message) == "complete", cap=self.settings.max_answers,
                           on_reply=on_reply)
        if await_response:
            with self._collect_lock:
                self._pending[request_id] = pending
        try:
            self._publish(client, payload, topic or self.settings.topic)
            if not await_response:
                return Delivery()
            pending.done.wait(self.settings.collect_seconds)
        finally:
            if await_response:
                with self._collect_lock:
                    self._pending.pop(request_id, None)
            pending.close()
        with self._collect_lock:
            replies = list(pending.replies)
            unmatched = list(pending.unmatched)
            notices = pending.notices()
            answered = set(pending.per_sender)
        return Delivery(replies=replies, missing=[r for r in self.settings.expected_responders if r not in answered],
                        unmatched=unmatched, notices=notices)

    def _publish(self, client: paho.Client, payload: bytes, topic: str) -> None:
        if not client.is_connected():
            raise TransferError("connect", f"{self._where}: broker connection is down")
        info = client.publish(topic, payload, qos=1, retain=False, properties=self._props)
        if info.rc != paho.MQTT_ERR_SUCCESS:   # paho keeps a QoS 1 message and resends it after reconnecting
            raise TransferError("connect", f"{self._where}: publish failed ({paho.error_string(info.rc)})",
                                maybe_delivered=True)
        deadline = time.monotonic() + self.settings.publish_timeout
        try:
            while not info.is_published() and time.monotonic() < deadline:
                info.wait_for_publish(0.05)
                if not info.is_published() and not self._connected.is_set():
                    raise TransferError("connect", f"{self._where}: broker connection lost before PUBACK "
                                                   "(paho may still deliver it after reconnecting)",
                                        maybe_delivered=True)
        except (RuntimeError, ValueError) as exc:
            raise TransferError("connect", f"{self._where}: publish failed ({exc})") from None
        if not info.is_published():
            raise TransferError("timeout", f"{self._where}: no PUBACK within {self.settings.publish_timeout}s",
                                maybe_delivered=True)

    @property
    def profile_encoding(self) -> str | None:
        return self.settings.profile_encoding

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.disconnect()
            client.loop_stop()
        self._connected.clear()

    def __enter__(self) -> MqttTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _nodelay(client: paho.Client, userdata: Any, sock: Any) -> None:
    """Nagle on MQTT round trips costs ~40 ms per stall on loopback."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):
        log.debug("could not set TCP_NODELAY on the MQTT socket")
