"""Shared bits of the offline-SOAR tests."""
from __future__ import annotations

import os

import pytest

from fn_openc2.lib.offline_soar.mock import OfflineSoar

PROBE_DIR = os.path.join(os.path.dirname(__file__), "probe_components")
INCIDENT_ID = 1001


PROBE_TABLE = {"artifact_value": "text", "status": "number", "ok": "boolean", "detail": "text"}


def seed_probe_incident(store) -> None:
    store.define_table("probe_table", PROBE_TABLE)      # the probe's own table (not in the app's export)
    store.seed({"id": INCIDENT_ID, "name": "Phishing from 203.0.113.9"},
               artifacts=[{"id": 11, "type": "IP Address", "value": "203.0.113.9"},
                          {"id": 12, "type": "Malware Sample", "value": "dropper.txt",
                           "content": b"evil bytes\n", "content_type": "text/plain"}],
               attachments={21: {"name": "iocs.txt", "content": b"198.51.100.7\n", "content_type": "text/plain"}})


@pytest.fixture
def probe_store():
    store = OfflineSoar.reset()
    seed_probe_incident(store)
    return store
