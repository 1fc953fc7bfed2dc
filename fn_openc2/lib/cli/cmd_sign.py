"""``fn-openc2 sign``: add a JWS detached signature (over the JCS form) to a message file."""
from __future__ import annotations

from typing import Any

import argparse
import json
import os
import sys

from fn_openc2.lib.security import (
    ALGORITHMS,
    KeyLoadError,
    SignatureError,
    default_algorithm_for,
    load_private_key,
    sign_message,
)

from .cmd_validate import InputFileError, display_name, read_input


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "sign",
        help="sign an OpenC2 message (JWS detached over JCS)",
        description="Print MESSAGE with its \"signature\" (LS v2.0 section 3.3.4). Exit 0 signed, 2 bad key or input.",
    )
    parser.add_argument("--key", required=True, metavar="PRIVATE.pem", help="private key PEM (EC P-256, RSA, Ed25519)")
    parser.add_argument("--alg", choices=ALGORITHMS, help="JWS algorithm (default: ES256 / RS256 / EdDSA by key type)")
    parser.add_argument("--kid", help='"kid" for the protected header (e.g. the producer id)')
    parser.add_argument(
        "--password-env", metavar="VAR", help="name of an environment variable holding the key's password"
    )
    parser.add_argument("--indent", type=int, default=None, help="pretty-print with this indent")
    parser.add_argument("message", metavar="MESSAGE.json", help='message file, or "-" for stdin')
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    password = None
    if args.password_env:
        value = os.environ.get(args.password_env)
        if value is None:
            print(f"fn-openc2 sign: --password-env: variable {args.password_env} is not set", file=sys.stderr)
            return 2
        password = value.encode("utf-8")
    try:
        key = load_private_key(args.key, password=password)
        data = read_input(args.message)
    except (KeyLoadError, InputFileError) as exc:
        print(f"fn-openc2 sign: {exc}", file=sys.stderr)
        return 2
    message = decode_object(data, display_name(args.message), "sign")
    if message is None:
        return 2
    try:
        signed = sign_message(message, key, alg=args.alg or default_algorithm_for(key), kid=args.kid)
    except SignatureError as exc:
        print(f"fn-openc2 sign: {display_name(args.message)}: {exc.reason}", file=sys.stderr)
        return 2
    print(json.dumps(signed, indent=args.indent, ensure_ascii=False, separators=None if args.indent else (",", ":")))
    return 0


def decode_object(data: bytes, shown: str, command: str) -> dict[str, Any] | None:
    """Strict I-JSON decode to an object; prints "FILE: PATH: problem" lines and returns None when not."""
    from fn_openc2.lib.language import OpenC2ValidationError, loads

    try:
        doc = loads(data)
    except OpenC2ValidationError as exc:
        for issue in exc.issues:
            print(f"fn-openc2 {command}: {shown}: {issue.path or '(root)'}: {issue.message}", file=sys.stderr)
        return None
    if not isinstance(doc, dict):
        print(f"fn-openc2 {command}: {shown}: (root): a message must be a JSON object", file=sys.stderr)
        return None
    return doc
