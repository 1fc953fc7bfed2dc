"""The data tables the offline SOAR knows, as a real server knows them after
importing the app's export.res: table API names, column API names, numeric
field ids, input types and select values.

Read from ``fn_openc2/util/data/export.res`` at run time (re-read when the
file changes), never hard-coded, so the stand-in follows the export as other
work adds columns. ``check_value`` is what the server does to a cell value
before it stores it; every rule names the public source it follows.
"""
from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Mapping
from typing import Any
from fn_openc2.lib.errors import OpenC2Error

EXPORT_PATH = Path(__file__).resolve().parents[2] / "util" / "data" / "export.res"
"""The app's own customization export (what ``resilient-circuits customize`` imports)."""

EXTRA_FIELD_ID_BASE = 900000
"""Field ids for columns of tables declared only in a test or seed file (not in the export)."""


class SchemaError(OpenC2Error, ValueError):
    """A request names a table or column the server does not have, or a value its column refuses.

    ``status`` is the HTTP status the offline SOAR answers with.
    """

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Column:
    name: str
    id: int
    input_type: str
    values: tuple[tuple[str, int], ...] = ()      # select / multiselect: (label, value id)
    max_length: int | None = None

    def label_of(self, value_id: int) -> str | None:
        return next((label for label, vid in self.values if vid == value_id), None)

    def id_of(self, label: str) -> int | None:
        return next((vid for lab, vid in self.values if lab == label), None)


@dataclass(frozen=True)
class Table:
    name: str
    type_id: int
    display_name: str
    columns: dict[str, Column] = field(default_factory=dict)

    def column(self, key: str | int) -> Column:
        """A column by API name or by numeric field id (a server accepts both on input)."""
        if isinstance(key, str) and key in self.columns:
            return self.columns[key]
        try:
            wanted = int(key)
        except (TypeError, ValueError):
            wanted = None
        for col in self.columns.values():
            if wanted is not None and col.id == wanted:
                return col
        raise SchemaError(f"data table {self.name} has no column {key!r}")


_cache_lock = threading.Lock()
_cache: dict[tuple[str, int, int], dict[str, Table]] = {}   # the last export read, by (path, mtime, size)
_documents: dict[tuple[str, int, int], dict[str, Any]] = {}


def _file_key(path: str | os.PathLike[str] | None) -> tuple[str, int, int]:
    resolved = Path(path or EXPORT_PATH)
    stat = resolved.stat()
    return str(resolved), stat.st_mtime_ns, stat.st_size


def export_document(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The export at ``path`` (default: the app's own) as JSON, read once per version of the file:
    the one reader of export.res here (tables below, layouts and forms in ui.py). Shared: copy
    before changing anything in it."""
    return _document(_file_key(path))


def _document(key: tuple[str, int, int]) -> dict[str, Any]:
    with _cache_lock:
        doc = _documents.get(key)
        if doc is None:
            doc = _documents[key] = json.loads(Path(key[0]).read_text(encoding="utf-8"))
        return doc


def export_tables(path: str | os.PathLike[str] | None = None) -> dict[str, Table]:
    """Data tables of the export at ``path`` (default: the app's own), re-read when the file changes."""
    key = _file_key(path)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None:
            return cached
    doc = _document(key)      # the same version of the file as the key just looked up
    tables: dict[str, Table] = {}
    for dt in doc.get("types") or []:
        if dt.get("type_id") != 8:           # 8: data table (the export format's type id for tables)
            continue
        columns: dict[str, Column] = {}
        table_id = 0
        for name, col in (dt.get("fields") or {}).items():
            table_id = int(col.get("type_id") or table_id)
            values = tuple((str(v["label"]), int(v["value"])) for v in col.get("values") or []
                           if v.get("enabled", True))
            columns[name] = Column(name, int(col["id"]), str(col.get("input_type") or "text"), values,
                                   col.get("max_length"))
        tables[dt["type_name"]] = Table(dt["type_name"], table_id, str(dt.get("display_name") or dt["type_name"]),
                                        columns)
    with _cache_lock:
        _cache.clear()
        _cache[key] = tables
    return tables


def declared_table(name: str, columns: Mapping[str, str], index: int) -> Table:
    """A table a test or seed file declares (``{column: input_type}``), with made-up field ids."""
    base = EXTRA_FIELD_ID_BASE + 1000 * index
    cols = {c: Column(c, base + n, kind) for n, (c, kind) in enumerate(columns.items(), start=1)}
    return Table(name, EXTRA_FIELD_ID_BASE + index, name, cols)


# The value rules. A real server checks a cell value against its column's field
# definition and refuses what does not fit with 400 and a StatusDTO body
# ({success: false, title, message, hints}; the body resilient's co3 client puts
# in BasicHTTPException). The stand-in is at least as strict: it never coerces
# ("80" is not a number), so an app that passes here sends what a server stores.
_DATE_TYPES = ("datetimepicker", "datepicker")


def check_value(table: Table, col: Column, value: Any) -> Any:
    """The value as the server stores it (select: the label), or SchemaError naming table, column and value."""
    where = f"data table {table.name}, column {col.name} ({col.input_type})"
    if value is None:
        return None                          # every column may be empty
    kind = col.input_type
    if kind == "number":
        # number fields hold JSON numbers (SOAR REST API reference, FieldDTO input_type "number")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SchemaError(f"{where}: {value!r} is not a number")
        return value
    if kind in _DATE_TYPES:
        # date/time fields hold epoch milliseconds: IBM apps convert them as such, e.g.
        # fn_secureworks_ctp's poller (readable_datetime: "convert ms"); an ISO string is refused
        if isinstance(value, bool) or not isinstance(value, int):
            raise SchemaError(f"{where}: {value!r} is not a time in epoch milliseconds")
        if value < 0:
            raise SchemaError(f"{where}: {value!r} is before 1970")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise SchemaError(f"{where}: {value!r} is not true or false")
        return value
    if kind == "select":
        # a select holds one of its defined values (export.res `values`), given by label or by
        # value id: input accepts names or ids (fn_datatable_utils' update_row PUTs labels it read
        # with handle_format=names); anything else is refused
        if isinstance(value, bool):
            raise SchemaError(f"{where}: {value!r} is not one of {[lab for lab, _ in col.values]}")
        if isinstance(value, int) and col.label_of(value) is not None:
            return col.label_of(value)
        if isinstance(value, str) and col.id_of(value) is not None:
            return value
        raise SchemaError(f"{where}: {value!r} is not one of {[lab for lab, _ in col.values]}")
    if kind in ("text", "textarea"):
        if kind == "textarea" and isinstance(value, dict) and set(value) <= {"format", "content"}:
            value = value.get("content")     # rich text {format, content} (TextContentDTO)
        if not isinstance(value, str):
            raise SchemaError(f"{where}: {value!r} is not a string")
        if col.max_length is not None and len(value) > int(col.max_length):
            raise SchemaError(f"{where}: {len(value)} characters, at most {col.max_length} allowed")
        return value
    return value                             # other input types: stored as given


def output_value(col: Column, value: Any, names: bool) -> Any:
    """A stored value as a read returns it: select values as labels with names, else as value ids."""
    if col.input_type == "select" and value is not None and not names:
        vid = col.id_of(value)
        return vid if vid is not None else value
    return value
