"""Former home of the settings and their loading, kept so existing imports hold.

The settings (dataclasses whose fields are the app.config keys) live in
``producer.settings``; reading app.config and loading it into ``AppSettings``
in ``producer.appconfig``.
"""
from __future__ import annotations

from fn_openc2.lib.producer.appconfig import load_settings, settings_from_file
from fn_openc2.lib.producer.errors import ConfigError
from fn_openc2.lib.producer.settings import (
    CONFIG_KEYS_CONSUMER,
    CONFIG_KEYS_PRODUCER,
    CONSUMER_PREFIX,
    DIALECTS,
    INTEGRATIONS,
    SECTION,
    SIGNING_ALGORITHMS,
    TRANSPORTS,
    AppSettings,
    ConsumerSettings,
    KeySpec,
    Network,
    ProducerSettings,
    config_keys,
    key,
)

#: Former names, kept for the many call sites and scripts ("registry" also names the profile registry).
Registry = AppSettings
load_registry = load_settings
registry_from_file = settings_from_file

__all__ = ["CONFIG_KEYS_CONSUMER", "CONFIG_KEYS_PRODUCER", "CONSUMER_PREFIX", "ConfigError", "DIALECTS",
           "INTEGRATIONS", "SECTION",
           "SIGNING_ALGORITHMS", "TRANSPORTS", "AppSettings", "ConsumerSettings", "KeySpec", "Network",
           "ProducerSettings", "Registry", "config_keys", "key", "load_registry", "load_settings",
           "registry_from_file", "settings_from_file"]
