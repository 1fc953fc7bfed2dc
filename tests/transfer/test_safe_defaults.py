"""Safe by default: credentials in URLs stay out of messages, insecure settings warn."""
from __future__ import annotations

import logging
import socket

import pytest

from fn_openc2.lib.transfer import HttpsSettings, HttpsTransport, MqttSettings, MqttTransport, TransferError
from tests.transfer.conftest import envelope


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("scheme", ["https", "http"])
def test_url_credentials_never_reach_errors_logs_or_repr(scheme: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    settings = HttpsSettings(url=f"{scheme}://admin:s3cret-pw@127.0.0.1:{_closed_port()}/", retries=1,
                             backoff=0.01, timeout=2)
    transport = HttpsTransport(settings, "fw1")
    try:
        with pytest.raises(TransferError) as err:
            transport.send(envelope())
    finally:
        transport.close()
    assert err.value.kind == "connect"
    assert "s3cret-pw" not in str(err.value) and "***@127.0.0.1" in str(err.value)
    assert "s3cret-pw" not in caplog.text and "s3cret-pw" not in repr(settings)


def test_verify_false_warns_at_start(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    HttpsTransport(HttpsSettings(url="https://127.0.0.1:9/", verify=False), "fw1").close()
    assert "verify = false" in caplog.text and "fw1" in caplog.text


def test_plain_mqtt_and_unverified_mqtts_warn(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    MqttTransport(MqttSettings(broker="mqtt://127.0.0.1:1883"), "plain")
    assert "plain MQTT without TLS" in caplog.text
    caplog.clear()
    MqttTransport(MqttSettings(broker="mqtts://127.0.0.1:8883", verify=False), "lax")
    assert "verify = false" in caplog.text and "lax" in caplog.text
    caplog.clear()
    MqttTransport(MqttSettings(broker="mqtts://127.0.0.1:8883"), "safe")
    assert caplog.text == ""
