"""OfflineSoar: an in-memory IBM SOAR REST API for running the app's real
function components with no SOAR server (tests and ``fn-openc2 demo``).

resilient's REST client mounts it when app.config says
``[resilient] resilient_mock = fn_openc2.lib.offline_soar.mock.OfflineSoar``
(see ``resilient.co3.get_client``): every request the client sends is answered
here instead of going to the network. resilient-circuits builds a new mock per
client, so all state lives in a process-wide ``SoarStore`` per org name
(``OfflineSoar.store(org)``), which the test or demo process seeds and reads.

Endpoints (paths relative to ``/rest/orgs/{org_id}``)
    start-up: POST/GET /rest/session, GET '' (org), GET /rest/const, /actions,
    /connectors/queues, /message_destinations, /functions[/{name}],
    /types/incident/fields, /types/actioninvocation/fields, /types/__function/fields
    GET/PUT/PATCH /incidents/{id}
    GET/POST /incidents/{id}/artifacts, POST /incidents/{id}/artifacts/query_paged,
    GET /incidents/{id}/artifacts/{aid}, GET /incidents/{id}/artifacts/{aid}/contents
    GET /incidents/{id}/attachments, GET /incidents/{id}/attachments/{aid}[/contents]
    GET/POST /incidents/{id}/comments (notes; ``text`` is a string or {"format", "content"})
    GET /incidents/{id}/table_data/{table}, POST/DELETE .../row_data,
    GET/PUT/DELETE .../row_data/{row_id}
    GET /types/{table}
    GET /types, GET /layouts?type=, PUT /layouts/{id}, GET/PUT /types/{playbook handle}/fields/{field}
    (start-up UI set-up; ``ui.py``, state in ``ui.ui_state(org)``)
As strict as a server that imported the app's export.res (``schema.py``):
the data tables, columns, field ids, input types and select values come from
``fn_openc2/util/data/export.res`` (plus tables a test declares with
``SoarStore.define_table``); reads answer cells, fields and artifact types by
numeric id unless ``handle_format=names`` is asked for; an unknown table or
incident, row, artifact or attachment answers 404; an unknown column, a value
its column refuses or a note body of the wrong shape answers 400 (StatusDTO
body). Any other request answers 404 and is listed in ``store.unhandled_requests()``.

Recipe for component tests under pytest-resilient-circuits (tests/test_funct_*.py)
-------------------------------------------------------------------------------
::

    import pytest
    from resilient_circuits import SubmitTestFunction, FunctionResult
    from fn_openc2.lib.offline_soar.mock import OfflineSoar, OFFLINE_RESILIENT_SECTION

    # [resilient] keys the offline SOAR wants (single org, no request retries),
    # then the app's own sections.
    config_data = OFFLINE_RESILIENT_SECTION + '''
    [fn_openc2]
    producer_id = soar@example.com
    default_consumers = fw1
    [fn_openc2:fw1]
    transport = https
    url = http://127.0.0.1:PORT/.well-known/openc2
    '''
    resilient_mock = "fn_openc2.lib.offline_soar.mock.OfflineSoar"

    @pytest.fixture
    def soar():
        store = OfflineSoar.reset()              # the store of the default org, emptied
        store.seed({"id": 1001, "name": "phish"},
                   artifacts=[{"id": 11, "type": "IP Address", "value": "203.0.113.9"}],
                   attachments={21: b"203.0.113.7\\n"})
        return store

    def call(circuits, name, inputs, timeout=30):
        evt = SubmitTestFunction(name, inputs)
        circuits.manager.fire(evt)
        event = circuits.watcher.wait(f"{name}_result", parent=evt, timeout=timeout)
        assert event, "no result (the component raised? see the log)"
        return event.kwargs["result"].value   # {version, success, reason, content, raw, inputs, metrics}

    class TestSend:
        def test_deny(self, circuits_app, soar):
            result = call(circuits_app, "openc2_send_command", {"incident_id": 1001, ...})
            assert result["success"] is True
            assert "deny" in soar.notes(1001)[0]                  # note HTML
            row = soar.rows(1001, "openc2_commands")[0]            # {column: value}
            assert row["status"] == 200

``OfflineSoar.reset()`` / ``OfflineSoar.store()`` / ``OfflineSoar.seed(...)`` all
act on the default org's store (``DEFAULT_ORG``, "Offline Org"), which is the
org ``OFFLINE_RESILIENT_SECTION`` names (resilient's client insists on one).
config_data must not repeat ``[resilient]``: append extra keys of that section
(e.g. ``componentsdir = ...``) directly after ``OFFLINE_RESILIENT_SECTION``.
Seed in a function-scoped fixture, as above: ``circuits_app`` is class-scoped,
and the store is read through REST on every call, so reseeding between tests
needs no restart.
Outside pytest use ``fn_openc2.lib.offline_soar.runner.CircuitsApp``.

Subclass to add endpoints: decorate ``(self, request, **groups)`` methods with
``endpoint(METHOD, REGEX)`` (``offline_soar.endpoint``, resilient's ``resilient_endpoint``
with types; the untyped original works too); REGEX must match the whole org-relative
path (query string excluded), named groups arrive as keyword arguments, and
a subclass's endpoints are tried before the ones it inherits.
"""
from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import requests
import requests_mock
from requests import Response

from . import faults
from .endpoint import endpoint
from .schema import Column, SchemaError, Table, check_value, output_value
from .store import DEFAULT_ORG, SoarStore, SoarStoreError, get_store
from .ui import UiEndpoints, ui_state

if TYPE_CHECKING:   # a name of requests_mock's stubs only (see endpoint.py)
    from requests_mock.request import Request

LOG = logging.getLogger(__name__)

ORG_ID = 201
MOCK_PATH = "fn_openc2.lib.offline_soar.mock.OfflineSoar"

OFFLINE_RESILIENT_SECTION = f"""
[resilient]
host = offline-soar.invalid
org = {DEFAULT_ORG}
email = offline@example.com
password = offline
no_prompt_password = True
cafile = false
request_max_retries = 1
request_retry_delay = 0
"""
"""[resilient] keys to put at the top of a test module's config_data."""

_ORG_PREFIX = re.compile(r"^/rest/orgs/\d+(?P<rest>/.*)?$")


class OfflineSoar(UiEndpoints):
    """Requests adapter that answers the SOAR REST API from a ``SoarStore``.

    Built by ``resilient.co3.get_client`` as ``OfflineSoar(org_name=..., email=...)``;
    the client mounts ``self.adapter`` for ``https://``.
    """

    def __init__(self, org_name: str | None = None, email: str | None = None, **_: Any) -> None:
        self.org_name = org_name or DEFAULT_ORG
        self.email = email or "offline@example.com"
        self.soar = get_store(org_name)
        self.adapter = requests_mock.Adapter()
        self.adapter.add_matcher(faults.wrap(self._dispatch, org_name))   # test faults, call counts
        self._routes = self._collect_routes()

    # ------------------------------------------------------------ store access for tests / demo
    @classmethod
    def store(cls, org: str | None = None) -> SoarStore:
        """The store behind every OfflineSoar of that org (default org when None)."""
        return get_store(org)

    @classmethod
    def reset(cls, org: str | None = None) -> SoarStore:
        """Empty the org's store and return it."""
        store = get_store(org)
        store.reset()
        faults.faults_for(org).reset()
        ui_state(org).reset()         # layouts and form fields too: nothing leaks between tests
        return store

    @classmethod
    def seed(cls, incident: Mapping[str, Any], artifacts: Iterable[Mapping[str, Any]] = (),
             attachments: Mapping[int, bytes] | None = None, *, org: str | None = None) -> int:
        """``SoarStore.seed`` on the org's store; returns the incident id."""
        return get_store(org).seed(incident, artifacts, attachments)

    # ------------------------------------------------------------ dispatch
    def _collect_routes(self) -> list[tuple[str, re.Pattern[str], Callable[..., Response]]]:
        routes: list[tuple[str, re.Pattern[str], Callable[..., Response]]] = []
        seen: set[str] = set()
        for klass in type(self).__mro__:          # most derived first
            for name, member in vars(klass).items():
                uri = getattr(member, "uri", None)
                if uri is None or name in seen or not callable(member):
                    continue
                seen.add(name)
                routes.append((member.request_type, re.compile(uri), member))
        return routes

    def _dispatch(self, request: Request) -> Response:
        path = urlsplit(request.url).path
        m = _ORG_PREFIX.match(path)
        rel = (m.group("rest") or "") if m else path
        if rel != "/":
            rel = rel.rstrip("/")
        self._record(request, rel)
        for method, pattern, func in self._routes:
            if method != request.method:
                continue
            hit = pattern.fullmatch(rel)
            if hit:
                try:
                    return func(self, request, **hit.groupdict())
                except SchemaError as exc:
                    return self._error(request, exc.status, str(exc))
                except SoarStoreError as exc:
                    return self._error(request, 404, str(exc))
                except (ValueError, KeyError, TypeError) as exc:
                    LOG.warning("offline SOAR: bad request %s %s: %s", request.method, rel, exc)
                    return self._error(request, 400, f"bad request: {exc}")
        LOG.warning("offline SOAR has no endpoint for %s %s", request.method, request.url)
        self.soar.record_unhandled(f"{request.method} {request.url}")
        return self._error(request, 404, f"offline SOAR has no endpoint for {request.method} {rel}")

    # ------------------------------------------------------------ helpers
    def _record(self, request: Request, rel: str) -> None:
        """The request log tests read (``SoarStore.requests()``): which calls the app makes."""
        query = urlsplit(request.url).query
        self.soar.record_request(f"{request.method} {rel}" + (f"?{query}" if query else ""))

    @staticmethod
    def _json(request: Request, data: Any, status: int = 200) -> Response:
        return requests_mock.create_response(request, status_code=status, json=data)

    @staticmethod
    def _error(request: Request, status: int, message: str) -> Response:
        return requests_mock.create_response(
            request, status_code=status, json={"success": False, "title": None, "message": message, "hints": []})

    @staticmethod
    def _body(request: Request) -> Any:
        return json.loads(request.body) if request.body else None

    # ------------------------------------------------------------ start-up
    def _session(self, request: Request) -> Response:
        data = {"user_id": 1, "user_fname": "Offline", "user_lname": "SOAR", "user_email": self.email,
                "csrf_token": "offline-csrf-token", "is_ldap": False, "is_saml": False, "saml_alias": None,
                "session_ip": "127.0.0.1",
                "orgs": [{"id": ORG_ID, "name": self.org_name, "enabled": True, "attachments_enabled": True,
                          "tasks_private": False, "has_saml": False, "require_saml": False,
                          "supports_ldap": False, "twofactor_auth_domain": None,
                          "perms": {"administrator": False, "master_administrator": True,
                                    "observer": False, "create_incs": True, "create_shared_layout": True}}]}
        return requests_mock.create_response(request, status_code=200, json=data,
                                             cookies=requests.cookies.cookiejar_from_dict({"JSESSIONID": "offline"}))

    @endpoint("POST", r"/rest/session")
    def session_post(self, request: Request) -> Response:
        return self._session(request)

    @endpoint("GET", r"/rest/session")
    def session_get(self, request: Request) -> Response:
        return self._session(request)

    @endpoint("GET", r"")
    def org_get(self, request: Request) -> Response:
        return self._json(request, {"id": ORG_ID, "name": self.org_name, "actions_framework_enabled": True,
                                    "users": {"1": {"id": 1, "email": self.email, "fname": "Offline",
                                                    "lname": "SOAR", "status": "A", "enabled": True}}})

    @endpoint("GET", r"/rest/const")
    def const_get(self, request: Request) -> Response:
        return self._json(request, {"server_version": {"major": 51, "minor": 0, "build_number": 0,
                                                       "version": "51.0.0.0"}})

    @endpoint("GET", r"/actions")
    def actions_get(self, request: Request) -> Response:
        return self._json(request, {"entities": []})

    @endpoint("GET", r"/connectors/queues")
    def connector_queues_get(self, request: Request) -> Response:
        return self._json(request, {"queues": []})

    @endpoint("GET", r"/message_destinations")
    def message_destinations_get(self, request: Request) -> Response:
        return self._json(request, {"entities": []})

    @endpoint("GET", r"/functions")
    def functions_get(self, request: Request) -> Response:
        return self._json(request, {"entities": []})

    @endpoint("GET", r"/functions/(?P<name>[^/]+)")
    def function_get(self, request: Request, name: str) -> Response:
        return self._json(request, {"name": name, "display_name": name, "destination_handle": "fn_openc2",
                                    "id": 1, "uuid": "00000000-0000-0000-0000-000000000001",
                                    "view_items": [], "workflows": [], "version": 1})

    @endpoint("GET", r"/types/incident/fields")
    def incident_fields_get(self, request: Request) -> Response:
        fields: list[dict[str, Any]] = [
            {"name": n, "text": n, "input_type": t, "prefix": None, "required": "always" if req else None,
             "values": [], "internal": True, "id": i}
            for i, (n, t, req) in enumerate([("name", "text", True), ("description", "textarea", False),
                                             ("discovered_date", "datetimepicker", True),
                                             ("plan_status", "select", False)], start=1)]
        return self._json(request, fields)

    @endpoint("GET", r"/types/(?:actioninvocation|__function)/fields")
    def other_fields_get(self, request: Request) -> Response:
        return self._json(request, [])

    @endpoint("GET", r"/types/(?P<table>\w+)")
    def type_get(self, request: Request, table: str) -> Response:
        schema = self.soar.table_schema(table)        # unknown table: 404
        names = self._names(request)
        fields = {}
        for col in schema.columns.values():
            values = [{"label": label, "value": vid, "enabled": True, "hidden": False, "default": False}
                      for label, vid in col.values]
            fields[col.name if names else str(col.id)] = {
                "name": col.name, "text": col.name, "input_type": col.input_type, "id": col.id,
                "prefix": None, "read_only": False, "values": values}
        return self._json(request, {"type_name": table, "display_name": schema.display_name,
                                    "type_id": 8, "id": schema.type_id, "parent_types": ["incident"],
                                    "fields": fields})

    # ------------------------------------------------------------ incidents
    @endpoint("GET", r"/incidents/(?P<inc>\d+)")
    def incident_get(self, request: Request, inc: str) -> Response:
        return self._json(request, self.soar.incident(int(inc)))

    @endpoint("PUT", r"/incidents/(?P<inc>\d+)")
    def incident_put(self, request: Request, inc: str) -> Response:
        body = dict(self._body(request) or {})
        body.pop("id", None)
        return self._json(request, self.soar.patch_incident(int(inc), body))

    @endpoint("PATCH", r"/incidents/(?P<inc>\d+)")
    def incident_patch(self, request: Request, inc: str) -> Response:
        changes = {}
        for change in (self._body(request) or {}).get("changes", []):
            name = change["field"]["name"] if isinstance(change["field"], dict) else change["field"]
            new = change.get("new_value", {}).get("object")
            if isinstance(new, dict) and "content" in new:
                new = new["content"]
            changes[name] = new
        self.soar.patch_incident(int(inc), changes)
        return self._json(request, {"success": True, "title": None, "message": None, "hints": []})

    # ------------------------------------------------------------ artifacts
    @endpoint("GET", r"/incidents/(?P<inc>\d+)/artifacts")
    def artifacts_get(self, request: Request, inc: str) -> Response:
        return self._json(request, [self._artifact_out(a, self._names(request))
                                    for a in self.soar.artifacts(int(inc))])

    @endpoint("POST", r"/incidents/(?P<inc>\d+)/artifacts")
    def artifact_post(self, request: Request, inc: str) -> Response:
        body = self._body(request)
        items = body if isinstance(body, list) else [body]
        made = [self.soar.add_artifact(int(inc), {k: v for k, v in a.items() if k != "id"}) for a in items]
        return self._json(request, made)

    @endpoint("POST", r"/incidents/(?P<inc>\d+)/artifacts/query_paged")
    def artifacts_query_paged(self, request: Request, inc: str) -> Response:
        data = [self._artifact_out(a, self._names(request)) for a in self.soar.artifacts(int(inc))]
        return self._json(request, {"recordsTotal": len(data), "recordsFiltered": len(data), "data": data})

    @endpoint("GET", r"/incidents/(?P<inc>\d+)/artifacts/(?P<aid>\d+)")
    def artifact_get(self, request: Request, inc: str, aid: str) -> Response:
        return self._json(request, self._artifact_out(self.soar.artifact(int(inc), int(aid)), self._names(request)))

    @endpoint("GET", r"/incidents/(?P<inc>\d+)/artifacts/(?P<aid>\d+)/contents")
    def artifact_contents_get(self, request: Request, inc: str, aid: str) -> Response:
        content = self.soar.artifact_content(int(inc), int(aid))
        meta = self.soar.artifact(int(inc), int(aid))["attachment"] or {}
        return requests_mock.create_response(
            request, status_code=200, content=content,
            headers={"Content-Type": meta.get("content_type") or "application/octet-stream"})

    # ------------------------------------------------------------ attachments
    @endpoint("GET", r"/incidents/(?P<inc>\d+)/attachments")
    def attachments_get(self, request: Request, inc: str) -> Response:
        return self._json(request, self.soar.attachments(int(inc)))

    @endpoint("POST", r"/incidents/(?P<inc>\d+)/attachments")
    def attachment_post(self, request: Request, inc: str) -> Response:
        """resilient ``co3base.post_attachment``: multipart/form-data, one part named ``file``
        (file name, bytes, MIME type); answers the attachment as GET does."""
        from requests_toolbelt.multipart.decoder import MultipartDecoder
        body = request.body.read() if hasattr(request.body, "read") else request.body
        for part in MultipartDecoder(body or b"", request.headers.get("Content-Type", "")).parts:
            disposition = part.headers.get(b"Content-Disposition", b"").decode("utf-8", "replace")
            if 'name="file"' in disposition:
                found = re.search(r'filename="([^"]*)"', disposition)
                content_type = part.headers.get(b"Content-Type", b"application/octet-stream").decode()
                return self._json(request, self.soar.add_attachment(
                    int(inc), found.group(1) if found else "Unknown", part.content, content_type))
        return self._error(request, 400, "an attachment upload needs a multipart part named 'file'")

    @endpoint("GET", r"/incidents/(?P<inc>\d+)/attachments/(?P<aid>\d+)")
    def attachment_get(self, request: Request, inc: str, aid: str) -> Response:
        return self._json(request, self.soar.attachment(int(inc), int(aid)))

    @endpoint("GET", r"/incidents/(?P<inc>\d+)/attachments/(?P<aid>\d+)/contents")
    def attachment_contents_get(self, request: Request, inc: str, aid: str) -> Response:
        content = self.soar.attachment_content(int(inc), int(aid))
        meta = self.soar.attachment(int(inc), int(aid))
        return requests_mock.create_response(request, status_code=200, content=content,
                                             headers={"Content-Type": meta["content_type"]})

    # ------------------------------------------------------------ notes
    @endpoint("GET", r"/incidents/(?P<inc>\d+)/comments")
    def comments_get(self, request: Request, inc: str) -> Response:
        return self._json(request, self.soar.note_objects(int(inc)))

    @endpoint("POST", r"/incidents/(?P<inc>\d+)/comments")
    def comment_post(self, request: Request, inc: str) -> Response:
        self.soar.incident(int(inc))                  # missing incident: 404 before the body matters
        text, fmt = self._note_text(self._body(request))
        return self._json(request, self.soar.add_note(int(inc), text, fmt))

    # ------------------------------------------------------------ data tables
    # Strict like a server that imported the app's export.res (see schema.py):
    # unknown table 404, unknown column or refused value 400, and reads keyed
    # by numeric field id unless the caller asks for names with
    # ``handle_format=names`` (query string or header). IBM's apps ask for names
    # on every table call: fn_datatable_utils/util/helper.py (RESDatatable.get_data,
    # update_row, delete_row), fn_servicenow's and fn_jira's table helpers.
    @endpoint("GET", r"/incidents/(?P<inc>\d+)/table_data/(?P<table>\w+)")
    def table_get(self, request: Request, inc: str, table: str) -> Response:
        schema, inc_id, names = self.soar.table_schema(table), int(inc), self._names(request)
        rows = [self._row_out(schema, rid, self.soar.row(inc_id, table, rid), names)
                for rid in self.soar.row_ids(inc_id, table)]
        return self._json(request, {"id": schema.type_id, "table_name": table, "rows": rows})

    @endpoint("POST", r"/incidents/(?P<inc>\d+)/table_data/(?P<table>\w+)/row_data")
    def row_post(self, request: Request, inc: str, table: str) -> Response:
        schema = self.soar.table_schema(table)
        self.soar.incident(int(inc))
        row_id, cells = self.soar.add_row(int(inc), table, self._cells_checked(request, schema))
        return self._json(request, self._row_out(schema, row_id, cells, self._names(request)))

    @endpoint("DELETE", r"/incidents/(?P<inc>\d+)/table_data/(?P<table>\w+)/row_data")
    def rows_delete(self, request: Request, inc: str, table: str) -> Response:
        self.soar.table_schema(table)
        self.soar.clear_table(int(inc), table)
        return requests_mock.create_response(request, status_code=204)

    @endpoint("GET", r"/incidents/(?P<inc>\d+)/table_data/(?P<table>\w+)/row_data/(?P<rid>\d+)")
    def row_get(self, request: Request, inc: str, table: str, rid: str) -> Response:
        schema = self.soar.table_schema(table)
        return self._json(request, self._row_out(schema, int(rid), self.soar.row(int(inc), table, int(rid)),
                                                 self._names(request)))

    @endpoint("PUT", r"/incidents/(?P<inc>\d+)/table_data/(?P<table>\w+)/row_data/(?P<rid>\d+)")
    def row_put(self, request: Request, inc: str, table: str, rid: str) -> Response:
        schema = self.soar.table_schema(table)
        self.soar.row(int(inc), table, int(rid))      # missing row: 404 before the body matters
        cells = self.soar.update_row(int(inc), table, int(rid), self._cells_checked(request, schema))
        return self._json(request, self._row_out(schema, int(rid), cells, self._names(request)))

    @endpoint("DELETE", r"/incidents/(?P<inc>\d+)/table_data/(?P<table>\w+)/row_data/(?P<rid>\d+)")
    def row_delete(self, request: Request, inc: str, table: str, rid: str) -> Response:
        self.soar.table_schema(table)
        self.soar.delete_row(int(inc), table, int(rid))
        return requests_mock.create_response(request, status_code=204)

    # ------------------------------------------------------------ the server's strictness
    @staticmethod
    def _names(request: Request) -> bool:
        """handle_format=names asked for (query string or header; the SOAR REST API reference
        documents both); the default answers fields and types by numeric id."""
        query = parse_qs(urlsplit(request.url).query)
        wanted = (query.get("handle_format") or [request.headers.get("handle_format", "")])[0]
        return bool(wanted == "names")

    @staticmethod
    def _row_out(schema: Table, row_id: int, cells: Mapping[str, Any], names: bool) -> dict[str, Any]:
        """A row as the server answers it: one cell per column, keyed by API name or field id."""
        out: dict[str, Any] = {}
        for col in schema.columns.values():
            cell: dict[str, Any] = {"id": col.name if names else col.id, "row_id": row_id}
            if cells.get(col.name) is not None:
                cell["value"] = output_value(col, cells[col.name], names)
            out[col.name if names else str(col.id)] = cell
        return {"id": row_id, "type_id": schema.type_id, "version": 1, "actions": [], "cells": out}

    @staticmethod
    def _cells_checked(request: Request, schema: Table) -> dict[str, Any]:
        """``{"cells": {name-or-id: {"value": v}}}`` -> ``{name: value}``, each value checked for its column."""
        body = OfflineSoar._body(request)
        if not isinstance(body, dict) or not isinstance(body.get("cells"), dict):
            raise SchemaError(f"data table {schema.name}: the body must be "
                              f"{{\"cells\": {{column: {{\"value\": ...}}}}}}")
        out: dict[str, Any] = {}
        for key, cell in body["cells"].items():
            col: Column = schema.column(key)
            if not isinstance(cell, dict) or set(cell) - {"value", "id", "row_id"}:
                raise SchemaError(f"data table {schema.name}, column {col.name}: a cell is {{\"value\": ...}}, "
                                  f"not {cell!r}")
            out[col.name] = check_value(schema, col, cell.get("value"))
        return out

    @staticmethod
    def _note_text(body: Any) -> tuple[str, str]:
        """A note body as the server takes it: ``{"text": "..."}`` or ``{"text": {"format": "html"|"text",
        "content": "..."}}`` (CommentDTO with TextContentDTO, as resilient-lib's
        SOARCommon.create_case_comment posts it); any other shape is refused with 400."""
        text = body.get("text") if isinstance(body, dict) else None
        if isinstance(text, str):
            return text, "text"
        if isinstance(text, dict) and text.get("format", "text") in ("html", "text") \
                and isinstance(text.get("content"), str) and not set(text) - {"format", "content"}:
            return text["content"], text.get("format", "text")
        raise SchemaError(f"a note body is {{\"text\": {{\"format\": \"html\", \"content\": ...}}}}, not {body!r}")

    @staticmethod
    def _artifact_out(artifact: dict[str, Any], names: bool) -> dict[str, Any]:
        """The artifact type as a name only with handle_format=names, else as a numeric type id."""
        if not names and isinstance(artifact.get("type"), str):
            artifact = dict(artifact, type=artifact_type_id(artifact["type"]))
        return artifact


_ARTIFACT_TYPE_IDS: dict[str, int] = {}
_ARTIFACT_TYPE_LOCK = threading.Lock()


def artifact_type_id(name: str) -> int:
    """A stable numeric id per artifact type name (the stand-in's own numbering: callers that
    need the name must ask for it with handle_format=names, as the app does)."""
    with _ARTIFACT_TYPE_LOCK:
        return _ARTIFACT_TYPE_IDS.setdefault(name, 1 + len(_ARTIFACT_TYPE_IDS))
