"""`fn-openc2 consumer`: run the reference consumer until interrupted, so
operators can rehearse a producer against an honest SLPF/ER actuator."""
from __future__ import annotations

import argparse
import os
import signal
import ssl
import sys
import threading
from typing import Any

from fn_openc2.lib.consumer.dialects import DIALECTS, KNOBS


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("consumer", help="run the reference OpenC2 consumer (SLPF/ER simulator)")
    parser.add_argument("--listen", metavar="HOST:PORT", help="HTTPS listener (port 0: any free port)")
    parser.add_argument("--tls-cert", metavar="F", help="server certificate PEM (plain HTTP without it)")
    parser.add_argument("--tls-key", metavar="F", help="server private key PEM")
    parser.add_argument("--client-ca", metavar="F", help="require client certificates signed by this CA")
    parser.add_argument("--dialect", default="https-v1.1", choices=sorted(DIALECTS))
    parser.add_argument("--mqtt", metavar="HOST:PORT", help="also answer on this MQTT v5 broker")
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


def run(args: argparse.Namespace) -> int:
    from fn_openc2.lib.consumer import Actuator, HttpsConsumerServer

    if not args.listen and not args.mqtt:
        print("fn-openc2 consumer: give --listen HOST:PORT and/or --mqtt HOST:PORT", file=sys.stderr)
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
        broker = _host_port(args.mqtt, "--mqtt") if args.mqtt else None
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
            mqtt = MqttConsumer(actuator, broker[0], broker[1], topics=args.topic,
                                response_topic=args.response_topic).start()
            print(f"subscribed on mqtt://{broker[0]}:{broker[1]} to {', '.join(mqtt.topics)}", flush=True)
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
