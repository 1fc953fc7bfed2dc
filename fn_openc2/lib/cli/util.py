"""What the subcommands share: choosing the consumer (app.config section or an
ad-hoc URL) for ``send`` and ``query``, printing outcomes and reports, exit codes."""
from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from fn_openc2.lib.errors import OpenC2Error
from fn_openc2.lib.producer.appconfig import load_settings, settings_from_file
from fn_openc2.lib.producer.settings import SIGNING_ALGORITHMS, AppSettings
from fn_openc2.lib.producer.errors import ConfigError
from fn_openc2.lib.producer.outcome import CommandOutcome
from fn_openc2.lib.producer.routing import consumer_names
from fn_openc2.lib.transfer.dialects import ENVELOPES, STATUS_PLACES
from fn_openc2.lib.transfer.model import COMMAND_TOPIC, PRODUCER_ID

DEFAULT_CONFIG = os.path.join("~", ".resilient", "app.config")
ADHOC = "cli"

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

if TYPE_CHECKING:
    from fn_openc2.lib.producer.producer import Producer


_HTTPS_FLAGS = ("dialect", "path", "content_type", "accept", "status_in", "envelope")
_ADHOC_FLAGS = (*_HTTPS_FLAGS, "ca", "cert", "key", "key_password_env", "timeout", "profile_encoding", "topic",
                "expected_responders", "collect_seconds", "response_verify_key", "producer_id", "signing_key",
                "signing_alg")

EXIT_CODES = """exit codes:
  0  every awaited consumer answered with a 1xx/2xx status (or, for response_requested none, took the command)
  1  a consumer answered 4xx/5xx, failed (TLS, connection, timeout, unreadable or unverified answer) or stayed
     silent
  2  bad input or configuration: nothing was sent"""


class UsageError(OpenC2Error, ValueError):
    """Bad flags or input: exit 2 with this message."""


def consumer_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser], name: str, *, summary: str,
                     description: str) -> argparse.ArgumentParser:
    """A subcommand that talks to the consumers chosen by --consumer / --url (send, query)."""
    parser = subparsers.add_parser(name, help=summary, description=description, epilog=EXIT_CODES,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    add_consumer_arguments(parser)
    return parser


def send_and_report(args: argparse.Namespace, act: Callable[[Producer, list[str]], CommandOutcome]) -> int:
    """Open a Producer for the chosen consumers, ``act`` with it, print the outcome: the exit code
    (2 with the reason on stderr when the flags or app.config are wrong: nothing sent)."""
    from fn_openc2.lib.producer.producer import Producer

    try:
        settings, consumers = settings_and_consumers(args)
        producer = Producer(settings)
    except (ConfigError, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    with producer:
        outcome = act(producer, consumers)
    return report(outcome)


def add_consumer_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--consumer", action="append", metavar="NAME",
                       help="consumer section [fn_openc2:NAME] of the app.config (repeat or comma-separate; "
                            "'default' uses default_consumers)")
    where.add_argument("--url", help="ad-hoc consumer: https://host:port[/path] (http:// for test consumers), "
                                     "or mqtt[s]://broker:port")
    parser.add_argument("--config", default=None, help=f"app.config to read with --consumer (default {DEFAULT_CONFIG})")
    adhoc = parser.add_argument_group("ad-hoc consumer (--url)")
    adhoc.add_argument("--dialect", default=None, help="https-v1.1 (default) or https-v1.0")
    adhoc.add_argument("--path", default=None,
                       help="request path for a --url that names none (app.config path; default the dialect's "
                            "/.well-known/openc2); a --url naming a different path is a config error (exit 2)")
    adhoc.add_argument("--content-type", default=None, help="exact Content-Type to send (app.config content_type)")
    adhoc.add_argument("--accept", default=None, help="exact Accept header to send (app.config accept)")
    adhoc.add_argument("--status-in", default=None, choices=STATUS_PLACES,
                       help="where the consumer puts the OpenC2 status (app.config status_in)")
    adhoc.add_argument("--envelope", default=None, choices=ENVELOPES,
                       help="body form: full, bare or openc2-only (app.config envelope)")
    adhoc.add_argument("--ca", default=None, help="CA bundle that signed the consumer's (or broker's) certificate")
    adhoc.add_argument("--cert", default=None, help="client certificate (PEM) for mutual TLS")
    adhoc.add_argument("--key", default=None, help="private key (PEM) of --cert")
    adhoc.add_argument("--key-password-env", default=None, metavar="VAR",
                       help="name of an environment variable holding the password of an encrypted --key")
    adhoc.add_argument("--timeout", default=None, help="seconds to wait for an answer")
    adhoc.add_argument("--profile-encoding", default=None, help="string, object or actuator")
    adhoc.add_argument("--topic", default=None, help=f"MQTT command topic (default {COMMAND_TOPIC})")
    adhoc.add_argument("--expected-responders", default=None, help="MQTT: comma list of responders to wait for")
    adhoc.add_argument("--collect-seconds", default=None, help="MQTT: response collection window")
    adhoc.add_argument("--response-verify-key", default=None, help="public key (PEM) to verify signed responses")
    signing = parser.add_argument_group("producer (--url)")
    signing.add_argument("--producer-id", default=None, help=f"headers.from (default {PRODUCER_ID})")
    signing.add_argument("--signing-key", default=None, help="private key (PEM) to sign the command with")
    signing.add_argument("--signing-alg", default=None, choices=SIGNING_ALGORITHMS, help="JWS algorithm")


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def password_from_env(flag: str, name: str | None) -> str | None:
    """The password held in the environment variable NAME given to ``flag`` (None without the
    flag): there is no flag taking a password itself, since others see command lines in ps.
    The name is not echoed either: a password typed there by mistake must not reach a log."""
    if name is None:
        return None
    if not _ENV_NAME.fullmatch(name):
        raise UsageError(f"{flag}: expects the NAME of an environment variable (letters, digits, _) holding the "
                         "password, not the password itself")
    password = os.environ.get(name)
    if password is None:
        raise UsageError(f"{flag}: the environment variable it names is not set")
    if not password:
        raise UsageError(f"{flag}: the environment variable it names is empty")
    return password


def _adhoc_sections(args: argparse.Namespace, err: TextIO) -> dict[str, dict[str, str]]:
    url: str = args.url
    producer: dict[str, str] = {}
    for key, value in (("producer_id", args.producer_id), ("signing_key", args.signing_key),
                       ("signing_alg", args.signing_alg)):
        if value is not None:
            producer[key] = value
    consumer: dict[str, str] = {}
    if url.startswith(("mqtt://", "mqtts://")):
        https_only = ["--" + dest.replace("_", "-") for dest in _HTTPS_FLAGS if getattr(args, dest) is not None]
        if https_only:
            raise UsageError(f"{', '.join(https_only)} only apply to an https:// or http:// --url")
        consumer.update(transport="mqtt", broker=url)
        if url.startswith("mqtt://") and not (args.ca or args.cert):
            print(f"warning: {url} is plain MQTT, without TLS: for test brokers only", file=err)
        options: tuple[tuple[str, Any], ...] = (
            ("topic", args.topic), ("expected_responders", args.expected_responders),
            ("collect_seconds", args.collect_seconds), ("ca", args.ca))
    else:
        consumer["url"] = url
        if url.startswith("http://"):
            print(f"warning: {url} is plain HTTP, without TLS: for test consumers only", file=err)
        options = (("dialect", args.dialect), ("path", args.path), ("content_type", args.content_type),
                   ("accept", args.accept), ("status_in", args.status_in), ("envelope", args.envelope),
                   ("verify", args.ca))
    key_password = password_from_env("--key-password-env", args.key_password_env)
    for key, value in options + (("client_auth_cert", args.cert), ("client_auth_key", args.key),
                                 ("client_auth_key_password", key_password),
                                 ("timeout", args.timeout), ("profile_encoding", args.profile_encoding),
                                 ("response_verify_key", args.response_verify_key)):
        if value is not None:
            consumer[key] = value
    return {"fn_openc2": producer, f"fn_openc2:{ADHOC}": consumer}


def settings_and_consumers(args: argparse.Namespace, err: TextIO = sys.stderr) -> tuple[AppSettings, list[str]]:
    """The settings to use and the consumer names to send to (ConfigError / UsageError)."""
    if args.url:
        if (args.cert is None) != (args.key is None):
            raise UsageError("--cert and --key go together")
        if args.key_password_env is not None and args.key is None:
            raise UsageError("--key-password-env: needs --key")
        return load_settings(_adhoc_sections(args, err)), [ADHOC]
    adhoc_only = ["--" + dest.replace("_", "-") for dest in _ADHOC_FLAGS if getattr(args, dest) is not None]
    if adhoc_only:
        raise UsageError(f"{', '.join(adhoc_only)} only apply with --url (with --consumer, set them in app.config)")
    path = os.path.expanduser(args.config or DEFAULT_CONFIG)
    if not os.path.isfile(path):
        raise UsageError(f"--config: {path} does not exist")
    settings = settings_from_file(path)
    return settings, consumer_names(",".join(args.consumer))


def _answer_view(answer: dict[str, Any]) -> dict[str, Any]:
    message = answer.pop("message", None)
    content = ((message or {}).get("body") or {}).get("openc2") or {}
    answer["response"] = content.get("response") if isinstance(content, dict) else None
    return answer


def render(outcome: CommandOutcome) -> dict[str, Any]:
    doc = outcome.to_dict()
    doc["answers"] = [_answer_view(a) for a in doc["answers"]]
    return doc


def quiet_stdout() -> None:
    """After a closed pipe (``fn-openc2 send ... | head``): send the rest of stdout nowhere,
    so neither a traceback nor Python's exit-time flush error reaches the terminal."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def exit_code(outcome: CommandOutcome) -> int:
    """The README's table: 0 all answered 1xx/2xx, 1 any 4xx/5xx/failure/silence, 2 nothing sent."""
    if outcome.refused:
        return EXIT_USAGE
    return EXIT_OK if outcome.answers and all(a.succeeded for a in outcome.answers) else EXIT_FAILED


def report(outcome: CommandOutcome, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Print the outcome as JSON on ``out`` and one line per answer on ``err``, the
    consumer's own status and words first; return the exit code (see EXIT_CODES)."""
    try:
        json.dump(render(outcome), out, indent=2, sort_keys=False)
        out.write("\n")
        out.flush()
    except BrokenPipeError:
        quiet_stdout()
    if outcome.refused:
        print(f"error: nothing sent: {outcome.refused}", file=err)
        return EXIT_USAGE
    for answer in outcome.answers:
        print(("" if answer.succeeded else "error: ") + answer.line(), file=err)
    return exit_code(outcome)


class Renders(Protocol):
    """A report that prints as text or as JSON (probe's ProbeResult, grade's GradeReport)."""

    def render(self) -> str: ...

    def to_dict(self) -> dict[str, Any]: ...


def report_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser], name: str, *, summary: str,
                   description: str, exit_codes: str) -> argparse.ArgumentParser:
    """A subcommand whose result is a report printed as text, or as JSON with ``add_json_flag`` (probe, grade)."""
    return subparsers.add_parser(name, help=summary, description=description, epilog=exit_codes,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)


def add_json_flag(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--json", action="store_true", help=f"print the {what} as JSON")


def print_report(result: Renders, as_json: bool, out: TextIO | None = None) -> None:
    """The report on stdout: its text, or with --json its dict as indented JSON."""
    out = out or sys.stdout
    if as_json:
        json.dump(result.to_dict(), out, indent=2)
        out.write("\n")
    else:
        out.write(result.render())


@contextmanager
def quiet_transfer_log() -> Iterator[None]:
    """The transfer layer's warnings silenced while a report that says it all, once, is made."""
    transfer_log = logging.getLogger("fn_openc2.lib.transfer")
    level = transfer_log.level
    transfer_log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        transfer_log.setLevel(level)
