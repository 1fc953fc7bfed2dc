"""``fn-openc2 demo``: thin over ``fn_openc2.lib.demo.run``."""
from __future__ import annotations

import argparse
import importlib.util
import sys

EXIT_INTERRUPTED = 130
EXIT_USAGE = 2
DEMO_MODULES = ("requests_mock", "rich")
"""What the ``demo`` extra installs; the app itself (and App Host's image) has none of it."""
INSTALL_HINT = "pip install 'fn_openc2[demo]'"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "demo", help="the app's main job end to end on this machine",
        description="Start a throwaway HTTPS firewall and an MQTT fleet, run the app's real SOAR functions "
                    "against a sample incident (offline SOAR), show the notes and data tables, and check "
                    "every step. Exit 0 only when every check passed.")
    parser.add_argument("--no-mqtt", action="store_true", help="leave out the MQTT fleet (and Mosquitto)")
    parser.add_argument("--report", metavar="FILE", help="also write the checks, notes and rows as JSON")
    parser.add_argument("--verbose", action="store_true", help="log what the app and resilient-circuits do")
    parser.set_defaults(func=run)
    return parser


def missing_demo_modules() -> list[str]:
    """The demo extra's modules that are not installed."""
    missing = []
    for name in DEMO_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):   # ValueError: a module object without a spec
            found = False
        if not found:
            missing.append(name)
    return missing


def run(args: argparse.Namespace) -> int:
    missing = missing_demo_modules()
    if missing:
        print(f"fn-openc2 demo needs the demo extra ({', '.join(missing)} not installed). "
              f"Install it with:\n    {INSTALL_HINT}", file=sys.stderr)
        return EXIT_USAGE
    from fn_openc2.lib.demo.run import run_demo

    try:
        return run_demo(mqtt=not args.no_mqtt, report=args.report, verbose=args.verbose)
    except KeyboardInterrupt:
        print("demo interrupted; everything it started was stopped")
        return EXIT_INTERRUPTED
