"""Shared pieces of the component tests (tests/test_funct_openc2_*.py).

The app runs in the real resilient-circuits runtime (``circuits_app``) with
the offline SOAR as its only stand-in; the consumer is the reference
consumer over real HTTPS with mutual TLS and signed responses. ``circuits_app``
is class-scoped and reads the module's ``config_data`` when it starts, so
each test module starts its consumer in a module-scoped fixture and writes
``config_data`` from it first (``module_setup``).
"""
from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

import pytest
from resilient_circuits import FunctionResult, SubmitTestFunction

from fn_openc2.lib.consumer import Actuator, HttpsConsumerServer
from fn_openc2.lib.offline_soar.mock import OFFLINE_RESILIENT_SECTION, OfflineSoar
from fn_openc2.lib.soar import producers
from fn_openc2.lib.transfer.devpki import Pki

INCIDENT_ID = 2101
PROTECTED_NET = "198.51.100.0/24"
RESILIENT_MOCK = "fn_openc2.lib.offline_soar.mock.OfflineSoar"


@dataclass
class Fw:
    """The firewall consumer the app talks to, and the port of one that is down."""

    server: HttpsConsumerServer
    actuator: Actuator
    down_port: int

    @property
    def request_count(self) -> int:
        return self.server.request_log.count

    def rules(self) -> list[dict]:
        return self.actuator.snapshot()["rules"]


def _closed_port() -> int:
    """A local port with nothing listening (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def config_text(fw: Fw, pki: Pki, public_key: str) -> str:
    # test_port 0: the test-actions listener takes any free port (parallel runs must not clash)
    return OFFLINE_RESILIENT_SECTION + f"""test_host = 127.0.0.1
test_port = 0

[fn_openc2]
producer_id = soar@example.com
default_consumers = fw1
protected_networks = {PROTECTED_NET}
timeout = 5
retries = 0

[fn_openc2:fw1]
transport = https
url = {fw.server.url}
verify = {pki.ca_cert}
client_auth_cert = {pki.client_cert}
client_auth_key = {pki.client_key}
response_verify_key = {public_key}
device_id = fw1@example.com
profiles = slpf, er

[fn_openc2:down]
transport = https
url = https://127.0.0.1:{fw.down_port}/.well-known/openc2
verify = {pki.ca_cert}
client_auth_cert = {pki.client_cert}
client_auth_key = {pki.client_key}
timeout = 2
retries = 0
"""


def module_setup(request: pytest.FixtureRequest, pki: Pki, signing_key: tuple[str, str]):
    """Start fw1, set the module's config_data; a generator for a module fixture."""
    private, public = signing_key
    actuator = Actuator("fw1@example.com", signing_key=private)
    server = HttpsConsumerServer(actuator, "127.0.0.1", 0, tls_cert=pki.server_cert, tls_key=pki.server_key,
                                 client_ca=pki.ca_cert).start()
    fw = Fw(server, actuator, _closed_port())
    request.module.config_data = config_text(fw, pki, public)
    request.module.resilient_mock = RESILIENT_MOCK
    try:
        yield fw
    finally:
        producers.reset()
        server.stop()


def seed_incident() -> Any:
    store = OfflineSoar.reset()
    store.seed({"id": INCIDENT_ID, "name": "Phishing from 203.0.113.7"},
               artifacts=[{"id": 11, "type": "IP Address", "value": "203.0.113.7"}],
               attachments={21: {"name": "dropper.exe", "content": b"MZ evil bytes\n",
                                 "content_type": "application/octet-stream"}})
    return store


def call(circuits: Any, name: str, inputs: dict, timeout: float = 60) -> dict:
    """Fire the function as SOAR would; the whole payload {success, reason, content, ...}."""
    evt = SubmitTestFunction(name, inputs)
    circuits.manager.fire(evt)
    event = circuits.watcher.wait(f"{name}_result", parent=evt, timeout=timeout)
    assert event, f"{name} gave no result (the component raised? see the log)"
    result = event.kwargs["result"]
    assert isinstance(result, FunctionResult)
    return result.value


def export_document() -> dict:
    """The app's export.res, as resilient-circuits customize would import it."""
    import json
    from pathlib import Path

    from fn_openc2.util import customize
    return json.loads((Path(customize.__file__).parent / customize.RES_FILE).read_text(encoding="utf-8"))


def exported_input_names(function: dict) -> set[str]:
    """Names of the inputs a function definition lists in its view items."""
    names = {field["uuid"]: field["name"] for field in export_document()["fields"]}
    return {names[item["content"]] for item in function["view_items"]}


def table_columns(table_name: str) -> set[str]:
    table = next(t for t in export_document()["types"] if t["type_name"] == table_name)
    return set(table["fields"])


# Fixtures the component test modules import by name (pytest then uses them in
# that module): fw1 started and config_data written before circuits_app starts,
# and a fresh incident per test.
@pytest.fixture(scope="module", autouse=True)
def fw(request: pytest.FixtureRequest, pki: Pki, consumer_signing_key: tuple[str, str]) -> Any:
    yield from module_setup(request, pki, consumer_signing_key)


@pytest.fixture
def soar() -> Any:
    return seed_incident()
