# -*- coding: utf-8 -*-
# Generated with resilient-sdk v51.0.9.1, then reduced to what round 1 can test honestly.
"""Function 'openc2_send_command': the package defines it, and the component reads exactly its inputs.

The calls through circuits_app against a local consumer come with the
component logic (round 2).
"""
from __future__ import annotations

import json
from pathlib import Path

from resilient_circuits.util import get_function_definition

import fn_openc2.util.customize as customize

from fn_openc2.components import funct_openc2_send_command as component

PACKAGE_NAME = "fn_openc2"
FUNCTION_NAME = "openc2_send_command"


class TestOpenc2SendCommand:
    """Definition tests for openc2_send_command."""

    def test_function_definition(self) -> None:
        """customization_data defines the function on the fn_openc2 destination."""
        func = get_function_definition(PACKAGE_NAME, FUNCTION_NAME)
        assert func is not None
        assert func["destination_handle"] == "fn_openc2"

    def test_component_reads_the_exported_inputs(self) -> None:
        """The component's INPUTS are the function's inputs in the export, no more, no less."""
        func = get_function_definition(PACKAGE_NAME, FUNCTION_NAME)
        export = json.loads((Path(customize.__file__).parent / customize.RES_FILE).read_text(encoding="utf-8"))
        names = {field["uuid"]: field["name"] for field in export["fields"]}
        exported = {names[item["content"]] for item in func["view_items"]}
        assert set(component.INPUTS) == exported
        assert set(component.REQUIRED) <= exported
