# -*- coding: utf-8 -*-
# Generated with resilient-sdk v51.0.9.1, then thinned by hand.
"""SOAR function 'openc2_send_command': Build and send one OpenC2 command per target to the chosen consumers.

Kept thin on purpose: inputs in, results out. The OpenC2 work happens in
fn_openc2.lib.soar.runner; the shared shape in fn_openc2.lib.soar.component.
"""
from __future__ import annotations

from typing import Any

from resilient_circuits import AppFunctionComponent, app_function

from fn_openc2.lib.soar.component import run_function
from fn_openc2.lib.soar.config_check import check_app_config
from fn_openc2.lib.soar.runner import send_command

PACKAGE_NAME = "fn_openc2"
FN_NAME = "openc2_send_command"
INPUTS = ('openc2_action', 'openc2_artifact_type', 'openc2_artifact_value', 'openc2_target_json', 'openc2_profile', 'openc2_consumers', 'openc2_duration', 'openc2_start_time', 'openc2_stop_time', 'openc2_response_requested', 'openc2_comment', 'openc2_profile_args', 'openc2_command_json', 'incident_id', 'openc2_attachment_id', 'openc2_write_back', 'openc2_all_artifacts', 'openc2_force')
REQUIRED = ('incident_id',)



class FunctionComponent(AppFunctionComponent):
    """Component that implements function 'openc2_send_command'."""

    def __init__(self, opts: dict) -> None:
        super().__init__(opts, PACKAGE_NAME)
        check_app_config(opts, self.LOG)   # one log line per bad key when the app loads

    @app_function(FN_NAME)
    def _app_function(self, fn_inputs: Any):
        yield from run_function(self, fn_inputs, FN_NAME, INPUTS, REQUIRED, send_command)
