"""Issue 12.10 (and 12.7 on the consumer side): the reference consumer people will copy
holds against an attacker on the wire. Every attack goes over real mutual-TLS HTTPS."""
from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from fn_openc2.lib.security import load_private_key, sign_message
from fn_openc2.lib.transfer.devpki import Pki
from tests.fixtures.consumer import RunningConsumer
from tests.producer.helpers import write_keypair

V11 = "application/openc2+json;version=1.0"
DENY = {"action": "deny", "target": {"ipv4_net": "198.51.100.0/24"}, "args": {"response_requested": "complete"}}


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    return write_keypair(tmp_path_factory.mktemp("hardening-keys"), "producer")


def _message(command: dict, request_id: str, *, to: str = "fw1@example.com", created: int | None = None) -> dict:
    return {"headers": {"request_id": request_id, "created": int(time.time() * 1000) if created is None else created,
                        "from": "soar@example.com", "to": [to]},
            "body": {"openc2": {"request": command}}}


def _signed(private: str, command: dict, request_id: str, **kwargs: Any) -> dict:
    return sign_message(_message(command, request_id, **kwargs), load_private_key(private))


def _post(c: RunningConsumer, body: object, **headers: str) -> requests.Response:
    data = body if isinstance(body, bytes) else json.dumps(body)
    return requests.post(c.url, data=data, verify=c.ca, cert=(c.client_cert, c.client_key),
                         headers={"Content-Type": V11, **headers}, timeout=10)


def _response(r: requests.Response) -> dict:
    return r.json()["body"]["openc2"]["response"]


def test_a_request_id_cannot_inject_response_headers(reference_consumer: RunningConsumer) -> None:
    evil = "x\r\nX-Injected: 1\r\nSet-Cookie: owned=1"
    r = _post(reference_consumer, _message(DENY, evil))
    assert "X-Injected" not in r.headers and "Set-Cookie" not in r.headers
    assert "X-Request-ID" not in r.headers                        # not echoed at all: it is not a header value
    r = _post(reference_consumer, _message(DENY, "ok-1"), **{"X-Request-ID": "ok-1"})
    assert r.headers["X-Request-ID"] == "ok-1"


def test_a_signed_command_for_another_consumer_is_not_carried_out(start_consumer: Callable[..., RunningConsumer],
                                                                   keys: tuple[str, str]) -> None:
    fw2 = start_consumer(signed=False, verify_key=keys[1], device_id="fw2@example.com")
    r = _post(fw2, _signed(keys[0], DENY, "for-fw1", to="fw1@example.com"))
    assert _response(r) == {"status": 403, "status_text": "headers.to names fw1@example.com, not this consumer "
                                                          "(fw2@example.com): not carried out"}
    assert fw2.actuator.snapshot()["rules"] == []
    assert _response(_post(fw2, _signed(keys[0], DENY, "for-fw2", to="fw2@example.com")))["status"] == 200


@pytest.mark.parametrize("age_ms,expected", [(10 * 60_000, "command too old: created 600 s ago"),
                                             (-5 * 60_000, "headers.created is 29")])
def test_signed_commands_must_be_fresh(age_ms: int, expected: str, start_consumer: Callable[..., RunningConsumer],
                                       keys: tuple[str, str]) -> None:
    c = start_consumer(signed=False, verify_key=keys[1])
    stale = _signed(keys[0], DENY, "stale", created=int(time.time() * 1000) - age_ms)
    answer = _response(_post(c, stale))
    assert answer["status"] == 401 and answer["status_text"].startswith(expected), answer
    assert c.actuator.snapshot()["rules"] == []


def test_replay_memory_survives_a_restart(start_consumer: Callable[..., RunningConsumer], keys: tuple[str, str],
                                          tmp_path: Path) -> None:
    state = str(tmp_path / "replay.jsonl")
    deny = _signed(keys[0], DENY, "deny-1")
    other = _signed(keys[0], {**DENY, "target": {"ipv4_net": "203.0.113.0/24"}}, "deny-2")
    cancel = _signed(keys[0], {"action": "cancel", "target": {"command": "deny-1"}}, "cancel-1")
    first = start_consumer(signed=False, verify_key=keys[1], state_file=state)
    assert _response(_post(first, deny))["status"] == 200
    assert _response(_post(first, other))["status"] == 200
    assert _response(_post(first, cancel))["status"] == 200
    first.server.stop()

    second = start_consumer(signed=False, verify_key=keys[1], state_file=state)     # a restart
    replayed = _response(_post(second, deny))
    assert replayed["status"] == 400 and "cancelled since: a repeat is refused" in replayed["status_text"]
    repeated = _response(_post(second, other))
    assert repeated == {"status": 200, "status_text": "repeat of request deny-2: answered from memory, not "
                                                      "carried out again"}
    assert second.actuator.snapshot()["rules"] == []                # neither was carried out again


def test_a_repeated_signed_query_is_answered_again_not_from_memory(start_consumer: Callable[..., RunningConsumer],
                                                                   keys: tuple[str, str]) -> None:
    c = start_consumer(signed=False, verify_key=keys[1])
    query = _signed(keys[0], {"action": "query", "target": {"features": ["versions"]}}, "query-1")
    first = _response(_post(c, query))
    again = _response(_post(c, query))
    assert first["status"] == 200 and "versions" in first["results"]
    assert again == first                      # the features again, not a bare "answered from memory"


def test_deep_nesting_gets_an_answer_not_a_dropped_connection(reference_consumer: RunningConsumer) -> None:
    r = _post(reference_consumer, b"[" * 100_000 + b"]" * 100_000)
    answer = _response(r)
    assert answer["status"] == 400 and "nested deeper than 64 levels" in answer["status_text"]


def _handler_threads() -> int:
    return sum(1 for t in threading.enumerate() if "process_request_thread" in t.name)


def test_connections_are_served_by_a_bounded_number_of_threads(pki: Pki,
                                                               start_consumer: Callable[..., RunningConsumer]) -> None:
    from fn_openc2.lib.consumer.https_server import LISTEN_BACKLOG, _Server

    c = start_consumer()
    c.server.stop()
    from fn_openc2.lib.consumer import HttpsConsumerServer

    server = HttpsConsumerServer(c.actuator, "127.0.0.1", 0, tls_cert=pki.server_cert, tls_key=pki.server_key,
                                 client_ca=pki.ca_cert, max_connections=2).start()
    idle: list[socket.socket] = []
    try:
        before = _handler_threads()
        for _ in range(8):              # connect and say nothing: each would hold a thread for the idle timeout
            idle.append(socket.create_connection(("127.0.0.1", server.port), timeout=10))
        deadline = time.monotonic() + 10
        while _handler_threads() - before < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)                 # give an unbounded server the chance to start more
        assert _handler_threads() - before == 2
        for sock in idle:
            sock.close()
        context = ssl.create_default_context(cafile=pki.ca_cert)
        context.load_cert_chain(pki.client_cert, pki.client_key)
        r = requests.post(server.url, data=json.dumps(_message(DENY, "after")), headers={"Content-Type": V11},
                          verify=pki.ca_cert, cert=(pki.client_cert, pki.client_key), timeout=30)
        assert _response(r)["status"] == 200                           # served once the slots freed up
    finally:
        for sock in idle:
            sock.close()
        server.stop()
    assert _Server.request_queue_size == LISTEN_BACKLOG >= 128
