"""``fn-openc2 probe URL``: find the dialect a consumer speaks and print its app.config section."""
from __future__ import annotations

import argparse
import os
import sys

from fn_openc2.lib.cli.util import (
    UsageError,
    add_json_flag,
    password_from_env,
    print_report,
    quiet_transfer_log,
    report_command,
)
from fn_openc2.lib.transfer.model import PRODUCER_ID

EXIT_FOUND, EXIT_NONE, EXIT_USAGE = 0, 1, 2


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    parser = report_command(
        subparsers, "probe", summary="find the wire dialect of a consumer and print its app.config section",
        description="Try the known OpenC2 dialects against a consumer with 'query features' only (never a "
                    "state-changing command), in a bounded number of attempts, and print every attempt with "
                    "the consumer's own answer, the features found and the [fn_openc2:NAME] section that "
                    "reaches it (only keys that differ from the defaults).",
        exit_codes="exit codes:\n  0  a working dialect was found (the section is printed)\n"
               "  1  none worked (every attempt is explained)\n  2  bad input: nothing was sent\n\n"
               "Secrets (--password, --bearer-token) may also come from the environment variables "
               "FN_OPENC2_PASSWORD and FN_OPENC2_BEARER_TOKEN; they are never printed.")
    parser.add_argument("url", metavar="URL",
                        help="https://host[:port][/path] (http:// for test consumers) or mqtt[s]://broker[:port]; "
                             "a path in the URL is the only path tried")
    parser.add_argument("--name", default="consumer", help="consumer name for the section (default: consumer)")
    parser.add_argument("--ca", help="CA bundle (PEM) that signed the consumer's or broker's certificate")
    parser.add_argument("--cert", help="client certificate (PEM) for mutual TLS")
    parser.add_argument("--key", help="private key (PEM) of --cert")
    parser.add_argument("--key-password-env", metavar="VAR",
                        help="name of an environment variable holding the password of an encrypted --key")
    parser.add_argument("--user", help="HTTP basic auth user, or MQTT user name")
    parser.add_argument("--password", help="HTTP basic auth or MQTT password (prefer FN_OPENC2_PASSWORD)")
    parser.add_argument("--bearer-token", help="HTTP bearer token (prefer FN_OPENC2_BEARER_TOKEN)")
    parser.add_argument("--topic", action="append", default=[], metavar="TOPIC",
                        help="MQTT command topic candidate (repeat; default: oc2/cmd/all, then oc2/cmd)")
    parser.add_argument("--response-topic", action="append", default=[], metavar="TOPIC",
                        help="MQTT topic the consumer may answer on, besides oc2/rsp and oc2/rsp/<producer_id>")
    parser.add_argument("--profile", default="slpf",
                        help="profile named when learning the profile encoding (default slpf, or the first "
                             "profile the consumer lists)")
    parser.add_argument("--producer-id", help=f"headers.from of the queries (default {PRODUCER_ID})")
    parser.add_argument("--signing-key", help="private key (PEM) to sign the queries with")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait per HTTPS attempt (default 5)")
    parser.add_argument("--collect-seconds", type=float, default=3.0,
                        help="MQTT: seconds to collect answers per attempt (default 3)")
    parser.add_argument("--max-attempts", type=int, default=16, help="most attempts in all (default 16)")
    add_json_flag(parser, "result")
    parser.set_defaults(func=run)
    return parser


def _split(values: list[str]) -> tuple[str, ...]:
    return tuple(v.strip() for item in values for v in item.split(",") if v.strip())


def run(args: argparse.Namespace) -> int:
    from fn_openc2.lib.onboard.probe import ProbeInputError, ProbeRequest, probe

    for flag, path in (("--ca", args.ca), ("--cert", args.cert), ("--key", args.key),
                       ("--signing-key", args.signing_key)):
        if path and not os.path.isfile(path):
            print(f"error: {flag}: {path}: not found or not a file", file=sys.stderr)
            return EXIT_USAGE
    if args.timeout <= 0 or args.collect_seconds <= 0:
        print("error: --timeout and --collect-seconds must be positive", file=sys.stderr)
        return EXIT_USAGE
    try:
        key_password = password_from_env("--key-password-env", args.key_password_env)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    request = ProbeRequest(
        url=args.url, name=args.name, topics=_split(args.topic), response_topics=_split(args.response_topic),
        profile=args.profile, ca=args.ca, cert=args.cert, key=args.key, key_password=key_password,
        bearer_token=args.bearer_token or os.environ.get("FN_OPENC2_BEARER_TOKEN") or None,
        user=args.user, password=args.password or os.environ.get("FN_OPENC2_PASSWORD") or None,
        producer_id=args.producer_id, signing_key=args.signing_key, timeout=args.timeout,
        collect_seconds=args.collect_seconds, max_attempts=args.max_attempts)
    if args.url.startswith(("http://", "mqtt://")):
        print(f"warning: {args.url} is plain {'HTTP' if args.url.startswith('http') else 'MQTT'}, without "
              "TLS: for test consumers only", file=sys.stderr)
    try:
        with quiet_transfer_log():          # said once above, not per attempt
            result = probe(request)
    except ProbeInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print_report(result, args.json)
    return EXIT_FOUND if result.found else EXIT_NONE
