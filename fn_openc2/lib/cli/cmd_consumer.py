"""`fn-openc2 consumer`: run the reference consumer until interrupted, so
operators can rehearse a producer against an honest SLPF/ER actuator."""
from __future__ import annotations

import argparse
import os
import signal
import ssl
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

from fn_openc2.lib.cli.util import password_from_env
from fn_openc2.lib.consumer.dialects import DIALECTS, KNOBS
from fn_openc2.lib.transfer.address import BrokerAddress, broker_address, broker_url
from fn_openc2.lib.transfer.tls import ClientKeyError, client_context


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("consumer", help="run the reference OpenC2 consumer (SLPF/ER simulator)")
    parser.add_argument("--listen", metavar="HOST:PORT", help="HTTPS listener (port 0: any free port)")
    parser.add_argument("--tls-cert", metavar="F", help="server certificate PEM (plain HTTP without it)")
    parser.add_argument("--tls-key", metavar="F", help="server private key PEM")
    parser.add_argument("--client-ca", metavar="F", help="require client certificates signed by this CA")
    parser.add_argument("--dialect", default="https-v1.1", choices=sorted(DIALECTS))
    parser.add_argument("--mqtt", metavar="BROKER",
                        help="also answer on this MQTT v5 broker: mqtts://HOST[:PORT] (TLS, port 8883 by default), "
                             "mqtt://HOST[:PORT] (plain, 1883) or HOST:PORT (plain; plain MQTT is for test brokers)")
    parser.add_argument("--device-id", default="oc2-consumer@localhost", help="headers.from of the answers")
    parser.add_argument("--profiles", default="slpf,er", help="comma-separated: slpf, er")
    parser.add_argument("--signing-key", metavar="F", help="sign answers with this private key PEM")
    parser.add_argument("--verify-key", metavar="F",
                        help="producer's public key PEM: only signed commands that verify with it are "
                             "executed, others get 401")
    parser.add_argument("--rate-limit", type=float, help="advertise and enforce commands per minute")
    parser.add_argument("--max-age", type=float, default=300.0, metavar="SECONDS",
                        help="with --verify-key: how long a signed command stays acceptable (default 300)")
    parser.add_argument("--state-file", metavar="F",
                        help="with --verify-key: keep the replay memory in this file (survives a restart)")
    parser.add_argument("--max-connections", type=int, default=64, metavar="N",
                        help="connections served at once (default 64; more wait in the listen backlog)")
    broker = parser.add_argument_group(
        "MQTT broker access (with --mqtt; never a password on the command line: others see it in ps)")
    broker.add_argument("--mqtt-ca", metavar="F",
                        help="CA bundle PEM (file or c_rehash directory) the mqtts:// broker's certificate must "
                             "chain to (default: the system's CAs; the host name is always checked)")
    broker.add_argument("--mqtt-client-cert", metavar="F", help="client certificate PEM for mutual TLS (mqtts://)")
    broker.add_argument("--mqtt-client-key", metavar="F", help="its private key PEM (with --mqtt-client-cert)")
    broker.add_argument("--mqtt-client-key-password-env", metavar="NAME",
                        help="name of the environment variable holding the password of an encrypted "
                             "--mqtt-client-key")
    broker.add_argument("--mqtt-username", metavar="U", help="MQTT user name (refused over plain mqtt://)")
    broker.add_argument("--mqtt-password-env", metavar="NAME",
                        help="name of the environment variable holding the MQTT password (with --mqtt-username); "
                             "there is deliberately no flag taking the password itself")
    rehearse = parser.add_argument_group(
        "rehearse a consumer's habits (the names are the producer's app.config keys that cope with them)")
    for knob in KNOBS:
        if knob.flag_only:
            rehearse.add_argument(knob.flag, action="store_true", help=knob.help)
        else:
            rehearse.add_argument(knob.flag, choices=knob.choices, default=None, help=knob.help)
    rehearse.add_argument("--topic", action="append", metavar="TOPIC",
                          help="MQTT command topic to subscribe to (repeat; default: oc2/cmd/all, "
                               "oc2/cmd/ap/<profile>, oc2/cmd/device/<device id>; producer key: topic)")
    rehearse.add_argument("--response-topic", default="oc2/rsp", help="MQTT topic answers go to (default oc2/rsp)")
    parser.set_defaults(func=run)


def _host_port(value: str, flag: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"{flag}: expected HOST:PORT (port 0-65535), got {value!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


_CREDENTIAL_FLAGS = ("mqtt_username", "mqtt_password_env")
_ACCESS_FLAGS = ("mqtt_ca", "mqtt_client_cert", "mqtt_client_key", "mqtt_client_key_password_env",
                 *_CREDENTIAL_FLAGS)


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


@dataclass(frozen=True)
class BrokerAccess:
    """Where and how the consumer joins its MQTT broker, checked before anything connects."""

    host: str
    port: int
    tls: ssl.SSLContext | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return broker_url(self.host, self.port, self.tls is not None)


def _broker_address(value: str) -> BrokerAddress:
    """--mqtt in the app's broker grammar; a user name or password written in it is refused, never echoed."""
    if "@" in value:
        raise ValueError("--mqtt: a user name or password in the broker address is refused (it would show in ps "
                         "and in logs): give --mqtt-username and --mqtt-password-env instead")
    try:
        return broker_address(value)
    except ValueError as exc:
        raise ValueError(f"--mqtt: {exc}, got {value!r}") from None


def _readable(flag: str, path: str, directory_ok: bool = False) -> None:
    """A missing or unreadable file fails here, naming its flag, not later inside OpenSSL."""
    try:
        if directory_ok and os.path.isdir(path):
            os.listdir(path)
        else:
            with open(path, "rb"):
                pass
    except OSError as exc:
        raise ValueError(f"{flag}: {path}: {exc.strerror or exc}") from None


def broker_access(args: argparse.Namespace) -> BrokerAccess | None:
    """The --mqtt* flags as one checked whole (ValueError naming the flag), or None without --mqtt.
    Safe by default: credentials only over TLS, TLS always verified (hostname included), files
    loaded now, the password read from the environment and never echoed."""
    given = [d for d in _ACCESS_FLAGS if getattr(args, d, None) is not None]
    if not args.mqtt:
        if given:
            raise ValueError(f"{_flag(given[0])}: only with --mqtt")
        return None
    address = _broker_address(args.mqtt)
    host, port = address.host, address.port
    if not address.tls:
        secret = [d for d in given if d in _CREDENTIAL_FLAGS]
        if secret:
            raise ValueError(f"{_flag(secret[0])}: would be sent in clear to {args.mqtt} (MQTT without TLS): use "
                             "--mqtt mqtts://HOST[:PORT] (plain MQTT is for test brokers only)")
        if given:
            raise ValueError(f"{_flag(given[0])}: only for a TLS broker, and --mqtt {args.mqtt} is plain MQTT: "
                             "use --mqtt mqtts://HOST[:PORT]")
        return BrokerAccess(host, port)
    if bool(args.mqtt_client_cert) != bool(args.mqtt_client_key):
        raise ValueError("--mqtt-client-cert and --mqtt-client-key go together")
    if args.mqtt_username is not None and not args.mqtt_username.strip():
        raise ValueError("--mqtt-username: empty")
    if args.mqtt_password_env is not None and args.mqtt_username is None:
        raise ValueError("--mqtt-password-env: needs --mqtt-username")
    if args.mqtt_client_key_password_env is not None and args.mqtt_client_key is None:
        raise ValueError("--mqtt-client-key-password-env: needs --mqtt-client-key")
    password = password_from_env("--mqtt-password-env", args.mqtt_password_env)
    key_password = password_from_env("--mqtt-client-key-password-env", args.mqtt_client_key_password_env)
    if args.mqtt_ca:
        _readable("--mqtt-ca", args.mqtt_ca, directory_ok=True)
    for dest in ("mqtt_client_cert", "mqtt_client_key"):
        if getattr(args, dest):
            _readable(_flag(dest), getattr(args, dest))
    try:
        context = client_context(args.mqtt_ca or True, args.mqtt_client_cert, args.mqtt_client_key,
                                 key_password=key_password)
    except ClientKeyError as exc:
        raise ValueError(f"--mqtt-client-key {args.mqtt_client_key}: {exc} (--mqtt-client-key-password-env)"
                         ) from None
    except (ssl.SSLError, OSError, ValueError) as exc:     # ValueError: e.g. a password over 1023 bytes
        reason = getattr(exc, "reason", None) or exc
        try:
            client_context(args.mqtt_ca or True)
        except (ssl.SSLError, OSError):
            raise ValueError(f"--mqtt-ca {args.mqtt_ca}: not a usable PEM CA bundle ({reason})") from None
        raise ValueError(f"--mqtt-client-cert {args.mqtt_client_cert} / --mqtt-client-key {args.mqtt_client_key}: "
                         f"not a usable PEM certificate and matching key ({reason})") from None
    return BrokerAccess(host, port, context, args.mqtt_username, password)


def run(args: argparse.Namespace) -> int:
    from fn_openc2.lib.consumer import Actuator, HttpsConsumerServer

    if not args.listen and not args.mqtt:
        print("fn-openc2 consumer: give --listen HOST:PORT and/or --mqtt BROKER", file=sys.stderr)
        return 2
    if bool(args.tls_cert) != bool(args.tls_key):
        print("fn-openc2 consumer: --tls-cert and --tls-key go together", file=sys.stderr)
        return 2
    for flag, path in (("--tls-cert", args.tls_cert), ("--tls-key", args.tls_key), ("--client-ca", args.client_ca)):
        if path and not os.path.isfile(path):
            print(f"fn-openc2 consumer: {flag}: {path}: not found or not a file", file=sys.stderr)
            return 2
    try:
        from fn_openc2.lib.consumer.dialects import build_dialect

        profiles = tuple(p.strip() for p in args.profiles.split(",") if p.strip())
        wire = {k.name: getattr(args, k.name) for k in KNOBS if k.wire}
        habits = {k.name: getattr(args, k.name) for k in KNOBS if not k.wire}
        dialect = build_dialect(args.dialect, **wire)
        if args.max_connections < 1:
            raise ValueError(f"--max-connections: expected >= 1, got {args.max_connections}")
        actuator = Actuator(args.device_id, profiles=profiles, rate_limit=args.rate_limit,
                            signing_key=args.signing_key, verify_key=args.verify_key, max_age=args.max_age,
                            state_file=args.state_file, **habits)
        listen = _host_port(args.listen, "--listen") if args.listen else None
        broker = broker_access(args)
    except (ValueError, OSError) as exc:
        print(f"fn-openc2 consumer: {exc}", file=sys.stderr)
        return 2

    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    server = mqtt = None
    try:
        if listen:
            if not args.tls_cert:
                print("WARNING: no --tls-cert: plain HTTP, for testing only", file=sys.stderr)
            server = HttpsConsumerServer(actuator, listen[0], listen[1], tls_cert=args.tls_cert,
                                         tls_key=args.tls_key, client_ca=args.client_ca,
                                         dialect=dialect, max_connections=args.max_connections).start()
            print(f"listening on {server.url} ({args.dialect}) as {args.device_id}", flush=True)
        if broker:
            from fn_openc2.lib.consumer.mqtt_consumer import MqttConsumer
            if broker.tls is None:
                print("WARNING: plain MQTT without TLS: for test brokers only", file=sys.stderr)
            mqtt = MqttConsumer(actuator, broker.host, broker.port, topics=args.topic, tls=broker.tls,
                                username=broker.username, password=broker.password,
                                response_topic=args.response_topic).start()
            print(f"subscribed on {broker.url} to {', '.join(mqtt.topics)}", flush=True)
        stopping.wait()
    except ssl.SSLError as exc:             # loading the PEM files, before anything listened: invalid input
        print(f"fn-openc2 consumer: --tls-cert {args.tls_cert} / --tls-key {args.tls_key}"
              f"{f' / --client-ca {args.client_ca}' if args.client_ca else ''}: not a usable PEM certificate, "
              f"key or CA ({exc.reason or exc})", file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print(f"fn-openc2 consumer: {exc}", file=sys.stderr)
        return 1
    finally:
        if mqtt is not None:
            mqtt.stop()
        if server is not None:
            server.stop()
    print("stopped", flush=True)
    return 0
