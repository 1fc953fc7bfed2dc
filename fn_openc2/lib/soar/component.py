"""What every fn_openc2 function component does around its lib call.

The three components differ only in their name, inputs and runner entry
point; the shape (validate, status lines, one FunctionResult whose success
says whether every targeted consumer answered OK) lives here once."""
from __future__ import annotations

from typing import Any
from collections.abc import Callable, Iterator

from resilient_circuits import FunctionResult
from resilient_lib import validate_fields

Entry = Callable[..., dict[str, Any]]


def run_function(component: Any, fn_inputs: Any, fn_name: str, inputs: tuple[str, ...],
                 required: tuple[str, ...], entry: Entry) -> Iterator[Any]:
    """Validate the inputs, hand them to `entry`, yield status lines and the result.

    success is False when anything stopped the command (bad input, a refusal)
    or any targeted consumer failed; reason lists each failure."""
    validate_fields(list(required), fn_inputs)
    values = {name: getattr(fn_inputs, name, None) for name in inputs}
    yield component.status_message(f"Starting '{fn_name}'")
    results = entry(component.opts, values, rest_client=component.rest_client(), log=component.LOG)
    summary = results["summary"]
    yield component.status_message(f"Finished '{fn_name}': {summary['answers_ok']} of "
                                   f"{summary['answers']} answers OK, {summary['refused']} refused")
    yield FunctionResult(results, success=summary["success"], reason="; ".join(summary["failures"]) or None)
