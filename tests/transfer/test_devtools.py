"""The shared dev PKI and broker launcher do what tests and the demo rely on."""
from __future__ import annotations

import ipaddress
import socket
import threading

import paho.mqtt.client as paho
import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from paho.mqtt.enums import CallbackAPIVersion

from fn_openc2.lib.transfer import MqttSettings, MqttTransport, TransferError
from fn_openc2.lib.transfer.broker import Broker, start_mosquitto
from fn_openc2.lib.transfer.devpki import Pki
from tests.transfer.conftest import envelope


def _load(path: str) -> x509.Certificate:
    with open(path, "rb") as handle:
        return x509.load_pem_x509_certificate(handle.read())


def test_server_cert_names_localhost_and_both_loopbacks(pki: Pki) -> None:
    san = _load(pki.server_cert).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert set(san.get_values_for_type(x509.IPAddress)) == {ipaddress.ip_address("127.0.0.1"),
                                                             ipaddress.ip_address("::1")}


def test_client_cert_is_soar_producer_for_client_auth(pki: Pki) -> None:
    cert = _load(pki.client_cert)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "soar-producer"
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert cert.issuer == _load(pki.ca_cert).subject


def test_untrusted_server_cert_is_signed_by_the_other_ca(pki: Pki) -> None:
    assert _load(pki.other_server_cert).issuer == _load(pki.other_ca_cert).subject
    assert _load(pki.other_ca_cert).subject != _load(pki.ca_cert).subject


def test_broker_listens_with_tcp_nodelay_and_restarts_on_the_same_port(fresh_mosquitto: Broker) -> None:
    conf = open(f"{fresh_mosquitto.workdir}/mosquitto.conf").read()
    assert "set_tcp_nodelay true" in conf
    port = fresh_mosquitto.port
    fresh_mosquitto.restart()
    assert fresh_mosquitto.port == port and fresh_mosquitto.running
    socket.create_connection((fresh_mosquitto.host, port), timeout=2).close()


def test_broker_with_passwords_refuses_anonymous_and_accepts_the_user(tmp_path) -> None:
    with start_mosquitto(passwords={"soar": "pw-123"}, workdir=str(tmp_path)) as broker:
        refused = threading.Event()
        anon = paho.Client(CallbackAPIVersion.VERSION2, client_id="anon", protocol=paho.MQTTv5)
        anon.on_connect = lambda c, u, f, reason, p: reason.is_failure and refused.set()
        anon.connect(broker.host, broker.port)
        anon.loop_start()
        try:
            assert refused.wait(5)
        finally:
            anon.loop_stop()
        settings = MqttSettings(broker=broker.url, username="soar", password="pw-123", connect_timeout=5)
        with MqttTransport(settings, "auth") as transport:
            assert transport.send(envelope(), await_response=False).missing == []
        bad = MqttTransport(MqttSettings(broker=broker.url, username="soar", password="nope",
                                         connect_timeout=0.5), "auth")
        with pytest.raises(TransferError) as err:
            bad.send(envelope(), await_response=False)
        bad.close()
        assert err.value.kind == "connect" and "nope" not in str(err.value)
