"""Producer layer: consumer settings, policy guard, routing, rate limits and
the send-and-collect loop (see doc/internals.md for the contract)."""
from __future__ import annotations

from fn_openc2.lib.producer.appconfig import load_settings, read_app_config, settings_from_file
from fn_openc2.lib.producer.settings import (CONFIG_KEYS_CONSUMER, CONFIG_KEYS_PRODUCER, AppSettings, ConsumerSettings,
                                             KeySpec, ProducerSettings)
from fn_openc2.lib.producer.errors import ConfigError, RoutingError
from fn_openc2.lib.producer.guard import PolicyGuard
from fn_openc2.lib.producer.outcome import OUTCOME_UNKNOWN, CommandOutcome, ConsumerAnswer
from fn_openc2.lib.producer.ratelimit import RateLimits, TokenBucket

__all__ = ["AppSettings", "OUTCOME_UNKNOWN",
           "CONFIG_KEYS_CONSUMER", "CONFIG_KEYS_PRODUCER", "CommandOutcome", "ConfigError", "ConsumerAnswer",
           "ConsumerSettings", "KeySpec", "PolicyGuard", "Producer", "ProducerSettings", "RateLimits",  # pylint: disable=undefined-all-variable  # "Producer": provided by the module __getattr__ (loaded on first use)
           "RoutingError", "TokenBucket", "load_settings", "read_app_config", "settings_from_file"]


def __getattr__(name: str) -> object:
    """Producer pulls in the language, security and transfer layers; load it on demand
    so the settings and the guard stay importable on their own (config template checks)."""
    if name == "Producer":
        from fn_openc2.lib.producer.producer import Producer
        return Producer
    raise AttributeError(name)
