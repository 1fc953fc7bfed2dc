"""The demo's machine room: a throwaway PKI and signing keys, one HTTPS
firewall (mutual TLS, signed commands required, signed responses), an MQTT
fleet of EDR agents behind a local Mosquitto, and the app.config that
points the app at them.

Everything is started by ``Stack.start`` and stopped by ``Stack.stop``, which
is safe to call at any point (also half way through a failed start), so the
caller can wrap the whole run in try/finally.
"""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Callable

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from fn_openc2.lib.consumer import Actuator, HttpsConsumerServer
from fn_openc2.lib.demo import scenario
from fn_openc2.lib.transfer.devpki import Pki, make_pki

PRODUCER_ID = "soar@example.com"
COLLECT_SECONDS = 3


def write_es256_pair(directory: Path, stem: str) -> tuple[str, str]:
    """A fresh P-256 key as <stem>.pem (private, 0600) and <stem>.pub (public)."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = directory / f"{stem}.pem"
    public = directory / f"{stem}.pub"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    private.chmod(0o600)
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return str(private), str(public)


@dataclass
class Stack:
    """What the demo runs against; every field is None until started."""

    workdir: str = ""
    pki: Pki | None = None
    producer_key: str = ""
    producer_pub: str = ""
    fw_key: str = ""
    fw_pub: str = ""
    firewall: Actuator | None = None
    fw_server: HttpsConsumerServer | None = None
    broker: Any = None                      # transfer.broker.Broker
    fleet: Any = None                       # consumer.Fleet
    agents: list[Actuator] = field(default_factory=list)
    mqtt_skipped: str | None = None         # why the MQTT part is not running

    # ---------------------------------------------------------------- start / stop
    def start(self, *, mqtt: bool = True, say: Callable[[str], None] = lambda _m: None) -> Stack:
        """Bring everything up; on any error stop what already runs and re-raise."""
        try:
            self._start(mqtt, say)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, mqtt: bool, say: Callable[[str], None]) -> None:
        self.workdir = tempfile.mkdtemp(prefix="fn-openc2-demo-")
        root = Path(self.workdir)
        say("generating a throwaway PKI and ES256 signing keys")
        self.pki = make_pki(root / "pki")
        self.producer_key, self.producer_pub = write_es256_pair(root, "producer")
        self.fw_key, self.fw_pub = write_es256_pair(root, "fw1")

        say("starting firewall fw1 (HTTPS, mutual TLS, signed commands and responses)")
        self.firewall = Actuator("fw1.example.com", profiles=("slpf",), signing_key=self.fw_key,
                                 verify_key=self.producer_pub)
        self.fw_server = HttpsConsumerServer(self.firewall, "127.0.0.1", 0, tls_cert=self.pki.server_cert,
                                             tls_key=self.pki.server_key, client_ca=self.pki.ca_cert).start()
        if mqtt:
            self._start_mqtt(root, say)
        else:
            self.mqtt_skipped = "MQTT part turned off (--no-mqtt)"

    def _start_mqtt(self, root: Path, say: Callable[[str], None]) -> None:
        from fn_openc2.lib.transfer.broker import BrokerError, find_mosquitto, start_mosquitto
        try:
            find_mosquitto()
        except BrokerError as exc:
            self.mqtt_skipped = f"MQTT part skipped: {exc}"
            return
        say("starting Mosquitto and an MQTT fleet of 3 EDR agents")
        (root / "mosquitto").mkdir()
        self.broker = start_mosquitto(workdir=str(root / "mosquitto"))
        from fn_openc2.lib.consumer.mqtt_consumer import Fleet
        self.agents = [Actuator(name, profiles=("slpf", "er")) for name in scenario.EDGE_AGENTS]
        self.fleet = Fleet(self.agents, self.broker.host, self.broker.port, client_id="demo-edge-fleet").start()

    def stop(self) -> None:
        """Stop whatever runs, in reverse order; never raises; removes the temp dir."""
        for name in ("fleet", "broker", "fw_server"):
            thing = getattr(self, name)
            setattr(self, name, None)
            if thing is None:
                continue
            try:
                thing.stop()
            except Exception:
                pass
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    @property
    def mqtt(self) -> bool:
        return self.fleet is not None

    # ---------------------------------------------------------------- app.config
    def config_text(self) -> str:
        """app.config for the app: producer settings, fw1, the fleet, and the offline SOAR."""
        assert self.pki is not None and self.fw_server is not None
        text = f"""[resilient]
resilient_mock = fn_openc2.lib.offline_soar.mock.OfflineSoar
host = offline-soar.invalid
email = analyst@example.com
password = offline
no_prompt_password = True
cafile = false
loglevel = WARNING

[fn_openc2]
producer_id = {PRODUCER_ID}
default_consumers = {scenario.FW}
protected_networks = {', '.join(scenario.PROTECTED_NETWORKS)}
signing_key = {self.producer_key}
signing_alg = ES256
timeout = 10
retries = 1

[fn_openc2:{scenario.FW}]
transport = https
url = {self.fw_server.url}
dialect = https-v1.1
device_id = {self.firewall.device_id if self.firewall else scenario.FW}
profiles = slpf
verify = {self.pki.ca_cert}
client_auth_cert = {self.pki.client_cert}
client_auth_key = {self.pki.client_key}
response_verify_key = {self.fw_pub}
"""
        if self.mqtt:
            text += f"""
[fn_openc2:{scenario.EDGE}]
transport = mqtt
broker = mqtt://{self.broker.host}:{self.broker.port}
topic = oc2/cmd/ap/er
profiles = er
expected_responders = {', '.join(scenario.EDGE_AGENTS)}
collect_seconds = {COLLECT_SECONDS}
"""
        return text
