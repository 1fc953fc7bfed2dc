# -*- coding: utf-8 -*-
# Generated with resilient-sdk v51.0.9.1, then thinned by hand.
"""SOAR function 'openc2_check_consumer': Grade a consumer against the OpenC2 specs (read-only).

Kept thin on purpose: inputs in, results out. The OpenC2 work happens in
fn_openc2.lib.soar.check; the shared shape in fn_openc2.lib.soar.component.
"""
from __future__ import annotations

from typing import Any

from resilient_circuits import AppFunctionComponent, app_function

from fn_openc2.lib.soar.check import check_consumer
from fn_openc2.lib.soar.component import run_function

PACKAGE_NAME = "fn_openc2"
FN_NAME = "openc2_check_consumer"
INPUTS = ('incident_id', 'openc2_consumers')
REQUIRED = ('incident_id', 'openc2_consumers')


class FunctionComponent(AppFunctionComponent):
    """Component that implements function 'openc2_check_consumer'."""

    def __init__(self, opts: dict) -> None:
        super().__init__(opts, PACKAGE_NAME)

    @app_function(FN_NAME)
    def _app_function(self, fn_inputs: Any):
        yield from run_function(self, fn_inputs, FN_NAME, INPUTS, REQUIRED, check_consumer)
