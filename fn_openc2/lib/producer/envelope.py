"""The LS section 3.2 Message envelope around a command."""
from __future__ import annotations

import os
import threading
import time
from typing import Any
from collections.abc import Sequence


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
