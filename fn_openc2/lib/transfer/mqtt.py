"""MQTT transfer v1.0 over MQTT v5 with paho-mqtt 2.x.

One long-lived connection per transport; commands go out QoS 1 with the
spec's PUBLISH properties and answers are collected on oc2/rsp[/<producer>]
by headers.request_id, told apart by headers.from."""
from __future__ import annotations

import json
import logging
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from fn_openc2.lib.transfer.dialects import dumps
from fn_openc2.lib.transfer.model import Collected, Reply, TransferError

log = logging.getLogger(__name__)

MAX_KEEPALIVE = 300


@dataclass
class MqttSettings:
    """One consumer (or fleet) reached through an MQTT broker."""

    broker: str
    topic: str = "oc2/cmd/all"
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
    producer_id: str = "soar@example.com"
    keepalive: int = 60
    connect_timeout: float = 5.0
    publish_timeout: float = 10.0

    def __repr__(self) -> str:  # keep the password out of logs and tracebacks
        return f"MqttSettings(broker={self.broker!r}, topic={self.topic!r})"


def response_requested(message: dict) -> str:
    """args.response_requested of the envelope's command ("complete" when absent)."""
    try:
        value = message["body"]["openc2"]["request"]["args"]["response_requested"]
    except (KeyError, TypeError):
        return "complete"
    return value if isinstance(value, str) else "complete"


def _status(reply: Reply) -> Any:
    try:
        return reply.message["body"]["openc2"]["response"]["status"]
    except (KeyError, TypeError):
        return None


@dataclass
class _Pending:
    """Answers gathered for one request_id.

    A responder is settled by any answer, except when the command asked for
    `complete`: then an interim 102 does not settle it, only a final answer
    does (a consumer may send 102 Processing first and 200 later)."""

    expected: frozenset[str]
    started: float
    wants_final: bool = True
    replies: list[Reply] = field(default_factory=list)
    seen: set[tuple[str | None, bytes]] = field(default_factory=set)
    settled: set[str | None] = field(default_factory=set)
    done: threading.Event = field(default_factory=threading.Event)

    def add(self, reply: Reply) -> None:
        key = (reply.responder, reply.raw)
        if key in self.seen:  # a QoS 1 duplicate
            return
        self.seen.add(key)
        self.replies.append(reply)
        if not self.wants_final or _status(reply) != 102:
            self.settled.add(reply.responder)
        if self.expected and self.expected <= self.settled:
            self.done.set()


def parse_broker(url: str, tls_hint: bool) -> tuple[str, int, bool]:
    """host, port, tls from mqtt://, mqtts:// or host:port."""
    text = url if "://" in url else f"{'mqtts' if tls_hint else 'mqtt'}://{url}"
    parts = urlsplit(text)
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl") or not parts.hostname:
        raise TransferError("config", f"broker = {url!r}: expected mqtt[s]://host[:port]")
    tls = parts.scheme in ("mqtts", "ssl") or tls_hint
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError:
        raise TransferError("config", f"broker = {url!r}: bad port") from None
    return parts.hostname, port, tls


def command_properties() -> Properties:
    """PUBLISH properties MQTT transfer v1.0 asks for (never Response Topic)."""
    props = Properties(PacketTypes.PUBLISH)
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
        self.host, self.port, self.tls = parse_broker(settings.broker, bool(settings.ca or settings.client_cert))
        self._where = f"consumer {name} via broker {self.host}:{self.port} topic {settings.topic}"
        if not self.tls:
            log.warning("%s: plain MQTT without TLS (testing only; use mqtts://)", self._where)
        elif not settings.verify:
            log.warning("%s: verify = false: the broker's certificate is NOT checked", self._where)
        self.response_topics = [t.replace("<producer_id>", settings.producer_id) for t in settings.response_topics]
        self._props = command_properties()
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Lock()
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
            client.tls_set_context(self._ssl_context())
        client.reconnect_delay_set(min_delay=0.2, max_delay=5)  # type: ignore[arg-type]
        client.on_socket_open = _nodelay
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def _ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.settings.verify:
            if self.settings.ca:
                ctx.load_verify_locations(cafile=self.settings.ca)
            else:
                ctx.load_default_certs()
        else:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if self.settings.client_cert:
            ctx.load_cert_chain(self.settings.client_cert, self.settings.client_key)
        return ctx

    def _ensure_connected(self) -> paho.Client:
        with self._lock:
            if self._client is None:
                client = self._new_client()
                try:
                    client.connect(self.host, self.port, keepalive=self.settings.keepalive, clean_start=False)
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
        try:
            doc = json.loads(msg.payload)
            headers = doc["headers"]
            request_id = headers["request_id"]
            content = doc["body"]["openc2"]
        except (ValueError, KeyError, TypeError):
            log.debug("%s: ignored a non-OpenC2 message on %s", self._where, msg.topic)
            return
        if "request" in content:
            return
        with self._lock:
            pending = self._pending.get(request_id) if isinstance(request_id, str) else None
        if pending is None:
            log.debug("%s: ignored an answer for unknown request_id %r", self._where, request_id)
            return
        sender = headers.get("from")
        pending.add(Reply(transport="mqtt", message=doc, raw=bytes(msg.payload), http_status=None,
                          responder=str(sender) if sender is not None else None,
                          elapsed_ms=(time.perf_counter() - pending.started) * 1000.0, attempts=1))

    # --- sending ------------------------------------------------------------

    def send(self, message: dict, *, await_response: bool = True) -> Collected:
        """Publish the envelope QoS 1; collect answers unless await_response is False.

        Collection ends when every expected responder has settled (see
        _Pending: with response_requested complete a 102 alone does not
        count) or when collect_seconds have passed."""
        request_id = str((message.get("headers") or {}).get("request_id") or "")
        if not request_id:
            raise TransferError("config", f"{self._where}: message headers.request_id is missing")
        payload = dumps(message)
        client = self._ensure_connected()
        pending = _Pending(frozenset(self.settings.expected_responders), time.perf_counter(),
                           wants_final=response_requested(message) == "complete")
        if await_response:
            with self._lock:
                self._pending[request_id] = pending
        try:
            self._publish(client, payload)
            if not await_response:
                return Collected()
            pending.done.wait(self.settings.collect_seconds)
        finally:
            if await_response:
                with self._lock:
                    self._pending.pop(request_id, None)
        answered = {r.responder for r in pending.replies}
        return Collected(replies=list(pending.replies),
                         missing=[r for r in self.settings.expected_responders if r not in answered])

    def _publish(self, client: paho.Client, payload: bytes) -> None:
        if not client.is_connected():
            raise TransferError("connect", f"{self._where}: broker connection is down")
        info = client.publish(self.settings.topic, payload, qos=1, retain=False, properties=self._props)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise TransferError("connect", f"{self._where}: publish failed ({paho.error_string(info.rc)})")
        deadline = time.monotonic() + self.settings.publish_timeout
        try:
            while not info.is_published() and time.monotonic() < deadline:
                info.wait_for_publish(0.05)
                if not info.is_published() and not self._connected.is_set():
                    raise TransferError("connect", f"{self._where}: broker connection lost before PUBACK "
                                                   "(paho may still deliver it after reconnecting)")
        except (RuntimeError, ValueError) as exc:
            raise TransferError("connect", f"{self._where}: publish failed ({exc})") from None
        if not info.is_published():
            raise TransferError("timeout", f"{self._where}: no PUBACK within {self.settings.publish_timeout}s")

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.disconnect()
            client.loop_stop()
        self._connected.clear()

    def __enter__(self) -> "MqttTransport":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _nodelay(client: paho.Client, userdata: Any, sock: Any) -> None:
    """Nagle on MQTT round trips costs ~40 ms per stall on loopback."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):
        log.debug("could not set TCP_NODELAY on the MQTT socket")
