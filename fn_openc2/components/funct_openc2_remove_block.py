# -*- coding: utf-8 -*-
# Generated with resilient-sdk v51.0.9.1, then thinned by hand.
"""SOAR function 'openc2_remove_block': Lift the block an openc2_commands row records (delete its rule number, or cancel the command).

Kept thin on purpose: inputs in, results out. The OpenC2 work happens in
fn_openc2.lib.soar.runner; the shared shape in fn_openc2.lib.soar.component.
"""
from __future__ import annotations

from typing import Any

from resilient_circuits import AppFunctionComponent, app_function

from fn_openc2.lib.soar.component import run_function
from fn_openc2.lib.soar.runner import remove_block

PACKAGE_NAME = "fn_openc2"
FN_NAME = "openc2_remove_block"
INPUTS = ('incident_id', 'openc2_command_id', 'openc2_consumers')
REQUIRED = ('incident_id', 'openc2_command_id')



class FunctionComponent(AppFunctionComponent):
    """Component that implements function 'openc2_remove_block'."""

    def __init__(self, opts: dict) -> None:
        super().__init__(opts, PACKAGE_NAME)

    @app_function(FN_NAME)
    def _app_function(self, fn_inputs: Any):
        yield from run_function(self, fn_inputs, FN_NAME, INPUTS, REQUIRED, remove_block)
