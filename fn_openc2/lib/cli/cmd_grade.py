"""``fn-openc2 grade NAME``: run the conformance battery against a configured consumer."""
from __future__ import annotations

import argparse
import os
import sys

from fn_openc2.lib.cli.util import DEFAULT_CONFIG, add_json_flag, print_report, quiet_transfer_log, report_command

EXIT_PASSED, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    parser = report_command(
        subparsers, "grade", summary="grade a configured consumer against the OpenC2 specs' observable MUSTs and "
                                     "SHOULDs",
        description="Run a conformance battery against [fn_openc2:NAME]: query features (LS v2.0 §4.1), "
                    "request_id echo, status codes, 501 for an unlisted pair, 400 for a malformed command, "
                    "transfer headers, signatures. Each check names its clause. Read-only unless "
                    "--allow-changes is given together with --target.",
        exit_codes="exit codes:\n  0  no MUST or SHOULD failed (n.a. and MAY checks do not count)\n"
               "  1  at least one check failed\n  2  bad input or configuration: nothing was sent")
    parser.add_argument("name", metavar="NAME", help="consumer section [fn_openc2:NAME] of the app.config")
    parser.add_argument("--config", default=None, help=f"app.config to read (default {DEFAULT_CONFIG})")
    parser.add_argument("--allow-changes", action="store_true",
                        help="also run state-changing checks (deny, then undone) against --target")
    parser.add_argument("--target", metavar="ADDRESS",
                        help="IP address or network the state-changing checks may deny for a moment")
    add_json_flag(parser, "report")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from fn_openc2.lib.onboard.grade import GradeInputError, grade
    from fn_openc2.lib.producer.appconfig import settings_from_file
    from fn_openc2.lib.producer.errors import ConfigError
    from fn_openc2.lib.transfer import TransferError

    path = os.path.expanduser(args.config or DEFAULT_CONFIG)
    if not os.path.isfile(path):
        print(f"error: --config: {path} does not exist", file=sys.stderr)
        return EXIT_USAGE
    try:
        settings = settings_from_file(path)
        with quiet_transfer_log():           # the report says it all, once
            report = grade(settings, args.name, allow_changes=args.allow_changes, target=args.target)
    except (ConfigError, GradeInputError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except TransferError as exc:           # the transport could not even be set up from the section
        print(f"error: {exc.detail}", file=sys.stderr)
        return EXIT_USAGE
    print_report(report, args.json)
    return EXIT_PASSED if report.passed else EXIT_FAILED
