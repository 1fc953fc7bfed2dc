# -*- coding: utf-8 -*-
# Generated with resilient-sdk v51.0.9.1, then thinned by hand.
"""SOAR function 'openc2_send_command': Build and send one OpenC2 command per target to the chosen consumers.

Kept thin on purpose: inputs in, results out. The OpenC2 work happens in
fn_openc2.lib (imported inside the call so the component loads even where
the lib's optional parts are absent).
"""
from __future__ import annotations

from typing import Any

from resilient_circuits import AppFunctionComponent, FunctionResult, app_function
from resilient_lib import validate_fields

PACKAGE_NAME = "fn_openc2"
FN_NAME = "openc2_send_command"
INPUTS = ('openc2_action', 'openc2_artifact_type', 'openc2_artifact_value', 'openc2_target_json', 'openc2_profile', 'openc2_consumers', 'openc2_duration', 'openc2_start_time', 'openc2_stop_time', 'openc2_response_requested', 'openc2_comment', 'openc2_profile_args', 'openc2_command_json', 'incident_id', 'openc2_attachment_id', 'openc2_write_back', 'openc2_all_artifacts')
REQUIRED = ('incident_id',)


class FunctionComponent(AppFunctionComponent):
    """Component that implements function 'openc2_send_command'."""

    def __init__(self, opts: dict) -> None:
        super().__init__(opts, PACKAGE_NAME)

    @app_function(FN_NAME)
    def _app_function(self, fn_inputs: Any):
        """Validate the inputs, hand them to the lib, return its results dict.

        success is False when anything stopped the command (bad input, a
        refusal) or any targeted consumer failed; reason lists each failure.
        """
        validate_fields(list(REQUIRED), fn_inputs)
        inputs = {name: getattr(fn_inputs, name, None) for name in INPUTS}
        yield self.status_message(f"Starting '{FN_NAME}'")

        from fn_openc2.lib.soar.runner import send_command

        results = send_command(self.opts, inputs, rest_client=self.rest_client(), log=self.LOG)
        summary = results["summary"]
        yield self.status_message(f"Finished '{FN_NAME}': {summary['answers_ok']} of "
                                  f"{summary['answers']} answers OK, {summary['refused']} refused")
        yield FunctionResult(results, success=summary["success"],
                             reason="; ".join(summary["failures"]) or None)
