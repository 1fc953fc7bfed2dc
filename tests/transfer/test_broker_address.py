"""One broker grammar: what the config check accepts is exactly what the MQTT transport
connects to and what `fn-openc2 consumer --mqtt` joins, with the same host, port and TLS."""
from __future__ import annotations

import argparse

import pytest

from fn_openc2.lib.cli.cmd_consumer import broker_access
from fn_openc2.lib.producer import load_settings
from fn_openc2.lib.producer.errors import ConfigError
from fn_openc2.lib.transfer.address import broker_address
from fn_openc2.lib.transfer.model import TransferError
from fn_openc2.lib.transfer.mqtt import MqttSettings, MqttTransport

ACCEPTED = [
    ("mqtts://broker.example.com", ("broker.example.com", 8883, True)),
    ("mqtts://broker.example.com:8884/", ("broker.example.com", 8884, True)),
    ("mqtt://broker.example.com", ("broker.example.com", 1883, False)),
    ("broker.example.com:1884", ("broker.example.com", 1884, False)),
    ("broker.example.com", ("broker.example.com", 1883, False)),     # as before: the default port
    ("mqtt://[::1]:1883", ("::1", 1883, False)),
    ("  mqtts://10.0.0.5:8883  ", ("10.0.0.5", 8883, True)),
]
REFUSED = [
    "tcp://broker.example.com:1883",            # once taken by the transport alone
    "https://broker.example.com",
    "mqtts://broker.example.com:99999",
    "mqtts://broker.example.com:0",
    "mqtts://broker.example.com:port",
    "mqtts://broker.example.com:8883/oc2",
    "mqtt://broker.example.com:1883?x=1",
    "mqtts://:8883",
    "mqtts://",
]
NO_FLAGS = {"mqtt_ca": None, "mqtt_client_cert": None, "mqtt_client_key": None, "mqtt_client_key_password_env": None,
            "mqtt_username": None,
            "mqtt_password_env": None}


def _config(value: str) -> tuple[str, int, bool] | ConfigError:
    try:
        consumer = load_settings({"fn_openc2:m": {"transport": "mqtt", "broker": value}}).consumers["m"]
    except ConfigError as exc:
        return exc
    transport = MqttTransport(MqttSettings(broker=consumer.broker or ""), "m")
    return transport.host, transport.port, transport.tls


def _transport(value: str) -> tuple[str, int, bool] | TransferError:
    try:
        transport = MqttTransport(MqttSettings(broker=value), "m")
    except TransferError as exc:
        return exc
    return transport.host, transport.port, transport.tls


def _cli(value: str) -> tuple[str, int, bool] | ValueError:
    try:
        access = broker_access(argparse.Namespace(mqtt=value, **NO_FLAGS))
    except ValueError as exc:
        return exc
    assert access is not None
    return access.host, access.port, access.tls is not None


@pytest.mark.parametrize(("value", "expected"), ACCEPTED)
def test_every_reader_takes_the_same_address(value: str, expected: tuple[str, int, bool]) -> None:
    assert _config(value) == expected
    assert _transport(value) == expected
    assert _cli(value.strip()) == expected


@pytest.mark.parametrize("value", REFUSED)
def test_every_reader_refuses_the_same_address_naming_where(value: str) -> None:
    config = _config(value)
    assert isinstance(config, ConfigError), config
    assert (config.section, config.key) == ("fn_openc2:m", "broker")
    assert "expected mqtts://HOST[:PORT], mqtt://HOST[:PORT] or HOST[:PORT]" in str(config)
    transport = _transport(value)
    assert isinstance(transport, TransferError) and transport.kind == "config", transport
    assert "broker = " in str(transport)
    cli = _cli(value)
    assert isinstance(cli, ValueError) and str(cli).startswith("--mqtt: expected mqtts://HOST[:PORT]"), cli


def test_tls_settings_make_a_schemeless_or_mqtt_address_tls() -> None:
    assert broker_address("broker.example.com:8883", tls_hint=True).tls
    assert broker_address("mqtt://broker.example.com", tls_hint=True).port == 8883
    assert broker_address("broker.example.com", tls_hint=True).port == 8883
    assert broker_address("mqtt://u:p@broker.example.com:1883").credentials
    assert not broker_address("mqtt://broker.example.com:1883").credentials


@pytest.mark.parametrize("value", ["mqtts://soar:pw-secret-41@broker.example.com:99999",
                                   "soar:pw-secret-41@broker.example.com:99999",
                                   "soar:pw-secret-41@broker.example.com/oc2"])
def test_no_reason_repeats_a_password_written_into_the_address(value: str) -> None:
    with pytest.raises(ValueError) as direct:
        broker_address(value)
    config = _config(value)
    transport = _transport(value)
    assert isinstance(config, ConfigError) and isinstance(transport, TransferError)
    for error in (direct.value, config, transport):
        assert "pw-secret-41" not in str(error), error
    assert "***@broker.example.com" in str(config) and "***@broker.example.com" in str(transport)


@pytest.mark.parametrize("value", ["soar:pw-secret-41@broker.example.com:1883",
                                   "mqtt://soar:pw-secret-41@broker.example.com"])
def test_credentials_written_into_a_plain_address_are_refused_masked(value: str) -> None:
    config = _config(value)
    assert isinstance(config, ConfigError) and config.key == "broker", config
    assert "pw-secret-41" not in str(config) and "***@broker.example.com" in str(config)
