# -*- coding: utf-8 -*-
# Generated with resilient-sdk v51.0.9.1, then thinned by hand.
"""SOAR function 'openc2_cancel_command': Cancel a previously sent command by its command_id.

Kept thin on purpose: inputs in, results out. The OpenC2 work happens in
fn_openc2.lib (imported inside the call so the component loads even where
the lib's optional parts are absent).
"""
from __future__ import annotations

from typing import Any

from resilient_circuits import AppFunctionComponent, FunctionResult, app_function
from resilient_lib import validate_fields

PACKAGE_NAME = "fn_openc2"
FN_NAME = "openc2_cancel_command"
INPUTS = ('incident_id', 'openc2_command_id', 'openc2_consumers')
REQUIRED = ('incident_id', 'openc2_command_id')


class FunctionComponent(AppFunctionComponent):
    """Component that implements function 'openc2_cancel_command'."""

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

        from fn_openc2.lib.soar.runner import cancel_command

        results = cancel_command(self.opts, inputs, rest_client=self.rest_client(), log=self.LOG)
        summary = results["summary"]
        yield self.status_message(f"Finished '{FN_NAME}': {summary['answers_ok']} of "
                                  f"{summary['answers']} answers OK, {summary['refused']} refused")
        yield FunctionResult(results, success=summary["success"],
                             reason="; ".join(summary["failures"]) or None)
