"""The ``fn-openc2`` console script.

Each subcommand lives in its own module of this package, exposing
``add_parser(subparsers)`` (which sets ``func=run`` on its parser) and
``run(args) -> int``. Exit codes: 0 success, 1 the operation failed
(invalid document, a consumer answered 4xx/5xx, failed or stayed silent, bad
signature), 2 usage or invalid input (nothing sent).
"""
from __future__ import annotations

import argparse
import importlib
import sys

SUBCOMMANDS = ("validate", "sign", "verify", "send", "query", "consumer", "demo", "probe", "grade")


def build_parser() -> argparse.ArgumentParser:
    from fn_openc2.lib.cli.util import EXIT_CODES

    parser = argparse.ArgumentParser(prog="fn-openc2", description="OpenC2 producer, consumer and tools",
                                     epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"fn_openc2.lib.cli.cmd_{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"fn_openc2.lib.cli.cmd_{name}":
                raise
            continue
        module.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args))
    except BrokenPipeError:          # output piped into head & co: stop quietly
        from fn_openc2.lib.cli.util import quiet_stdout
        quiet_stdout()
        return 1


if __name__ == "__main__":
    sys.exit(main())
