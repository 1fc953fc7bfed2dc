"""send_many as a pipeline: commands prepared lazily by the sending workers,
outcomes in input order, at most `concurrency` exchanges per consumer."""
from __future__ import annotations

import threading
import uuid
from typing import Any, Callable, Iterator

import pytest

from fn_openc2.lib.language import build_command
from fn_openc2.lib.producer.envelope import new_request_id
from fn_openc2.lib.producer.outcome import ConsumerAnswer
from fn_openc2.lib.producer.producer import Producer
from tests.producer.helpers import https_section, registry


def _deny(i: int) -> Any:
    return build_command("deny", {"ipv4_net": f"198.51.{i // 250}.{i % 250 + 1}"})


def test_outcomes_keep_input_order_with_refusals_and_two_consumers(start_consumer: Callable[..., Any]) -> None:
    a, b = start_consumer(device_id="fw-a@example.com"), start_consumer(device_id="fw-b@example.com")
    commands: list[Any] = []
    for i in range(60):
        commands.append(_deny(i))
        if i % 10 == 0:
            commands.append(build_command("deny", {"ipv4_net": "127.0.0.1"}))     # refused by the guard
    with Producer(registry(fa=https_section(a), fb=https_section(b))) as producer:
        outcomes = producer.send_many(iter(commands), ["fa", "fb"], concurrency=3)
    assert [o.command["target"] for o in outcomes] == [c.target_value and {c.target_name: c.target_value}
                                                       for c in commands]
    refused = [o for o in outcomes if o.refused]
    assert len(refused) == 6 and all(not o.answers for o in refused)
    sent = [o for o in outcomes if not o.refused]
    assert all(o.ok and [x.consumer for x in o.answers] == ["fa", "fb"] for o in sent)
    assert len(a.server.request_log.request_ids) == len(b.server.request_log.request_ids) == 60


def test_at_most_concurrency_exchanges_per_consumer(reference_consumer: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    in_flight, peak, lock = [0], [0], threading.Lock()
    with Producer(registry(fw1=https_section(reference_consumer))) as producer:
        original = producer.send_to

        def counting(doc: dict, name: str, request_id: str, **kwargs: Any) -> list[ConsumerAnswer]:
            with lock:
                in_flight[0] += 1
                peak[0] = max(peak[0], in_flight[0])
            try:
                return original(doc, name, request_id, **kwargs)
            finally:
                with lock:
                    in_flight[0] -= 1

        monkeypatch.setattr(producer, "send_to", counting)
        outcomes = producer.send_many([_deny(i) for i in range(80)], "fw1", concurrency=3)
    assert all(o.ok for o in outcomes) and 1 <= peak[0] <= 3


def test_a_lazy_iterable_is_consumed_while_sending(reference_consumer: Any) -> None:
    """A generator is not drained up front: only a bounded backlog runs ahead of the sends."""
    pulled, sent = [0], [0]

    def commands() -> Iterator[Any]:
        for i in range(300):
            pulled[0] += 1
            assert pulled[0] - sent[0] <= 64, "send_many drained the generator ahead of the sends"
            yield _deny(i)

    with Producer(registry(fw1=https_section(reference_consumer))) as producer:
        original = producer.send_to

        def counting(*args: Any, **kwargs: Any) -> list[ConsumerAnswer]:
            answers = original(*args, **kwargs)
            sent[0] += 1
            return answers

        producer.send_to = counting  # type: ignore[method-assign]
        outcomes = producer.send_many(commands(), "fw1", concurrency=4)
    assert len(outcomes) == 300 and all(o.ok for o in outcomes)


def test_a_failing_iterable_raises_and_leaves_no_worker(reference_consumer: Any) -> None:
    def commands() -> Iterator[Any]:
        for i in range(20):
            yield _deny(i)
        raise RuntimeError("artifact feed broke")

    before = {t.ident for t in threading.enumerate()}
    with Producer(registry(fw1=https_section(reference_consumer))) as producer:
        with pytest.raises(RuntimeError, match="artifact feed broke"):
            producer.send_many(commands(), "fw1", concurrency=4)
        assert producer.send_many([_deny(99)], "fw1")[0].ok            # still usable afterwards
    left = [t for t in threading.enumerate() if t.ident not in before and t.name.startswith("openc2-bulk")]
    for thread in left:
        thread.join(5)
    assert not any(t.is_alive() for t in left)


def test_nothing_to_send_starts_no_worker() -> None:
    with Producer(registry({"protected_networks": "10.0.0.0/8"},
                           fw1={"url": "https://127.0.0.1:9", "verify": "false"})) as producer:
        outcomes = producer.send_many([build_command("deny", {"ipv4_net": "10.1.1.1"})] * 3, "fw1")
        assert [bool(o.refused) for o in outcomes] == [True] * 3
        assert producer.send_many([], "fw1") == []


def test_request_ids_are_version_4_uuids_and_unique() -> None:
    ids = [new_request_id() for _ in range(5000)]
    assert len(set(ids)) == len(ids)
    for text in ids[:600]:
        parsed = uuid.UUID(text)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == text
