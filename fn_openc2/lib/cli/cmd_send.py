"""``fn-openc2 send``: send one command file to a consumer, print the answers."""
from __future__ import annotations

import argparse
import sys

from fn_openc2.lib.cli.util import (
    EXIT_CODES, EXIT_USAGE, UsageError, add_consumer_arguments, settings_and_consumers, report,
)
from fn_openc2.lib.producer.errors import ConfigError


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("send", help="send one OpenC2 command to a consumer and print the response(s)",
                                   description="Send one command (bare command JSON) and print the responses "
                                               "as JSON on stdout, one line per answer on stderr (the "
                                               "consumer's status and status text first).",
                                   epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_consumer_arguments(parser)
    parser.add_argument("file", metavar="FILE", help="command JSON file, or - for standard input")
    parser.set_defaults(func=run)
    return parser


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as handle:
        return handle.read()


def run(args: argparse.Namespace) -> int:
    from fn_openc2.lib.language import OpenC2ValidationError, parse_command
    from fn_openc2.lib.producer.producer import Producer

    name = "<stdin>" if args.file == "-" else args.file
    try:
        data = _read(args.file)
    except OSError as exc:
        print(f"error: {name}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        command = parse_command(data)
    except OpenC2ValidationError as exc:
        for issue in exc.issues:
            print(f"{name}: {issue.path or '(document)'}: {issue.message}", file=sys.stderr)
        return EXIT_USAGE
    try:
        settings, consumers = settings_and_consumers(args)
        producer = Producer(settings)
    except (ConfigError, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    with producer:
        outcome = producer.send(command, consumers)
    return report(outcome)
