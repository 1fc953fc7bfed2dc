"""The offline SOAR's customization endpoints the app calls at start-up:
incident layouts (the OpenC2 tab) and activation-form select fields (the
consumer choices). See fn_openc2.lib.soar.startup for the calls.

As strict as a server on what the app depends on: the form types and fields
are those of the app's own export.res (a server knows them after the import),
an unknown type or field answers 404, a PUT must keep the field's name and
input type and may only name value ids the field has (new values come without
an id and get one, as on the server), and a layout PUT may only place data
tables that exist. Sources: resilient-lib's ``resilient_lib/ui/common.py``
(GET /types -> ``types["organization"]["type_id"]``, GET /layouts?type=,
PUT /layouts/<id> with the whole layout), fn_cisco_asa's
``lib/resilient_helper.py`` (GET then PUT of a select field with new
``values`` entries carrying only label/enabled/hidden).

State lives per org in ``ui_state(org)``; ``ui_state(org).reset()`` starts over.
"""
from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from requests import Response

from .endpoint import endpoint
from .schema import export_document
from .store import DEFAULT_ORG, SoarStoreError

if TYPE_CHECKING:   # a name of requests_mock's stubs only (see endpoint.py)
    from requests_mock.request import Request

ORGANIZATION_TYPE_ID = 1000  # any id: resilient-lib reads it from GET /types before asking for layouts
INCIDENT_LAYOUT_ID = 1


class UiState:
    """Layouts and activation-form fields of one org."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        doc = export_document()     # the app's own export.res (form fields are copied below)
        self.tables = {t["type_name"] for t in doc.get("types") or []}
        self.form_fields: dict[tuple[str, str], dict[str, Any]] = {}
        for pb in doc.get("playbooks") or []:
            handle = pb["field_type_handle"]
            for name, field in (pb.get("fields_type") or {}).get("fields", {}).items():
                self.form_fields[(handle, name)] = copy.deepcopy(field)
        self.next_value_id = 1 + max([v["value"] for f in self.form_fields.values() for v in f.get("values") or []]
                                     or [0])
        self.layouts: dict[int, dict[str, Any]] = {INCIDENT_LAYOUT_ID: {
            "id": INCIDENT_LAYOUT_ID, "name": "incident", "type": ORGANIZATION_TYPE_ID, "version": 1,
            "content": [{"element": "tab", "step_label": "Summary", "predefined_uuid": "summary",
                         "field_type": "incident", "fields": [], "show_if": [], "show_link_header": False}]}}
        self.puts: list[str] = []

    def tab(self, predefined_uuid: str) -> dict[str, Any] | None:
        return next((t for t in self.layouts[INCIDENT_LAYOUT_ID]["content"]
                     if t.get("predefined_uuid") == predefined_uuid), None)


_STATES: dict[str, UiState] = {}
_STATES_LOCK = threading.Lock()


def ui_state(org: str | None = None) -> UiState:
    with _STATES_LOCK:
        return _STATES.setdefault(org or DEFAULT_ORG, UiState())


class UiEndpoints:
    """Mixed into OfflineSoar; needs its ``org_name``, ``_json`` and ``_error``."""

    org_name: str
    _json: Callable[..., Response]   # OfflineSoar's, declared for readers and linters
    _body: Callable[[Request], Any]

    @property
    def ui(self) -> UiState:
        return ui_state(self.org_name)

    @endpoint("GET", r"/types")
    def types_all_get(self, request: Request) -> Response:
        types = {"organization": {"type_name": "organization", "type_id": ORGANIZATION_TYPE_ID},
                 "incident": {"type_name": "incident", "type_id": 0}}
        types.update({t: {"type_name": t, "type_id": 8} for t in sorted(self.ui.tables)})
        return self._json(request, types)

    @endpoint("GET", r"/layouts")
    def layouts_get(self, request: Request) -> Response:
        query = parse_qs(urlsplit(request.url).query)
        wanted = query.get("type", [None])[0]
        with self.ui.lock:
            layouts = [copy.deepcopy(lay) for lay in self.ui.layouts.values()
                       if wanted is None or str(lay["type"]) == wanted]
        return self._json(request, layouts)

    @endpoint("PUT", r"/layouts/(?P<lid>\d+)")
    def layout_put(self, request: Request, lid: str) -> Response:
        body = self._body(request)
        with self.ui.lock:
            current = self.ui.layouts.get(int(lid))
            if current is None:
                raise SoarStoreError(f"no layout {lid}")
            if not isinstance(body, dict) or body.get("id") != int(lid) or body.get("name") != current["name"]:
                raise ValueError("a layout PUT carries the whole layout with its own id and name")
            content = body.get("content")
            if not isinstance(content, list) or not all(isinstance(e, dict) and e.get("element") for e in content):
                raise ValueError("layout content must be a list of elements, each with 'element'")
            for element in content:
                for field in element.get("fields") or []:
                    if field.get("element") == "datatable" and field.get("content") not in self.ui.tables:
                        raise ValueError(f"no data table {field.get('content')!r} to place in a tab")
            current.update(content=copy.deepcopy(content), version=current["version"] + 1)
            self.ui.puts.append(f"PUT /layouts/{lid}")
            return self._json(request, copy.deepcopy(current))

    def _form_field(self, type_name: str, field: str) -> dict[str, Any]:
        found = self.ui.form_fields.get((type_name, field))
        if found is None:
            raise SoarStoreError(f"no field {field} in type {type_name}")
        return found

    @endpoint("GET", r"/types/(?P<type_name>playbook_\w+)/fields/(?P<field>\w+)")
    def form_field_get(self, request: Request, type_name: str, field: str) -> Response:
        with self.ui.lock:
            return self._json(request, copy.deepcopy(self._form_field(type_name, field)))

    @endpoint("PUT", r"/types/(?P<type_name>playbook_\w+)/fields/(?P<field>\w+)")
    def form_field_put(self, request: Request, type_name: str, field: str) -> Response:
        body = self._body(request)
        with self.ui.lock:
            current = self._form_field(type_name, field)
            if not isinstance(body, dict) or body.get("name") != field:
                raise ValueError(f"the field's name must stay {field!r}")
            if body.get("input_type") != current["input_type"]:
                raise ValueError(f"input_type of {field} is {current['input_type']!r}, not {body.get('input_type')!r}")
            values = body.get("values")
            if not isinstance(values, list):
                raise ValueError("values must be a list")
            known = {v["value"]: v for v in current.get("values") or []}
            labels, new_values = set(), []
            for value in values:
                label = value.get("label") if isinstance(value, dict) else None
                if not isinstance(label, str) or not label.strip() or label in labels:
                    raise ValueError(f"each value needs a distinct, non-empty label: {value!r}")
                labels.add(label)
                if "value" in value and value["value"] not in known:
                    raise ValueError(f"value id {value['value']!r} is not one of {field}'s")
                entry = dict(known.get(value.get("value"), {}), **value)
                if "value" not in value:
                    entry.update(value=self.ui.next_value_id, uuid=str(uuid.uuid4()),
                                 default=bool(value.get("default", False)), properties=None)
                    self.ui.next_value_id += 1
                entry["enabled"] = value.get("enabled", True) in (True, "true")
                entry["hidden"] = value.get("hidden", False) in (True, "true")
                new_values.append(entry)
            current["values"] = new_values
            self.ui.puts.append(f"PUT /types/{type_name}/fields/{field}")
            return self._json(request, copy.deepcopy(current))
