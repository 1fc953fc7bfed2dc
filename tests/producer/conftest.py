"""Fixtures of the producer tests: reference consumers on the shared mosquitto."""
from __future__ import annotations

from typing import Any, Iterator

import pytest

from fn_openc2.lib.consumer import Actuator


@pytest.fixture
def two_consumers(mosquitto: Any) -> Iterator[list[Any]]:
    from fn_openc2.lib.consumer import MqttConsumer

    consumers = [MqttConsumer(Actuator(f"fw-{x}@example.com", profiles=("slpf",)), mosquitto.host, mosquitto.port,
                              client_id=f"producer-test-fw-{x}").start() for x in "ab"]
    try:
        yield consumers
    finally:
        for consumer in consumers:
            consumer.stop()
