# -*- coding: utf-8 -*-
# Generated with resilient-sdk v51.0.9.1, then thinned by hand.
"""SOAR function 'openc2_query_features': Ask consumers what they support (query features).

Kept thin on purpose: inputs in, results out. The OpenC2 work happens in
fn_openc2.lib.soar.runner; the shared shape in fn_openc2.lib.soar.component.
"""
from __future__ import annotations

from typing import Any

from resilient_circuits import AppFunctionComponent, app_function

from fn_openc2.lib.soar.component import run_function
from fn_openc2.lib.soar.config_check import check_app_config
from fn_openc2.lib.soar.runner import query_features
from fn_openc2.lib.soar.startup import configure_ui

PACKAGE_NAME = "fn_openc2"
FN_NAME = "openc2_query_features"
INPUTS = ('incident_id', 'openc2_consumers', 'openc2_features')
REQUIRED = ('incident_id',)



class FunctionComponent(AppFunctionComponent):
    """Component that implements function 'openc2_query_features'."""

    def __init__(self, opts: dict) -> None:
        super().__init__(opts, PACKAGE_NAME)
        check_app_config(opts, self.LOG)   # one log line per bad key when the app loads
        # Once per start, here as fn_cisco_asa does in its component: the OpenC2 incident tab and the
        # consumers of app.config as the menu forms' choices (unless ui_lock; never fatal).
        configure_ui(self.opts, self.rest_client, self.LOG)

    @app_function(FN_NAME)
    def _app_function(self, fn_inputs: Any):
        yield from run_function(self, fn_inputs, FN_NAME, INPUTS, REQUIRED, query_features)
