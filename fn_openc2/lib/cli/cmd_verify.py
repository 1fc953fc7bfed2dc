"""``fn-openc2 verify``: check a message's JWS detached signature over its JCS form."""
from __future__ import annotations


import argparse
import sys

from fn_openc2.lib.security import KeyLoadError, SignatureError, load_public_key, verify_message

from .cmd_sign import decode_object
from .cmd_validate import InputFileError, display_name, read_input


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "verify",
        help="verify an OpenC2 message signature",
        description="Exit 0 when the signature verifies, 1 when not (reason on stderr), 2 bad key or input.",
    )
    parser.add_argument(
        "--key", required=True, metavar="PUBLIC.pem", help="public key, certificate, or private key PEM"
    )
    parser.add_argument("message", metavar="MESSAGE.json", help='signed message file, or "-" for stdin')
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    shown = display_name(args.message)
    try:
        key = load_public_key(args.key)
        data = read_input(args.message)
    except (KeyLoadError, InputFileError) as exc:
        print(f"fn-openc2 verify: {exc}", file=sys.stderr)
        return 2
    message = decode_object(data, shown, "verify")
    if message is None:
        return 2
    try:
        header = verify_message(message, key)
    except SignatureError as exc:
        print(f"{shown}: signature NOT verified: {exc.reason}", file=sys.stderr)
        return 1
    kid = header.get("kid")
    print(f"{shown}: signature verified ({header['alg']}" + (f", kid={kid})" if isinstance(kid, str) else ")"))
    return 0
