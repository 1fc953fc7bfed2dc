"""An encrypted client key for mutual TLS: opened with client_auth_key_password over both
transfers; without it, or with the wrong one, a config error naming the key -- never
OpenSSL asking for a pass phrase on the terminal, never the password in a message."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from fn_openc2.lib.cli.cmd_consumer import broker_access
from fn_openc2.lib.producer.errors import ConfigError
from fn_openc2.lib.producer.producer import Producer
from fn_openc2.lib.producer.transports import build_transport
from fn_openc2.lib.transfer import HttpsSettings, HttpsTransport, TransferError
from fn_openc2.lib.transfer.broker import start_mosquitto
from fn_openc2.lib.transfer.devpki import Pki
from fn_openc2.lib.transfer.mqtt import MqttSettings, MqttTransport
from tests.producer.helpers import registry
from tests.transfer.conftest import envelope
from tests.transfer.oc2server import Answer

PASSWORD = "key-pass-5e1d"
OK = Answer(200, {"status": 200})
FORMATS = {"pkcs8": serialization.PrivateFormat.PKCS8,
           "traditional": serialization.PrivateFormat.TraditionalOpenSSL}


def _encrypted_copy(pki: Pki, directory: Path, form: str = "pkcs8", source: str | None = None) -> str:
    key = serialization.load_pem_private_key(Path(source or pki.client_key).read_bytes(), password=None)
    path = directory / f"client-{form}-{Path(source or pki.client_key).stem}.enc.key"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, FORMATS[form],
                                       serialization.BestAvailableEncryption(PASSWORD.encode())))
    return str(path)


def _https_send(url: str, pki: Pki, key: str, password: str | None) -> int:
    transport = HttpsTransport(HttpsSettings(url=url, retries=0, timeout=5, verify=pki.ca_cert,
                                             client_cert=pki.client_cert, client_key=key,
                                             client_key_password=password), "fw1")
    try:
        return transport.send(envelope()).replies[0].message["body"]["openc2"]["response"]["status"]
    finally:
        transport.close()


@pytest.mark.parametrize("form", sorted(FORMATS))
def test_the_producer_opens_an_encrypted_key_with_its_password(pki: Pki, peer, tmp_path: Path, form: str) -> None:
    server = peer(lambda req: OK, client_ca=pki.ca_cert)   # the peer requires a client certificate
    section = {"url": server.url, "verify": pki.ca_cert, "client_auth_cert": pki.client_cert,
               "client_auth_key": _encrypted_copy(pki, tmp_path, form), "client_auth_key_password": PASSWORD,
               "timeout": "5", "retries": "0"}
    with Producer(registry(fw1=section)) as producer:
        outcome = producer.send({"action": "deny", "target": {"ipv4_net": "198.51.100.9"}}, "fw1")
    answer = outcome.answers[0]
    assert answer.ok and answer.status == 200, answer.error
    assert len(server.seen) == 1


def test_an_encrypted_key_without_its_password_is_a_config_error_naming_the_key(pki: Pki, peer,
                                                                                tmp_path: Path) -> None:
    server = peer(lambda req: OK, client_ca=pki.ca_cert)
    with pytest.raises(TransferError) as err:
        _https_send(server.url, pki, _encrypted_copy(pki, tmp_path), None)
    assert err.value.kind == "config"
    assert "client_auth_key: the client key is encrypted and no password was given" in err.value.detail
    assert "client_auth_key_password" in err.value.detail
    assert server.seen == []


def test_a_wrong_password_is_a_config_error_that_does_not_repeat_it(pki: Pki, peer, tmp_path: Path) -> None:
    server = peer(lambda req: OK, client_ca=pki.ca_cert)
    with pytest.raises(TransferError) as err:
        _https_send(server.url, pki, _encrypted_copy(pki, tmp_path), "not-the-password-77")
    assert err.value.kind == "config" and "does not decrypt the client key" in err.value.detail
    assert "not-the-password-77" not in str(err.value)
    assert server.seen == []


def test_the_right_password_on_another_certificates_key_is_not_called_a_wrong_password(
        pki: Pki, peer, tmp_path: Path) -> None:
    server = peer(lambda req: OK, client_ca=pki.ca_cert)
    with pytest.raises(TransferError) as err:
        _https_send(server.url, pki, _encrypted_copy(pki, tmp_path, source=pki.server_key), PASSWORD)
    assert err.value.kind == "config" and "could not be loaded" in err.value.detail
    assert "KEY_VALUES_MISMATCH" in err.value.detail and "does not decrypt" not in err.value.detail


def test_ad_hoc_send_and_probe_take_the_key_password_from_the_environment(
        reference_consumer, pki: Pki, tmp_path: Path) -> None:
    """`fn-openc2 send --url ... --key-password-env VAR` and `fn-openc2 probe` reach a consumer that
    requires a client certificate whose key is encrypted; without the flag, a config error."""
    assert reference_consumer.client_key == pki.client_key
    key = _encrypted_copy(pki, tmp_path)
    env = {**os.environ, "FW_KEY_PASSWORD": PASSWORD}
    base = [sys.executable, "-m", "fn_openc2.lib.cli.main"]
    tls = ["--ca", reference_consumer.ca, "--cert", reference_consumer.client_cert, "--key", key]
    deny = json.dumps({"action": "deny", "target": {"ipv4_net": "198.51.100.0/24"}})
    sent = subprocess.run([*base, "send", "--url", reference_consumer.url, *tls, "--key-password-env",
                           "FW_KEY_PASSWORD", "-"], input=deny, env=env, capture_output=True, text=True, timeout=60)
    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout)["answers"][0]["status"] == 200
    without = subprocess.run([*base, "send", "--url", reference_consumer.url, *tls, "-"], input=deny, env=env,
                             capture_output=True, text=True, timeout=60)
    assert without.returncode == 1 and "the client key is encrypted and no password was given" in without.stderr
    unset = subprocess.run([*base, "send", "--url", reference_consumer.url, *tls, "--key-password-env", "NOPE_42",
                            "-"], input=deny, env=env, capture_output=True, text=True, timeout=60)
    assert unset.returncode == 2 and "--key-password-env: the environment variable it names is not set" in unset.stderr
    probed = subprocess.run([*base, "probe", reference_consumer.url.rsplit("/.well-known", 1)[0], *tls,
                             "--key-password-env", "FW_KEY_PASSWORD"], env=env, capture_output=True, text=True,
                            timeout=120)
    assert probed.returncode == 0, probed.stdout + probed.stderr
    assert "# client_auth_key_password = ...  (given to probe; not printed: fill it in)" in probed.stdout
    assert PASSWORD not in probed.stdout + probed.stderr + sent.stdout + sent.stderr


def test_a_key_password_without_a_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as err:
        registry(fw1={"url": "https://fw1.example.com", "client_auth_key_password": PASSWORD})
    assert (err.value.section, err.value.key) == ("fn_openc2:fw1", "client_auth_key_password")
    assert PASSWORD not in str(err.value)


def test_the_password_stays_out_of_the_settings_repr(pki: Pki, tmp_path: Path) -> None:
    consumer = registry(fw1={"url": "https://fw1.example.com", "client_auth_cert": pki.client_cert,
                             "client_auth_key": _encrypted_copy(pki, tmp_path),
                             "client_auth_key_password": PASSWORD}).consumers["fw1"]
    shown = repr(consumer) + repr(MqttSettings(broker="mqtts://b.example.com", client_key_password=PASSWORD)) \
        + repr(HttpsSettings(url="https://fw1.example.com", client_key_password=PASSWORD))
    assert PASSWORD not in shown


def test_mqtt_mutual_tls_with_an_encrypted_key(pki: Pki, tmp_path: Path) -> None:
    key = _encrypted_copy(pki, tmp_path)
    with start_mosquitto(tls=pki, require_client_cert=True, workdir=str(tmp_path)) as broker:
        def publish(password: str | None) -> None:
            transport = MqttTransport(MqttSettings(broker=str(broker.tls_url), ca=pki.ca_cert,
                                                   client_cert=pki.client_cert, client_key=key,
                                                   client_key_password=password, connect_timeout=5), "edge")
            try:
                transport.send(envelope(), await_response=False)
            finally:
                transport.close()

        publish(PASSWORD)                    # PUBACKed: the broker took the client certificate
        with pytest.raises(TransferError) as err:
            publish(None)
        # the same through the app.config keys, as the SOAR function builds its transport
        settings = registry(edge={"transport": "mqtt", "broker": str(broker.tls_url), "ca": pki.ca_cert,
                                  "client_auth_cert": pki.client_cert, "client_auth_key": key,
                                  "client_auth_key_password": PASSWORD})
        transport = build_transport(settings.consumers["edge"], settings.producer)
        try:
            assert transport.send(envelope(), await_response=False).missing == []
        finally:
            transport.close()
    assert err.value.kind == "config"
    assert "client_auth_key: the client key is encrypted" in err.value.detail


def test_the_reference_consumer_takes_the_key_password_from_the_environment(
        pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = _encrypted_copy(pki, tmp_path)
    flags = {"mqtt": "mqtts://127.0.0.1:8883", "mqtt_ca": pki.ca_cert, "mqtt_client_cert": pki.client_cert,
             "mqtt_client_key": key, "mqtt_client_key_password_env": None, "mqtt_username": None,
             "mqtt_password_env": None}
    with pytest.raises(ValueError, match=r"--mqtt-client-key .*: the client key is encrypted and no password "
                                         r"was given for it \(--mqtt-client-key-password-env\)"):
        broker_access(argparse.Namespace(**flags))
    monkeypatch.setenv("FW_KEY_PASSWORD", PASSWORD)
    access = broker_access(argparse.Namespace(**{**flags, "mqtt_client_key_password_env": "FW_KEY_PASSWORD"}))
    assert access is not None and access.tls is not None
    with pytest.raises(ValueError, match="--mqtt-client-key-password-env: needs --mqtt-client-key"):
        broker_access(argparse.Namespace(**{**flags, "mqtt_client_cert": None, "mqtt_client_key": None,
                                            "mqtt_client_key_password_env": "FW_KEY_PASSWORD"}))
