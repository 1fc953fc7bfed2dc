"""SOAR side of fn_openc2: artifact -> target mapping, function input parsing,
notes and data-table rows. The only lib package allowed to know SOAR."""
from __future__ import annotations

from fn_openc2.lib.soar.artifact_map import (SUPPORTED_TYPES, ArtifactError, artifact_to_target,
                                             attachment_target, split_values)

__all__ = ["SUPPORTED_TYPES", "ArtifactError", "artifact_to_target", "attachment_target", "split_values"]
