"""Former home of the CLI helpers (now ``fn_openc2.lib.cli.util``), kept so existing imports hold."""
from __future__ import annotations

from fn_openc2.lib.cli.util import (
    ADHOC,
    DEFAULT_CONFIG,
    EXIT_CODES,
    UsageError,
    add_consumer_arguments,
    exit_code,
    quiet_stdout,
    registry_and_consumers,
    render,
    report,
)

__all__ = ["ADHOC", "DEFAULT_CONFIG", "EXIT_CODES", "UsageError", "add_consumer_arguments", "exit_code",
           "quiet_stdout", "registry_and_consumers", "render", "report"]
