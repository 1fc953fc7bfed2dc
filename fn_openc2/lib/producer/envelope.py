"""The LS section 3.2 Message envelope around a command."""
from __future__ import annotations

import time
import uuid
from typing import Any, Sequence


def new_request_id() -> str:
    """A version 4 UUID, as LS 3.2 recommends."""
    return str(uuid.uuid4())


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
