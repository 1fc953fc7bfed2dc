"""``fn-openc2 query``: ``query features`` to a consumer, print the answers."""
from __future__ import annotations

import argparse
import sys

from fn_openc2.lib.language import FEATURES
from fn_openc2.lib.cli.util import (
    EXIT_CODES, EXIT_USAGE, UsageError, add_consumer_arguments, settings_and_consumers, report,
)
from fn_openc2.lib.producer.errors import ConfigError


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("query", help="query features of a consumer",
                                   description="Send 'query features' and print the answers as JSON. Without "
                                               "FEATURE, all four are asked for; a consumer that refuses some "
                                               "by name is asked once more without them.",
                                   epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_consumer_arguments(parser)
    parser.add_argument("features", metavar="FEATURE", nargs="*",
                        help=f"one of {', '.join(FEATURES)} (default: all)")
    parser.add_argument("--no-features", action="store_true",
                        help="send an empty features list (a liveness check: answer is a bare 200)")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from fn_openc2.lib.producer.producer import Producer

    unknown = [f for f in args.features if f not in FEATURES]
    if unknown:
        print(f"error: FEATURE: {unknown[0]!r} is not one of {', '.join(FEATURES)}", file=sys.stderr)
        return EXIT_USAGE
    features: tuple[str, ...] = () if args.no_features else tuple(dict.fromkeys(args.features)) or FEATURES
    try:
        settings, consumers = settings_and_consumers(args)
        producer = Producer(settings)
    except (ConfigError, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    with producer:
        outcome = producer.query_features(consumers, features)
    return report(outcome)
