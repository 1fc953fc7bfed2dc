"""`fn-openc2 consumer --mqtt mqtts://...` joins a real broker the way a fleet broker is run:
TLS with the host name checked, a user name and password (or a client certificate), anonymous
access off. A real Mosquitto with a password_file, real `fn-openc2 consumer` processes and
fn_openc2's own Producer over MqttTransport; bad flags are refused before anything connects."""
from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fn_openc2.lib.cli.main import main
from fn_openc2.lib.producer.producer import Producer
from fn_openc2.lib.transfer.broker import Broker, start_mosquitto
from fn_openc2.lib.transfer.devpki import Pki
from tests.producer.helpers import registry

CLI = [sys.executable, "-m", "fn_openc2.lib.cli.main", "consumer"]
CONSUMER_PW = "consumer-pw-7f3a"
PRODUCER_PW = "producer-pw-91c2"
DENY = {"action": "deny", "target": {"ipv4_net": "198.51.100.0/24"}}


@pytest.fixture(scope="module")
def secured(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """TLS listener with the dev PKI, password_file, allow_anonymous false (also on the plain listener)."""
    with start_mosquitto(tls=pki, passwords={"fw": CONSUMER_PW, "soar": PRODUCER_PW},
                         workdir=str(tmp_path_factory.mktemp("mosquitto-secured"))) as broker:
        yield broker


def _consumer(*flags: str, password: str | None = None) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "FW_MQTT_PASSWORD"}
    if password is not None:
        env["FW_MQTT_PASSWORD"] = password
    return subprocess.Popen([*CLI, *flags], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    """Exit code, stdout, stderr of a consumer expected to give up on its own (never hang)."""
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"the consumer did not exit: {out}{err}") from None
    return proc.returncode, out, err


def _stop(proc: subprocess.Popen[str]) -> int:
    if proc.poll() is None:
        proc.terminate()
    code = proc.wait(timeout=15)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
    return code


def test_consumer_over_mqtts_with_a_password_answers_the_producer(secured: Broker, pki: Pki) -> None:
    proc = _consumer("--mqtt", str(secured.tls_url), "--mqtt-ca", pki.ca_cert, "--mqtt-username", "fw",
                     "--mqtt-password-env", "FW_MQTT_PASSWORD", "--device-id", "fw-tls@example.com",
                     "--profiles", "slpf", password=CONSUMER_PW)
    try:
        assert proc.stdout is not None and proc.stderr is not None
        line = proc.stdout.readline()
        assert line.startswith(f"subscribed on {secured.tls_url} to oc2/cmd/all"), line + proc.stderr.read()
        section = {"transport": "mqtt", "broker": str(secured.tls_url), "topic": "oc2/cmd/ap/slpf",
                   "verify": pki.ca_cert, "username": "soar", "password": PRODUCER_PW,
                   "expected_responders": "fw-tls@example.com", "collect_seconds": "30"}
        with Producer(registry(edge=section)) as producer:
            (answer,) = producer.send(DENY, "edge").answers
    finally:
        code = _stop(proc)
    assert answer.ok and answer.status == 200 and answer.responder == "fw-tls@example.com"
    assert answer.transport == "mqtt" and answer.results == {"slpf": {"rule_number": 1}}
    assert code == 0


def test_consumer_with_a_client_certificate_joins_a_broker_that_requires_one(pki: Pki, tmp_path: Path) -> None:
    with start_mosquitto(tls=pki, require_client_cert=True, workdir=str(tmp_path)) as broker:
        with_cert = _consumer("--mqtt", str(broker.tls_url), "--mqtt-ca", pki.ca_cert,
                              "--mqtt-client-cert", pki.client_cert, "--mqtt-client-key", pki.client_key)
        try:
            assert with_cert.stdout is not None and with_cert.stderr is not None
            line = with_cert.stdout.readline()
            assert line.startswith(f"subscribed on {broker.tls_url} "), line + with_cert.stderr.read()
        finally:
            assert _stop(with_cert) == 0
        code, out, err = _finish(_consumer("--mqtt", str(broker.tls_url), "--mqtt-ca", pki.ca_cert))
    assert code == 1 and out == "", err
    assert err.startswith(f"fn-openc2 consumer: {broker.tls_url}: ") and len(err.strip().splitlines()) == 1, err


def test_a_wrong_password_exits_1_naming_the_broker_and_the_refusal(secured: Broker, pki: Pki) -> None:
    proc = _consumer("--mqtt", str(secured.tls_url), "--mqtt-ca", pki.ca_cert, "--mqtt-username", "fw",
                     "--mqtt-password-env", "FW_MQTT_PASSWORD", password="guessed-pw-0000")
    code, out, err = _finish(proc)
    assert code == 1 and out == "", err
    assert err.strip() == (f"fn-openc2 consumer: {secured.tls_url}: the broker refused the connection "
                           "(CONNACK Not authorized)"), err
    assert "guessed-pw-0000" not in err


def test_an_untrusted_broker_certificate_fails_the_handshake(secured: Broker, pki: Pki) -> None:
    proc = _consumer("--mqtt", str(secured.tls_url), "--mqtt-ca", pki.other_ca_cert, "--mqtt-username", "fw",
                     "--mqtt-password-env", "FW_MQTT_PASSWORD", password=CONSUMER_PW)
    code, out, err = _finish(proc)
    assert code == 1 and out == "", err
    assert err.startswith(f"fn-openc2 consumer: {secured.tls_url}: TLS handshake failed "
                          "(certificate verify failed: "), err
    assert len(err.strip().splitlines()) == 1 and CONSUMER_PW not in err


def test_without_mqtt_ca_the_system_cas_are_used_and_refuse_the_dev_ca(secured: Broker) -> None:
    code, out, err = _finish(_consumer("--mqtt", str(secured.tls_url)))
    assert code == 1 and "TLS handshake failed (certificate verify failed" in err, err


def test_a_certificate_for_another_address_fails_the_handshake(pki: Pki, tmp_path: Path) -> None:
    # the dev server certificate names localhost, 127.0.0.1 and ::1; 127.0.0.2 is loopback too
    with start_mosquitto(tls=pki, host="127.0.0.2", workdir=str(tmp_path)) as broker:
        code, out, err = _finish(_consumer("--mqtt", str(broker.tls_url), "--mqtt-ca", pki.ca_cert))
    assert code == 1 and out == "", err
    assert err.startswith(f"fn-openc2 consumer: {broker.tls_url}: TLS handshake failed (certificate verify failed: "
                          "IP address mismatch, certificate is not valid for '127.0.0.2'.)"), err


# --- flags checked before anything connects ------------------------------------------

@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A real listening socket as the --mqtt target: a refused flag must leave it untouched."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(4)
        sock.setblocking(False)
        yield sock


def _nobody_connected(sock: socket.socket) -> bool:
    try:
        conn, _ = sock.accept()
    except BlockingIOError:
        return True
    conn.close()
    return False


@pytest.mark.parametrize("flags, env, expected", [
    (["--mqtt", "mqtt://{ADDR}", "--mqtt-username", "fw", "--mqtt-password-env", "PW"], {"PW": "s3cret-pw"},
     "--mqtt-username: would be sent in clear to mqtt://{ADDR} (MQTT without TLS): use --mqtt mqtts://HOST[:PORT] "
     "(plain MQTT is for test brokers only)"),
    (["--mqtt", "{ADDR}", "--mqtt-password-env", "PW"], {"PW": "s3cret-pw"},
     "--mqtt-password-env: would be sent in clear to {ADDR} (MQTT without TLS)"),
    (["--mqtt", "{ADDR}", "--mqtt-ca", "{CA}"], {},
     "--mqtt-ca: only for a TLS broker, and --mqtt {ADDR} is plain MQTT: use --mqtt mqtts://HOST[:PORT]"),
    (["--mqtt", "mqtts://fw:s3cret-pw@{ADDR}"], {},
     "--mqtt: a user name or password in the broker address is refused (it would show in ps and in logs): "
     "give --mqtt-username and --mqtt-password-env instead"),
    (["--mqtt", "fw:s3cret-pw@{ADDR}"], {}, "--mqtt: a user name or password in the broker address is refused"),
    (["--mqtt", "https://{ADDR}"], {},
     "--mqtt: expected mqtts://HOST[:PORT], mqtt://HOST[:PORT] or HOST[:PORT], got 'https://{ADDR}'"),
    (["--mqtt", "mqtts://127.0.0.1:99999"], {}, "--mqtt: expected mqtts://HOST[:PORT]"),
    (["--mqtt", "mqtts://{ADDR}/oc2"], {}, "--mqtt: expected mqtts://HOST[:PORT]"),
    (["--mqtt", "mqtts://"], {}, "--mqtt: expected mqtts://HOST[:PORT], mqtt://HOST[:PORT] or HOST[:PORT]"),
    (["--mqtt", "mqtts://{ADDR}", "--mqtt-client-cert", "{CERT}"], {},
     "--mqtt-client-cert and --mqtt-client-key go together"),
    (["--mqtt", "mqtts://{ADDR}", "--mqtt-client-key", "{KEY}"], {},
     "--mqtt-client-cert and --mqtt-client-key go together"),
    (["--mqtt", "mqtts://{ADDR}", "--mqtt-ca", "{MISSING}"], {}, "--mqtt-ca: {MISSING}: No such file or directory"),
    (["--mqtt", "mqtts://{ADDR}", "--mqtt-client-cert", "{CERT}", "--mqtt-client-key", "{MISSING}"], {},
     "--mqtt-client-key: {MISSING}: No such file or directory"),
    (["--mqtt", "mqtts://{ADDR}", "--mqtt-client-cert", "{CERT}", "--mqtt-client-key", "{DIR}"], {},
     "--mqtt-client-key: {DIR}: Is a directory"),
    (["--mqtt", "mqtts://{ADDR}", "--mqtt-ca", "{JUNK}"], {}, "--mqtt-ca {JUNK}: not a usable PEM CA bundle"),
    (["--mqtt", "mqtts://{ADDR}", "--mqtt-client-cert", "{CERT}", "--mqtt-client-key", "{OTHERKEY}"], {},
     "--mqtt-client-cert {CERT} / --mqtt-client-key {OTHERKEY}: not a usable PEM certificate and matching key"),
    (["--mqtt", "mqtts://{ADDR}", "--mqtt-username", "fw", "--mqtt-password-env", "PW"], {},
     "--mqtt-password-env: the environment variable it names is not set"),
    (["--mqtt", "mqtts://{ADDR}", "--mqtt-username", "fw", "--mqtt-password-env", "PW"], {"PW": ""},
     "--mqtt-password-env: the environment variable it names is empty"),
    (["--mqtt", "mqtts://{ADDR}", "--mqtt-username", "fw", "--mqtt-password-env", "s3cret-pw!"], {},
     "--mqtt-password-env: expects the NAME of an environment variable"),
    (["--mqtt", "mqtts://{ADDR}", "--mqtt-password-env", "PW"], {"PW": "s3cret-pw"},
     "--mqtt-password-env: needs --mqtt-username"),
    (["--listen", "127.0.0.1:0", "--mqtt-username", "fw"], {}, "--mqtt-username: only with --mqtt"),
])
def test_bad_mqtt_flags_exit_2_before_connecting(flags: list[str], env: dict[str, str], expected: str,
                                                 listener: socket.socket, pki: Pki, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a pem\n")
    swap = {"ADDR": f"127.0.0.1:{listener.getsockname()[1]}", "CA": pki.ca_cert, "CERT": pki.client_cert,
            "KEY": pki.client_key, "OTHERKEY": pki.other_server_key, "MISSING": str(tmp_path / "missing.pem"),
            "DIR": str(tmp_path), "JUNK": str(junk)}

    def fill(text: str) -> str:
        return text.format_map(swap)

    monkeypatch.delenv("PW", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = main(["consumer", *map(fill, flags)])
    out, err = capsys.readouterr()
    assert code == 2 and out == "", err
    assert err.startswith(f"fn-openc2 consumer: {fill(expected)}"), err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "s3cret-pw" not in err                          # a password is never echoed, wherever it was written
    assert _nobody_connected(listener)


def test_a_refused_flag_exits_2_from_the_real_process(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    result = subprocess.run([*CLI, "--mqtt", f"mqtts://fw:s3cret-pw@127.0.0.1:{port}"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("fn-openc2 consumer: --mqtt: a user name or password in the broker address "
                                    "is refused") and "s3cret-pw" not in result.stderr
    assert _nobody_connected(listener)


@pytest.mark.parametrize("value, url, tls", [
    ("mqtts://broker.example", "mqtts://broker.example:8883", True),
    ("mqtts://broker.example:18883/", "mqtts://broker.example:18883", True),
    ("mqtt://broker.example", "mqtt://broker.example:1883", False),
    ("broker.example:1884", "mqtt://broker.example:1884", False),
    ("mqtts://[::1]", "mqtts://[::1]:8883", True),
])
def test_broker_forms_and_their_default_ports(value: str, url: str, tls: bool, pki: Pki) -> None:
    from fn_openc2.lib.cli.cmd_consumer import broker_access
    from fn_openc2.lib.cli.main import build_parser

    access = broker_access(build_parser().parse_args(["consumer", "--mqtt", value, "--mqtt-ca", pki.ca_cert]
                                                     if tls else ["consumer", "--mqtt", value]))
    assert access is not None and access.url == url and (access.tls is not None) == tls
    if access.tls is not None:      # the producer's client context: verified, host name checked, TLS 1.2+
        assert access.tls.verify_mode == ssl.CERT_REQUIRED and access.tls.check_hostname
        assert access.tls.minimum_version >= ssl.TLSVersion.TLSv1_2
