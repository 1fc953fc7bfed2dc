"""Build one transport per consumer from its settings (created once, reused)."""
from __future__ import annotations

from typing import Any, Protocol
from collections.abc import Callable

from fn_openc2.lib.producer.settings import ConsumerSettings, ProducerSettings
from fn_openc2.lib.transfer import Delivery, HttpsSettings, HttpsTransport, MqttSettings, MqttTransport

# called before each resend (the rate limit counts retries too)
Pace = Callable[[], object] | None  # pylint: disable=unsupported-binary-operation  # runtime union: the app needs Python 3.11 (python_requires); the SDK's pylintrc assumes py-version 3.6


class Transport(Protocol):
    """What the producer needs of a transport; HttpsTransport and MqttTransport are ones."""

    @property
    def profile_encoding(self) -> str | None: ...

    def send(self, message: dict[str, Any], *, await_response: bool = True, pace: Pace = None) -> Delivery: ...

    def close(self) -> None: ...


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
                         max_answer_bytes=consumer.max_answer_bytes,
                         client_key_password=consumer.client_auth_key_password)


def mqtt_settings(consumer: ConsumerSettings, producer: ProducerSettings) -> MqttSettings:
    assert consumer.broker is not None
    return MqttSettings(broker=consumer.broker, topic=consumer.topic, client_id=consumer.client_id,
                        username=consumer.username, password=consumer.password, ca=consumer.ca,
                        client_cert=consumer.client_auth_cert, client_key=consumer.client_auth_key,
                        verify=consumer.verify is not False, expected_responders=consumer.expected_responders,
                        collect_seconds=consumer.collect_seconds, producer_id=producer.producer_id,
                        max_answers=consumer.max_answers, max_answer_bytes=consumer.max_answer_bytes,
                        profile_encoding=consumer.profile_encoding,
                        client_key_password=consumer.client_auth_key_password)


def build_transport(consumer: ConsumerSettings, producer: ProducerSettings, pool_size: int = 16) -> Transport:
    if consumer.transport == "mqtt":
        return MqttTransport(mqtt_settings(consumer, producer), consumer.name)
    return HttpsTransport(https_settings(consumer, pool_size), consumer.name)
