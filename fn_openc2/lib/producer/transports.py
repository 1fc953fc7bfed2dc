"""Build one transport per consumer from its settings (created once, reused)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol
from collections.abc import Callable

from fn_openc2.lib.producer.settings import ConsumerSettings, ProducerSettings
from fn_openc2.lib.transfer import HttpsSettings, HttpsTransport, MqttSettings, MqttTransport, Reply

# called before each resend (the rate limit counts retries too)
Pace = Callable[[], object] | None  # pylint: disable=unsupported-binary-operation  # runtime union: the app needs Python 3.11 (python_requires); the SDK's pylintrc assumes py-version 3.6


@dataclass
class Delivery:
    """What came back for one message, whatever the transport."""

    replies: list[Reply] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)   # answers seen that could not be matched (MQTT)
    notices: list[str] = field(default_factory=list)     # answers not counted and why (MQTT)


class Transport(Protocol):
    profile_encoding: str | None

    def deliver(self, message: dict[str, Any], await_response: bool, pace: Pace = None) -> Delivery: ...

    def close(self) -> None: ...


class _Https:
    def __init__(self, settings: HttpsSettings, name: str) -> None:
        self._transport = HttpsTransport(settings, name)
        self.profile_encoding: str | None = self._transport.profile_encoding

    def deliver(self, message: dict[str, Any], await_response: bool, pace: Pace = None) -> Delivery:
        return Delivery(replies=self._transport.send(message, await_response=await_response, pace=pace))

    def close(self) -> None:
        self._transport.close()


class _Mqtt:
    def __init__(self, settings: MqttSettings, name: str, profile_encoding: str | None) -> None:
        self._transport = MqttTransport(settings, name)
        self.profile_encoding = profile_encoding

    def deliver(self, message: dict[str, Any], await_response: bool, pace: Pace = None) -> Delivery:
        # one publish per message (QoS 1 redelivery is the client library's, not a new command)
        collected = self._transport.send(message, await_response=await_response)
        return Delivery(replies=list(collected.replies), missing=list(collected.missing),
                        unmatched=list(collected.unmatched), notices=list(collected.notices))

    def close(self) -> None:
        self._transport.close()


def https_settings(consumer: ConsumerSettings, pool_size: int = 16) -> HttpsSettings:
    basic = (consumer.basic_auth_user, consumer.basic_auth_password) \
        if consumer.basic_auth_user and consumer.basic_auth_password else None
    assert consumer.url is not None
    return HttpsSettings(url=consumer.url, dialect=consumer.dialect, path=consumer.path,
                         content_type=consumer.content_type, accept=consumer.accept, envelope=consumer.envelope,
                         status_in=consumer.status_in, profile_encoding=consumer.profile_encoding,
                         verify=consumer.verify, client_cert=consumer.client_auth_cert,
                         client_key=consumer.client_auth_key, bearer_token=consumer.bearer_token,
                         basic_auth=basic, proxies={k: v for k, v in (consumer.proxies or {}).items() if v} or None,
                         timeout=consumer.timeout, retries=consumer.retries, pool_size=pool_size,
                         max_answer_bytes=consumer.max_answer_bytes)


def mqtt_settings(consumer: ConsumerSettings, producer: ProducerSettings) -> MqttSettings:
    assert consumer.broker is not None
    return MqttSettings(broker=consumer.broker, topic=consumer.topic, client_id=consumer.client_id,
                        username=consumer.username, password=consumer.password, ca=consumer.ca,
                        client_cert=consumer.client_auth_cert, client_key=consumer.client_auth_key,
                        verify=consumer.verify is not False, expected_responders=consumer.expected_responders,
                        collect_seconds=consumer.collect_seconds, producer_id=producer.producer_id,
                        max_answers=consumer.max_answers, max_answer_bytes=consumer.max_answer_bytes)


def build_transport(consumer: ConsumerSettings, producer: ProducerSettings, pool_size: int = 16) -> Transport:
    if consumer.transport == "mqtt":
        return _Mqtt(mqtt_settings(consumer, producer), consumer.name, consumer.profile_encoding)
    return _Https(https_settings(consumer, pool_size), consumer.name)
