"""Fixtures shared by the SOAR-layer tests."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import resilient

from fn_openc2.lib.offline_soar.mock import MOCK_PATH, OfflineSoar
from fn_openc2.lib.soar import producers


def fresh_store(incident: int, name: str) -> Iterator[OfflineSoar]:
    """A test module's ``store`` fixture body: an empty offline SOAR holding one incident, and
    the app's producers dropped afterwards (they hold connections made for that test)."""
    store = OfflineSoar.reset()
    store.seed({"id": incident, "name": name})
    yield store
    producers.reset()


@pytest.fixture
def client(store: Any) -> Any:
    """A real resilient REST client whose requests the offline SOAR answers (the test
    module's own ``store`` fixture seeds it first)."""
    opts = {"host": "offline-soar.invalid", "port": 443, "org": store.org, "email": "offline@example.com",
            "password": "offline", "cafile": "false", "resilient_mock": MOCK_PATH}
    return resilient.get_client(opts, request_max_retries=1, request_retry_delay=0)
