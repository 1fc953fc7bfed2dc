"""In-memory state of the offline SOAR: incidents, artifacts, attachments,
notes and data-table rows.

resilient-circuits builds a new mock object for every REST client it creates
(from a dotted path string), so the state cannot live in the mock instance.
It lives here, in one ``SoarStore`` per org name, reachable from the test or
demo process through ``get_store(org)``. Every method takes the store's lock
and hands out copies, so function worker threads and the caller never share
mutable objects.
"""
from __future__ import annotations

import base64
import copy
import itertools
import json
import os
import threading
import time
from dataclasses import dataclass, field
from collections.abc import Iterable, Mapping
from typing import Any

from .schema import SchemaError, Table, declared_table, export_tables
from fn_openc2.lib.errors import OpenC2Error

DEFAULT_ORG = "Offline Org"
SEED_ENV = "FN_OPENC2_OFFLINE_SOAR_SEED"
"""Environment variable naming a JSON seed file loaded into every new store."""


class SoarStoreError(OpenC2Error, LookupError):
    """A lookup of an object the offline SOAR does not hold (a REST 404)."""


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class _Incident:
    data: dict[str, Any]
    artifacts: dict[int, dict[str, Any]] = field(default_factory=dict)
    artifact_contents: dict[int, bytes] = field(default_factory=dict)
    attachments: dict[int, dict[str, Any]] = field(default_factory=dict)
    attachment_contents: dict[int, bytes] = field(default_factory=dict)
    notes: list[dict[str, Any]] = field(default_factory=list)
    tables: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)  # table -> row id -> {col: value}


class SoarStore:
    """One org's worth of SOAR objects, and a record of every write."""

    def __init__(self, org: str = DEFAULT_ORG) -> None:
        self.org = org
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._incidents: dict[int, _Incident] = {}
        self._columns: dict[str, dict[str, str]] = {}     # declared tables: column -> input type
        self._unhandled: list[str] = []
        self._requests: list[str] = []
        self._seed_files: set[str] = set()

    # ------------------------------------------------------------ seeding
    def reset(self) -> None:
        """Forget every incident, row, note and table definition."""
        with self._lock:
            self._incidents.clear()
            self._columns.clear()
            self._unhandled.clear()
            self._requests.clear()
            self._seed_files.clear()

    def seed(self, incident: Mapping[str, Any], artifacts: Iterable[Mapping[str, Any]] = (),
             attachments: Mapping[int, bytes | Mapping[str, Any]] | None = None) -> int:
        """Add (or replace) an incident and return its id.

        ``incident`` is an IncidentDTO-like dict; ``id`` is assigned when
        missing. Each artifact is an ArtifactDTO-like dict (``type``,
        ``value``...); an optional ``content`` (bytes) makes it a file
        artifact served at ``.../artifacts/{id}/contents``.
        ``attachments`` maps attachment id to the file's bytes, or to a dict
        with ``content`` (bytes) and optional ``name`` / ``content_type``.
        """
        with self._lock:
            data = copy.deepcopy(dict(incident))
            inc_id = int(data.get("id") or self._next_id(2000))
            now = _now_ms()
            data.setdefault("name", f"Offline incident {inc_id}")
            data.setdefault("description", "")
            data.setdefault("discovered_date", now)
            data.setdefault("create_date", now)
            data.setdefault("plan_status", "A")
            data.setdefault("severity_code", "Low")
            data.setdefault("incident_type_ids", [])
            data.setdefault("properties", {})
            data.setdefault("org_id", 201)
            data["id"] = inc_id
            inc = _Incident(data=data)
            self._incidents[inc_id] = inc
            for artifact in artifacts:
                self._add_artifact(inc, artifact)
            for att_id, att in (attachments or {}).items():
                self._add_attachment(inc, int(att_id), att)
            return inc_id

    def define_table(self, table: str, columns: Iterable[str] | Mapping[str, str]) -> None:
        """Declare a data table that is not in the app's export.res (tests, seed files).

        ``columns``: names (text columns) or ``{name: input_type}``. Tables of
        the export are always known with their exported columns; declaring
        one of them again changes nothing.
        """
        cols = dict(columns) if isinstance(columns, Mapping) else dict.fromkeys(columns, "text")
        with self._lock:
            self._columns[table] = {str(c): str(t) for c, t in cols.items()}

    def table_schema(self, table: str) -> Table:
        """The table as the server knows it: from export.res, else as declared; unknown: 404."""
        exported = export_tables()
        if table in exported:
            return exported[table]
        with self._lock:
            if table in self._columns:
                return declared_table(table, self._columns[table], list(self._columns).index(table) + 1)
        # an unknown table is "not found" (fn_datatable_utils' update_row reads a refused table
        # call's "not found" message as "Data Table ... could not be found")
        raise SchemaError(f"data table {table!r} not found", status=404)

    def load_seed_file(self, path: str | os.PathLike[str]) -> list[int]:
        """Seed from a JSON file; see ``parse_seed_document`` for the format."""
        path = os.fspath(path)
        with open(path, "rb") as fh:
            doc = json.loads(fh.read().decode("utf-8"))
        try:
            ids = self.seed_document(doc)
        except (TypeError, ValueError, KeyError) as exc:
            raise ValueError(f"offline SOAR seed file {path}: {exc}") from exc
        with self._lock:
            self._seed_files.add(os.path.abspath(path))
        return ids

    def seed_document(self, doc: Mapping[str, Any]) -> list[int]:
        """Seed from a decoded JSON document.

        ``{"incidents": [ENTRY, ...], "tables": {"name": ["col", ...]}}`` or a
        single ENTRY, where ENTRY is ``{"incident": {...}, "artifacts": [...],
        "attachments": [{"id": 7, "name": "x.txt", "content_text": "..." |
        "content_base64": "..."}]}``. An artifact may carry ``content_text`` or
        ``content_base64`` to become a file artifact.
        """
        entries: Iterable[Mapping[str, Any]] = doc["incidents"] if "incidents" in doc else [doc]
        ids: list[int] = []
        for table, cols in (doc.get("tables") or {}).items():
            self.define_table(table, cols)
        for n, entry in enumerate(entries):
            if "incident" not in entry:
                raise ValueError(f"incidents[{n}] has no 'incident' object")
            artifacts: list[dict[str, Any]] = []
            for art in entry.get("artifacts", []):
                art = dict(art)
                content = _json_content(art)
                if content is not None:
                    art["content"] = content
                artifacts.append(art)
            attachments: dict[int, dict[str, Any]] = {}
            for m, att in enumerate(entry.get("attachments", [])):
                att = dict(att)
                if "id" not in att:
                    raise ValueError(f"incidents[{n}].attachments[{m}] has no 'id'")
                content = _json_content(att)
                att["content"] = content if content is not None else b""
                attachments[int(att.pop("id"))] = att
            ids.append(self.seed(entry["incident"], artifacts, attachments))
        return ids

    def seed_from_env(self) -> None:
        """Load the file named by ``FN_OPENC2_OFFLINE_SOAR_SEED`` once per store."""
        path = os.environ.get(SEED_ENV)
        if not path:
            return
        with self._lock:
            if os.path.abspath(path) in self._seed_files:
                return
            self.load_seed_file(path)

    # ------------------------------------------------------------ reading the record
    def incident_ids(self) -> list[int]:
        with self._lock:
            return sorted(self._incidents)

    def incident(self, incident_id: int) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._inc(incident_id).data)

    def notes(self, incident_id: int) -> list[str]:
        """The text (HTML) of every note on the incident, oldest first."""
        with self._lock:
            return [n["text"] for n in self._inc(incident_id).notes]

    def note_objects(self, incident_id: int) -> list[dict[str, Any]]:
        """Notes as the REST API returns them (id, text, create_date...)."""
        with self._lock:
            return copy.deepcopy(self._inc(incident_id).notes)

    def rows(self, incident_id: int, table: str) -> list[dict[str, Any]]:
        """Every row of a data table as ``{column: value}``, in insertion order."""
        with self._lock:
            return [dict(cells) for cells in self._inc(incident_id).tables.get(table, {}).values()]

    def row_ids(self, incident_id: int, table: str) -> list[int]:
        with self._lock:
            return list(self._inc(incident_id).tables.get(table, {}))

    def tables(self, incident_id: int) -> list[str]:
        with self._lock:
            return sorted(self._inc(incident_id).tables)

    def columns(self, table: str) -> list[str]:
        """Column API names of a known table (export.res or declared)."""
        return list(self.table_schema(table).columns)

    def known_table(self, table: str) -> bool:
        try:
            self.table_schema(table)
        except SchemaError:
            return False
        return True

    def unhandled_requests(self) -> list[str]:
        """``METHOD url`` of every REST call the offline SOAR had no endpoint for."""
        with self._lock:
            return list(self._unhandled)

    # ------------------------------------------------------------ used by the mock endpoints
    def artifacts(self, incident_id: int) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._inc(incident_id).artifacts.values()))

    def artifact(self, incident_id: int, artifact_id: int) -> dict[str, Any]:
        with self._lock:
            arts = self._inc(incident_id).artifacts
            if artifact_id not in arts:
                raise SoarStoreError(f"incident {incident_id} has no artifact {artifact_id}")
            return copy.deepcopy(arts[artifact_id])

    def artifact_content(self, incident_id: int, artifact_id: int) -> bytes:
        with self._lock:
            inc = self._inc(incident_id)
            if artifact_id not in inc.artifact_contents:
                raise SoarStoreError(f"artifact {artifact_id} of incident {incident_id} has no file content")
            return inc.artifact_contents[artifact_id]

    def add_artifact(self, incident_id: int, artifact: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._add_artifact(self._inc(incident_id), artifact))

    def attachments(self, incident_id: int) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._inc(incident_id).attachments.values()))

    def attachment(self, incident_id: int, attachment_id: int) -> dict[str, Any]:
        with self._lock:
            atts = self._inc(incident_id).attachments
            if attachment_id not in atts:
                raise SoarStoreError(f"incident {incident_id} has no attachment {attachment_id}")
            return copy.deepcopy(atts[attachment_id])

    def attachment_content(self, incident_id: int, attachment_id: int) -> bytes:
        with self._lock:
            inc = self._inc(incident_id)
            if attachment_id not in inc.attachment_contents:
                raise SoarStoreError(f"incident {incident_id} has no attachment {attachment_id}")
            return inc.attachment_contents[attachment_id]

    def add_attachment(self, incident_id: int, name: str, content: bytes, content_type: str) -> dict[str, Any]:
        """An attachment uploaded through REST (POST /incidents/{id}/attachments)."""
        with self._lock:
            inc = self._inc(incident_id)
            att_id = self._next_id()
            self._add_attachment(inc, att_id, {"name": name, "content": bytes(content), "content_type": content_type})
            return copy.deepcopy(inc.attachments[att_id])

    def add_note(self, incident_id: int, text: str, fmt: str = "html") -> dict[str, Any]:
        with self._lock:
            inc = self._inc(incident_id)
            now = _now_ms()
            note: dict[str, Any] = {"id": self._next_id(), "parent_id": None, "type": "incident", "inc_id": incident_id,
                    "text": text, "format": fmt, "user_id": 1, "user_fname": "Offline", "user_lname": "SOAR",
                    "create_date": now, "modify_date": now, "is_deleted": False, "children": []}
            inc.notes.append(note)
            return copy.deepcopy(note)

    def add_row(self, incident_id: int, table: str, cells: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            row_id = self._next_id()
            self._inc(incident_id).tables.setdefault(table, {})[row_id] = dict(cells)
            return row_id, dict(cells)

    def update_row(self, incident_id: int, table: str, row_id: int, cells: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            row = self._row(incident_id, table, row_id)
            row.update(cells)
            return dict(row)

    def row(self, incident_id: int, table: str, row_id: int) -> dict[str, Any]:
        with self._lock:
            return dict(self._row(incident_id, table, row_id))

    def delete_row(self, incident_id: int, table: str, row_id: int) -> None:
        with self._lock:
            self._row(incident_id, table, row_id)
            del self._inc(incident_id).tables[table][row_id]

    def clear_table(self, incident_id: int, table: str) -> int:
        with self._lock:
            rows = self._inc(incident_id).tables.get(table, {})
            n = len(rows)
            rows.clear()
            return n

    def patch_incident(self, incident_id: int, fields: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            inc = self._inc(incident_id)
            for name, value in fields.items():
                if name in inc.data or name in ("name", "description", "plan_status"):
                    inc.data[name] = value
                else:
                    inc.data["properties"][name] = value
            return copy.deepcopy(inc.data)

    def record_request(self, what: str) -> None:
        with self._lock:
            self._requests.append(what)

    def requests(self) -> list[str]:
        """``METHOD path?query`` (org-relative) of every REST call the offline SOAR answered."""
        with self._lock:
            return list(self._requests)

    def record_unhandled(self, what: str) -> None:
        with self._lock:
            self._unhandled.append(what)

    # ------------------------------------------------------------ internals
    def _next_id(self, floor: int = 0) -> int:
        while True:
            n = next(self._ids)
            if n >= floor and n not in self._incidents:
                return n

    def _inc(self, incident_id: int) -> _Incident:
        try:
            return self._incidents[int(incident_id)]
        except (KeyError, ValueError, TypeError):
            raise SoarStoreError(f"no incident {incident_id!r} in offline SOAR org {self.org!r}") from None

    def _row(self, incident_id: int, table: str, row_id: int) -> dict[str, Any]:
        rows = self._inc(incident_id).tables.get(table, {})
        if int(row_id) not in rows:
            raise SoarStoreError(f"table {table} of incident {incident_id} has no row {row_id}")
        return rows[int(row_id)]

    def _add_artifact(self, inc: _Incident, artifact: Mapping[str, Any]) -> dict[str, Any]:
        art = dict(artifact)
        content = art.pop("content", None)
        art_id = int(art.get("id") or 0)
        while not art_id or (art_id in inc.artifacts and "id" not in artifact):
            art_id = self._next_id()
        art["id"] = art_id
        art["inc_id"] = inc.data["id"]
        art.setdefault("description", None)
        art.setdefault("properties", None)
        art.setdefault("created", _now_ms())
        art.setdefault("attachment", None)
        if content is not None:
            if not isinstance(content, (bytes, bytearray)):
                raise TypeError(f"artifact {art_id}: content must be bytes")
            inc.artifact_contents[art_id] = bytes(content)
            art["attachment"] = {"name": art.pop("attachment_name", None) or str(art.get("value") or art_id),
                                 "content_type": art.pop("content_type", "application/octet-stream"),
                                 "size": len(content), "created": art["created"]}
        inc.artifacts[art_id] = art
        return art

    def _add_attachment(self, inc: _Incident, att_id: int, att: bytes | Mapping[str, Any]) -> None:
        if isinstance(att, (bytes, bytearray)):
            meta: dict[str, Any] = {}
            content = bytes(att)
        else:
            meta = dict(att)
            content = meta.pop("content", b"")
            if not isinstance(content, (bytes, bytearray)):
                raise TypeError(f"attachment {att_id}: content must be bytes")
        meta.setdefault("name", f"attachment-{att_id}")
        meta.setdefault("content_type", "application/octet-stream")
        meta.update({"id": att_id, "inc_id": inc.data["id"], "size": len(content), "type": "incident"})
        meta.setdefault("created", _now_ms())
        inc.attachments[att_id] = meta
        inc.attachment_contents[att_id] = bytes(content)


def _json_content(obj: dict[str, Any]) -> bytes | None:
    text = obj.pop("content_text", None)
    b64 = obj.pop("content_base64", None)
    if text is not None and b64 is not None:
        raise ValueError("give content_text or content_base64, not both")
    if text is not None:
        encoded: bytes = text.encode("utf-8")
        return encoded
    if b64 is not None:
        return base64.b64decode(b64, validate=True)
    return None


_STORES: dict[str, SoarStore] = {}
_STORES_LOCK = threading.Lock()


def get_store(org: str | None = None) -> SoarStore:
    """The store for an org name (created, and seeded from the env file, on first use)."""
    name = org or DEFAULT_ORG
    with _STORES_LOCK:
        store = _STORES.get(name)
        if store is None:
            store = _STORES[name] = SoarStore(name)
    store.seed_from_env()
    return store
