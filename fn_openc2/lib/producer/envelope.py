"""The LS section 3.2 Message envelope around a command."""
from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING, Any
from collections.abc import Sequence

from fn_openc2.lib.security import sign_message
from fn_openc2.lib.transfer import adapt_command

if TYPE_CHECKING:
    from jwcrypto.jwk import JWK

    from fn_openc2.lib.producer.settings import ConsumerSettings, ProducerSettings


class _Uuid4Source:
    """Version 4 UUID strings from os.urandom read 256 at a time: ``uuid.uuid4()`` makes
    one system call and one UUID object per id, a visible share of a bulk send."""

    _BATCH = 256

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: list[str] = []
        os.register_at_fork(after_in_child=self._pool.clear)   # a child must never reuse the parent's ids

    def next(self) -> str:
        with self._lock:
            if not self._pool:
                self._pool = self._fill()
            return self._pool.pop()

    def _fill(self) -> list[str]:
        raw = os.urandom(16 * self._BATCH)
        out = []
        for i in range(0, len(raw), 16):
            value = (int.from_bytes(raw[i:i + 16], "big") & _CLEAR) | _VERSION_4
            h = f"{value:032x}"
            out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
        return out


_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))     # version nibble and variant bits
_VERSION_4 = (0x4000 << 64) | (0x8000 << 48)    # version 4, RFC 4122 variant
_IDS = _Uuid4Source()


def new_request_id() -> str:
    """A version 4 UUID, as LS 3.2 recommends."""
    return _IDS.next()


def now_ms() -> int:
    """LS Date-Time: milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


def make_envelope(command: dict[str, Any], *, request_id: str, sender: str,
                  recipients: Sequence[str], created: int | None = None) -> dict[str, Any]:
    return {
        "headers": {
            "request_id": request_id,
            "created": now_ms() if created is None else created,
            "from": sender,
            "to": list(recipients),
        },
        "body": {"openc2": {"request": command}},
    }


def command_message(command: dict[str, Any], consumer: ConsumerSettings, producer: ProducerSettings,
                    request_id: str, profile_encoding: str | None, signing_key: JWK | None) -> dict[str, Any]:
    """The Message one consumer receives, in one place for the producer and the onboarding
    link: content in the consumer's profile encoding, its responders (MQTT) or its own id
    in headers.to, signed when the producer has a key."""
    content = adapt_command(command, profile_encoding)
    recipients = list(consumer.expected_responders) if consumer.transport == "mqtt" \
        and consumer.expected_responders else [consumer.recipient]
    message = make_envelope(content, request_id=request_id, sender=producer.producer_id, recipients=recipients)
    if signing_key is not None:
        message = sign_message(message, signing_key, producer.signing_alg, producer.signing_kid)
    return message
