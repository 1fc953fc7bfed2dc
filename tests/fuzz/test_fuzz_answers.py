"""Fuzz the answer path (issue 12): bytes from a consumer -> outcome.

HTTPS: a real TLS peer answers each example's status, headers and bytes, the
whole producer reads them. MQTT: each example's payload goes through the
transport's message handler and the producer's answer assembly. Whatever
arrives, the result is an outcome (no exception), its payload is strict
JSON, every line a person reads is one line, no failure is an "unexpected"
one (a bug swallowed), and memory stays bounded."""
from __future__ import annotations

import gzip
import json
import time
import tracemalloc
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fn_openc2.lib.producer.answers import answers_for
from fn_openc2.lib.producer.appconfig import load_settings
from fn_openc2.lib.producer.outcome import CommandOutcome
from fn_openc2.lib.producer.producer import Producer
from fn_openc2.lib.transfer import Delivery
from fn_openc2.lib.transfer.devpki import Pki
from fn_openc2.lib.transfer.mqtt import MqttSettings, MqttTransport, _Pending
from tests.transfer.oc2server import Answer, Oc2Peer, Seen

FUZZ = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
DENY = {"action": "deny", "target": {"ipv4_net": "198.51.100.0/24"}}
LIMIT = 65536
MEMORY_BOUND = 16 << 20

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=False),
                      st.text(max_size=30))
json_value = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=20)
statuses = st.one_of(st.sampled_from([102, 200, 400, 401, 404, 500, 501, 503, 204]), json_value)
responses = st.fixed_dictionaries({"status": statuses}, optional={"status_text": json_value,
                                                                  "results": json_value})


@st.composite
def documents(draw: Any) -> Any:
    """Envelopes, bare responses and openc2-only bodies, well-formed or not."""
    response = draw(responses)
    form = draw(st.sampled_from(["envelope", "bare", "openc2", "other"]))
    headers = draw(st.fixed_dictionaries({}, optional={
        "request_id": st.one_of(st.just("RID"), json_value), "from": json_value, "to": json_value,
        "created": json_value}))
    if form == "envelope":
        return {"headers": headers, "body": {"openc2": {draw(st.sampled_from(["response", "request"])): response}},
                **draw(st.fixed_dictionaries({}, optional={"signature": st.text(max_size=40)}))}
    if form == "bare":
        return response
    if form == "openc2":
        return {"openc2": {"response": response}}
    return draw(json_value)


def _encoded(doc: Any) -> bytes:
    return json.dumps(doc).encode()


nasty = st.sampled_from([
    b"", b"   ", b"null", b"NaN", b'{"status":NaN}', b'{"status":200,"status":400}',
    b'{"status":' + b"9" * 500 + b"}", b"[" * 20000 + b"]" * 20000, b'{"a":' * 5000,
    b"\xff\xfe{}", b'{"status":200,"status_text":"\\ud800"}', b"\xef\xbb\xbf{}",
    b'{"status":200,"status_text":"line\\r\\nX-Evil: 1\\u001b[31m"}',
    b'{"status": 200, "results": {"x": "' + b"y" * (2 * LIMIT) + b'"}}',
])
bodies = st.one_of(st.builds(_encoded, documents()), st.binary(max_size=300), nasty)


@st.composite
def exchanges(draw: Any) -> tuple[int, bytes, dict[str, str]]:
    body = draw(bodies)
    headers: dict[str, str] = {}
    how = draw(st.sampled_from(["plain", "plain", "gzip", "bad-gzip", "bomb"]))
    if how == "gzip":
        body, headers = gzip.compress(body), {"Content-Encoding": "gzip"}
    elif how == "bad-gzip":
        headers = {"Content-Encoding": "gzip"}
    elif how == "bomb":
        body, headers = gzip.compress(b'{"status":200,"x":"' + b"0" * (4 << 20) + b'"}'), {"Content-Encoding": "gzip"}
    status = draw(st.one_of(st.sampled_from([102, 200, 201, 204, 400, 401, 404, 415, 500, 501]),
                            st.integers(200, 599)))
    return status, body, headers


def _check(outcome: CommandOutcome) -> None:
    assert outcome.answers, "every consumer ends with an answer"
    text = json.dumps(outcome.to_dict(), allow_nan=False)          # strict JSON for the SOAR payload
    assert text
    for answer in outcome.answers:
        assert answer.error is None or not answer.error.startswith("unexpected "), answer.error
        assert answer.ok == (answer.error is None)
        line = answer.line()
        assert "\n" not in line and "\r" not in line and "\x1b" not in line, line
        assert answer.status is None or isinstance(answer.status, int)


@pytest.fixture(scope="module")
def https_peer(pki: Pki) -> Iterator[tuple[Oc2Peer, dict]]:
    script: dict = {}

    def behave(req: Seen) -> Answer:
        status, body, headers = script["answer"]
        return Answer(status, body.replace(b"RID", req.json["headers"]["request_id"].encode()), dict(headers))

    server = Oc2Peer(behave, cert=pki.server_cert, key=pki.server_key, client_ca=pki.ca_cert).start()
    yield server, script
    server.stop()


@pytest.fixture(scope="module")
def fuzz_producer(https_peer: tuple[Oc2Peer, dict], pki: Pki) -> Iterator[Producer]:
    server, _ = https_peer
    section = {"url": server.url, "verify": pki.ca_cert, "client_auth_cert": pki.client_cert,
               "client_auth_key": pki.client_key, "timeout": "5", "retries": "0", "max_answer_bytes": str(LIMIT)}
    with Producer(load_settings({"fn_openc2:fw": section})) as producer:
        yield producer


@FUZZ
@given(exchange=exchanges(), wanted=st.sampled_from(["complete", "ack", "none"]))
def test_https_bytes_from_a_consumer_become_an_outcome(exchange: tuple[int, bytes, dict[str, str]], wanted: str,
                                                       https_peer: tuple[Oc2Peer, dict],
                                                       fuzz_producer: Producer) -> None:
    _, script = https_peer
    script["answer"] = exchange
    tracemalloc.start()
    try:
        outcome = fuzz_producer.send({**DENY, "args": {"response_requested": wanted}}, "fw")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    _check(outcome)
    assert peak < MEMORY_BOUND, peak


MQTT_REGISTRY = load_settings({"fn_openc2:edge": {"transport": "mqtt", "broker": "mqtt://127.0.0.1:1",
                                                  "expected_responders": "fw-a", "max_answer_bytes": str(LIMIT),
                                                  "collect_seconds": "1"}})


@FUZZ
@given(payloads=st.lists(bodies, min_size=1, max_size=4), wanted=st.sampled_from(["complete", "ack"]))
def test_mqtt_bytes_from_anyone_on_the_broker_become_an_outcome(payloads: list[bytes], wanted: str) -> None:
    consumer = MQTT_REGISTRY.consumers["edge"]
    transport = MqttTransport(MqttSettings(broker=consumer.broker or "", expected_responders=("fw-a",),
                                           max_answer_bytes=LIMIT, producer_id="soar@example.com"), "edge")
    pending = _Pending(frozenset({"fw-a"}), time.perf_counter(), wants_final=wanted == "complete")
    transport._pending["RID"] = pending
    tracemalloc.start()
    try:
        for payload in payloads:
            transport._on_message(None, None, SimpleNamespace(payload=payload, topic="oc2/rsp"))  # type: ignore[arg-type]
        delivery = Delivery(replies=list(pending.replies),
                            missing=[r for r in ("fw-a",) if r not in {x.responder for x in pending.replies}],
                            unmatched=list(pending.unmatched), notices=pending.notices())
        answers = answers_for(consumer, "RID", delivery, wanted, None, 1.0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    _check(CommandOutcome(command=DENY, request_id="RID", answers=answers))
    assert peak < MEMORY_BOUND, peak
