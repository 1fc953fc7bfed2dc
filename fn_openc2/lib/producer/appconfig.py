"""Reading an app.config file exactly as resilient-circuits reads it, and loading its
sections into ``AppSettings`` (every bad, missing or unknown key named with its section).

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

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from requests.utils import get_environ_proxies

from fn_openc2.lib.producer.errors import ConfigError
from fn_openc2.lib.producer.settings import (
    CONFIG_KEYS_CONSUMER,
    CONFIG_KEYS_PRODUCER,
    CONSUMER_PREFIX,
    INTEGRATIONS,
    AppSettings,
    ConsumerSettings,
    KeySpec,
    SECTION,
    ProducerSettings,
    known_consumers,
)
from fn_openc2.lib.transfer.address import broker_address, shown_broker
from fn_openc2.lib.transfer.https import mask_url, url_path_conflict
from fn_openc2.lib.transfer.model import MAX_ANSWERS



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


# --- from app.config sections to AppSettings ----------------------------------------------------------
def _parse_section(section: str, raw: Mapping[str, Any], table: Mapping[str, KeySpec],
                   transport: str | None = None) -> dict[str, Any]:
    """Typed values for the keys present in one section; unknown keys fail."""
    values: dict[str, Any] = {}
    for key, text in raw.items():
        spec = table.get(key)
        if spec is None:
            raise ConfigError(section, key, f"unknown key (expected one of: {', '.join(sorted(table))})")
        text = "" if text is None else str(text)
        if text.strip() == "":
            continue  # "key =" with no value means unset: the default applies, required keys fail later
        if transport is not None and transport not in spec.transports:
            raise ConfigError(section, key, f"not used with transport = {transport} "
                                            f"(only with {' or '.join(spec.transports)})")
        try:
            values[key] = spec.parser(text)
        except ValueError as exc:
            hint = ""
            if not spec.secret and (" ;" in text or " #" in text):
                hint = " (in app.config ';' and '#' start a comment only at the start of a line)"
            raise ConfigError(section, key, f"{exc}{hint}") from None
    return values


def _proxies(url: str | None, *layers: Mapping[str, Any]) -> dict[str, str | None] | None:
    """resilient-lib's RequestsCommon.get_proxies rule: environment proxies win,
    else the most specific section that sets either proxy supplies both.

    The environment is resolved here, for this consumer's URL (NO_PROXY
    honoured), because the transport's sessions do not read the environment:
    there REQUESTS_CA_BUNDLE would silently replace the consumer's CA."""
    if any(os.environ.get(name) for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy")):
        return dict(get_environ_proxies(url)) if url else None
    chosen: dict[str, str | None] | None = None
    for layer in layers:  # least specific first
        if layer.get("http_proxy") or layer.get("https_proxy"):
            chosen = {"http": layer.get("http_proxy"), "https": layer.get("https_proxy")}
    return chosen


def _load_producer(sections: Mapping[str, Mapping[str, Any]]) -> ProducerSettings:
    values = _parse_section(SECTION, sections.get(SECTION, {}), CONFIG_KEYS_PRODUCER)
    if "signing_key_password" in values and "signing_key" not in values:
        raise ConfigError(SECTION, "signing_key_password", "set without signing_key")
    return ProducerSettings(**values)


def _require(section: str, values: Mapping[str, Any], key: str, why: str) -> None:
    if key not in values:
        raise ConfigError(section, key, f"missing: required {why}")


def _load_consumer(section: str, raw: Mapping[str, Any], producer: ProducerSettings,
                   integrations: Mapping[str, Any]) -> ConsumerSettings:
    name = section[len(CONSUMER_PREFIX):].strip()
    if not name:
        raise ConfigError(section, None, "consumer section needs a name after 'fn_openc2:'")
    transport_raw = raw.get("transport", "https")
    try:
        transport = str(CONFIG_KEYS_CONSUMER["transport"].parser(transport_raw or "https"))
    except ValueError as exc:
        raise ConfigError(section, "transport", str(exc)) from None
    values = _parse_section(section, raw, CONFIG_KEYS_CONSUMER, transport)
    values["transport"] = transport
    if transport == "https":
        _require(section, values, "url", "for transport = https (the consumer's https:// URL)")
        conflict = url_path_conflict(values["url"], values.get("path"))
        if conflict:
            raise ConfigError(section, "path", conflict)
    else:
        _require(section, values, "broker", "for transport = mqtt (mqtts://host:port)")
    if ("client_auth_cert" in values) != ("client_auth_key" in values):
        missing = "client_auth_key" if "client_auth_cert" in values else "client_auth_cert"
        raise ConfigError(section, missing, "missing: client_auth_cert and client_auth_key go together")
    if "client_auth_key_password" in values and "client_auth_key" not in values:
        raise ConfigError(section, "client_auth_key_password", "set without client_auth_key")
    if ("basic_auth_user" in values) != ("basic_auth_password" in values):
        missing = "basic_auth_password" if "basic_auth_user" in values else "basic_auth_user"
        raise ConfigError(section, missing, "missing: basic_auth_user and basic_auth_password go together")
    if "bearer_token" in values and "basic_auth_user" in values:
        raise ConfigError(section, "bearer_token", "set together with basic_auth_user: choose one")
    if ("username" in values) != ("password" in values) and "password" in values:
        raise ConfigError(section, "username", "missing: password is set without username")
    if transport == "mqtt" and "verify" in values and isinstance(values["verify"], str):
        values.setdefault("ca", values["verify"])
        values["verify"] = True
    _refuse_credentials_in_clear(section, transport, values)
    if transport == "mqtt":
        _fit_answer_cap(section, values)
    values.setdefault("timeout", producer.timeout)
    values.setdefault("retries", producer.retries)
    values.setdefault("collect_seconds", producer.collect_seconds)
    proxies = _proxies(values.get("url"), integrations,
                       {"http_proxy": producer.http_proxy, "https_proxy": producer.https_proxy},
                       {"http_proxy": values.get("http_proxy"), "https_proxy": values.get("https_proxy")})
    if transport == "https":
        values["proxies"] = proxies
    return ConsumerSettings(name=name, **values)


def _fit_answer_cap(section: str, values: dict[str, Any]) -> None:
    """max_answers against the declared fleet: a cap below it would end collection early and
    report the rest of the fleet as silent. Unset, the cap follows the fleet (room for an
    interim 102 and a final answer from each responder); set below it, the config is wrong."""
    fleet = len(values.get("expected_responders") or ())
    if "max_answers" not in values:
        if 2 * fleet > MAX_ANSWERS:
            values["max_answers"] = 2 * fleet
    elif values["max_answers"] < fleet:
        raise ConfigError(section, "max_answers", f"{values['max_answers']} is below the {fleet} names in "
                                                  "expected_responders: collection would end before they all "
                                                  "answered (leave it unset to follow the fleet)")


#: Query parameters that carry a credential (sent in clear over http://).
_CREDENTIAL_PARAMS = frozenset({"token", "access_token", "api_key", "apikey", "key", "secret", "password", "pass",
                                "pwd", "auth", "sig", "signature", "code", "client_secret"})


def _refuse_credentials_in_clear(section: str, transport: str, values: Mapping[str, Any]) -> None:
    """A secret sent without TLS is a secret given away: refuse the combination at load time.
    (A TLS broker URL with user:password in it is refused too: the MQTT client would drop them.)"""
    if transport == "https":
        parts = urlsplit(values["url"])
        if parts.scheme != "http":
            return
        for key in ("bearer_token", "basic_auth_user", "basic_auth_password"):
            if key in values:
                raise ConfigError(section, key, f"would be sent in clear to {mask_url(values['url'])}: "
                                                "use an https:// url (plain http:// is for test consumers only)")
        if parts.username is not None or parts.password is not None:
            raise ConfigError(section, "url", f"{mask_url(values['url'])} carries credentials that would be sent "
                                              "in clear: use https://")
        names = {name.lower() for name, _ in parse_qsl(parts.query, keep_blank_values=True)}
        if names & _CREDENTIAL_PARAMS:
            raise ConfigError(section, "url", f"{mask_url(values['url'])} carries a credential "
                                              f"({', '.join(sorted(names & _CREDENTIAL_PARAMS))}) that would be "
                                              "sent in clear: use https://")
        return
    broker = values["broker"]
    address = broker_address(broker, tls_hint="ca" in values or "client_auth_cert" in values)
    if address.tls:
        if address.credentials:
            raise ConfigError(section, "broker", f"{shown_broker(broker)}: a user name or password in the broker URL "
                                                 "is not used by the MQTT client; put them in the username and "
                                                 "password keys")
        return
    for key in ("password", "username"):
        if key in values:
            raise ConfigError(section, key, f"would be sent in clear to {shown_broker(broker)} (MQTT without TLS): "
                                            "use mqtts:// (plain mqtt:// is for test brokers only)")
    if address.credentials:
        raise ConfigError(section, "broker", f"{shown_broker(broker)} carries credentials that would be sent in "
                                             "clear: use mqtts://")


def load_settings(sections: Mapping[str, Mapping[str, Any]]) -> AppSettings:
    """The app's settings from app.config sections ({section: {key: str}})."""
    producer = _load_producer(sections)
    integrations = sections.get(INTEGRATIONS) or {}
    consumers: dict[str, ConsumerSettings] = {}
    recipients: dict[str, str] = {}
    for section in sections:
        if not section.startswith(CONSUMER_PREFIX):
            continue
        consumer = _load_consumer(section, sections[section], producer, integrations)
        if consumer.name in consumers:
            raise ConfigError(section, None, f"consumer {consumer.name!r} is configured twice")
        same = [n for n in consumers if n.casefold() == consumer.name.casefold()]
        if same:  # a playbook naming "FW1" would reach the one and silently miss the other
            raise ConfigError(section, None, f"consumer {consumer.name!r} differs from [fn_openc2:{same[0]}] "
                                             "only by case: rename one")
        if consumer.recipient in recipients:
            raise ConfigError(section, "device_id", f"{consumer.recipient!r} is already the id of "
                                                    f"[fn_openc2:{recipients[consumer.recipient]}]")
        consumers[consumer.name] = consumer
        recipients[consumer.recipient] = consumer.name
    for name in producer.default_consumers:
        if name not in consumers:
            raise ConfigError(SECTION, "default_consumers",
                              f"names unknown consumer {name!r} (known: {known_consumers(consumers)})")
    return AppSettings(producer=producer, consumers=consumers)


def settings_from_file(path: str) -> AppSettings:
    """Read an app.config file as the app does (``read_app_config``) and load it (for the CLI)."""
    sections = read_app_config(path)
    if SECTION not in sections and not any(s.startswith(CONSUMER_PREFIX) for s in sections):
        raise ConfigError(SECTION, None, f"no [fn_openc2] or [fn_openc2:<name>] section in {path}")
    return load_settings(sections)
