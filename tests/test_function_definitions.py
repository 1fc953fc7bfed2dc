"""Every function in export.res: resilient-circuits finds its definition on the
app's message destination, and its component reads exactly the inputs the
export gives it (one test for all functions, so a new one cannot be missed)."""
from __future__ import annotations

import importlib

import pytest
from resilient_circuits.util import get_function_definition

from tests.soar import harness

PACKAGE_NAME = "fn_openc2"
FUNCTIONS = sorted(f["name"] for f in harness.export_document()["functions"])


def test_every_exported_function_has_a_component() -> None:
    from pathlib import Path

    import fn_openc2.components as components

    modules = {p.stem.removeprefix("funct_") for p in Path(components.__file__).parent.glob("funct_*.py")}
    assert modules == set(FUNCTIONS)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_definition_and_inputs(name: str) -> None:
    func = get_function_definition(PACKAGE_NAME, name)
    assert func is not None
    assert func["destination_handle"] == "fn_openc2"
    component = importlib.import_module(f"fn_openc2.components.funct_{name}")
    assert set(component.INPUTS) == harness.exported_input_names(func)


@pytest.mark.parametrize("table, module", [("openc2_commands", "tests.test_funct_openc2_send_command"),
                                           ("openc2_consumers", "tests.test_funct_openc2_query_features")])
def test_row_columns_match_the_export(table: str, module: str) -> None:
    assert harness.table_columns(table) == importlib.import_module(module).COLUMNS


def test_remove_block_is_a_row_action_on_openc2_commands() -> None:
    (playbook,) = [p for p in harness.export_document()["playbooks"] if p["name"] == "pb_openc2_remove_block"]
    assert playbook["display_name"] == "OpenC2: Remove block" and playbook["object_type"] == "openc2_commands"
    conditions = playbook["manual_settings"]["activation_conditions"]["conditions"]
    assert {"field_name": "openc2_commands.state", "method": "not_equals", "value": "removed"} in [
        {k: c[k] for k in ("field_name", "method", "value")} for c in conditions]
