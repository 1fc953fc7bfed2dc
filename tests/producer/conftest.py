"""Fixtures of the producer tests: reference consumers on the shared mosquitto."""
from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest

from fn_openc2.lib.consumer import Actuator
from fn_openc2.lib.transfer.devpki import Pki
from tests.transfer.oc2server import Answer, Oc2Peer, Seen


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


@pytest.fixture
def peers(pki: Pki) -> Iterator[Callable[[Callable[[Seen], Answer]], Oc2Peer]]:
    """Start scripted mutual-TLS HTTPS consumers on demand; all stopped at teardown."""
    started: list[Oc2Peer] = []

    def make(behave: Callable[[Seen], Answer]) -> Oc2Peer:
        server = Oc2Peer(behave, cert=pki.server_cert, key=pki.server_key, client_ca=pki.ca_cert).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()
