"""Reading an app.config file exactly as resilient-circuits reads it.

The app never parses app.config itself: resilient-circuits does, and hands the
sections to the functions. The CLI reads the same file, so it must read it the
same way, or one file means two things (a CLI that treats `` ;`` as a comment
protects only ``10.0.0.0/8`` of ``protected_networks = 10.0.0.0/8 ;
172.16.0.0/12``, while the app refuses the value). The rules, from
ibmresilient/resilient-python-api (the version in setup.py):

- ``resilient/co3argparse.py`` ``ArgumentParser.__init__``: ``ConfigParser(
  interpolation=None)`` with the default comment prefixes ``#`` and ``;`` at
  the start of a line only (no inline comments), strict (a duplicate section
  or key is an error), UTF-8, one leading byte-order mark skipped.
- ``resilient_circuits/app_argument_parser.py`` ``parse_args``: every section,
  every option (``[DEFAULT]`` ones included) lower-cased, raw values
  (continuation lines joined with a newline).
- ``resilient/app_config.py`` ``AppConfigManager.__getitem__`` with
  ``ProtectedSecretsManager`` outside App Host: a value containing ``${NAME}``
  has each such reference replaced by the environment variable ``NAME``; else
  a value starting with ``$`` is the variable named by the rest. A name that
  is not set stays as written. ``^`` (PAM) values are plain text without a
  PAM plugin, as here.
"""
from __future__ import annotations

import configparser
import os
from collections.abc import Mapping

from fn_openc2.lib.producer.errors import ConfigError

SECTION = "fn_openc2"


def _resolve(value: str, environ: Mapping[str, str]) -> str:
    """``$NAME`` / ``${NAME}`` references as the app resolves them outside App Host."""
    if "${" in value:
        prefix = "${"
    elif value.startswith("$"):
        prefix = "$"
    else:
        return value
    start = value.index(prefix)
    while start < len(value):
        end = value.index("}", start) if "}" in value[start:] else len(value)
        reference = value[start:end + 1]
        name = reference.replace(prefix, "").replace("}", "").lstrip("$")
        found = environ.get(name, reference) if name else reference
        value = value[:start] + found + value[end + 1:]
        after = start + len(found)
        start = value.index(prefix, after) if prefix in value[after:] else len(value)
    return value


def parse_app_config(text: str, source: str = "app.config",
                     environ: Mapping[str, str] | None = None) -> dict[str, dict[str, str]]:
    """{section: {key: value}} of app.config text, as the app sees it (ConfigError when unreadable)."""
    env = os.environ if environ is None else environ
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text[1:] if text.startswith("\ufeff") else text, source=source)
    except configparser.MissingSectionHeaderError as err:
        # the offending line's text stays out: it may be "password = ..." above a forgotten header
        raise ConfigError(SECTION, None, f"{source} is not an app.config: line {err.lineno} comes before "
                                         "any [section] header") from None
    except configparser.ParsingError as err:
        lines = ", ".join(str(n) for n, _ in err.errors)
        raise ConfigError(SECTION, None, f"{source} is not an app.config: line {lines} is not "
                                         "'key = value'") from None
    except configparser.Error as err:       # duplicate section/option: names only, no values
        raise ConfigError(SECTION, None, f"{source} is not an app.config: {' '.join(str(err).split())}") from None
    return {section: {key.lower(): _resolve(parser.get(section, key), env) for key in parser.options(section)}
            for section in parser.sections()}


def read_app_config(path: str, environ: Mapping[str, str] | None = None) -> dict[str, dict[str, str]]:
    """Read an app.config file as resilient-circuits does (see the module docstring)."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except UnicodeDecodeError as err:
        raise ConfigError(SECTION, None, f"{path} is not UTF-8 text (byte {err.start})") from None
    except OSError as err:
        raise ConfigError(SECTION, None, f"{path} cannot be read: {err.strerror}") from None
    return parse_app_config(text, path, environ)
