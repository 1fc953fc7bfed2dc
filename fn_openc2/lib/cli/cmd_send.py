"""``fn-openc2 send``: send one command file to a consumer, print the answers."""
from __future__ import annotations

import argparse
import sys

from fn_openc2.lib.cli.util import EXIT_USAGE, consumer_command, send_and_report


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    parser = consumer_command(subparsers, "send", summary="send one OpenC2 command to a consumer and print the "
                                                         "response(s)",
                              description="Send one command (bare command JSON) and print the responses as JSON "
                                          "on stdout, one line per answer on stderr (the consumer's status and "
                                          "status text first).")
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
    return send_and_report(args, lambda producer, consumers: producer.send(command, consumers))
