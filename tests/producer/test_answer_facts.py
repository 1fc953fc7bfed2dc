"""answers.py judges what the transfer layer says arrived; it never goes back to the raw bytes
(issue 16.3): each answer is decoded once, by the transport."""
from __future__ import annotations

import json
from pathlib import Path

from fn_openc2.lib.language import dumps
from fn_openc2.lib.producer.answers import UNSIGNED_WITH_KEY, answers_for
from fn_openc2.lib.producer.producer import Producer
from fn_openc2.lib.security import load_private_key, load_public_key, sign_message
from fn_openc2.lib.transfer import Delivery, Reply
from fn_openc2.lib.transfer.devpki import Pki
from fn_openc2.lib.transfer.dialects import read_reply, resolve_dialect
from tests.producer.helpers import peer_section, registry, write_keypair
from tests.transfer.oc2server import Answer

DENY = {"action": "deny", "target": {"ipv4_net": "198.51.100.0/24"}}


def _signed_answer(private: str) -> dict:
    """A signed answer that names no request_id: the transport fills it into the normalised form."""
    return sign_message({"headers": {"from": "fw1@example.com"},
                         "body": {"openc2": {"response": {"status": 200, "status_text": "blocked"}}}},
                        load_private_key(private))


def test_a_reply_built_without_raw_bytes_is_fully_judged(tmp_path: Path) -> None:
    """Signature, empty body and transfer form come from the Reply's facts: with no bytes at all
    the signed answer verifies against its received form (the normalised one has headers filled)."""
    private, public = write_keypair(tmp_path, "consumer")
    received = _signed_answer(private)
    message, decoded = read_reply(dumps(received), 200, {}, resolve_dialect(), "RID", "consumer fw1")
    assert decoded == received and message["headers"]["request_id"] == "RID"
    reply = Reply(transport="https", message=message, raw=b"", http_status=200, responder="fw1@example.com",
                  elapsed_ms=1.0, attempts=1, received=decoded)
    consumer = registry(fw1={"url": "https://fw1.example.com", "response_verify_key": public}).consumers["fw1"]
    (answer,) = answers_for(consumer, "RID", Delivery(replies=[reply]), "complete", load_public_key(public), 1.0)
    assert answer.signature == "verified" and answer.ok and answer.error is None
    assert answer.status == 200 and answer.status_text == "blocked"


def test_empty_body_and_the_transfer_form_are_read_from_the_reply(tmp_path: Path) -> None:
    """With a verify key, an unsigned answer is refused only where the transfer form has a place
    for a signature; the Reply says so (``envelope``, ``empty``), not the consumer's settings."""
    _, public = write_keypair(tmp_path, "consumer")
    key = load_public_key(public)
    consumer = registry(fw1={"url": "https://fw1.example.com", "response_verify_key": public}).consumers["fw1"]
    status_only = {"headers": {"request_id": "RID"}, "body": {"openc2": {"response": {"status": 200}}}}

    def judged(**facts: object) -> tuple[str | None, str | None]:
        reply = Reply(transport="https", message=status_only, raw=b"", http_status=200, responder="fw1",
                      elapsed_ms=1.0, attempts=1, **facts)  # type: ignore[arg-type]
        (answer,) = answers_for(consumer, "RID", Delivery(replies=[reply]), "complete", key, 1.0)
        return answer.error, answer.signature_reason

    assert judged(received=status_only) == (UNSIGNED_WITH_KEY, UNSIGNED_WITH_KEY)
    assert judged(empty=True) == (None, "empty body: an HTTP status alone has no place for a signature")
    assert judged(received={"status": 200}, envelope="bare") == \
        (None, "the consumer's HTTPS envelope form has no place for a signature")


def test_signed_answer_without_request_id_verifies_end_to_end(pki: Pki, peers, tmp_path: Path,
                                                               monkeypatch) -> None:
    """Over real HTTPS: the transport fills headers.request_id, the producer verifies the form
    as received, and nothing decodes the answer a second time."""
    private, public = write_keypair(tmp_path, "consumer")
    wire = json.dumps(_signed_answer(private)).encode()
    server = peers(lambda req: Answer(200, wire))
    reg = registry(fw1=peer_section(server.url, pki, response_verify_key=public))
    decodes: list[bytes] = []
    import fn_openc2.lib.transfer.dialects as dialects
    real = dialects.loads

    def counting(data: bytes | str) -> object:
        decodes.append(bytes(data) if isinstance(data, (bytes, bytearray)) else data.encode())
        return real(data)
    monkeypatch.setattr(dialects, "loads", counting)
    monkeypatch.setattr(json, "loads", _refuse_raw(json.loads, wire))
    with Producer(reg) as producer:
        (answer,) = producer.send(DENY, "fw1").answers
    assert answer.signature == "verified" and answer.ok, answer.error
    assert answer.request_id == answer.message["headers"]["request_id"]
    assert decodes == [wire]                                   # the transport's one decode


def _refuse_raw(loads, wire: bytes):  # type: ignore[no-untyped-def]
    """json.loads, except on the answer's own bytes (which only the transport may decode)."""
    def guarded(data, *args, **kwargs):  # type: ignore[no-untyped-def]
        if data == wire:
            raise AssertionError("the answer's bytes were decoded again")
        return loads(data, *args, **kwargs)
    return guarded
