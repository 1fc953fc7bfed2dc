"""``fn-openc2 query``: ``query features`` to a consumer, print the answers."""
from __future__ import annotations

import argparse
import sys

from fn_openc2.lib.language import FEATURES
from fn_openc2.lib.cli.util import EXIT_USAGE, consumer_command, send_and_report


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    parser = consumer_command(subparsers, "query", summary="query features of a consumer",
                              description="Send 'query features' and print the answers as JSON. Without FEATURE, "
                                          "all four are asked for; a consumer that refuses some by name is asked "
                                          "once more without them.")
    parser.add_argument("features", metavar="FEATURE", nargs="*",
                        help=f"one of {', '.join(FEATURES)} (default: all)")
    parser.add_argument("--no-features", action="store_true",
                        help="send an empty features list (a liveness check: answer is a bare 200)")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    unknown = [f for f in args.features if f not in FEATURES]
    if unknown:
        print(f"error: FEATURE: {unknown[0]!r} is not one of {', '.join(FEATURES)}", file=sys.stderr)
        return EXIT_USAGE
    features: tuple[str, ...] = () if args.no_features else tuple(dict.fromkeys(args.features)) or FEATURES
    return send_and_report(args, lambda producer, consumers: producer.query_features(consumers, features))
