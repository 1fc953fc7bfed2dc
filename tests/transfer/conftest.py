"""Fixtures for transfer tests: a factory of test-only OpenC2 HTTPS peers."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from fn_openc2.lib.transfer.devpki import Pki
from tests.transfer.oc2server import Behaviour, Oc2Peer


@pytest.fixture
def peer(pki: Pki) -> Iterator[Callable[..., Oc2Peer]]:
    """peer(behave, **tls overrides) -> a started HTTPS peer using the dev server cert."""
    started: list[Oc2Peer] = []

    def make(behave: Behaviour, **kwargs: str | None) -> Oc2Peer:
        options: dict[str, str | None] = {"cert": pki.server_cert, "key": pki.server_key}
        options.update(kwargs)
        server = Oc2Peer(behave, **options).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


def envelope(command: dict | None = None, request_id: str | None = None) -> dict:
    """A v1.1 Message envelope around a command, as the producer hands it over."""
    return {"headers": {"request_id": request_id or str(uuid.uuid4()), "created": 1595268027000,
                        "from": "soar@example.com", "to": ["fw1"]},
            "body": {"openc2": {"request": command or {
                "action": "deny", "target": {"ipv4_connection": {"protocol": "tcp", "dst_addr": "203.0.113.7"}},
                "profile": "slpf"}}}}
