"""SOAR side of fn_openc2: artifact -> target mapping, function input parsing,
notes and data-table rows. The only lib package allowed to know SOAR.

runner      send_command / query_features / cancel_command (what the components call)
plan        function inputs -> validated commands (nothing sent)
inputs      SOAR input values -> typed values (durations, times, JSON with positions)
writeback   note HTML, openc2_commands / openc2_consumers rows, repeat detection
producers   one cached Producer per app.config content (keeps the auto-routing cache)
soar_client the SOAR REST calls, errors naming incident and call
"""
from __future__ import annotations

from fn_openc2.lib.soar.artifact_map import (SUPPORTED_TYPES, ArtifactError, artifact_to_target,
                                             attachment_target, split_values)

__all__ = ["SUPPORTED_TYPES", "ArtifactError", "artifact_to_target", "attachment_target", "split_values"]
