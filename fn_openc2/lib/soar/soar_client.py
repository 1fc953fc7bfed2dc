"""The few SOAR REST calls fn_openc2 makes, over resilient's REST client.

Plain ``rest_client`` calls rather than SOARCommon: SOARCommon swallows the
server's message into a generic IntegrationError, and write-back failures
have to say which incident, table or row was refused and why.
"""
from __future__ import annotations

from typing import Any, Protocol
from fn_openc2.lib.errors import OpenC2Error


class RestClient(Protocol):
    def get(self, uri: str, *args: Any, **kwargs: Any) -> Any: ...
    def get_content(self, uri: str, *args: Any, **kwargs: Any) -> bytes: ...
    def post(self, uri: str, payload: Any = None, *args: Any, **kwargs: Any) -> Any: ...
    def put(self, uri: str, payload: Any, *args: Any, **kwargs: Any) -> Any: ...
    def delete(self, uri: str, *args: Any, **kwargs: Any) -> Any: ...
    def post_attachment(self, uri: str, filepath: Any, *args: Any, **kwargs: Any) -> Any: ...


NAMES = "?handle_format=names"
"""Asked on every call that reads or writes fields by API name: without it a real
server answers cells, fields and artifact types by numeric id (IBM's apps do the
same: fn_datatable_utils/util/helper.py, fn_servicenow's and fn_jira's table helpers)."""


class SoarError(OpenC2Error, RuntimeError):
    """A SOAR REST call failed; the message names the call and the incident.

    ``transient``: worth retrying (no HTTP answer at all, 5xx, 408, 429);
    a 4xx such as 404 (no such incident) or 400 (bad value) will not get better."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.transient = status is None or status >= 500 or status in (408, 429)


# HTTP errors come back at once (resilient's own retry loop would wait request_retry_delay
# between up to request_max_retries tries, and never retries a read timeout): the write-back
# retries within its own time budget instead. 401 is left alone: resilient treats it as fatal.
NO_RESILIENT_RETRY = [code for code in range(300, 600) if code != 401]


class IncidentClient:
    """REST calls scoped to one incident."""

    def __init__(self, rest_client: RestClient, incident_id: int, timeout: float = 30.0) -> None:
        self.rest = rest_client
        self.incident_id = incident_id
        self.base = f"/incidents/{incident_id}"
        self.timeout = timeout     # every call has one (app.config soar_timeout)

    def _call(self, what: str, method: str, uri: str, *args: Any) -> Any:
        try:
            return getattr(self.rest, method)(self.base + uri, *args, timeout=self.timeout,
                                              skip_retry=NO_RESILIENT_RETRY)
        except Exception as err:  # resilient raises BasicHTTPException and friends; requests its own
            response = getattr(err, "response", None)
            status = getattr(response, "status_code", None)
            raise SoarError(f"{what} (incident {self.incident_id}, {method.upper()} {self.base + uri}) "
                            f"failed: {err or type(err).__name__}",
                            status if isinstance(status, int) else None) from None

    def check(self) -> None:
        """The incident exists and can be read: fail before acting on it rather than lose the record."""
        self._call("reading the incident", "get", "")

    def attachment(self, attachment_id: int) -> tuple[str | None, bytes]:
        """(file name, bytes) of an incident attachment."""
        meta = self._call("reading the attachment", "get", f"/attachments/{attachment_id}")
        content = self._call("reading the attachment content", "get_content",
                             f"/attachments/{attachment_id}/contents")
        return (meta or {}).get("name"), bytes(content)

    def attachments(self) -> list[dict[str, Any]]:
        """The incident's attachments (id, name, content_type, size...)."""
        found = self._call("listing attachments", "get", "/attachments") or []
        return [a for a in found if isinstance(a, dict)]

    def add_attachment(self, name: str, content: bytes, content_type: str) -> int | None:
        """Upload a file as an incident attachment (multipart, resilient's post_attachment)."""
        import io
        uri = self.base + "/attachments"
        try:
            made = self.rest.post_attachment(uri, None, filename=name, mimetype=content_type,
                                             bytes_handle=io.BytesIO(content), timeout=self.timeout,
                                             skip_retry=NO_RESILIENT_RETRY)
        except Exception as err:  # resilient raises BasicHTTPException and friends
            status = getattr(getattr(err, "response", None), "status_code", None)
            raise SoarError(f"adding attachment {name} (incident {self.incident_id}, POST {uri}) failed: "
                            f"{err or type(err).__name__}", status if isinstance(status, int) else None) from None
        return (made or {}).get("id")

    def artifacts(self) -> list[dict[str, Any]]:
        """Every artifact of the incident, types as names (not the server's numeric ids)."""
        found = self._call("listing artifacts", "get", f"/artifacts{NAMES}") or []
        return [a for a in found if isinstance(a, dict)]

    def note_texts(self) -> list[str]:
        notes = self._call("listing notes", "get", "/comments") or []
        out = []
        for note in notes:
            body = note.get("text")
            out.append(str(body.get("content", "")) if isinstance(body, dict) else str(body or ""))
        return out

    def add_note(self, html: str) -> int | None:
        note = self._call("writing a note", "post", "/comments", {"text": {"format": "html", "content": html}})
        return (note or {}).get("id")

    def rows(self, table: str) -> list[tuple[int, dict[str, Any]]]:
        """(row id, {column: value}) for every row of a data table."""
        data = self._call(f"reading data table {table}", "get", f"/table_data/{table}{NAMES}") or {}
        out = []
        for row in data.get("rows") or []:
            cells = {col: (cell.get("value") if isinstance(cell, dict) else cell)
                     for col, cell in (row.get("cells") or {}).items()}
            out.append((int(row["id"]), cells))
        return out

    def add_row(self, table: str, cells: dict[str, Any]) -> int | None:
        row = self._call(f"adding a row to data table {table}", "post", f"/table_data/{table}/row_data{NAMES}",
                         _cells(cells))
        return (row or {}).get("id")

    def update_row(self, table: str, row_id: int, cells: dict[str, Any]) -> None:
        self._call(f"updating row {row_id} of data table {table}", "put",
                   f"/table_data/{table}/row_data/{row_id}{NAMES}", _cells(cells))

    def delete_row(self, table: str, row_id: int) -> None:
        self._call(f"deleting row {row_id} of data table {table}", "delete",
                   f"/table_data/{table}/row_data/{row_id}{NAMES}")


def _cells(cells: dict[str, Any]) -> dict[str, Any]:
    return {"cells": {col: {"value": value} for col, value in cells.items()}}
