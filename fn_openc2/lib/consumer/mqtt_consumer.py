"""The reference consumer over MQTT v5 (OpenC2 MQTT transfer v1.0).

Subscribes to the spec's command topics, answers every command on
``oc2/rsp`` with the properties the transfer spec asks for, and sets
TCP_NODELAY on its socket (without it each round trip stalls on Nagle).
``Fleet`` runs many simulated consumers behind one connection for scale
tests; each still answers with its own ``headers.from``.
"""
from __future__ import annotations

import json
import logging
import socket
import ssl
import threading
from collections.abc import Iterable, Sequence
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from fn_openc2.lib.consumer.actuator import Actuator
from fn_openc2.lib.language import loads as _loads
from fn_openc2.lib.transfer.address import broker_url
from fn_openc2.lib.transfer.model import COMMAND_TOPIC

log = logging.getLogger(__name__)
RESPONSE_TOPIC = "oc2/rsp"
CONNECT_TIMEOUT = 10.0


def default_topics(actuator: Actuator) -> list[str]:
    """oc2/cmd/all, oc2/cmd/ap/<profile> for each profile, oc2/cmd/device/<device_id>."""
    return ([COMMAND_TOPIC] + [f"oc2/cmd/ap/{p}" for p in actuator.profiles]
            + [f"oc2/cmd/device/{actuator.device_id}"])


def _response_properties() -> Properties:
    props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]  # (paho has no annotation here)
    props.PayloadFormatIndicator = 1
    props.ContentType = "application/openc2"
    props.UserProperty = [("msgType", "rsp"), ("encoding", "json")]
    return props


def _tls_reason(exc: ssl.SSLError) -> str:
    """'certificate verify failed: unable to get local issuer certificate': OpenSSL's words, short."""
    reason = (exc.reason or "").replace("_", " ").lower() or str(exc)
    detail = getattr(exc, "verify_message", None)
    return f"{reason}: {detail}" if detail else reason


class _Connection:
    """One MQTT v5 session: connect, subscribe, dispatch, publish answers."""

    def __init__(self, client_id: str, host: str, port: int, topics: Sequence[str],
                 tls: ssl.SSLContext | None, username: str | None, password: str | None,
                 response_topic: str = RESPONSE_TOPIC) -> None:
        self.host, self.port, self.topics = host, port, list(topics)
        self.response_topic = response_topic
        self.tls = tls is not None
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        if tls is not None:
            self.client.tls_set_context(tls)
        if username is not None:
            self.client.username_pw_set(username, password)
        self.client.on_socket_open = self._on_socket_open
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_log = self._on_log            # only until started: paho logs every packet to it
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self._subscribed = threading.Event()
        self._settled = threading.Event()     # subscribed, or the broker said no: start() need not wait longer
        self._props = _response_properties()
        self._error: str | None = None
        self._log_error: str | None = None    # paho's last error line while starting (why a socket died)

    @property
    def broker(self) -> str:
        """mqtts://host:port or mqtt://host:port: how errors name the broker."""
        return broker_url(self.host, self.port, self.tls)

    def dispatch(self, topic: str, doc: Any) -> Iterable[dict[str, Any]]:
        raise NotImplementedError

    def start(self) -> None:
        """Connect and subscribe, or ConnectionError naming the broker and why not (TLS handshake,
        refused CONNACK or SUBACK, connection closed, nothing within CONNECT_TIMEOUT)."""
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]  # (paho has no annotation here)
        props.SessionExpiryInterval = 300   # clean_start False keeps the session across reconnects
        try:
            self.client.connect(self.host, self.port, keepalive=60, clean_start=False, properties=props)
        except ssl.SSLError as exc:          # paho does the handshake inside connect(): unknown CA, wrong name
            raise ConnectionError(f"{self.broker}: TLS handshake failed ({_tls_reason(exc)})") from None
        except OSError as exc:
            raise ConnectionError(f"{self.broker}: cannot connect ({exc.strerror or exc})") from None
        self.client.loop_start()
        self._settled.wait(CONNECT_TIMEOUT)
        self.client.on_log = None
        if not self._subscribed.is_set():
            self.stop()
            raise ConnectionError(f"{self.broker}: " + (self._error or f"not subscribed within {CONNECT_TIMEOUT:g}s"))

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_socket_open(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        raw = sock if isinstance(sock, socket.socket) else getattr(sock, "_sock", sock)
        try:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (OSError, AttributeError):
            log.debug("could not set TCP_NODELAY on the MQTT socket")

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            self._fail(f"the broker refused the connection (CONNACK {reason})")
            return
        client.subscribe([(t, 1) for t in self.topics])

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, props: Any) -> None:
        failed = [str(r) for r in reasons if r.is_failure]
        if failed:
            self._fail(f"the broker refused the subscription (SUBACK {', '.join(failed)})")
            return
        self._subscribed.set()
        self._settled.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        # while starting, e.g. a TLS 1.3 broker's alert that it wanted a client certificate
        # (it comes after the handshake, on the first read); later, paho reconnects by itself
        if not self._subscribed.is_set():
            self._fail(f"the broker closed the connection ({self._log_error or reason})")

    def _on_log(self, client: mqtt.Client, userdata: Any, level: int, text: str) -> None:
        if level == mqtt.MQTT_LOG_ERR:
            self._log_error = text

    def _fail(self, why: str) -> None:
        """The first reason start() gives up for wins (a refusal is followed by its disconnect)."""
        if self._error is None:
            self._error = why
        self._settled.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            doc = _loads(msg.payload)
        except ValueError as exc:
            log.info("mqtt %s: payload is not JSON (%s); no request_id to answer to", msg.topic, exc)
            return
        for answer in self.dispatch(msg.topic, doc):
            client.publish(self.response_topic, json.dumps(answer, separators=(",", ":")), qos=1,
                           properties=self._props)


class MqttConsumer(_Connection):
    """One reference consumer on an MQTT broker."""

    def __init__(self, actuator: Actuator, host: str, port: int, topics: Sequence[str] | None = None,
                 tls: ssl.SSLContext | None = None, username: str | None = None,
                 password: str | None = None, client_id: str | None = None,
                 response_topic: str = RESPONSE_TOPIC) -> None:
        self.actuator = actuator
        super().__init__(client_id or f"oc2-consumer-{actuator.device_id}", host, port,
                         topics or default_topics(actuator), tls, username, password, response_topic)

    def dispatch(self, topic: str, doc: Any) -> Iterable[dict[str, Any]]:
        answer = self.actuator.handle(doc)
        return () if answer is None else (answer,)

    def start(self) -> MqttConsumer:  # type: ignore[override]  # returns itself for chaining
        super().start()
        return self


class Fleet(_Connection):
    """Many simulated consumers behind one MQTT connection.

    Subscribes once to ``oc2/cmd/#`` and routes by topic exactly as separate
    consumers with the default subscriptions would receive it: ``all`` to
    every member, ``ap/<p>`` to members with profile p, ``device/<id>`` to one.
    """

    def __init__(self, actuators: Sequence[Actuator], host: str, port: int,
                 tls: ssl.SSLContext | None = None, username: str | None = None,
                 password: str | None = None, client_id: str | None = None) -> None:
        self.actuators = list(actuators)
        self._by_device = {a.device_id: a for a in self.actuators}
        super().__init__(client_id or f"oc2-fleet-{self.actuators[0].device_id}", host, port,
                         ["oc2/cmd/#"], tls, username, password)

    @classmethod
    def of(cls, count: int, host: str, port: int, prefix: str = "sim",
           profiles: Sequence[str] = ("slpf", "er"), **kwargs: Any) -> Fleet:
        """count fresh actuators named <prefix>-<n>@example.com."""
        return cls([Actuator(f"{prefix}-{n}@example.com", profiles=profiles) for n in range(count)],
                   host, port, **kwargs)

    def members_for(self, topic: str) -> list[Actuator]:
        parts = topic.split("/")
        if parts[:3] == ["oc2", "cmd", "all"] and len(parts) == 3:
            return self.actuators
        if parts[:3] == ["oc2", "cmd", "ap"] and len(parts) == 4:
            return [a for a in self.actuators if parts[3] in a.profiles]
        if parts[:3] == ["oc2", "cmd", "device"] and len(parts) >= 4:
            member = self._by_device.get("/".join(parts[3:]))
            return [member] if member else []
        return []

    def dispatch(self, topic: str, doc: Any) -> Iterable[dict[str, Any]]:
        for actuator in self.members_for(topic):
            answer = actuator.handle(doc)
            if answer is not None:
                yield answer

    def start(self) -> Fleet:  # type: ignore[override]  # returns itself for chaining
        super().start()
        return self
