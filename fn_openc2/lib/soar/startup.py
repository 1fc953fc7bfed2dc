"""What the app sets up in SOAR when it starts: the OpenC2 incident tab and the
consumer choices of the menu items' forms.

Why at start-up: the consumers are only known from app.config, so the export
can ship just "default" and "auto"; the tab goes through resilient-lib's UI
helpers (``resilient_lib.ui``) as IBM's apps do, because layouts are the
customer's to arrange. Both honour resilient-lib's ``ui_lock`` switch
(``[fn_openc2]``, ``[integrations]`` or ``[resilient]``): with it on, the app
leaves the UI alone. Neither may stop the app: each failure is one warning line
naming the call, and the functions work without either.

REST calls (see doc/internals.md):
- the tab: ``resilient_lib.ui.create_tab`` — GET /types, GET /layouts?type=<organization type id>,
  PUT /layouts/<id> (permissions read_layouts, edit_layouts), as fn_qradar_integration's
  lib/configure_tab.py and fn_randori do;
- the choices: GET then PUT /types/<playbook handle>/fields/openc2_consumers?handle_format=names
  with the field's ``values`` replaced (permission edit_data), the way fn_cisco_asa's
  lib/resilient_helper.py ``init_select_list_choices`` fills its rule's select from app.config
  (there on /types/actioninvocation/fields/<name>; an activation form's fields are the type
  named by the playbook's handle, ``fields_type.type_name`` in the export).
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from resilient_lib.ui import Datatable, Tab, create_tab
from resilient_lib.ui.common import permission_to_edit

from fn_openc2.lib.producer.routing import WORDS
from fn_openc2.lib.producer.settings import CONSUMER_PREFIX, SECTION

CONSUMER_FIELD = "openc2_consumers"
FIXED_CHOICES = WORDS    # the routing words, offered before the consumers' names
EXPORT = Path(__file__).resolve().parents[2] / "util" / "data" / "export.res"


class OpenC2Tab(Tab):  # type: ignore[misc]  # resilient_lib has no type information
    """The incident tab holding both tables (an analyst looks there, not in a notes list)."""

    SECTION = SECTION
    NAME = "OpenC2"
    UUID = "3f0c9a52-8e1d-5b7a-9c64-1d2e0f6a7b30"
    CONTAINS = [Datatable("openc2_commands"), Datatable("openc2_consumers")]


def consumer_names(opts: Mapping[str, Any]) -> list[str]:
    """The consumers of app.config, one per ``[fn_openc2:<name>]`` section, in file order."""
    return [key[len(CONSUMER_PREFIX):] for key in opts if isinstance(key, str) and key.startswith(CONSUMER_PREFIX)
            and key[len(CONSUMER_PREFIX):]]


def consumer_choices(opts: Mapping[str, Any]) -> list[str]:
    """What the forms' Consumer select offers: default, auto, then each configured consumer."""
    names = [n for n in consumer_names(opts) if n not in FIXED_CHOICES]
    return list(FIXED_CHOICES) + names


@lru_cache(maxsize=1)
def consumer_form_types(export: Path = EXPORT) -> tuple[str, ...]:
    """The activation-form types (playbook handles) that have a Consumer select, from the export."""
    doc = json.loads(export.read_text(encoding="utf-8"))
    return tuple(pb["field_type_handle"] for pb in doc.get("playbooks") or []
                 if (pb.get("fields_type") or {}).get("fields", {}).get(CONSUMER_FIELD, {}).get("input_type")
                 == "select")


def merged_values(current: Sequence[Mapping[str, Any]], wanted: Sequence[str]) -> list[dict[str, Any]] | None:
    """The field's new ``values``: existing entries kept as they are (ids and all), new labels
    added, labels no longer configured hidden rather than deleted (past runs may name them).
    None when nothing changes, so a restart does not rewrite the field."""
    by_label = {str(v.get("label")): dict(v) for v in current if isinstance(v, Mapping)}
    out: list[dict[str, Any]] = []
    for label in wanted:
        value = by_label.pop(label, None) or {"label": label, "enabled": True, "hidden": False,
                                                "default": False, "properties": None}
        value["hidden"] = False
        out.append(value)
    for value in by_label.values():
        value["hidden"] = True
        out.append(value)
    before = [(str(v.get("label")), bool(v.get("hidden"))) for v in current if isinstance(v, Mapping)]
    return None if before == [(v["label"], v["hidden"]) for v in out] else out


def update_consumer_choices(rest_client: Any, opts: Mapping[str, Any], log: logging.Logger,
                            types: Sequence[str] | None = None) -> dict[str, str]:
    """Fill every Consumer select from app.config; returns {form type: "updated" | "unchanged" | "failed"}."""
    wanted = consumer_choices(opts)
    outcome: dict[str, str] = {}
    for type_name in consumer_form_types() if types is None else types:
        uri = f"/types/{type_name}/fields/{CONSUMER_FIELD}?handle_format=names"
        try:
            field = rest_client.get(uri)
            values = merged_values(field.get("values") or [], wanted)
            if values is None:
                outcome[type_name] = "unchanged"
                continue
            rest_client.put(uri, payload=dict(field, values=values))
            outcome[type_name] = "updated"
        except Exception as err:  # pylint: disable=broad-exception-caught  (start-up goes on; logged)
            outcome[type_name] = "failed"
            log.warning("fn_openc2: could not set the consumer choices of %s (GET/PUT %s): %s",
                        type_name, uri, err)
    return outcome


def configure_ui(opts: Mapping[str, Any], rest_client: Callable[[], Any], log: logging.Logger) -> str:
    """Create or complete the OpenC2 tab and fill the consumer choices, unless ui_lock is on.

    Returns "locked" or "configured"; never raises."""
    if not permission_to_edit(SECTION, opts):
        log.info("fn_openc2: ui_lock is on: no OpenC2 tab and no consumer choices set at start-up")
        return "locked"
    try:
        create_tab(OpenC2Tab, opts, update_existing=True)   # logs its own failure and carries on
    except Exception as err:  # pylint: disable=broad-exception-caught  (tab is optional)
        log.warning("fn_openc2: could not create the OpenC2 incident tab: %s", err)
    try:
        update_consumer_choices(rest_client(), opts, log)
    except Exception as err:  # pylint: disable=broad-exception-caught  (choices optional)
        log.warning("fn_openc2: could not set the consumer choices: %s", err)
    return "configured"
