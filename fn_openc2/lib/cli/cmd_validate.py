"""``fn-openc2 validate``: check OpenC2 documents against LS v2.0 and the shipped profiles.

One line per problem, "FILE: PATH: message", so an operator can fix a file in
one pass; exit 0 all valid, 1 some invalid, 2 usage (including an unreadable file).
Notes that are not errors ("FILE: PATH: warning: message": IPv6 text read in a
non-canonical form, profile contents skipped by --lenient-profiles) leave the exit
code alone.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any

from fn_openc2.lib.errors import OpenC2Error

KINDS = ("command", "response", "message")
STDIN = "-"


class InputFileError(OpenC2Error):
    """A file could not be read (a usage error: exit 2). Not soar.inputs.InputError (a function input)."""


def read_input(name: str) -> bytes:
    """The bytes of FILE, or of stdin for "-"; InputFileError names the file."""
    if name == STDIN:
        return sys.stdin.buffer.read()
    try:
        with open(name, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise InputFileError(f"{name}: file not found") from None
    except IsADirectoryError:
        raise InputFileError(f"{name}: is a directory") from None
    except OSError as exc:
        raise InputFileError(f"{name}: cannot read ({exc.strerror})") from None


def display_name(name: str) -> str:
    return "<stdin>" if name == STDIN else name


def detect_kind(doc: Any) -> str | None:
    """message if it has headers/body, command if it has action, response if it has status."""
    if not isinstance(doc, dict):
        return None
    if "headers" in doc or "body" in doc:
        return "message"
    if "action" in doc:
        return "command"
    if "status" in doc:
        return "response"
    return None


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="validate OpenC2 commands, responses or messages",
        description="Validate OpenC2 JSON documents (LS v2.0 and actuator profiles). "
        'Use "-" to read stdin. Exit 0 valid, 1 invalid, 2 usage or unreadable file.',
    )
    parser.add_argument("--as", dest="kind", choices=KINDS, help="document kind (default: detect per file)")
    parser.add_argument("-v", "--verbose", action="store_true", help='also print "FILE: ok (kind)" for valid files')
    parser.add_argument("--lenient-profiles", action="store_true",
                        help="skip (with a warning) the contents of profiles LS v2.0 section 3.3.1.3 names but "
                             "this validator has no schema for (sbom, pac, ...); check everything else")
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.set_defaults(func=run)


Finding = tuple[str, str]


def check_document(data: bytes, kind: str | None, *, lenient_profiles: bool = False
                   ) -> tuple[str | None, list[Finding], list[Finding]]:
    """Decode and validate; return (kind used, errors, warnings), each a list of (path, message)."""
    from fn_openc2.lib.language import OpenC2ValidationError, loads, review

    try:
        doc = loads(data)
    except OpenC2ValidationError as exc:
        return kind, [(issue.path, issue.message) for issue in exc.issues], []
    used = kind or detect_kind(doc)
    if used is None:
        return None, [("", 'cannot tell the document kind: expected "headers"/"body" (message), '
                           '"action" (command) or "status" (response); use --as')], []
    result = review(doc, used, lenient_profiles=lenient_profiles)
    return used, [(i.path, i.message) for i in result.issues], [(i.path, i.message) for i in result.notes]


def run(args: argparse.Namespace) -> int:
    if args.files.count(STDIN) > 1:
        print('fn-openc2 validate: "-" (stdin) can be given only once', file=sys.stderr)
        return 2
    unreadable = invalid = False
    for name in args.files:
        shown = display_name(name)
        try:
            data = read_input(name)
        except InputFileError as exc:
            print(f"fn-openc2 validate: {exc}", file=sys.stderr)
            unreadable = True
            continue
        kind, issues, warnings = check_document(data, args.kind, lenient_profiles=args.lenient_profiles)
        for path, message in issues:
            print(f"{shown}: {path or '(root)'}: {message}")
        for path, message in warnings:
            print(f"{shown}: {path or '(root)'}: warning: {message}")
        if issues:
            invalid = True
        elif args.verbose:
            print(f"{shown}: ok ({kind})")
    sys.stdout.flush()
    return 2 if unreadable else 1 if invalid else 0
